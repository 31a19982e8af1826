"""The account graph's communities across tasks, as :func:`detector.cluster.detect_communities`
finds them on one machine: the same partition of the accounts.

1. Pairs: the edges of positive weight summed per pair of accounts over its kinds, in
   kind order (the floats of :func:`detector.cluster.symmetric_adjacency`).
2. Their connected components (:mod:`detector.spark.components`).
3. A component a task can hold (at most ``louvain_max_edges`` pairs, or at most the
   engine's ``propagation_task_max``): components bucketed by label, each bucket split by
   the local engine (:func:`detector.cluster.linked_communities`: Louvain, or label
   propagation and Louvain, on the same graphs).
4. A larger one: label propagation in colour rounds, each round a union, a window and
   three aggregations over its pairs in both directions, on weights rounded as the local
   engine rounds them (so every sum is exact, in whatever order the tasks add); then the
   graph of its communities, collected and split on the driver
   (:func:`detector.cluster.coarse_communities`). No task holds such a component.

A community is named by its smallest member; communities of fewer than
``min_cluster_accounts`` accounts are left out, as locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window
from scipy.sparse import csc_matrix

from detector.cluster import (
    WEIGHT_QUANTUM,
    coarse_communities,
    linked_communities,
    node_colours,
    pair_adjacency,
)
from detector.config import ScanConfig
from detector.spark.arrow import arrow_schema, collected, struct
from detector.spark.components import checkpoint, component_labels
from detector.spark.options import SparkOptions

COMMUNITIES = struct("account BIGINT, community BIGINT")


def community_labels(
    spark: SparkSession, edges: DataFrame, config: ScanConfig, options: SparkOptions
) -> tuple[DataFrame, dict[str, int]]:
    """``(account, community)`` of every account in a community (named by its smallest
    member), cached; and what it did (components propagated across tasks, their pairs,
    the propagation rounds run). ``edges``: the graph's rows (``source`` < ``target``,
    ``kind``, ``weight``)."""
    row = F.struct("kind", "weight")
    pairs = checkpoint(
        edges.filter(F.col("weight") > 0)
        .groupBy("source", "target")
        .agg(F.array_sort(F.collect_list(row)).alias("rows"))
        .select(
            "source",
            "target",
            F.aggregate("rows", F.lit(0.0), lambda total, r: total + r["weight"]).alias("weight"),
        ),
        options,
    )  # checkpointed: each round's plan would otherwise carry the whole scan's
    try:
        labels, _ = component_labels(
            spark, pairs.select(F.col("source").alias("src"), F.col("target").alias("dst")), options
        )
        try:
            of_source = labels.select(F.col("node").alias("source"), F.col("label"))
            sized = pairs.join(of_source, "source")
            counts = sized.groupBy("label").agg(F.count("*").alias("pairs"))
            members = labels.groupBy("label").agg(F.count("*").alias("accounts"))
            kept = counts.join(members, "label").filter(
                F.col("accounts") >= config.min_cluster_accounts
            )
            limit = max(config.louvain_max_edges, options.propagation_task_max)
            large = kept.filter(F.col("pairs") > limit).select("label", "pairs").collect()
            in_tasks = sized.join(kept.filter(F.col("pairs") <= limit).select("label"), "label")
            found = _in_tasks(spark, in_tasks, config)
            rounds = 0
            if large:
                of_large = spark.createDataFrame([(row.label,) for row in large], "label BIGINT")
                across = sized.join(F.broadcast(of_large), "label")
                propagated, rounds = _propagated(spark, across, labels, config, options)
                found = found.unionByName(propagated)
            found = found.persist()
            found.count()
            return found, {
                "propagated_components": len(large),
                "propagated_pairs": sum(row.pairs for row in large),
                "propagation_rounds": rounds,
            }
        finally:
            labels.unpersist()
    finally:
        pairs.unpersist()


def _in_tasks(spark: SparkSession, pairs: DataFrame, config: ScanConfig) -> DataFrame:
    """Communities of the components a task can hold: components bucketed by label, each
    bucket's pairs split by :func:`linked_communities` (accounts numbered in their order,
    so each component is the graph the local engine splits, by Louvain or by label
    propagation, each node coloured by its account's number in the scan, and Louvain)."""
    buckets = int(spark.conf.get("spark.sql.shuffle.partitions") or 1)
    schema = arrow_schema(spark, COMMUNITIES)

    def split(table: pa.Table) -> pa.Table:
        frame = pl.DataFrame(pl.from_arrow(table)).sort("source", "target")
        ends = np.concatenate([frame["source"].to_numpy(), frame["target"].to_numpy()])
        accounts, local = np.unique(ends, return_inverse=True)
        source, target = np.split(local, 2)
        adjacency = pair_adjacency(source, target, frame["weight"].to_numpy(), accounts.size)
        # every account has a pair: rows are the bucket's accounts, in their order
        labels = linked_communities(adjacency.matrix, accounts, config)
        return _named(accounts, labels, schema)

    bucket = F.pmod(F.xxhash64("label"), F.lit(buckets)).alias("bucket")
    return (
        pairs.select(bucket, "source", "target", "weight")
        .groupBy("bucket")
        .applyInArrow(split, COMMUNITIES)
    )


def _named(accounts: np.ndarray, labels: np.ndarray, schema: pa.Schema) -> pa.Table:
    """``(account, community)`` rows of the accounts with a label, each community named by
    its smallest member."""
    member = labels >= 0
    smallest = np.full(int(labels.max()) + 1 if member.any() else 0, -1, np.int64)
    first = np.unique(labels[member], return_index=True)[1]
    smallest[labels[member][first]] = accounts[member][first]  # accounts ascend
    table = {"account": accounts[member], "community": smallest[labels[member]]}
    return pa.table(table).cast(schema)


def _propagated(
    spark: SparkSession,
    pairs: DataFrame,
    components: DataFrame,
    config: ScanConfig,
    options: SparkOptions,
) -> tuple[DataFrame, int]:
    """Communities of the components too large for a task (``pairs``: theirs, with each
    component's ``label``): label propagation in colour rounds, then their coarse graphs
    split on the driver; and the rounds run."""
    nodes = components.join(F.broadcast(pairs.select("label").distinct()), "label")
    sweeps = config.propagation_sweeps
    directed = directed_edges(spark, pairs, sweeps, options)
    try:
        state, rounds = propagate(
            nodes.select("node", F.col("label").alias("component")), directed, sweeps, options
        )
        return _split_coarse(spark, state, directed, config), rounds
    finally:
        directed.unpersist()


def directed_edges(
    spark: SparkSession, pairs: DataFrame, sweeps: int, options: SparkOptions
) -> DataFrame:
    """``pairs`` (``source``, ``target``, ``weight``) in both directions (``src``, ``dst``),
    weights rounded as :func:`detector.cluster._quantise` rounds them (``w``), each with
    its source's colours in ``sweeps`` sweeps; checkpointed."""
    quantum = F.lit(WEIGHT_QUANTUM)
    rounded = (F.greatest(F.rint(F.col("weight") / quantum), F.lit(1.0)) * quantum).alias("w")
    ends = (("source", "target"), ("target", "source"))
    directed = reduce(
        DataFrame.unionByName,
        [pairs.select(F.col(a).alias("src"), F.col(b).alias("dst"), rounded) for a, b in ends],
    )
    nodes = directed.select("src").distinct()
    colours = nodes.mapInArrow(_with_colours(spark, sweeps), _COLOURS)
    return checkpoint(directed.join(colours, "src"), options)


def propagate(
    nodes: DataFrame, directed: DataFrame, sweeps: int, options: SparkOptions
) -> tuple[DataFrame, int]:
    """Label propagation in colour rounds over ``directed`` (:func:`directed_edges`), as
    :func:`detector.cluster._label_propagation` runs it: ``(node, component, community,
    moved)`` for every one of ``nodes`` (``node``, ``component``), its ``community`` the
    label (a node) it ended with; and the rounds run (two a sweep, until a sweep moves
    no label)."""
    state = nodes.select(
        "node", "component", F.col("node").alias("community"), F.lit(False).alias("moved")
    )
    rounds = 0
    for sweep in range(sweeps):
        for colour in (0, 1):
            state = checkpoint(_round(state, directed, sweep, colour), options)
            rounds += 1
        if state.filter("moved").isEmpty():
            break
        state = state.withColumn("moved", F.lit(False))
    return state, rounds


_COLOURS = struct("src BIGINT, colours ARRAY<TINYINT>")


def _with_colours(spark: SparkSession, sweeps: int):
    """Each node's (``src``) colour in every sweep (:func:`detector.cluster.node_colours`
    of its account number, as the local engine colours it)."""
    schema = arrow_schema(spark, _COLOURS)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            colours = node_colours(batch.column("src").to_numpy(), sweeps).reshape(-1)
            offsets = np.arange(0, colours.size + 1, sweeps, dtype=np.int32)
            array = pa.ListArray.from_arrays(pa.array(offsets), pa.array(colours, pa.int8()))
            yield pa.RecordBatch.from_arrays([batch.column("src"), array], schema=schema)

    return run


def _round(state: DataFrame, directed: DataFrame, sweep: int, colour: int) -> DataFrame:
    """One colour round: every node of ``colour`` in ``sweep`` takes the label with the
    largest summed weight among its neighbours' labels of the round before (ties: the
    smallest); ``moved`` marks the nodes whose label changed in the sweep so far. Unions,
    windows and aggregations, no joins: Spark's size estimate of a join multiplies its
    sides', and a checkpoint keeps its frame's estimate, so joins round after round
    would grow it past any memory."""
    edges = directed.filter(F.col("colours").getItem(sweep) == colour).select(
        F.col("dst").alias("node"), "src", "w", F.lit(None).cast("bigint").alias("label")
    )
    labels = state.select(
        "node", F.lit(None).cast("bigint").alias("src"), F.lit(None).cast("double").alias("w"),
        F.col("community").alias("label"),
    )  # fmt: skip
    labelled = (
        edges.unionByName(labels)
        .withColumn("label", F.max("label").over(Window.partitionBy("node")))
        .filter(F.col("src").isNotNull())
    )
    sums = labelled.groupBy("src", "label").agg(F.sum("w").alias("w"))
    best = sums.groupBy("src").agg(
        F.max(F.struct(F.col("w"), (-F.col("label")).alias("smaller"))).alias("best")
    )
    chosen = best.select(
        F.col("src").alias("node"),
        *(
            F.lit(None).cast(t).alias(c)
            for c, t in (("component", "bigint"), ("community", "bigint"), ("moved", "boolean"))
        ),
        (-F.col("best.smaller")).alias("chosen"),
    )
    merged = (
        state.withColumn("chosen", F.lit(None).cast("bigint"))
        .unionByName(chosen)
        .groupBy("node")
        .agg(*(F.max(c).alias(c) for c in ("component", "community", "moved", "chosen")))
    )
    changed = F.col("chosen").isNotNull() & (F.col("chosen") != F.col("community"))
    return merged.select(
        "node",
        "component",
        F.coalesce("chosen", "community").alias("community"),
        (F.col("moved") | changed).alias("moved"),
    )


def _split_coarse(
    spark: SparkSession, state: DataFrame, directed: DataFrame, config: ScanConfig
) -> DataFrame:
    """Each propagated component's graph of label propagation communities (nodes by
    label rank, as :func:`detector.cluster._propagate` numbers them; weights summed
    exactly), collected and split by :func:`coarse_communities` on the driver; every
    node's community named by its smallest member, the small ones left out."""
    labels = state.select("node", "component", "community")
    source = labels.select(F.col("node").alias("src"), "component", F.col("community").alias("a"))
    target = labels.select(F.col("node").alias("dst"), F.col("community").alias("b"))
    coarse = collected(
        directed.join(source, "src")
        .join(target, "dst")
        .groupBy("component", "a", "b")
        .agg(F.sum("w").alias("w"))
    )
    sizes = collected(labels.groupBy("component").agg(F.count("*").alias("n")))
    rows = []
    for component, n in sizes.sort("component").iter_rows():
        edges = coarse.filter(pl.col("component") == component)
        names = np.unique(np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()]))
        k = names.size
        if k == n:  # nothing to coarsen: the propagation communities stand
            split = np.arange(k)
        else:
            a, b = (np.searchsorted(names, edges[end].to_numpy()) for end in ("a", "b"))
            columns = csc_matrix((edges["w"].to_numpy(), (a, b)), shape=(k, k))
            columns.sort_indices()
            split = coarse_communities(columns, np.arange(k), config)
        rows.append(
            pl.DataFrame({"label": names, "split": split.astype(np.int64)}).with_columns(
                component=pl.lit(component, pl.Int64)
            )
        )
    if not rows:
        return spark.createDataFrame([], COMMUNITIES)
    splits = spark.createDataFrame(pl.concat(rows).to_arrow())
    member = labels.join(splits.withColumnRenamed("label", "community"), ["component", "community"])
    named = member.groupBy("component", "split").agg(
        F.min("node").alias("name"), F.count("*").alias("size")
    )
    return (
        member.join(named, ["component", "split"])
        .filter(F.col("size") >= config.min_cluster_accounts)
        .select(F.col("node").alias("account"), F.col("name").alias("community"))
    )
