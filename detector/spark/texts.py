"""Per-partition text work in ``mapInArrow``: each post's normalised text and its key, then
each distinct text's shingle count, short-text key and LSH sketch (band keys and low
bytes), by the local engine's own functions and numba kernels, a batch at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from detector.config import ScanConfig
from detector.normalise import short_text_key_expr
from detector.objects import TEXT_KEY_SEED
from detector.pipeline import normalise_posts, sketch_texts
from detector.spark.arrow import arrow_schema, struct, to_batches, to_frame

SKETCHES = struct(
    "text_key BIGINT, first BIGINT, n_posts BIGINT, lowest STRING, highest STRING, "
    "n_shingles INT, short_key BIGINT, band_keys ARRAY<BIGINT>, low BINARY"
)
PASSED_ON = ("text_key", "first", "n_posts", "lowest", "highest")  # from distinct_texts
Batches = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def keyed_posts(spark: SparkSession, posts: DataFrame, config: ScanConfig) -> DataFrame:
    """``posts`` with ``text_key`` (the normalised text's 64-bit hash, as the local engine
    computes it, reinterpreted as signed) and ``normalised``."""
    schema = StructType(
        [
            *posts.schema.fields,
            StructField("normalised", StringType()),
            StructField("text_key", LongType()),
        ]
    )
    return posts.mapInArrow(_keys(config, arrow_schema(spark, schema)), schema)


def _keys(config: ScanConfig, schema: pa.Schema) -> Batches:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            keyed = normalise_posts(to_frame(batch), config)
            yield from to_batches(
                keyed.with_columns(pl.col("text_key").reinterpret(signed=True)), schema
            )

    return run


def distinct_texts(keyed: DataFrame) -> DataFrame:
    """One row per text key: its first post's ``ord`` (``first``), its posts, the lowest
    and highest ``account_id`` posting it (two or more accounts where they differ), raw and
    normalised text."""
    first = F.min_by(F.struct("text", "normalised"), "ord")
    return (
        keyed.groupBy("text_key")
        .agg(
            F.min("ord").alias("first"),
            F.count("*").alias("n_posts"),
            F.min("account_id").alias("lowest"),
            F.max("account_id").alias("highest"),
            first.alias("t"),
        )
        .select(*PASSED_ON, "t.text", "t.normalised")
    )


def sketches(spark: SparkSession, texts: DataFrame, config: ScanConfig) -> DataFrame:
    """Per distinct text (:func:`distinct_texts`, whose columns but the texts are passed
    on): shingle count, the short-text key of texts with 1 to
    ``min_shingles - 1`` shingles (null otherwise, or when short texts are not grouped),
    and for texts long enough to match their band keys and MinHash low bytes (empty
    otherwise)."""
    return texts.mapInArrow(_sketcher(config, arrow_schema(spark, SKETCHES)), SKETCHES)


def _sketcher(config: ScanConfig, schema: pa.Schema) -> Batches:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frame = to_frame(batch)
            sketched, long_enough, n_shingles = sketch_texts(frame["normalised"], config)
            bands = sketched.keys.shape[0]
            keys = _lists(frame.height, long_enough, sketched.keys.T.astype(np.int64), bands)
            low = _binaries(frame.height, long_enough, sketched.low_bytes)
            out = pa.RecordBatch.from_arrays(
                [
                    *(frame[name].to_arrow().cast(schema.field(name).type) for name in PASSED_ON),
                    pa.array(n_shingles, pa.int32()),
                    _short_keys(frame["text"], n_shingles, config).to_arrow(),
                    keys.cast(schema.field("band_keys").type),
                    low.cast(schema.field("low").type),
                ],
                schema=schema,
            )
            yield out

    return run


def _offsets(n: int, rows: np.ndarray, width: int) -> pa.Buffer:
    """Arrow offsets of ``n`` items, ``width`` long at ``rows``, empty elsewhere."""
    sizes = np.zeros(n + 1, np.int32)
    sizes[rows + 1] = width
    return pa.py_buffer(np.cumsum(sizes, dtype=np.int32))


def _lists(n: int, rows: np.ndarray, values: np.ndarray, width: int) -> pa.Array:
    offsets = pa.Array.from_buffers(pa.int32(), n + 1, [None, _offsets(n, rows, width)])
    return pa.ListArray.from_arrays(offsets, pa.array(values.reshape(-1), pa.int64()))


def _binaries(n: int, rows: np.ndarray, values: np.ndarray) -> pa.Array:
    data = pa.py_buffer(np.ascontiguousarray(values).tobytes())
    return pa.Array.from_buffers(pa.binary(), n, [None, _offsets(n, rows, values.shape[1]), data])


def _short_keys(raw: pl.Series, n_shingles: np.ndarray, config: ScanConfig) -> pl.Series:
    """The code-masked key of each short text, as the local engine keys it (null for the
    others); only the short texts are keyed."""
    rows = np.flatnonzero((n_shingles > 0) & (n_shingles < config.min_shingles))
    if not config.group_short_texts:
        rows = rows[:0]
    keys = (
        raw.gather(rows)
        .to_frame("text")
        .select(short_text_key_expr(pl.col("text"), config).hash(TEXT_KEY_SEED))
        .to_series()
        .reinterpret(signed=True)
    )
    place = np.full(len(raw), len(rows), np.int64)
    place[rows] = np.arange(len(rows))
    return keys.append(pl.Series([None], dtype=pl.Int64)).gather(place)
