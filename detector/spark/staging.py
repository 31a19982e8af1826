"""A scan's staging folder, and how the driver's tables reach Spark: as Parquet in the folder
when every executor can read it (local mode, or a ``staging_dir`` they all see), else sent
from the driver."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from detector.spark.options import SparkOptions


@dataclass(frozen=True)
class Staging:
    """``folder``: the scan's own, removed when it ends; ``shared``: every executor sees it."""

    folder: Path
    shared: bool

    def seen_by_all(self, spark: SparkSession) -> bool:
        """Whether the driver and every executor see the folder (and its siblings) at the
        same path: a shared one, or the driver's own in local mode."""
        return self.shared or spark.sparkContext.master.startswith("local")

    def frame(self, spark: SparkSession, table: pa.Table, name: str) -> DataFrame:
        """``table`` as a Spark frame, through ``name``.parquet where executors can read it."""
        if not self.seen_by_all(spark):
            return spark.createDataFrame(table)
        path = self.folder / f"{name}.parquet"
        pq.write_table(table, path, row_group_size=1 << 20)
        return spark.read.parquet(str(path))


@contextmanager
def staging(engine: SparkOptions) -> Iterator[Staging]:
    """A new folder in ``engine.staging_dir`` (the driver's temporary folder without one)."""
    folder = Path(tempfile.mkdtemp(prefix="detector-spark-", dir=engine.staging_dir))
    try:
        yield Staging(folder, engine.staging_dir is not None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
