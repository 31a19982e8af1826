"""Read and validate the input files in Spark tasks, one file a task, with the local engine's
own readers (:func:`detector.ingest.file_batches`), so every row is a post or a reject for
the same reason as locally.

A task knows only its own file, so a post id first accepted in an earlier file is rejected
afterwards, in Spark: ``duplicate post_id``, as the local engine says of a repeat across
files. Rows are ordered by ``(file, batch, row)`` as the local engine streams them; each
post gets ``ord``, a 64-bit number in that order (file index << 40 | its place in the file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.errors import DataError, DetectorError, InputError, UsageError
from detector.ingest import NO_SUPPORTED_FILE, file_batches, supported
from detector.spark.arrow import arrow_schema, struct, to_batches

POST, REJECT, BATCH, ERROR = 0, 1, 2, 3  # kinds of row a reading task emits
PLACE_BITS = 40  # ord = file index << PLACE_BITS | the post's place among its file's posts
MAX_FILES = 1 << 18  # so every ord is below 2**58 (detector.spark.groups labels above it)
LISTS = ("urls", "hashtags", "mentions")
TIMES = ("created_at", "account_created_at")

ROWS = struct(
    "kind TINYINT, file_idx INT, batch INT, row BIGINT, place BIGINT, "
    "post_id STRING, account_id STRING, created_at BIGINT, text STRING, "
    "urls ARRAY<STRING>, hashtags ARRAY<STRING>, mentions ARRAY<STRING>, "
    "repost_of STRING, reply_to STRING, account_created_at BIGINT, "
    "column STRING, reason STRING, raw STRING, rows_read BIGINT, present ARRAY<STRING>"
)
POST_COLUMNS = (
    "post_id", "account_id", "created_at", "text", *LISTS, "repost_of", "reply_to",
    "account_created_at",
)  # fmt: skip


@dataclass
class Read:
    """The validated input: ``posts`` (Spark, with ``ord``), ``rejects`` (Spark, with
    ``file_idx``, ``batch`` and ``row`` to order them), ``columns``: the post columns the
    files had, in the order the local engine's frame has them, ``rows_read``, and ``rows``:
    what the reading tasks emitted, cached (to unpersist when done)."""

    posts: DataFrame
    rejects: DataFrame
    columns: list[str]
    rows_read: int
    rows: DataFrame


@dataclass(frozen=True)
class Listing:
    """Files named by URI: the supported ones' names as Spark names them, sorted, and
    every listed file's ``path`` and ``content`` (read only when a task asks; the frame
    keeps Spark's listing, so the files are not listed again)."""

    names: list[str]
    contents: DataFrame


def listed(spark: SparkSession, uris: Sequence[str]) -> Listing:
    """The files under ``uris`` (files, folders searched recursively, globs: anything
    Spark reads, on HDFS or an object store). Only the listing is read here."""
    try:
        found = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
        found = found.load(list(uris))
        names = sorted({row.path for row in found.select("path").collect() if supported(row.path)})
    except AnalysisException as error:
        raise InputError(str(error).splitlines()[0]) from None
    if not names:
        raise InputError(f"{NO_SUPPORTED_FILE} in {', '.join(uris)}")
    return Listing(names, found.select("path", "content"))


def read_files(
    spark: SparkSession,
    files: Sequence[str | Path],
    config: ScanConfig,
    contents: DataFrame | None = None,
) -> Read:
    """Read ``files`` with the local engine's readers: paths every executor can open, in
    one task each, or, given their ``contents`` (a :class:`Listing`'s), files whose bytes
    Spark reads (a task holds whole files, as many as ``spark.sql.files.maxPartitionBytes``
    packs together)."""
    if len(files) > MAX_FILES:
        raise UsageError(
            f"the Spark engine reads at most {MAX_FILES:,} files in one scan, not "
            f"{len(files):,}: merge the dump into fewer, larger files"
        )
    paths = spark.sparkContext.parallelize(
        [(i, str(f)) for i, f in enumerate(files)], max(1, len(files))
    ).toDF("file_idx INT, path STRING")
    if contents is not None:
        paths = contents.join(F.broadcast(paths), "path").select("file_idx", "path", "content")
    rows = paths.mapInArrow(_reader(config, arrow_schema(spark, ROWS)), ROWS).persist()
    errors = rows.filter(F.col("kind") == ERROR).orderBy("file_idx").limit(1).collect()
    if errors:
        rows.unpersist()
        error = errors[0]
        raise DataError(error.reason, file=str(files[error.file_idx]), column=error.column)
    batches = rows.filter(F.col("kind") == BATCH).orderBy("file_idx", "batch").collect()
    columns = list(dict.fromkeys(c for b in batches for c in b.present))
    rows_read = sum(b.rows_read for b in batches)

    ord_ = F.shiftleft(F.col("file_idx").cast("long"), PLACE_BITS) + F.col("place")
    posts = rows.filter(F.col("kind") == POST).select(
        "file_idx", "batch", "row", ord_.alias("ord"), *POST_COLUMNS
    )
    first = posts.groupBy("post_id").agg(F.min("ord").alias("first_ord"))
    posts = posts.join(first, "post_id")
    repeated = posts.filter(F.col("ord") != F.col("first_ord")).select(
        "file_idx", "batch", "row", F.lit("post_id").alias("column"),
        F.lit("duplicate post_id").alias("reason"), F.col("post_id").alias("raw"),
    )  # fmt: skip
    rejects = _plain_repeats(rows.filter(F.col("kind") == REJECT), first).select(
        "file_idx", "batch", "row", "column", "reason", "raw"
    )
    return Read(
        posts=posts.filter(F.col("ord") == F.col("first_ord")).drop("first_ord"),
        rejects=rejects.unionByName(repeated),
        columns=columns,
        rows_read=rows_read,
        rows=rows,
    )


def _plain_repeats(rejects: DataFrame, first: DataFrame) -> DataFrame:
    """A repeat "with different content" of an id accepted in an earlier file is, as
    locally, a plain ``duplicate post_id``: the row it differs from was itself a repeat."""
    earlier = first.select(
        F.col("post_id").alias("raw"), F.shiftright("first_ord", PLACE_BITS).alias("kept_in")
    )
    changed = F.col("reason") == "duplicate post_id with different content"
    joined = rejects.join(earlier, "raw", "left")
    plain = changed & (F.col("kept_in") < F.col("file_idx"))
    reason: Column = F.when(plain, F.lit("duplicate post_id")).otherwise(F.col("reason"))
    return joined.withColumn("reason", reason)


def _reader(
    config: ScanConfig, schema: pa.Schema
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def read(tasks: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for task in tasks:
            names = task.column("path").to_pylist()
            indexes = task.column("file_idx").to_pylist()
            if "content" not in task.schema.names:
                for file_idx, name in zip(indexes, names, strict=True):
                    yield from _read_one(file_idx, Path(name), config, schema)
                continue
            for i, file_idx in enumerate(indexes):
                with _local_copy(names[i], task.column("content")[i].as_buffer()) as copy:
                    yield from _read_one(file_idx, copy, config, schema)

    return read


@contextmanager
def _local_copy(name: str, content: pa.Buffer) -> Iterator[Path]:
    """A file's bytes, as Spark read them, in a temporary file of the same name (its
    extension says its format), removed when done."""
    with tempfile.TemporaryDirectory(prefix="detector-read-") as folder:
        copy = Path(folder) / name.rsplit("/", 1)[-1]
        copy.write_bytes(content)
        yield copy


def _read_one(
    file_idx: int, path: Path, config: ScanConfig, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """One file's posts, rejects and a row per batch (its row count and columns); a row of
    kind ERROR if the file cannot be read."""
    place = 0
    try:
        for batch_no, batch in enumerate(file_batches(path, config)):
            posts = batch.posts.with_columns(
                pl.col(c).dt.epoch("us") for c in TIMES if c in batch.posts.columns
            )
            head = _lits({"file_idx": file_idx, "batch": batch_no})
            rows = pl.Series(batch.post_rows, dtype=pl.Int64)
            places = pl.int_range(place, place + posts.height, dtype=pl.Int64)
            meta = {"rows_read": [batch.rows_read], "present": [batch.posts.columns]}
            parts = [
                posts.with_columns(kind=pl.lit(POST), row=rows, place=places, **head),
                batch.rejects.drop("file").with_columns(kind=pl.lit(REJECT), **head),
                pl.DataFrame({"kind": [BATCH], **meta}).with_columns(**head),
            ]
            place += posts.height
            for part in parts:
                yield from to_batches(part, schema)
    except DetectorError as error:
        failed = {"kind": [ERROR], "file_idx": [file_idx], "column": [error.column]}
        yield from to_batches(pl.DataFrame({**failed, "reason": [error.message]}), schema)


def _lits(values: dict[str, int]) -> dict[str, pl.Expr]:
    return {name: pl.lit(value, pl.Int64) for name, value in values.items()}
