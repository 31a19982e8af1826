"""Near-duplicate groups on Spark: each text's group (its near-duplicate component, the text
alone, or its short-text key), the groups two or more accounts share, and the texts of
those groups, whose posts are all that the stages after LSH read
(:mod:`detector.spark.shared`), numbered and grouped as the local engine numbers and
groups texts: a text's number is its first post's ``ord``, a near-duplicate group's label
its first text's number, a short-text group's label :data:`SHORT_LABELS` plus the rank of
its key. The local engine numbers texts in the same order (by first post) and puts
short-text groups' labels above all others the same way, so every comparison and
tie-break comes out the same.

A group is named by two columns, never null together in a group: ``group_first``, the
``first`` (ord of the first post) of its first text, -1 for a short-text group;
``group_short``, the short-text key, 0 for a near-duplicate group. Texts in no group
(empty, or short while short texts are not grouped) have both null."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.rewording import short_group_labels
from detector.spark.arrow import collected
from detector.spark.read import MAX_FILES, PLACE_BITS
from detector.spark.staging import Staging
from detector.spark.texts import PASSED_ON

GROUP = ("group_first", "group_short")
SHORT_LABELS = MAX_FILES << PLACE_BITS  # short-text groups' labels from here up: past every ord


def text_groups(sketched: DataFrame, labels: DataFrame, config: ScanConfig) -> DataFrame:
    """Per distinct text (``sketched``): ``text_key``, ``first``, ``n_shingles``, its posts
    and their lowest and highest ``account_id``, and its group; ``labels``: ``(node,
    label)`` of the near-duplicate components, by ``first``."""
    roots = labels.select(F.col("node").alias("first"), F.col("label").alias("root"))
    sketchable = F.col("n_shingles") >= config.min_shingles
    short = F.col("short_key").isNotNull()
    return (
        sketched.select(*PASSED_ON, "n_shingles", "short_key")
        .join(roots, "first", "left")
        .select(
            *PASSED_ON,
            "n_shingles",
            F.when(sketchable, F.coalesce("root", "first"))
            .when(short, F.lit(-1).cast("long"))
            .alias("group_first"),
            F.when(sketchable, F.lit(0).cast("long"))
            .when(short, F.col("short_key"))
            .alias("group_short"),
        )
    )


@dataclass(frozen=True)
class SharedTexts:
    """The texts of groups two or more accounts share, numbered and grouped as the local
    engine numbers and groups texts. ``texts``: in Spark (cached), one row per text:
    ``text_key``, ``text_id``, ``shared_group``, ``n_shingles`` and ``variants`` (texts in
    its group); on the driver, the number of shared short-text groups and the posts too
    short to match, of all posts."""

    texts: DataFrame
    short_groups: int
    too_short: int


def shared_texts(
    spark: SparkSession, staged: Staging, texts: DataFrame, config: ScanConfig
) -> SharedTexts:
    """The :class:`SharedTexts` of ``texts`` (:func:`text_groups`). Which groups are shared
    is found from the texts alone, their lowest and highest ``account_id``; the driver ranks
    the shared short-text groups' keys, a row per group."""
    texts = texts.persist()
    try:
        too_short = (
            texts.filter(F.col("n_shingles") < config.min_shingles).agg(F.sum("n_posts")).first()[0]
        )
        shared = (
            texts.filter(F.col("group_first").isNotNull())
            .groupBy(*GROUP)
            .agg(
                (F.min("lowest") < F.max("highest")).alias("shared"),
                F.count("*").alias("variants"),
            )
            .filter("shared")
        )
        short = collected(shared.filter(F.col("group_first") == -1).select("group_short"))
        unsigned = short["group_short"].reinterpret(signed=False).to_numpy()
        labels = {
            "group_short": short["group_short"].to_numpy(),
            "short_label": short_group_labels(unsigned, SHORT_LABELS),
        }
        near = F.col("group_first") >= 0
        numbered = (
            texts.join(shared.select(*GROUP, "variants"), list(GROUP))
            .join(staged.frame(spark, pa.table(labels), "short_labels"), "group_short", "left")
            .select(
                "text_key",
                F.col("first").alias("text_id"),
                F.when(near, F.col("group_first"))
                .otherwise(F.col("short_label"))
                .alias("shared_group"),
                "n_shingles",
                "variants",
            )
            .localCheckpoint()
        )
    finally:
        texts.unpersist()
    return SharedTexts(numbered, short.height, int(too_short or 0))


def spinnable_texts(shared: SharedTexts, sketched: DataFrame, config: ScanConfig) -> DataFrame:
    """The texts of the near-duplicate groups that can be spun (``spun_min_texts`` texts or
    more), with their sketches' low bytes (``sketched``: by ``first``), which spun-group
    detection reads (:mod:`detector.spark.shared`): ``shared_group``, ``text_id``,
    ``n_shingles``, ``low``; checkpointed, as ``sketched`` is let go before they are read."""
    low = sketched.select(F.col("first").alias("text_id"), "low")
    spinnable = (F.col("shared_group") < SHORT_LABELS) & (
        F.col("variants") >= config.spun_min_texts
    )
    return (
        shared.texts.filter(spinnable)
        .select("shared_group", "text_id", "n_shingles")
        .join(low, "text_id")
        .localCheckpoint()
    )
