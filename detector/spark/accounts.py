"""The account graph, communities, clusters and cluster evidence on Spark, each across
tasks: a task holds whole clusters, or a component of the account graph of at most
``propagation_task_max`` pairs (its communities), never a larger one.

1. The traces (one row per share: kind, object key, account, time, post...), all built in
   Spark: the text traces from the marked posts of shared groups
   (:mod:`detector.spark.shared`), the object traces from every post
   (:mod:`detector.spark.objects`).
2. In-window traces: traces bucketed by object key, each bucket marked by the local kernel
   (:func:`detector.graph.linked_in_window`) in ``applyInArrow``.
3. Per account, by DataFrame aggregation: its distinct contents co-shared in window (the
   repeat gate), own rewordings and in-window traces (the participation floor).
4. The graph's edges, made by object buckets and aggregated by pair buckets
   (:mod:`detector.spark.edges`).
5. The communities (:mod:`detector.spark.communities`): a component of the account graph
   too large for one task by label propagation in Spark rounds.
6. The clusters (:mod:`detector.spark.clusters`): communities joined over spun groups,
   core members kept, by DataFrame aggregations.
7. Clusters bucketed by name, each bucket given the edges between its members and its
   members' co-shares (their in-window traces, each with its object's shares) in a
   cogroup: :func:`detector.score.cluster_evidence` in ``applyInArrow``. A cluster's
   evidence reads its members' traces and links alone, so a bucket of whole clusters
   gives each the whole scan's figures.
8. On the driver: clusters numbered as the local engine numbers them (members descending,
   then smallest member), evidence stacked in that order; the edges to write (all, or
   those inside clusters) and the edge count per kind collected.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import reduce

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.coordination import Clusterer, Clustering, Step
from detector.graph import AccountGraph, Traces, index_type, linked_in_window
from detector.schema import FEATURES
from detector.score import ClusterEvidence, cluster_evidence
from detector.spark.arrow import arrow_schema, collected, struct, to_batches
from detector.spark.clusters import cluster_labels
from detector.spark.communities import community_labels
from detector.spark.components import checkpoint
from detector.spark.edges import EDGES, ShareCounts, account_edges
from detector.spark.objects import object_labels
from detector.spark.options import SparkOptions
from detector.spark.staging import Staging

TRACE_FIELDS = ("kind", "key", "account", "time", "post", "variant", "source", "rewording")
TRACES = struct(
    "kind BIGINT, key BIGINT, label STRING, account BIGINT, time BIGINT, post BIGINT, "
    "place BIGINT, source BIGINT, variant BIGINT, rewording BIGINT"
)
ORDER = ("kind", "post", "place")  # the local engine's trace order; one trace each
IN_WINDOW = struct(
    "kind BIGINT, key BIGINT, account BIGINT, time BIGINT, post BIGINT, place BIGINT, "
    "source BIGINT, variant BIGINT, rewording BIGINT"
)
ACCOUNT, CLUSTER, TRACES_READ, EDGES_READ = 0, 1, 2, 3  # kinds of row a bucket returns
EVIDENCE_INTS = (
    "n_accounts", "n_posts", "n_shared_posts", "n_groups", "n_objects", "n_texts", "busy_days",
)  # fmt: skip
EVIDENCE_FLOATS = ("median_repetition", "largest_group_share", "median_gap", "median_gap_all")
PARTS = struct(
    "row TINYINT, part BIGINT, cluster BIGINT, account BIGINT, first BIGINT, "
    + ", ".join(f"{name} BIGINT" for name in EVIDENCE_INTS)
    + ", "
    + ", ".join(f"{name} DOUBLE" for name in EVIDENCE_FLOATS)
    + ", features ARRAY<DOUBLE>, trace_share ARRAY<DOUBLE>, n BIGINT"
)


def spark_clusterer(
    spark: SparkSession,
    engine: SparkOptions,
    staging: Staging,
    traces: Callable[[], list[DataFrame]],
) -> tuple[Clusterer, dict[str, int]]:
    """A :data:`~detector.coordination.Clusterer` running on ``spark``, and a dict it fills
    with what it did (buckets, the traces and edges the buckets read and the most one
    bucket read, the communities' propagation) for the summary. Every trace is in Spark,
    none on the driver: ``traces`` gives them once the posts are marked (the
    object traces, :func:`~detector.spark.objects.object_traces`, and the text traces,
    :class:`~detector.spark.shared.SparkPosts`), each with its object's ``label`` (null
    for a text, which its first post names)."""
    done: dict[str, int] = {}

    def cluster(
        handed: list[Traces],
        account_posts: np.ndarray,
        account_created: np.ndarray,
        config: ScanConfig,
        step: Step,
    ) -> Clustering:
        handed.clear()  # none: the engine's posts make their traces in Spark
        with step("graph"):
            made = traces() or [spark.createDataFrame([], TRACES)]
            # Checkpointed: their plans carry the whole scan's (reading, grouping, marking),
            # which every query below would otherwise plan again and, with adaptive
            # execution, describe again after each of its stages (the demo's scan: 540 MB
            # of plan text, half its time, against 61 MB).
            every = checkpoint(reduce(DataFrame.unionByName, made), engine)
            n_accounts = int(account_posts.shape[0])
            accounts = {
                "account": np.arange(n_accounts, dtype=np.int64),
                "n_posts": np.asarray(account_posts, np.int64),
                "created": np.asarray(account_created, np.int64),
            }
            frame = staging.frame(spark, pa.table(accounts), "account_posts")
            parts, stats = _parts(spark, every.drop("label"), frame, n_accounts, config, engine)
            done.update(stats)
        with step("cluster"):
            found = assemble(parts, n_accounts, config)
            return replace(found, objects=object_labels(spark, every, found.edges.objects))

    return cluster, done


def _buckets(spark: SparkSession) -> int:
    return int(spark.conf.get("spark.sql.shuffle.partitions") or 1)


def _parts(
    spark: SparkSession,
    traces: DataFrame,
    accounts: DataFrame,
    n_accounts: int,
    config: ScanConfig,
    engine: SparkOptions,
) -> tuple[Found, dict[str, int]]:
    """Every bucket of clusters' rows (see :data:`PARTS`), the edges to write and the
    graph's edges per kind, collected."""
    buckets = _buckets(spark)
    windows = np.array([config.window(k) for k in config.traces], np.int64)
    by_object = F.pmod(F.xxhash64("key"), F.lit(buckets))
    content = F.when(F.col("rewording") >= 0, F.struct("key", "variant"))
    with ExitStack() as cache:  # each cached frame released on the way out
        linked = traces.groupBy(by_object.alias("bucket")).applyInArrow(
            _linked(windows, arrow_schema(spark, IN_WINDOW)), IN_WINDOW
        )
        linked = _cached(cache, linked)  # read by the gate, the edges, the clusters, the parts
        gated = linked.groupBy("account").agg(
            F.count_distinct(content).alias("rep"),
            F.max((F.col("rewording") > 0).cast("int")).alias("own"),
            F.count("*").alias("n"),  # participation: its in-window traces
        )
        gated = _cached(cache, gated)  # read by the edges and the parts
        members = gated.filter((F.col("rep") >= config.min_repeat) | (F.col("own") == 1))
        kept = linked.join(members.select("account"), "account")
        counts = ShareCounts.of(traces, len(config.traces))
        cache.callback(counts.release)
        participation = gated.select("account", "n")
        edges = _cached(
            cache, account_edges(spark, kept, participation, counts, config, n_accounts)
        )
        communities, propagation = community_labels(spark, edges, config, engine)
        cache.callback(communities.unpersist)
        clusters = cluster_labels(spark, linked, communities, config, engine)
        cache.callback(clusters.unpersist)
        part = F.pmod(F.xxhash64("cluster"), F.lit(buckets)).alias("part")
        co_shares = (
            linked.join(clusters, "account")
            .join(counts.objects.select("key", "shares"), "key")
            .join(gated.select("account", "rep"), "account")
            .join(accounts, "account")
            .select(part, "cluster", *TRACE_FIELDS, "place", "shares", "rep", "n_posts", "created")
        )
        ends = [
            clusters.select(F.col("account").alias(end), F.col("cluster").alias(f"{end}_cluster"))
            for end in ("source", "target")
        ]
        inside = _cached(  # read by the buckets and, unless the graph is written, collected
            cache,
            edges.join(ends[0], "source")
            .join(ends[1], "target")
            .filter(F.col("source_cluster") == F.col("target_cluster"))
            .withColumnRenamed("source_cluster", "cluster"),
        )
        run = bucket_evidence(config, arrow_schema(spark, PARTS))
        parts = (
            inside.select(part, *EDGES.names)
            .groupBy("part")
            .cogroup(co_shares.groupBy("part"))
            .applyInArrow(run, PARTS)
        )
        found = Found(
            parts=collected(parts),
            edges=collected((edges if config.write_graph else inside).select(*EDGES.names)),
            by_kind=collected(edges.groupBy("kind").agg(F.count("*").alias("n"))),
        )
    read = {
        kind: found.parts.filter(pl.col("row") == row)["n"]
        for kind, row in (("traces", TRACES_READ), ("edges", EDGES_READ))
    }
    return found, {
        "buckets": buckets,
        "bucket_traces": int(read["traces"].sum()),
        "largest_bucket_traces": int(read["traces"].max() or 0),
        "bucket_edges": int(read["edges"].sum()),
        "largest_bucket_edges": int(read["edges"].max() or 0),
        **propagation,
    }


def _cached(cache: ExitStack, frame: DataFrame) -> DataFrame:
    """``frame`` cached until ``cache`` closes."""
    cache.callback(frame.unpersist)
    return frame.persist()


def _linked(windows: np.ndarray, schema: pa.Schema) -> Callable[[pa.Table], pa.Table]:
    """Per bucket of objects: its in-window traces (another account shared the object
    within the kind's window)."""

    def run(table: pa.Table) -> pa.Table:
        column = {name: table.column(name).to_numpy() for name in ("key", "account", "time")}
        kind = table.column("kind").to_numpy()
        mark = linked_in_window(column["key"], column["account"], column["time"], windows[kind])
        return table.select(schema.names).filter(pa.array(mark)).cast(schema)

    return run


def bucket_evidence(
    config: ScanConfig, schema: pa.Schema
) -> Callable[[pa.Table, pa.Table], pa.Table]:
    """Per bucket of whole clusters, given the edges between their members and their
    members' co-shares (in-window traces, in scan order, accounts and posts numbered in
    the scan's order, each with its account's cluster):
    :func:`~detector.score.cluster_evidence`, as :data:`PARTS` rows."""
    windows = np.array([config.window(k) for k in config.traces], np.int64)

    def run(edges: pa.Table, traces: pa.Table) -> pa.Table:
        frame = pl.DataFrame(pl.from_arrow(traces)).sort(ORDER)
        accounts, local = np.unique(frame["account"].to_numpy(), return_inverse=True)
        first = np.unique(local, return_index=True)[1]
        names, account_cluster = np.unique(frame["cluster"].to_numpy()[first], return_inverse=True)
        renumbered = {
            "account": local,
            "post": np.unique(frame["post"].to_numpy(), return_inverse=True)[1],
        }
        co_shares = Traces.of(
            **{
                name: renumbered[name] if name in renumbered else frame[name].to_numpy()
                for name in TRACE_FIELDS
            }
        )
        links = pl.DataFrame(pl.from_arrow(edges)).sort("source", "target", "kind")
        none = np.zeros(0, np.int64)
        narrow = index_type(accounts.size)
        graph = AccountGraph(
            **{
                end: np.searchsorted(accounts, links[end].to_numpy()).astype(narrow)
                for end in ("source", "target")
            },
            kind=links["kind"].to_numpy().astype(np.int8),
            **{
                name: links[name].to_numpy()
                for name in ("shared", "weight", "gap_min", "gap_median", "co_posts")
            },
            objects=links["objects"].explode().to_numpy().astype(np.int64),
            n_accounts=int(accounts.size),
            linked=none.astype(bool),
            repetition=frame["rep"].to_numpy()[first],
            rewords=none.astype(bool),
            participation=none,
            object_shares=none,
        )
        evidence = cluster_evidence(
            graph=graph,
            traces=co_shares,
            object_shares=frame["shares"].to_numpy(),
            account_cluster=account_cluster,
            account_posts=frame["n_posts"].to_numpy()[first],
            account_created=frame["created"].to_numpy()[first],
            kinds=tuple(config.traces),
            windows=windows,
            n_clusters=int(names.size),
        )
        part = int(frame["part"][0])
        rows = part_rows(part, accounts, account_cluster, evidence, frame.height, links.height)
        return pa.Table.from_batches(list(to_batches(rows, schema)))

    return run


def part_rows(
    part: int,
    accounts: np.ndarray,
    account_cluster: np.ndarray,
    evidence: ClusterEvidence,
    traces: int,
    edges: int,
) -> pl.DataFrame:
    """One bucket's clusters as :data:`PARTS` rows, accounts by their scan numbers
    (``account_cluster``: each account's cluster in the bucket, -1 for none);
    ``traces`` and ``edges``: how many it read."""
    members = np.flatnonzero(account_cluster >= 0)
    n = int(evidence.n_accounts.size)
    smallest = np.full(n, accounts.size, np.int64)
    np.minimum.at(smallest, account_cluster[members], members)
    frames = [
        pl.DataFrame(
            {
                "row": np.full(members.size, ACCOUNT, np.int8),
                "account": accounts[members],
                "cluster": account_cluster[members],
            }
        ),
        pl.DataFrame(
            {
                "row": np.full(n, CLUSTER, np.int8),
                "cluster": np.arange(n, dtype=np.int64),
                "first": accounts[smallest] if n else np.zeros(0, np.int64),
                **{name: getattr(evidence, name).astype(np.int64) for name in EVIDENCE_INTS},
                **{name: getattr(evidence, name).astype(np.float64) for name in EVIDENCE_FLOATS},
                "features": evidence.features,
                "trace_share": evidence.trace_share,
            }
        ),
        pl.DataFrame(
            {"row": [TRACES_READ, EDGES_READ], "n": [traces, edges]},
            schema={"row": pl.Int8, "n": pl.Int64},
        ),
    ]
    return pl.concat([f for f in frames if f.height], how="diagonal_relaxed").with_columns(
        part=pl.lit(part, pl.Int64)
    )


@dataclass(frozen=True)
class Found:
    """What the driver collects: the buckets' :data:`PARTS` rows, the edges to write
    (:data:`~detector.spark.edges.EDGES`) and the graph's edge count per kind (``kind``,
    ``n``)."""

    parts: pl.DataFrame
    edges: pl.DataFrame
    by_kind: pl.DataFrame


def assemble(found: Found, n_accounts: int, config: ScanConfig) -> Clustering:
    """The buckets' rows as one :class:`Clustering`, clusters numbered as the local engine
    numbers them: members descending, then smallest member."""
    parts, n_kinds = found.parts, len(config.traces)
    clusters = parts.filter(pl.col("row") == CLUSTER).sort(
        ["n_accounts", "first"], descending=[True, False]
    )
    index = clusters.select("part", "cluster").with_row_index("global")
    members = (
        parts.filter(pl.col("row") == ACCOUNT)
        .select("part", "cluster", "account")
        .join(index, on=["part", "cluster"])
    )
    account_cluster = np.full(n_accounts, -1, np.int64)
    account_cluster[members["account"].to_numpy()] = members["global"].to_numpy()

    def matrix(name: str, width: int) -> np.ndarray:
        values = clusters[name].explode().to_numpy().astype(np.float64)
        return values.reshape(clusters.height, width)

    evidence = ClusterEvidence(
        features=matrix("features", len(FEATURES)),
        **{name: clusters[name].to_numpy().astype(np.int64) for name in EVIDENCE_INTS},
        **{name: clusters[name].to_numpy().astype(np.float64) for name in EVIDENCE_FLOATS},
        trace_share=matrix("trace_share", n_kinds),
        kinds=tuple(config.traces),
    )
    edges = found.edges.sort("source", "target", "kind")
    by_kind = np.zeros(n_kinds, np.int64)
    by_kind[found.by_kind["kind"].to_numpy()] = found.by_kind["n"].to_numpy()
    graph = AccountGraph(
        **{
            name: edges[name].to_numpy().astype(index_type(n_accounts))
            for name in ("source", "target")
        },
        kind=edges["kind"].to_numpy().astype(np.int8),
        **{
            name: edges[name].to_numpy().astype(np.int64)
            for name in ("shared", "gap_min", "co_posts")
        },
        weight=edges["weight"].to_numpy().astype(np.float64),
        gap_median=edges["gap_median"].to_numpy().astype(np.float64),
        objects=edges["objects"].explode().to_numpy().astype(np.int64),
        n_accounts=n_accounts,
        linked=np.zeros(0, bool),
        repetition=np.zeros(0, np.int64),
        rewords=np.zeros(0, bool),
        participation=np.zeros(0, np.int64),
        object_shares=np.zeros(0, np.int64),
    )
    return Clustering(account_cluster, evidence, graph, by_kind)
