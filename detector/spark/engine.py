"""The scan on Spark: read, validate, normalise, MinHash, band buckets, verification and
near-duplicate components run as Spark stages, and the object traces (reposts, replies,
URLs, hashtags, mentions) are built there (:mod:`detector.spark.objects`). Each text's
group and which groups two or more accounts share are found there too
(:mod:`detector.spark.groups`): only the posts of shared groups come to the driver (their
id, time, account number and text key, in input order), with the accounts (each one's
post count and first and last post) and the counts the summary gives of every post. The
driver finishes the scan with the local engine's own :func:`detector.pipeline.scan_posts`
(spun groups, text traces, scores, tables), so both engines give the same answer. The
account graph, communities, core members and cluster evidence run back on Spark,
component by component (:mod:`detector.spark.accounts`), and the executors write the
tables with a row per input row, posts and rejects, as Parquet parts."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial, reduce
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import TRACE_COLUMNS, ScanConfig
from detector.errors import UsageError
from detector.ingest import expand_inputs
from detector.model import ScoreModel, load_model
from detector.pipeline import PostCounts, Posts, Stages, scan_posts
from detector.progress import on_terminal
from detector.result import ScanResult, TableParts
from detector.rewording import QUOTES, TextGroups
from detector.schema import POSTS, REJECTS, TIME
from detector.spark.accounts import spark_clusterer
from detector.spark.components import component_labels
from detector.spark.groups import numbered_texts, shared_posts, text_groups
from detector.spark.lsh import candidate_pairs, verified_pairs
from detector.spark.objects import object_kinds, object_traces
from detector.spark.options import SparkOptions
from detector.spark.read import TIMES, read_files
from detector.spark.staging import Staging, staging
from detector.spark.texts import distinct_texts, keyed_posts, sketches

BASE_COLUMNS = ["post_id", "account_id", "created_at", "text"]  # a scan without posts has these
# Left in Spark: the object traces are built there.
OBJECT_COLUMNS = [column for kind, column in TRACE_COLUMNS.items() if kind != "text"]


def scan(
    spark: SparkSession,
    inputs: DataFrame | str | Path | Sequence[str | Path],
    *,
    progress: bool = False,
    config: ScanConfig | None = None,
    **options: Any,
) -> ScanResult:
    """Scan post dumps on Spark; the same answer as :func:`detector.pipeline.scan`.

    ``inputs``: files, directories or globs every executor can open at the same path (a
    shared or network filesystem), read one file per task; or a Spark DataFrame with the
    input columns (from any source Spark reads: HDFS, object stores, tables; URIs such as
    ``s3a://bucket/dump/`` are read as Parquet into one), first
    written as Parquet parts to ``staging_dir`` and then read like files (rejects then
    name the parts). ``options``: the fields of :class:`~detector.config.ScanConfig` and
    of :class:`SparkOptions`. The result's posts and rejects are
    :class:`~detector.result.TableParts` where the executors wrote them (local mode, or a
    shared ``staging_dir``): read them with ``result.lazy("posts")``.
    """
    engine, rest = SparkOptions.split(options)
    config = config or ScanConfig.from_options(**rest)
    model = load_model(config.model)
    uris = _uris(inputs)
    if uris:
        inputs = spark.read.parquet(*uris)
    with staging(engine) as staged, _staged(inputs, staged) as paths:
        return _scan_files(spark, expand_inputs(paths), config, model, engine, staged, progress)


def _uris(inputs: DataFrame | str | Path | Sequence[str | Path]) -> list[str]:
    """Inputs named by URI (``hdfs://``, ``s3a://``...): Parquet that Spark reads itself.
    A UsageError when they are mixed with local paths."""
    if isinstance(inputs, DataFrame):
        return []
    names = [str(i) for i in ([inputs] if isinstance(inputs, str | Path) else inputs)]
    uris = [n for n in names if "://" in n and not n.startswith("file://")]
    if uris and len(uris) != len(names):
        raise UsageError("inputs are either all URIs (Parquet read by Spark) or all paths")
    return uris


@contextmanager
def _staged(
    inputs: DataFrame | str | Path | Sequence[str | Path], staged: Staging
) -> Iterator[list[str | Path]]:
    """File inputs as they are; a DataFrame written as Parquet parts (in partition order)
    to the scan's staging folder."""
    if not isinstance(inputs, DataFrame):
        yield [inputs] if isinstance(inputs, str | Path) else list(inputs)
        return
    inputs.write.mode("overwrite").parquet(str(staged.folder / "posts"))
    yield sorted((staged.folder / "posts").glob("part-*.parquet"))


def _scan_files(
    spark: SparkSession,
    files: list[Path],
    config: ScanConfig,
    model: ScoreModel,
    engine: SparkOptions,
    staged: Staging,
    progress: bool,
) -> ScanResult:
    """The Spark stages, then the rest of the scan on the driver."""
    stages = Stages(progress=on_terminal(progress))
    started = time.perf_counter()
    # Where the executors write the tables of a row per input row: a folder they share,
    # else the scan's spill folder (beside the output, from the command line).
    parts_dir = engine.staging_dir or config.spill_dir
    cached: list[DataFrame] = []  # unpersisted when done, or as soon as read for the last time
    try:
        with _session_settings(spark, engine):
            with stages.step("ingest", "read + validate (Spark)"):
                read = read_files(spark, files, config)
            cached.append(read.rows)
            keyed = keyed_posts(spark, read.posts, config).persist()
            with stages.step("minhash", "normalise + MinHash (Spark)"):
                sketched = sketches(spark, distinct_texts(keyed), config).persist()
                cached += [keyed, sketched]
                n_texts = sketched.count()
            with stages.step("collect", "collect to the driver"):
                accounts = _accounts(keyed)
                numbered = (
                    _quoting(keyed, read.columns)
                    .join(_account_numbers(spark, staged, accounts), "account_id")
                    .drop("normalised", "text", "account_created_at")
                    .persist()
                )
                cached.append(numbered)
                listing = _listing(numbered).persist(StorageLevel.DISK_ONLY)
                cached.append(listing)
                listing.count()
                raw = keyed.select("ord", "text").persist()  # stays in Spark, read by rows
                cached.append(raw)
                raw.count()
                rejects = _rejects(spark, read.rejects, files, staged, parts_dir)
            objects = None
            if kinds := object_kinds(config, read.columns):
                with stages.step("graph", "object traces (Spark)"):
                    objects = object_traces(spark, numbered, kinds).persist()
                    cached.append(objects)
                    objects.count()
            for frame in (read.rows, keyed, numbered):  # not held through the band-key shuffle
                frame.unpersist()
            with stages.step("lsh", "buckets + components (Spark)"):
                labels, rounds = _components(spark, sketched, config, engine)
                cached.append(labels)
            with stages.step("collect", "collect to the driver"):
                texts = text_groups(sketched, labels, config)
                shared, shared_texts, too_short = shared_posts(
                    listing.drop("account_id"), texts, config
                )
                labels.unpersist()
                text_index, first, n_shingles, text_group = numbered_texts(shared_texts)
                groups = TextGroups.of(
                    text_group,
                    lambda texts: _low_bytes(spark, sketched, first[texts], config),
                    config.spun_min_texts,
                )
                text_keys = text_index["text_key"].reinterpret(signed=True).to_numpy()
                table = partial(_posts_table, spark, listing, staged, parts_dir, text_keys)
                counts = PostCounts(int(accounts["n_posts"].sum()), too_short, n_texts)
            sketched.unpersist()
        ords = shared["ord"].to_numpy()
        clusterer, done = spark_clusterer(spark, engine, staged, objects, ords)
        with _session_settings(spark, engine):
            result = scan_posts(
                Posts.of_frame(
                    _posts(shared, read.columns), accounts, counts, text_index,
                    _raw_texts(spark, raw, ords), table,
                ),
                rejects, n_shingles, groups, files=files, rows_read=read.rows_read,
                config=config, model=model, stages=stages, started=started, clusterer=clusterer,
            )  # fmt: skip
    finally:
        for frame in cached:
            frame.unpersist()
    result.summary["engine"] = {
        "name": "spark",
        "master": spark.sparkContext.master,
        "component_rounds": rounds,  # 0: components found on the driver
        "driver_posts": shared.height,  # posts of shared groups: all the driver holds
        "account_component_rounds": done["component_rounds"],
        "account_components": done["components"],
        "component_buckets": done["buckets"],
        **engine.to_dict(),
    }
    return result


@contextmanager
def _session_settings(spark: SparkSession, engine: SparkOptions) -> Iterator[None]:
    """Shuffle partitions, Parquet times as the local engine writes them (microseconds, not
    Spark's default INT96) and checkpoint folder for this scan, the session's own restored."""
    settings = {"spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS"}
    if engine.partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(engine.partitions)
    before = {name: spark.conf.get(name) for name in settings}
    for name, value in settings.items():
        spark.conf.set(name, value)
    if engine.checkpoint_dir is not None:
        spark.sparkContext.setCheckpointDir(engine.checkpoint_dir)
    try:
        yield
    finally:
        for name, value in before.items():
            spark.conf.set(name, value)


def _components(
    spark: SparkSession, sketched: DataFrame, config: ScanConfig, engine: SparkOptions
) -> tuple[DataFrame, int]:
    """Near-duplicate components: ``(node, label)`` by ``first``, cached, and the number
    of Spark rounds (0 when they were labelled on the driver)."""
    pairs = verified_pairs(spark, candidate_pairs(sketched, engine), sketched, config)
    return component_labels(spark, pairs, engine)


def _low_bytes(
    spark: SparkSession, sketched: DataFrame, first: np.ndarray, config: ScanConfig
) -> np.ndarray:
    """The sketch low bytes of the texts whose first post is ``first`` (sorted), one row
    each: the few texts of large near-duplicate groups, which spun-group detection reads."""
    if first.size == 0:
        return np.zeros((0, config.num_perm), np.uint8)
    low = _rows_at(spark, sketched.select("first", "low"), "first", first)["low"]
    low = low.combine_chunks().cast(pa.large_binary())
    offsets = np.frombuffer(low.buffers()[1], np.int64)[low.offset : low.offset + len(low) + 1]
    data = np.frombuffer(low.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(first.size, config.num_perm)


def _raw_texts(
    spark: SparkSession, texts: DataFrame, ords: np.ndarray
) -> Callable[[np.ndarray], pl.Series]:
    """The raw texts of given rows of the collected posts (``ords``: each row's ``ord``),
    fetched from ``texts`` (``ord``, ``text``) in Spark: the tables quote a few of them
    (group labels, examples), so the driver never holds every post's text."""

    def at(rows: np.ndarray) -> pl.Series:
        wanted = np.unique(ords[rows])
        if wanted.size == 0:
            return pl.Series("text", [], pl.String)
        found = _rows_at(spark, texts, "ord", wanted)["text"]
        return pl.Series("text", found).gather(np.searchsorted(wanted, ords[rows]))

    return at


def _rows_at(spark: SparkSession, frame: DataFrame, column: str, keys: np.ndarray) -> pa.Table:
    """The rows of ``frame`` whose ``column`` (64-bit) is one of ``keys``, ordered by it:
    a broadcast join with the few keys the driver asks for."""
    wanted = spark.createDataFrame(pa.table({column: pa.array(keys, pa.int64())}).to_pandas())
    return frame.join(wanted.hint("broadcast"), on=column).orderBy(column).toArrow()


def _listing(posts: DataFrame) -> DataFrame:
    """The columns the posts table is written from and the driver collects of the posts
    of shared groups."""
    quoting = ["quoting"] if "quoting" in posts.columns else []
    return posts.select(
        "ord", "post_id", "account_id", "created_at", "text_key", "account", *quoting
    )


def _posts_table(
    spark: SparkSession,
    listing: DataFrame,
    staged: Staging,
    parts_dir: str | None,
    text_keys: np.ndarray,
    posts: pl.DataFrame,
    accounts: pl.DataFrame,
) -> pl.DataFrame | TableParts:
    """The posts table made in Spark: each post's ``group_id`` (by its text: ``text_keys``
    by text number) from the driver's ``posts`` and ``cluster_id`` (by account number)
    from ``accounts``, joined to the ``listing``; only the grouped texts and clustered
    accounts go to Spark. Written by the executors as Parquet parts in input order (the
    parts' folder is the result's, deleted with it) where the driver can read what they
    write, else collected."""
    grouped = posts.select("text_id", "group_id").drop_nulls().unique("text_id")
    groups = pa.table(
        {
            "text_key": pa.array(text_keys[grouped["text_id"].to_numpy()], pa.int64()),
            "group_id": grouped["group_id"].to_arrow(),
        }
    )
    clustered = (
        accounts.select("cluster_id")
        .with_row_index("account")
        .drop_nulls()
        .select(pl.col("account").cast(pl.Int64), "cluster_id")
    )
    table = (
        listing.join(staged.frame(spark, groups, "post_groups"), "text_key", "left")
        .join(staged.frame(spark, clustered.to_arrow(), "post_clusters"), "account", "left")
        .orderBy("ord")
        .select(
            "post_id",
            "account_id",
            F.timestamp_micros("created_at").alias("created_at"),
            "group_id",
            "cluster_id",
        )
    )
    if not staged.seen_by_all(spark):
        return pl.DataFrame(pl.from_arrow(table.toArrow())).cast(POSTS)
    parts = TableParts.temporary("posts", parts_dir)  # deleted with it
    table.write.parquet(str(parts.folder))
    return parts


def _quoting(posts: DataFrame, columns: list[str]) -> DataFrame:
    """``posts`` with ``quoting`` (a repost or a reply: not a text of its own, see
    :mod:`detector.rewording`) where the input has the columns that say so, which the driver
    does not collect."""
    quotes = [F.col(c).isNotNull() for c in QUOTES if c in columns]
    return posts.withColumn("quoting", reduce(operator.or_, quotes)) if quotes else posts


def _accounts(posts: DataFrame) -> pl.DataFrame:
    """One row per account in the order the local engine numbers them (by ``account_id``):
    ``account_id``, the earliest ``account_created_at`` given, ``n_posts`` and its first
    and last post time (``first_seen``, ``last_seen``)."""
    table = posts.groupBy("account_id").agg(
        F.min("account_created_at").alias("account_created_at"),
        F.count("*").alias("n_posts"),
        F.min("created_at").alias("first_seen"),
        F.max("created_at").alias("last_seen"),
    )
    return (
        pl.DataFrame(pl.from_arrow(table.toArrow()))
        .sort("account_id")
        .with_columns(*(_time(c) for c in ("account_created_at", "first_seen", "last_seen")))
    )


def _account_numbers(spark: SparkSession, staged: Staging, accounts: pl.DataFrame) -> DataFrame:
    """Each ``account_id`` with its ``account`` number in the scan."""
    numbers = np.arange(accounts.height, dtype=np.int64)
    table = pa.table({"account_id": accounts["account_id"].to_arrow(), "account": numbers})
    return staged.frame(spark, table, "accounts")


def _posts(posts: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The posts as the local engine's frame has them: the files' columns in the same
    order but those left in Spark (the text, the object trace columns) or in the accounts
    table, times as datetimes, the account's number, ``text_key`` unsigned, and
    ``quoting`` where the input says which posts quote."""
    left = ("text", "account_id", "account_created_at", *OBJECT_COLUMNS)
    columns = [c for c in columns or BASE_COLUMNS if c not in left]
    return posts.select(
        *(_time(c) if c in TIMES else c for c in columns),
        pl.col("account").cast(pl.UInt32),
        pl.col("text_key").reinterpret(signed=False),
        *(["quoting"] if "quoting" in posts.columns else []),
    )


def _time(column: str) -> pl.Expr:
    """Epoch microseconds as the local engine's times."""
    return pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(TIME)


def _rejects(
    spark: SparkSession,
    rejects: DataFrame,
    files: list[Path],
    staged: Staging,
    parts_dir: str | None,
) -> pl.DataFrame | TableParts:
    """The rejects table in the local engine's order (by file, batch, row), written by the
    executors as Parquet parts where the driver can read them (a dump of bad rows need not
    fit the driver), else collected."""
    names = pa.table(
        {"file_idx": pa.array(range(len(files)), pa.int32()), "file": [str(f) for f in files]}
    )
    ordered = (
        rejects.join(staged.frame(spark, names, "files").hint("broadcast"), "file_idx")
        .orderBy("file_idx", "batch", "row")
        .select(*REJECTS.names())
    )
    if not staged.seen_by_all(spark):
        return pl.from_arrow(ordered.toArrow()).cast(REJECTS)
    parts = TableParts.temporary("rejects", parts_dir)
    ordered.write.parquet(str(parts.folder))
    return parts
