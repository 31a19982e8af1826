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

from detector.config import ScanConfig
from detector.lsh import min_agreeing
from detector.spark.arrow import arrow_schema, struct
from detector.spark.options import SparkOptions

PAIRS = struct("src BIGINT, dst BIGINT")


def candidate_pairs(sketches: DataFrame, options: SparkOptions) -> DataFrame:
    """``(src, dst)``: each sketched text (``dst``) with the head of each of its band
    buckets (``src``, smaller), once per pair. Buckets over ``options.max_bucket`` keep
    about that many members, chosen by a hash (the head always)."""
    bands = sketches.select(
        F.col("first").alias("node"), F.posexplode("band_keys").alias("band", "key")
    )
    heads = bands.groupBy("band", "key").agg(F.min("node").alias("head"), F.count("*").alias("n"))
    members = bands.join(heads, ["band", "key"]).filter(F.col("node") != F.col("head"))
    if options.max_bucket is not None:
        stride = F.ceil(F.col("n") / F.lit(options.max_bucket))
        members = members.filter(F.pmod(F.xxhash64("node", "band"), stride) == 0)
    return members.select(F.col("head").alias("src"), F.col("node").alias("dst")).distinct()


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
            a = _matrix(batch.column("low_src"), config.num_perm)
            b = _matrix(batch.column("low_dst"), config.num_perm)
            keep = pa.array((a == b).sum(axis=1) >= need)
            chosen = pa.RecordBatch.from_arrays(
                [batch.column("src"), batch.column("dst")], schema=schema
            )
            yield chosen.filter(keep)

    return joined.select("src", "dst", "low_src", "low_dst").mapInArrow(verify, PAIRS)


def _matrix(values: pa.Array, width: int) -> np.ndarray:
    """Binary values all ``width`` bytes long as a ``(n, width)`` uint8 matrix, no copy."""
    fixed = values.cast(pa.binary(width))
    data = np.frombuffer(fixed.buffers()[1], np.uint8)
    return data[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(-1, width)
