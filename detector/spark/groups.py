"""Near-duplicate groups on Spark, and the texts the driver collects: each text's group (its
near-duplicate component, the text alone, or its short-text key), the groups two or more
accounts share, and the texts of those groups only, whose posts are all that the stages
after LSH read (:mod:`detector.spark.shared`). These texts are numbered and grouped on the
driver as the local engine numbers and groups every text, among these texts only: in the
same order, so every comparison and tie-break comes out the same.

A group is named by two columns, never null together in a group: ``group_first``, the
``first`` (ord of the first post) of its first text, -1 for a short-text group;
``group_short``, the short-text key, 0 for a near-duplicate group. Texts in no group
(empty, or short while short texts are not grouped) have both null."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.rewording import short_group_labels
from detector.spark.arrow import collected
from detector.spark.texts import PASSED_ON

GROUP = ("group_first", "group_short")
TEXT_COLUMNS = ("first", "n_shingles", *GROUP)  # what the driver collects of a text


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


def shared_texts(texts: DataFrame, config: ScanConfig) -> tuple[pl.DataFrame, int]:
    """The texts of groups two or more accounts share (``text_key`` and
    :data:`TEXT_COLUMNS`), collected, and the number of posts too short to match;
    ``texts``: :func:`text_groups`. Which groups are shared is found from the texts alone:
    their lowest and highest ``account_id``."""
    texts = texts.persist()
    try:
        too_short = (
            texts.filter(F.col("n_shingles") < config.min_shingles).agg(F.sum("n_posts")).first()[0]
        )
        shared = (
            texts.filter(F.col("group_first").isNotNull())
            .groupBy(*GROUP)
            .agg((F.min("lowest") < F.max("highest")).alias("shared"))
            .filter("shared")
        )
        found = texts.join(shared.select(*GROUP), list(GROUP), "left_semi")
        return collected(found.select("text_key", *TEXT_COLUMNS)), int(too_short or 0)
    finally:
        texts.unpersist()


def numbered_texts(
    texts: pl.DataFrame,
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The collected ``texts`` (:func:`shared_texts`) as the local engine numbers and groups
    texts: ``text_key`` -> ``text_id`` by first post, and by text number its ``first``,
    shingles and group label (a near-duplicate group's by its first text's number, a
    short-text group's from the number of texts up, by the rank of its key)."""
    texts = texts.sort("first")
    first = texts["first"].to_numpy()
    group_first = texts["group_first"].to_numpy()
    label = np.full(texts.height, -1, np.int64)
    near = np.flatnonzero(group_first >= 0)
    label[near] = np.searchsorted(first, group_first[near])
    short = np.flatnonzero(group_first == -1)
    keys = texts["group_short"].gather(short).reinterpret(signed=False).to_numpy()
    label[short] = short_group_labels(keys, texts.height)
    text_index = pl.DataFrame(
        {
            "text_id": pl.int_range(0, texts.height, dtype=pl.UInt32, eager=True),
            "text_key": texts["text_key"].reinterpret(signed=False),
        }
    )
    return text_index, first, texts["n_shingles"].to_numpy().astype(np.int32), label
