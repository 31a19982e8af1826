"""detector: find coordinated inauthentic behaviour in dumps of social-media posts."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from detector.config import ScanConfig

# Imported on first use, so the command line starts (and can answer Ctrl-C with one line)
# before the pipeline's heavy imports (numba, polars, scipy) have run.
_LAZY = {"scan": "detector.pipeline", "ScanResult": "detector.result"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'detector' has no attribute {name!r}")


__all__ = ["ScanConfig", "ScanResult", "__version__", "scan"]
