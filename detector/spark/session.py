"""A Spark session for the ``detector scan --engine spark`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

import detector


def build_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The active session, or a new one on ``master`` (None: what ``spark-submit`` or the
    environment says, else ``local[*]``) with ``conf`` set. A local session's Python
    workers run this interpreter and import this copy of ``detector``."""
    builder = SparkSession.builder.appName("detector scan")
    if master:
        builder = builder.master(master)
    local = (master or "local").startswith("local") and "SPARK_HOME" not in os.environ
    if local:
        root = str(Path(detector.__file__).resolve().parent.parent)
        paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.master(master or "local[*]")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
