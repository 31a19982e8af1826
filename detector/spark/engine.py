"""The scan on Spark: read, validate, normalise, MinHash, band buckets, verification and
near-duplicate components run as Spark stages, and the object traces (reposts, replies,
URLs, hashtags, mentions) are built there (:mod:`detector.spark.objects`). Each text's group
and which groups two or more accounts share are found there too
(:mod:`detector.spark.groups`): the driver collects the accounts (each one's post count and
first and last post), the counts the summary gives of every post and the sketches of the
texts of groups that can be spun, never the posts themselves. The scan then goes on with the
local engine's own :func:`detector.pipeline.scan_posts`, so both engines give the same
answer, on posts that stay in Spark (:class:`~detector.spark.shared.SparkPosts`: group ids,
spun groups, text traces, examples, the groups and posts tables). The account graph,
communities, core members and cluster evidence run on Spark, component by component
(:mod:`detector.spark.accounts`); the driver scores the clusters and writes the tables of a
row per account, cluster or edge, and the executors those of a row per input row, posts and
rejects, as Parquet parts."""

from __future__ import annotations

import gc
import operator
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
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
from detector.pipeline import Stages, scan_posts
from detector.posts import PostCounts
from detector.progress import on_terminal
from detector.result import ScanResult, TableParts
from detector.rewording import QUOTES
from detector.schema import REJECTS
from detector.spark.accounts import spark_clusterer
from detector.spark.arrow import collected, epoch_time
from detector.spark.components import component_labels
from detector.spark.groups import shared_texts, spinnable_texts, text_groups
from detector.spark.lsh import candidate_pairs, verified_pairs
from detector.spark.objects import object_kinds, object_traces
from detector.spark.options import SparkOptions
from detector.spark.read import listed, read_files
from detector.spark.shared import SparkPosts
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
    shared or network filesystem), read one file per task; or URIs of files, folders or
    globs Spark can read (``s3a://bucket/dump/``, ``hdfs://...``), which Spark lists and
    whose bytes it reads, each file then read as a local file is; or a Spark DataFrame
    with the input columns (from any source Spark reads: tables, other formats), first
    written as Parquet parts to ``staging_dir`` and then read like files (rejects then
    name the parts). Every file is read by the local engine's readers: the same posts
    and rejects, for the same reasons. ``options``: the fields of
    :class:`~detector.config.ScanConfig` and of :class:`SparkOptions`. The result's posts
    and rejects are :class:`~detector.result.TableParts` where the executors wrote them
    (local mode, or a shared ``staging_dir``): read them with ``result.lazy("posts")``.
    """
    engine, rest = SparkOptions.split(options)
    config = config or ScanConfig.from_options(**rest)
    model = load_model(config.model)
    uris = _uris(inputs)
    before = _persisted(spark)
    try:
        with staging(engine) as staged, _staged(inputs, staged) as paths:
            listing = listed(spark, uris) if uris else None
            files = listing.names if listing else expand_inputs(paths)
            contents = listing.contents if listing else None
            return _scan_files(spark, files, contents, config, model, engine, staged, progress)
    finally:
        _release(spark, before)


def _persisted(spark: SparkSession) -> set[int]:
    """The ids of the RDDs the session holds (cached or locally checkpointed)."""
    return set(spark.sparkContext._jsc.getPersistentRDDs().keySet())  # type: ignore[union-attr]


def _release(spark: SparkSession, before: set[int]) -> None:
    """Let Spark clean up after a scan now, not at its next garbage collection: the
    blocks of the RDDs the scan left persisted (its local checkpoints: every trace, the
    component rounds' states) dropped, the Python side of its frames dropped, then the
    JVM collected, so that its context cleaner removes their broadcasts (each join's copy
    of a small side, tens of MB on the driver) and shuffle files. Without it a session
    running scan after scan holds them until a collection it may not reach before running
    out of memory. An RDD another thread persists while the scan runs is dropped too."""
    held = spark.sparkContext._jsc.getPersistentRDDs()  # type: ignore[union-attr]
    for rdd in set(held.keySet()) - before:
        held.get(rdd).unpersist(False)
    gc.collect()
    spark.sparkContext._jvm.System.gc()  # type: ignore[union-attr]


def _uris(inputs: DataFrame | str | Path | Sequence[str | Path]) -> list[str]:
    """Inputs named by URI (``hdfs://``, ``s3a://``, ``file://``...): files Spark lists
    and reads. A UsageError when they are mixed with local paths."""
    if isinstance(inputs, DataFrame):
        return []
    names = [str(i) for i in ([inputs] if isinstance(inputs, str | Path) else inputs)]
    uris = [n for n in names if "://" in n]
    if uris and len(uris) != len(names):
        raise UsageError("inputs are either all URIs (read by Spark) or all paths")
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
    files: Sequence[str | Path],
    contents: DataFrame | None,
    config: ScanConfig,
    model: ScoreModel,
    engine: SparkOptions,
    staged: Staging,
    progress: bool,
) -> ScanResult:
    """The Spark stages, then the rest of the scan on the driver; ``contents``: the
    files' bytes when they were listed by URI (:func:`~detector.spark.read.listed`)."""
    stages = Stages(progress=on_terminal(progress))
    started = time.perf_counter()
    # Where the executors write the tables of a row per input row: a folder they share,
    # else the scan's spill folder (beside the output, from the command line).
    parts_dir = engine.staging_dir or config.spill_dir
    cached: list[DataFrame] = []  # unpersisted when done, or as soon as read for the last time
    try:
        with _session_settings(spark, engine):
            with stages.step("ingest", "read + validate (Spark)"):
                read = read_files(spark, files, config, contents)
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
                shared = shared_texts(spark, staged, text_groups(sketched, labels, config), config)
                cached.append(shared.texts)
                labels.unpersist()
                spinnable = spinnable_texts(shared, sketched, config)
                cached.append(spinnable)
                counts = PostCounts(int(accounts["n_posts"].sum()), shared.too_short, n_texts)
                posts = SparkPosts(
                    spark, staged, listing, raw, shared, spinnable, accounts, counts,
                    parts_dir=parts_dir, cached=cached,
                )  # fmt: skip
            sketched.unpersist()

        def traces() -> list[DataFrame]:
            """The object traces and, once the posts are marked, the text traces."""
            made = [] if posts.trace_frame is None else [posts.trace_frame]
            return made if objects is None else [objects, *made]

        clusterer, done = spark_clusterer(spark, engine, staged, traces)
        with _session_settings(spark, engine):
            result = scan_posts(
                posts, rejects, files=files, rows_read=read.rows_read,
                config=config, model=model, stages=stages, started=started, clusterer=clusterer,
            )  # fmt: skip
    finally:
        for frame in cached:
            frame.unpersist()
    result.summary["engine"] = {
        "name": "spark",
        "master": spark.sparkContext.master,
        "component_rounds": rounds,  # 0: components found on the driver
        "driver_posts": posts.driver_posts,  # the spun groups' written posts, marked there
        "driver_texts": posts.driver_texts,  # the spun groups' written texts, marked there
        "evidence_buckets": done["buckets"],  # buckets of whole clusters
        "bucket_traces": done["bucket_traces"],  # the co-shares the buckets read
        "largest_bucket_traces": done["largest_bucket_traces"],  # the most one bucket read
        "bucket_edges": done["bucket_edges"],  # the edges inside clusters the buckets read
        "largest_bucket_edges": done["largest_bucket_edges"],  # the most one bucket read
        # components whose communities were found in Spark rounds, their pairs, the rounds
        "propagated_components": done["propagated_components"],
        "propagated_pairs": done["propagated_pairs"],
        "propagation_rounds": done["propagation_rounds"],
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


def _listing(posts: DataFrame) -> DataFrame:
    """The columns the posts table is written from and the shared groups' posts are marked
    from (:class:`~detector.spark.shared.SparkPosts`)."""
    quoting = ["quoting"] if "quoting" in posts.columns else []
    return posts.select(
        "ord", "post_id", "account_id", "created_at", "text_key", "account", *quoting
    )


def _quoting(posts: DataFrame, columns: list[str]) -> DataFrame:
    """``posts`` with ``quoting`` (a repost or a reply: not a text of its own, see
    :mod:`detector.rewording`) where the input has the columns that say so, which stay in
    Spark."""
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
    times = ("account_created_at", "first_seen", "last_seen")
    return collected(table).sort("account_id").with_columns(*(epoch_time(c) for c in times))


def _account_numbers(spark: SparkSession, staged: Staging, accounts: pl.DataFrame) -> DataFrame:
    """Each ``account_id`` with its ``account`` number in the scan."""
    numbers = np.arange(accounts.height, dtype=np.int64)
    table = pa.table({"account_id": accounts["account_id"].to_arrow(), "account": numbers})
    return staged.frame(spark, table, "accounts")


def _rejects(
    spark: SparkSession,
    rejects: DataFrame,
    files: Sequence[str | Path],
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
        return collected(ordered).cast(REJECTS)
    parts = TableParts.temporary("rejects", parts_dir)
    ordered.write.parquet(str(parts.folder))
    return parts
