"""detector: find coordinated inauthentic behaviour in dumps of social-media posts."""

__version__ = "0.1.0"

from detector.config import ScanConfig
from detector.pipeline import scan
from detector.result import ScanResult

__all__ = ["ScanConfig", "ScanResult", "__version__", "scan"]
