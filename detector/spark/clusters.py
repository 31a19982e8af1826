"""The communities' clusters across tasks, as :func:`detector.cluster.join_spinners` and
:func:`detector.cluster.keep_core_members` make them on one machine: the same accounts
in the same clusters, by DataFrame aggregations over the in-window traces.

1. Communities joined when their members wrote rewordings of one spun group: components
   of the links between communities and the groups they reworded
   (:mod:`detector.spark.components`), each named by its smallest member.
2. Each object's owner: the community holding strictly more than half of the accounts
   that co-shared it in window (a count per object and community, then per object).
3. A member stays when it co-shared at least ``min_repeat`` distinct contents owned by its
   community, or one own rewording of a spun group so owned; clusters left with fewer
   than ``min_cluster_accounts`` members are dissolved.

No step holds a community, an object or an account whole: the largest object's row is a
count per community that co-shared it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.spark.components import component_labels
from detector.spark.options import SparkOptions


def cluster_labels(
    spark: SparkSession,
    linked: DataFrame,
    communities: DataFrame,
    config: ScanConfig,
    options: SparkOptions,
) -> DataFrame:
    """``(account, cluster)`` of every account in a cluster, the cluster named by the
    smallest member of its community, cached. ``linked``: the in-window traces (``key``,
    ``account``, ``variant``, ``rewording``); ``communities``: ``(account, community)``,
    each community named by its smallest member."""
    links = (
        linked.filter(F.col("rewording") > 0)
        .join(communities, "account")
        .select((-F.col("community") - 1).alias("src"), F.col("key").alias("dst"))
        .distinct()
    )  # communities are negative nodes, spun groups (keys >= 0) positive ones
    labels, _ = component_labels(spark, links, options)
    try:
        joined = _joined(communities, labels)
        clusters = _core_members(linked, joined, config).persist()
        clusters.count()
        return clusters
    finally:
        labels.unpersist()


def _joined(communities: DataFrame, labels: DataFrame) -> DataFrame:
    """``communities`` renamed, each community joined with those sharing a spun group
    with it (a component of ``labels``) named by the smallest member of them all."""
    of_community = labels.filter(F.col("node") < 0).select(
        (-F.col("node") - 1).alias("community"), "label"
    )
    smallest = of_community.groupBy("label").agg(F.min("community").alias("joined"))
    renamed = of_community.join(smallest, "label").select("community", "joined")
    return communities.join(renamed, "community", "left").select(
        "account", F.coalesce("joined", "community").alias("community")
    )


def _core_members(linked: DataFrame, communities: DataFrame, config: ScanConfig) -> DataFrame:
    """The core members of ``communities`` (``(account, community)``), as
    ``(account, cluster)``."""
    counted = linked.filter(F.col("rewording") >= 0)  # a copy of a spun post is no content
    shared = counted.select("key", "account").distinct().join(communities, "account", "left")
    owners = (
        shared.groupBy("key", "community")
        .agg(F.count("*").alias("accounts"))
        .groupBy("key")
        .agg(
            F.sum("accounts").alias("sharing"),
            F.max("accounts").alias("most"),
            F.max_by("community", "accounts").alias("owner"),  # a tie is no majority
        )
        .filter(F.col("owner").isNotNull() & (F.col("most") * 2 > F.col("sharing")))
        .select("key", "owner")
    )
    contents = (
        counted.select("key", "variant", "rewording", "account")
        .distinct()
        .join(communities, "account")
        .join(owners, "key")
        .filter(F.col("community") == F.col("owner"))
        .groupBy("account", "community")
        .agg(
            F.count("*").alias("contents"),
            F.bool_or(F.col("rewording") > 0).alias("reworded"),
        )
    )
    kept = contents.filter((F.col("contents") >= config.min_repeat) | F.col("reworded"))
    large = (
        kept.groupBy("community")
        .agg(F.count("*").alias("members"))
        .filter(F.col("members") >= config.min_cluster_accounts)
        .select("community")
    )
    return kept.join(large, "community").select("account", F.col("community").alias("cluster"))
