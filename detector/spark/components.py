"""Connected components by large-star / small-star (Kiveris et al., "Connected Components
in MapReduce and Beyond", 2014) in the DataFrame API: the shuffles run in the JVM, no
GraphFrames JAR. Every node ends labelled by the smallest node of its component.

Each partition's edges are first contracted where they lie (:func:`contracted`): a
near-duplicate text is paired with the head of each of its band buckets, so most edges
are redundant. What is left, when small enough for the driver, is labelled there
(:func:`driver_components`): each Spark round is several shuffles, seconds even on a few
edges."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from detector.spark.arrow import arrow_schema, struct
from detector.spark.options import SparkOptions

EDGES = struct("src BIGINT, dst BIGINT")


def component_labels(
    spark: SparkSession, edges: DataFrame, options: SparkOptions
) -> tuple[DataFrame, int]:
    """``(node, label)`` for every node of ``edges`` (columns ``src``, ``dst``; read once),
    cached, and the Spark rounds it took (0: labelled on the driver, the contracted edges
    being at most ``options.driver_components_max``)."""
    stars = contracted(spark, edges).persist()
    try:
        if stars.count() <= options.driver_components_max:
            table = stars.toArrow()
            node, label = driver_components(*(table[c].to_numpy() for c in ("src", "dst")))
            labels = pa.table({"node": node.astype(np.int64), "label": label.astype(np.int64)})
            return spark.createDataFrame(labels).persist(), 0
        labels, rounds = components(stars, options)
        return labels.persist(), rounds
    finally:
        stars.unpersist()


def contracted(spark: SparkSession, edges: DataFrame) -> DataFrame:
    """Edges with the same components as ``edges``, fewer: each partition's edges replaced
    by a star per component they form, from its smallest node (``src``) to each other node
    (``dst``). A partition's edges are held at once, 16 bytes an edge."""
    schema = arrow_schema(spark, EDGES)

    def contract(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ends = [(b.column("src").to_numpy(), b.column("dst").to_numpy()) for b in batches]
        if not ends:
            return
        node, label = driver_components(*(np.concatenate(e) for e in zip(*ends, strict=True)))
        leaf = node != label
        yield pa.RecordBatch.from_arrays(
            [pa.array(label[leaf], pa.int64()), pa.array(node[leaf], pa.int64())], schema=schema
        )

    return edges.select("src", "dst").mapInArrow(contract, EDGES)


def components(edges: DataFrame, options: SparkOptions) -> tuple[DataFrame, int]:
    """``(node, label)`` for every node of ``edges`` (columns ``src``, ``dst``), the label the
    smallest node of its component; and the number of rounds it took. Each round is a
    large-star then a small-star step, checkpointed (lineage would grow without bound)."""
    graph = _oriented(edges.select(F.col("src").alias("u"), F.col("dst").alias("v")))
    rounds = 0
    while rounds == 0 or not _stars(graph):
        if rounds == options.max_rounds:
            raise RuntimeError(f"components did not converge in {options.max_rounds} rounds")
        graph = checkpoint(_small_star(_large_star(graph)), options)
        rounds += 1
    labels = graph.select(F.col("v").alias("node"), F.col("u").alias("label")).unionByName(
        graph.select(F.col("u").alias("node"), F.col("u").alias("label"))
    )
    return labels.distinct(), rounds


def _stars(graph: DataFrame) -> bool:
    """Whether ``graph`` (edges ``u < v``) is a forest of stars: no node both a centre and a
    leaf, no leaf with two centres. Large- and small-star steps keep every component
    connected, so the stars are then the components, each centred on its smallest node."""
    ends = graph.select(F.col("u").alias("node"), F.lit(1).alias("centre"), F.lit(0).alias("leaf"))
    ends = ends.unionByName(
        graph.select(F.col("v").alias("node"), F.lit(0).alias("centre"), F.lit(1).alias("leaf"))
    )
    roles = ends.groupBy("node").agg(F.max("centre").alias("centre"), F.sum("leaf").alias("leaf"))
    bad = ((F.col("centre") == 1) & (F.col("leaf") > 0)) | (F.col("leaf") > 1)
    return roles.filter(bad).isEmpty()


def _oriented(edges: DataFrame) -> DataFrame:
    """Edges ``(u, v)`` with ``u < v``, once each, no loops."""
    return (
        edges.select(F.least("u", "v").alias("u"), F.greatest("u", "v").alias("v"))
        .filter(F.col("u") != F.col("v"))
        .distinct()
    )


def _large_star(graph: DataFrame) -> DataFrame:
    """Each node's larger neighbours are linked to the smallest of it and its neighbours."""
    both = graph.select(F.col("u").alias("x"), F.col("v").alias("y")).unionByName(
        graph.select(F.col("v").alias("x"), F.col("u").alias("y"))
    )
    smallest = both.groupBy("x").agg(F.least(F.min("y"), F.col("x")).alias("m"))
    larger = both.filter(F.col("y") > F.col("x")).join(smallest, "x")
    return _oriented(larger.select(F.col("y").alias("u"), F.col("m").alias("v")))


def _small_star(graph: DataFrame) -> DataFrame:
    """Each node and its smaller neighbours are linked to the smallest of those."""
    smallest = graph.groupBy("v").agg(F.min("u").alias("m"))
    joined = graph.join(smallest, "v")
    return _oriented(
        joined.select(F.col("u"), F.col("m").alias("v")).unionByName(
            joined.select(F.col("v").alias("u"), F.col("m").alias("v"))
        )
    )


def checkpoint(frame: DataFrame, options: SparkOptions) -> DataFrame:
    return frame.checkpoint() if options.checkpoint_dir else frame.localCheckpoint()


def driver_components(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(node, label)`` arrays as :func:`components` gives them, for an edge list on the
    driver (scipy's connected components over the distinct nodes)."""
    if not len(src):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    nodes, ends = np.unique(np.concatenate([src, dst]), return_inverse=True)
    a, b = ends[: len(src)], ends[len(src) :]
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(len(nodes), len(nodes)))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(component.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, component, nodes)
    return nodes, smallest[component]
