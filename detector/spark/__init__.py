"""The scan on Apache Spark (``pip install 'detector[spark]'``): the same answer as the local
engine, the per-post work spread over a cluster. See :func:`scan`."""

from detector.spark.engine import scan
from detector.spark.options import SparkOptions
from detector.spark.session import build_session

__all__ = ["SparkOptions", "build_session", "scan"]
