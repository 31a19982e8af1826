"""Object traces on Spark (reposts, replies, URLs, hashtags, mentions), built where the posts
lie by the local engine's own stage (:func:`detector.objects.object_rows`) in
``mapInArrow``: the driver never collects the trace columns nor holds these traces.
Reposts and replies get their author's account number by a join.

A trace's ``post`` is its post's ``ord`` (input order) and ``place`` its order among the
post's objects of its kind: sorted by kind, post and place, the traces are in the local
engine's order, and ``ord`` stands for the post's number wherever only which post it is,
not its number, matters (:mod:`detector.spark.accounts` renumbers them by rank)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import TRACE_COLUMNS, ScanConfig
from detector.graph import kind_keys
from detector.objects import object_rows, url_domains
from detector.posts import OBJECTS
from detector.spark.arrow import arrow_schema, collected, struct, to_batches, to_frame
from detector.spark.texts import Batches

OBJECT_TRACES = struct(
    "kind BIGINT, key BIGINT, label STRING, account BIGINT, time BIGINT, post BIGINT, "
    "place BIGINT, source BIGINT"
)
REFERRING = ("repost", "reply")  # kinds whose object is a post: its author is the source


def object_kinds(config: ScanConfig, columns: Sequence[str]) -> dict[int, str]:
    """The kinds built on Spark, by their index in ``config.traces``: every switched-on
    kind but text whose column the input has."""
    return {
        index: kind
        for index, kind in enumerate(config.traces)
        if kind != "text" and TRACE_COLUMNS[kind] in columns
    }


def object_traces(spark: SparkSession, posts: DataFrame, kinds: dict[int, str]) -> DataFrame:
    """The traces of ``kinds`` (``kind``, ``key``, ``account``, ``time``, ``post``,
    ``place``, ``variant``, ``source``, ``rewording``) and each object's ``label``, from
    ``posts`` (``ord``, ``post_id``, ``account`` number, ``created_at`` in epoch
    microseconds and the kinds' columns)."""
    columns = [TRACE_COLUMNS[kind] for kind in kinds.values()]
    rows = posts.select("ord", "account", "created_at", *columns).mapInArrow(
        _rows(kinds, arrow_schema(spark, OBJECT_TRACES)), OBJECT_TRACES
    )
    referring = [index for index, kind in kinds.items() if kind in REFERRING]
    if referring:
        authors = posts.select(F.col("post_id").alias("label"), F.col("account").alias("author"))
        refers = F.col("kind").isin(referring)
        sourced = (
            rows.filter(refers)
            .join(authors, "label", "left")
            .withColumn("source", F.coalesce("author", F.lit(-1).cast("long")))
            .drop("author")
        )
        rows = rows.filter(~refers).unionByName(sourced)
    return rows.withColumns({"variant": F.lit(0).cast("long"), "rewording": F.lit(0).cast("long")})


def _rows(kinds: dict[int, str], schema: pa.Schema) -> Batches:
    """Per batch of posts: its object traces, kind after kind."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            posts = to_frame(batch).with_columns(
                row=pl.col("ord"), time=pl.col("created_at").cast(pl.Datetime("us")).dt.epoch("s")
            )
            for index, kind in kinds.items():
                rows = object_rows(posts, TRACE_COLUMNS[kind], ("account", "time"))
                domain = url_domains(pl.col("label")) if kind == "url" else pl.lit(-1, pl.Int64)
                yield from to_batches(
                    rows.select(
                        "label", "account", "time",
                        kind=pl.lit(index, pl.Int64),
                        key=pl.Series(kind_keys(index, rows["key"].to_numpy()), dtype=pl.Int64),
                        post="row",
                        place=pl.int_range(pl.len(), dtype=pl.Int64).over("row"),
                        source=domain,
                    ),
                    schema,
                )  # fmt: skip

    return run


def object_labels(spark: SparkSession, traces: DataFrame, keys: np.ndarray) -> pl.DataFrame:
    """The objects among ``keys`` as :data:`detector.posts.OBJECTS` names them: the label
    of each one's first trace (as the local engine names it), or where that is null (a
    text) the ``row``, its post's ``ord``."""
    wanted = np.unique(keys)
    if wanted.size == 0:
        return pl.DataFrame(schema=OBJECTS)
    table = spark.createDataFrame(pa.table({"key": pa.array(wanted, pa.int64())}).to_pandas())
    found = traces.select("key", "label", "post", "place").join(table.hint("broadcast"), "key")
    return (
        collected(found)
        .sort("key", "post", "place")
        .unique("key", keep="first", maintain_order=True)
        .select("key", "label", row=pl.when(pl.col("label").is_null()).then("post"))
        .cast(OBJECTS)
    )
