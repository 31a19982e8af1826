"""Files written whole or not at all: ``detector report`` rewrites report.html and the exports
in a scan folder an analyst may be reading, so a failure or Ctrl-C half way must leave the
earlier file, never a truncated one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary sibling of ``path`` and rename it over ``path``; the
    temporary file is removed if ``write`` fails or is interrupted."""
    temp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
