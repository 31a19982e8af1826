"""Connected components by large-star / small-star (Kiveris et al., "Connected Components
in MapReduce and Beyond", 2014) in the DataFrame API: the shuffles run in the JVM, no
GraphFrames JAR. Every node ends labelled by the smallest node of its component."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from detector.spark.options import SparkOptions


def components(edges: DataFrame, options: SparkOptions) -> tuple[DataFrame, int]:
    """``(node, label)`` for every node of ``edges`` (columns ``src``, ``dst``), the label the
    smallest node of its component; and the number of rounds it took. Each round is a
    large-star then a small-star step, checkpointed (lineage would grow without bound)."""
    graph = _oriented(edges.select(F.col("src").alias("u"), F.col("dst").alias("v")))
    graph = _checkpoint(graph, options)
    for done in range(1, options.max_rounds + 1):
        step = _checkpoint(_small_star(_large_star(graph)), options)
        if step.count() == graph.count() and step.exceptAll(graph).isEmpty():
            stars = step
            break
        graph = step
    else:
        raise RuntimeError(f"connected components did not converge in {options.max_rounds} rounds")
    labels = stars.select(F.col("v").alias("node"), F.col("u").alias("label")).unionByName(
        stars.select(F.col("u").alias("node"), F.col("u").alias("label"))
    )
    return labels.distinct(), done


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


def _checkpoint(frame: DataFrame, options: SparkOptions) -> DataFrame:
    return frame.checkpoint() if options.checkpoint_dir else frame.localCheckpoint()
