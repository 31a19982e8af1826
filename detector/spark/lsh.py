"""Near-duplicate candidates as DataFrame operations: texts sharing a band key form a
bucket, each member is paired with the bucket's head (its smallest ``first``, the text the
local engine numbers first) and the pair is kept when the two texts' MinHash low bytes
agree enough. The components over the kept pairs are the local engine's groups
(:func:`detector.lsh.group_sketches` unions each text with its bucket's first text)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from detector.cluster import run_starts
from detector.config import ScanConfig
from detector.lsh import min_agreeing
from detector.spark.arrow import arrow_schema, byte_matrix, struct
from detector.spark.options import SparkOptions

PAIRS = struct("src BIGINT, dst BIGINT")
MEMBERS = struct("src BIGINT, dst BIGINT, band INT, n BIGINT")  # n: the bucket's texts
BUCKET_ORDER = ("key", "band", "node")  # the 64-bit key first: the sort's prefix tells most apart
_MEMBERS_ARROW = to_arrow_schema(MEMBERS)  # no strings: the same in every session


def candidate_pairs(sketches: DataFrame, options: SparkOptions) -> DataFrame:
    """``(src, dst)``: each sketched text (``dst``) with the head of each of its band
    buckets (``src``, smaller), once per pair. Buckets over ``options.max_bucket`` keep
    about that many members, chosen by a hash (the head always).

    One shuffle: the band keys are partitioned by bucket and sorted by bucket, then text,
    so a bucket is a run of rows headed by its smallest text (:func:`bucket_members`).
    Heads found by a ``groupBy`` and joined back to the members shuffled every key twice."""
    bands = sketches.select(
        F.col("first").alias("node"), F.posexplode("band_keys").alias("band", "key")
    )
    ordered = bands.repartition("band", "key").sortWithinPartitions(*BUCKET_ORDER)
    members = ordered.mapInArrow(bucket_members, MEMBERS)
    if options.max_bucket is not None:
        stride = F.ceil(F.col("n") / F.lit(options.max_bucket))
        members = members.filter(F.pmod(F.xxhash64("dst", "band"), stride) == 0)
    return members.select("src", "dst").distinct()


def bucket_members(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Every member of a bucket but its head, beside the head (``src``) and the bucket's
    size, from band keys (``node``, ``band``, ``key``) sorted by :data:`BUCKET_ORDER`. The
    bucket a batch ends in may go on in the next ones: its rows are held, a list of
    pieces (no copy per batch), until it closes."""
    held: list[tuple[np.ndarray, np.ndarray]] = []  # (band, node) pieces of the open bucket
    held_bucket: tuple[int, int] | None = None  # its (key, band)
    for batch in batches:
        key, band, node = (batch.column(c).to_numpy() for c in BUCKET_ORDER)
        if key.size == 0:
            continue
        starts = run_starts((key.astype(np.int64), band.astype(np.int64)), np.arange(key.size))
        if held_bucket == (key[0], band[0]):
            starts = starts[1:]
            end = int(starts[0]) if starts.size else key.size
            held.append((band[:end], node[:end]))
            if not starts.size:
                continue
        if held:
            yield _closed(held)
        first, last = int(starts[0]), int(starts[-1])
        if last > first:
            yield _members(band[first:last], node[first:last], starts[:-1] - first)
        held, held_bucket = [(band[last:], node[last:])], (key[last], band[last])
    if held:
        yield _closed(held)


def _closed(held: list[tuple[np.ndarray, np.ndarray]]) -> pa.RecordBatch:
    """The members of one bucket held in pieces."""
    band, node = (np.concatenate(p) for p in zip(*held, strict=True))
    return _members(band, node, np.zeros(1, np.int64))


def _members(band: np.ndarray, node: np.ndarray, starts: np.ndarray) -> pa.RecordBatch:
    """The members (not heads) of whole buckets beginning at ``starts``."""
    sizes = np.diff(np.append(starts, node.size))
    bucket = np.repeat(np.arange(starts.size), sizes)
    member = np.ones(node.size, bool)
    member[starts] = False
    columns = (node[starts][bucket], node, band, sizes[bucket])
    return pa.RecordBatch.from_arrays([pa.array(c[member]) for c in columns], schema=_MEMBERS_ARROW)


def verified_pairs(
    spark: SparkSession, pairs: DataFrame, sketches: DataFrame, config: ScanConfig
) -> DataFrame:
    """The ``pairs`` whose texts agree on at least :func:`detector.lsh.min_agreeing` low
    bytes: an estimated Jaccard similarity at or above the threshold."""
    low = sketches.select("first", "low")
    joined = pairs.join(low.toDF("src", "low_src"), "src").join(low.toDF("dst", "low_dst"), "dst")
    need = min_agreeing(config.threshold, config.num_perm)
    schema = arrow_schema(spark, PAIRS)

    def verify(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            a = byte_matrix(batch.column("low_src"), config.num_perm)
            b = byte_matrix(batch.column("low_dst"), config.num_perm)
            keep = pa.array((a == b).sum(axis=1) >= need)
            chosen = pa.RecordBatch.from_arrays(
                [batch.column("src"), batch.column("dst")], schema=schema
            )
            yield chosen.filter(keep)

    return joined.select("src", "dst", "low_src", "low_dst").mapInArrow(verify, PAIRS)
