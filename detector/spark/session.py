"""A Spark session for ``detector scan --engine spark``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

import detector


def build_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The active session, or a new one on ``master`` with ``conf`` set. Without a master:
    the one ``spark-submit`` was given, else ``local[*]``. A local session's Python workers
    run this interpreter and import this copy of ``detector``, and its shuffles have 4
    partitions a core unless ``conf`` says otherwise (Spark's default of 200 costs a
    Python task each, seconds on a small machine), and its JVM exits when out of memory
    (the scan then fails), where Spark would leave a driver thread dead and the scan
    waiting on it for ever. Results sent to the driver are not capped
    (``spark.driver.maxResultSize`` 0, unless ``conf`` sets it): the driver collects every
    post's compact columns, past Spark's 1 GB cap by 10M posts."""
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # launched by spark-submit
    conf = {"spark.driver.maxResultSize": "0", **(conf or {})}
    master = master or (None if submitted else "local[*]")
    builder = SparkSession.builder.appName("detector scan")
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        root = str(Path(detector.__file__).resolve().parent.parent)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [root, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf = {
            "spark.sql.shuffle.partitions": str(4 * _cores(master)),
            # before, not instead of, the JVM options of the user's (extraJavaOptions)
            "spark.driver.defaultJavaOptions": "-XX:+ExitOnOutOfMemoryError",
            **conf,
        }
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _cores(master: str) -> int:
    """Cores of a ``local``, ``local[N]`` or ``local[*]`` master."""
    inside = master.partition("[")[2].partition("]")[0].partition(",")[0]
    return int(inside) if inside.isdigit() else os.cpu_count() or 1
