"""Unflagged but notable activity: the largest clusters and near-duplicate groups that were
not flagged (authentic bursts, regular co-posters), with why, so an analyst can check the
verdict rather than take it on trust."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from detector.result import ScanResult
from detector.triage.evidence import Histogram, histogram

TOP_CLUSTERS = 10
MIN_ACCOUNTS = 20  # smaller unflagged clusters are not worth a card
TOP_GROUPS = 20


@dataclass(frozen=True)
class NotableGroup:
    group: dict[str, Any]  # the group's row of the groups table
    why: str
    timeline: Histogram | None


def flag_threshold(result: ScanResult) -> float:
    """The score from which the scan flagged a cluster."""
    for part in ("model", "config"):  # scans before scoring models: config's threshold
        given = result.summary.get(part, {}).get("flag_threshold")
        if given is not None:
            return float(given)
    return 0.5


def unflagged_clusters(result: ScanResult, limit: int = TOP_CLUSTERS) -> list[int]:
    """Ids of the largest unflagged clusters of at least MIN_ACCOUNTS accounts (most
    accounts, then most posts)."""
    return (
        result.clusters.filter(~pl.col("flagged") & (pl.col("n_accounts") >= MIN_ACCOUNTS))
        .sort(["n_accounts", "n_posts", "cluster_id"], descending=[True, True, False])
        .head(limit)["cluster_id"]
        .to_list()
    )


def why_not_flagged(cluster: dict[str, Any], threshold: float) -> str:
    """One sentence: the score against the threshold and the evidence that cleared it
    (an unflagged cluster's reasons list that first)."""
    reasons = cluster["reasons"] or []
    weak = reasons[0] if reasons else "no further evidence recorded"
    return f"score {cluster['score']:.2f} is below the flag threshold {threshold:g}: {weak}"


def unflagged_groups(result: ScanResult, limit: int = TOP_GROUPS) -> list[NotableGroup]:
    """The largest near-duplicate groups outside flagged clusters, with a reason each."""
    flagged = result.clusters.filter(pl.col("flagged"))["cluster_id"]
    groups = (
        result.groups.filter(
            pl.col("cluster_id").is_null() | ~pl.col("cluster_id").is_in(flagged.implode())
        )
        .sort(["n_accounts", "n_posts", "group_id"], descending=[True, True, False])
        .head(limit)
    )
    clusters = {
        row["cluster_id"]: row
        for row in result.clusters.filter(
            pl.col("cluster_id").is_in(groups["cluster_id"].drop_nulls().implode())
        ).iter_rows(named=True)
    }
    posts = (
        result.lazy("posts")
        .filter(pl.col("group_id").is_in(groups["group_id"].implode()))
        .collect()
    )
    times = {
        key[0]: part["created_at"]
        for key, part in posts.partition_by("group_id", as_dict=True).items()
    }
    threshold = flag_threshold(result)
    min_repeat = result.summary.get("config", {}).get("min_repeat")
    out = []
    for row in groups.iter_rows(named=True):
        cid = row["cluster_id"]
        if cid is None:
            need = f" (at least {min_repeat})" if min_repeat else ""
            why = (
                "its accounts form no cluster: they did not co-post enough distinct "
                f"contents{need} with one another, as people reacting once to one text do"
            )
        else:
            why = f"most of its accounts are in cluster {cid}, whose " + why_not_flagged(
                clusters[cid], threshold
            )
        series = times.get(row["group_id"])
        timeline = histogram(series) if series is not None else None
        out.append(NotableGroup(group=row, why=why, timeline=timeline))
    return out
