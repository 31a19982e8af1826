"""The posts of shared groups on Spark: the Spark engine's
:class:`~detector.posts.SharedPosts`. The posts stay in Spark; the driver holds a row per
shared group (its post count and first second, to number the groups) and the written
posts of spun groups, whose rewordings it marks with the local engine's own function
(:func:`detector.rewording.mark_rewordings`). The spun groups, and their texts' copy
sets, are found group by group in Spark by the local engine's functions. The text traces,
each cluster's examples, the groups table and the posts table are made in Spark from the
marked posts, as :mod:`detector.posts` makes them on this machine; a post is named by its
``ord`` (input order), which stands for its row wherever only which post it is, or their
order, matters."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.graph import Traces, concat_traces, kind_keys
from detector.posts import MAX_EXAMPLES, OBJECTS, PostCounts, PostTables, group_ids
from detector.result import TableParts
from detector.rewording import TextGroups, mark_rewordings, spun_copy_sets
from detector.schema import GROUPS, POSTS
from detector.spark.arrow import arrow_schema, byte_matrix, collected, epoch_time, struct
from detector.spark.groups import SharedTexts
from detector.spark.staging import Staging

COPIES = struct("shared_group BIGINT, text_id BIGINT, content BIGINT")
SECOND = 1_000_000  # Spark holds times in epoch microseconds
TIE_BREAK = ("time", "post_id", "ord")  # the local engine's post order within a second


class SparkPosts:
    """The posts of shared groups where Spark holds them. ``listing``: every post's ``ord``,
    ``post_id``, ``account_id``, ``created_at`` (epoch microseconds), ``text_key``,
    ``account`` number and ``quoting`` where the input says which posts quote; ``raw``:
    every post's ``ord`` and ``text``; ``texts``: the shared groups' texts
    (:func:`~detector.spark.groups.shared_texts`); ``spinnable``: the texts of the groups
    that can be spun, with their sketches' low bytes
    (:func:`~detector.spark.groups.spinnable_texts`); ``accounts``, ``counts``: as
    :class:`~detector.posts.SharedPosts` has them; ``parts_dir``: where the executors write
    the posts table; ``cached``: where the frames cached here are listed, for the engine to
    unpersist when the scan ends."""

    # Set by mark: the shared groups' posts with their texts' columns (cached), each
    # shared text's group id, and the shared posts marked (group ids, rewordings).
    shared: DataFrame
    grouped: DataFrame
    posts: DataFrame

    def __init__(
        self,
        spark: SparkSession,
        staged: Staging,
        listing: DataFrame,
        raw: DataFrame,
        texts: SharedTexts,
        spinnable: DataFrame,
        accounts: pl.DataFrame,
        counts: PostCounts,
        *,
        parts_dir: str | None,
        cached: list[DataFrame],
    ) -> None:
        self.spark, self.staged, self.listing, self.raw = spark, staged, listing, raw
        self.texts_frame, self.short_text_groups = texts.texts, texts.short_groups
        self.spinnable = spinnable
        self.parts_dir, self.cached = parts_dir, cached
        self.accounts, self.counts = accounts, counts
        self.trace_frame: DataFrame | None = None  # the text traces, once made
        self.driver_posts = 0  # posts brought to the driver: the spun groups' written posts
        self.driver_texts = 0  # texts brought to the driver: the spun groups' written texts

    def mark(self, config: ScanConfig) -> int:
        matchable = F.col("n_shingles") >= config.min_shingles
        columns = {
            "matchable": matchable,
            # Which posts make their group a co-sharing object (detector.posts._co_shared_text).
            "traced": matchable | (F.col("variants") >= config.short_text_min_variants),
        }
        if "text" in config.traces:
            columns["trace_key"] = _trace_keys(config.traces.index("text"))
        texts = self.texts_frame.withColumns(columns).drop("variants")
        time = F.expr(f"(created_at - pmod(created_at, {SECOND})) div {SECOND}")
        self.shared = self.listing.join(texts, "text_key").withColumn("time", time).persist()
        self.cached.append(self.shared)
        numbered = self._group_ids()
        self.grouped = texts.select("text_key", "shared_group").join(numbered, "shared_group")
        copies = self._copy_sets(config)
        posts = self.shared.join(numbered, "shared_group")
        if copies.height:
            posts = posts.join(self._rewordings(copies, config), "ord", "left")
        else:
            posts = posts.withColumns({"content": F.lit(None), "rewording": F.lit(None)})
        self.posts = posts.withColumns(
            {
                "content": F.coalesce(F.col("content").cast("long"), "text_id"),
                "rewording": F.coalesce(F.col("rewording").cast("long"), F.lit(0).cast("long")),
            }
        ).persist()  # read by the graph's stages (its text traces) and by the tables
        self.cached.append(self.posts)
        self.posts.count()
        self.shared.unpersist()
        return copies["shared_group"].n_unique()

    def traces(self, config: ScanConfig) -> tuple[Traces, pl.DataFrame]:
        """None on the driver: the text traces are made in Spark (:attr:`trace_frame`),
        where the clusterer reads them with the object traces, and named there."""
        if "text" in config.traces:
            self.trace_frame = self.posts.filter("traced").select(
                F.lit(config.traces.index("text")).cast("long").alias("kind"),
                F.col("trace_key").alias("key"),
                F.lit(None).cast("string").alias("label"),
                "account",
                "time",
                F.col("ord").alias("post"),
                F.lit(0).cast("long").alias("place"),
                F.lit(-1).cast("long").alias("source"),
                F.col("content").alias("variant"),
                "rewording",
            )
        return concat_traces([]), pl.DataFrame(schema=OBJECTS)

    def texts(self, rows: np.ndarray) -> pl.Series:
        """Raw texts by post ``ord``, fetched from Spark."""
        wanted = np.unique(rows)
        if wanted.size == 0:
            return pl.Series("text", [], pl.String)
        found = _rows_at(self.spark, self.raw, "ord", wanted)["text"]
        return pl.Series("text", found).gather(np.searchsorted(wanted, rows))

    def tables(self, account_cluster_id: np.ndarray, accounts: pl.DataFrame) -> PostTables:
        members = np.flatnonzero(account_cluster_id >= 0)
        clusters = self._frame(
            {"account": members, "cluster_id": account_cluster_id[members]}, "post_clusters"
        )
        return PostTables(
            examples=self._examples(clusters),
            groups=self._groups(clusters),
            posts=self._posts_table(clusters),
            short_text_groups=self.short_text_groups,
        )

    def _frame(self, columns: dict[str, np.ndarray], name: str) -> DataFrame:
        """Driver arrays as a Spark frame, staged."""
        return self.staged.frame(self.spark, pa.table(columns), name)

    def _group_ids(self) -> DataFrame:
        """Each shared group's output id (``shared_group``, ``group_id``:
        :func:`detector.posts.group_ids`), from one row per group: its posts and first
        second."""
        per_group = collected(
            self.shared.groupBy("shared_group").agg(
                F.count("*").alias("n_posts"), F.min("time").alias("first")
            )
        )
        label = per_group["shared_group"].to_numpy()
        ids = group_ids(label, per_group["n_posts"].to_numpy(), per_group["first"].to_numpy())
        return self._frame({"shared_group": label, "group_id": ids}, "group_ids")

    def _written(self) -> Column:
        """Posts written as texts of their own (:func:`detector.rewording._written`)."""
        written = F.col("matchable")
        return written & ~F.col("quoting") if "quoting" in self.listing.columns else written

    def _copy_sets(self, config: ScanConfig) -> pl.DataFrame:
        """The spun groups' texts written as posts of their own, each with its copy set
        (``shared_group``, ``text_id``, ``content``: :func:`detector.rewording.copy_sets`):
        the groups that can be spun read one by one, each where its texts lie."""
        written = (
            self.shared.filter(self._written())
            .groupBy("shared_group", "text_id")
            .agg(F.count("*").alias("n_posts"))
        )
        texts = self.spinnable.join(written, ["shared_group", "text_id"], "left")
        run = _spun_copy_sets(config, arrow_schema(self.spark, COPIES))
        copies = collected(texts.groupBy("shared_group").applyInArrow(run, COPIES))
        self.driver_texts = copies.height
        return copies.sort("shared_group", "text_id")

    def _rewordings(self, copies: pl.DataFrame, config: ScanConfig) -> DataFrame:
        """``ord``, ``content`` and ``rewording`` of the spun groups' written posts, marked
        on the driver."""
        spun = copies.select("shared_group").unique().to_arrow()
        wanted = self.staged.frame(self.spark, spun, "spun").hint("broadcast")
        rows = (
            self.shared.filter(self._written())
            .join(wanted, "shared_group")
            .select("ord", "shared_group", "text_id", "account", "time", "post_id")
        )
        frame = collected(rows).sort("ord").with_columns(matchable=pl.lit(True))
        self.driver_posts = frame.height
        marked = mark_rewordings(frame, copies, config)
        return self.staged.frame(
            self.spark, marked.select("ord", "content", "rewording").to_arrow(), "rewordings"
        )

    def _examples(self, clusters: DataFrame) -> pl.DataFrame:
        """Each cluster's example texts (``detector.posts._examples``): its largest group's
        first texts, then the first text of each next largest group."""
        half = MAX_EXAMPLES // 2
        by_cluster = Window.partitionBy("cluster_id")
        by_text = Window.partitionBy("cluster_id", "text_id").orderBy(*TIE_BREAK)
        texts = (
            self.posts.join(clusters, "account")
            .withColumn("n", F.row_number().over(by_text))
            .filter("n = 1")
            .withColumn("rank", F.dense_rank().over(by_cluster.orderBy("group_id")))
        )
        variants = (
            texts.filter("rank = 1")
            .withColumn("place", F.row_number().over(by_cluster.orderBy(*TIE_BREAK)))
            .filter(F.col("place") <= half)
        )
        by_group = Window.partitionBy("cluster_id", "group_id").orderBy(*TIE_BREAK)
        others = (
            texts.filter("rank > 1")
            .withColumn("n", F.row_number().over(by_group))
            .filter("n = 1")
            .withColumn("place", half + F.row_number().over(by_cluster.orderBy("rank")))
            .filter(F.col("place") <= 2 * half)
        )
        rows = collected(
            variants.select("cluster_id", "place", "ord").unionByName(
                others.select("cluster_id", "place", "ord")
            )
        ).sort("cluster_id", "place")
        return (
            rows.with_columns(text=self.texts(rows["ord"].to_numpy()))
            .group_by("cluster_id", maintain_order=True)
            .agg(example_texts="text")
        )

    def _groups(self, clusters: DataFrame) -> pl.DataFrame:
        """The groups table (:func:`detector.posts.groups_table`), a row per group."""
        posts = self.posts
        groups = posts.groupBy("group_id").agg(
            F.count("*").alias("n_posts"),
            F.count_distinct("account").alias("n_accounts"),
            F.count_distinct("text_id").alias("n_texts"),
            F.min("created_at").alias("first_seen"),
            F.max("created_at").alias("last_seen"),
            F.min(F.struct(*TIE_BREAK)).getField("ord").alias("row"),
        )
        by_group = Window.partitionBy("group_id")
        majority = (
            posts.join(clusters, "account")
            .groupBy("group_id", "cluster_id")
            .agg(F.count_distinct("account").alias("n"))
            .withColumn("in_clusters", F.sum("n").over(by_group))
            .withColumn(
                "place",
                F.row_number().over(by_group.orderBy(F.desc("n"), F.asc("cluster_id"))),
            )
            .filter("place = 1")
        )
        kept = F.col("n") >= F.col("n_accounts") - F.col("in_clusters")
        table = collected(
            groups.join(majority, "group_id", "left").withColumn(
                "cluster_id", F.when(kept, F.col("cluster_id"))
            )
        ).sort("group_id")
        return (
            table.with_columns(
                epoch_time("first_seen"),
                epoch_time("last_seen"),
                example_text=self.texts(table["row"].to_numpy()),
            )
            .select(GROUPS.names())
            .cast(GROUPS)
        )

    def _posts_table(self, clusters: DataFrame) -> pl.DataFrame | TableParts:
        """The posts table: each listed post with its group's id and its account's
        cluster's, in input order; written by the executors as Parquet parts (the parts'
        folder is the result's, deleted with it) where the driver can read what they
        write, else collected."""
        table = (
            self.listing.join(self.grouped, "text_key", "left")
            .join(clusters, "account", "left")
            .orderBy("ord")
            .select(
                "post_id",
                "account_id",
                F.timestamp_micros("created_at").alias("created_at"),
                "group_id",
                "cluster_id",
            )
        )
        if not self.staged.seen_by_all(self.spark):
            return collected(table).cast(POSTS)
        parts = TableParts.temporary("posts", self.parts_dir)  # deleted with it
        table.write.parquet(str(parts.folder))
        return parts


def _spun_copy_sets(config: ScanConfig, schema: pa.Schema) -> Callable[[pa.Table], pa.Table]:
    """Per group that can be spun (its texts, their low bytes and shingles, and the posts
    written as texts of their own, null for none): nothing, or if it is spun its written
    texts' copy sets, found as the local engine finds them."""

    def run(table: pa.Table) -> pa.Table:
        texts = pl.DataFrame(pl.from_arrow(table.drop_columns("low"))).with_row_index("row")
        texts = texts.sort("text_id")
        low = byte_matrix(table.column("low").combine_chunks(), config.num_perm)
        groups = TextGroups(
            texts["text_id"].to_numpy(),
            texts["shared_group"].to_numpy(),
            low[texts["row"].to_numpy()],
        )
        written = texts.filter(pl.col("n_posts").is_not_null()).select(
            "shared_group", "text_id", "n_posts", shingles=pl.col("n_shingles").cast(pl.Int64)
        )
        return spun_copy_sets(written, groups, config).to_arrow().cast(schema)

    return run


def _trace_keys(kind: int) -> Column:
    """The text traces' object keys, as :func:`detector.graph.kind_keys` makes them: the
    group's label in the low bits, the kind in the top ones."""
    low_bits = int(kind_keys(0, np.array([-1]))[0])
    tag = int(kind_keys(kind, np.array([0]))[0])
    return F.col("shared_group").bitwiseAND(F.lit(low_bits)).bitwiseOR(F.lit(tag))


def _rows_at(spark: SparkSession, frame: DataFrame, column: str, keys: np.ndarray) -> pa.Table:
    """The rows of ``frame`` whose ``column`` (64-bit) is one of ``keys``, ordered by it:
    a broadcast join with the few keys the driver asks for."""
    wanted = spark.createDataFrame(pa.table({column: pa.array(keys, pa.int64())}).to_pandas())
    return frame.join(wanted.hint("broadcast"), on=column).orderBy(column).toArrow()
