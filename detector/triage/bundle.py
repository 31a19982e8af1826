"""The data report.html embeds for its script: per cluster the rows of its evidence bundle
(posts and edges, turned into CSV downloads in the page), the accounts search can find and
the text search covers. Columnar and indexed, so 10,000 flagged accounts stay a few MB."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from detector.result import ScanResult
from detector.review import Decisions
from detector.triage.settings import ReportSettings

SEARCH_CLUSTERS = 5_000  # clusters, by rank, whose texts and reasons the search covers
SEARCH_CHARS = 600  # of each cluster's texts and reasons
OBJECT_CHARS = 200  # of each edge's shared objects


def page_data(
    result: ScanResult, ranked: list[int], decisions: Decisions, settings: ReportSettings
) -> dict[str, Any]:
    """The embedded data: ``limits`` (the caps of the account panel and member lists),
    ``clusters`` (id -> searchable text, review, and its bundle of
    posts and edges where they fit in ``bundle_rows``, else null),
    ``accounts`` (ids and per account its cluster, posts, creation day and review),
    ``groups`` (id -> example text of the groups bundled posts belong to), ``objects``
    (the distinct shared-object texts the bundled edges point at), ``drill`` (for the
    account panel: the first ``account_posts`` posts of each member of the flagged clusters
    without a bundle, where they fit in ``drill_rows``) and ``listed`` (the clusters whose
    members are all in ``accounts``)."""
    bundled = _fits(result, ranked, settings.bundle_rows)
    drilled = _drilled(result, ranked, set(bundled), settings)
    posts = result.lazy("posts").filter(pl.col("cluster_id").is_in(bundled)).collect()
    edges = result.edges.filter(pl.col("cluster_id").is_in(bundled))
    drill = (
        result.lazy("posts")
        .filter(pl.col("cluster_id").is_in(drilled))
        .sort("account_id", "created_at", "post_id")
        .group_by("account_id", maintain_order=True)
        .head(settings.account_posts)
        .collect()
    )
    named = pl.concat(
        [
            result.accounts.filter(pl.col("cluster_id").is_in([*bundled, *drilled]))["account_id"],
            pl.Series(list(decisions.accounts), dtype=pl.String),
            posts["account_id"],
            edges["source"],
            edges["target"],
        ]
    )
    members = result.accounts.filter(pl.col("account_id").is_in(named.implode())).sort("account_id")
    index = {a: i for i, a in enumerate(members["account_id"].to_list())}
    post_parts = _by_cluster(posts.sort("created_at", "post_id"))
    # Links repeat the same few shared objects: each distinct text once, links by index.
    objects = edges["objects"].list.join(" | ").str.slice(0, OBJECT_CHARS).fill_null("")
    shared = objects.unique().sort()
    edges = edges.with_columns(
        object_index=objects.replace_strict(shared, pl.int_range(shared.len(), eager=True))
    )
    edge_parts = _by_cluster(edges.sort("source", "target", "trace"))
    searched = set(ranked[:SEARCH_CLUSTERS])
    clusters = {}
    for row in result.clusters.filter(
        pl.col("cluster_id").is_in(searched | set(bundled))
    ).iter_rows(named=True):
        cid = row["cluster_id"]
        decision = decisions.clusters.get(cid)
        texts = [*(row["example_texts"] or []), *(row["reasons"] or [])] if cid in searched else []
        clusters[cid] = {
            "text": " · ".join(texts)[:SEARCH_CHARS],
            "review": decision.decision if decision else "",
            "bundle": {
                "posts": _posts(post_parts.get(cid, posts.clear()), index),
                "edges": _edges(edge_parts.get(cid, edges.clear()), index),
            }
            if cid in bundled
            else None,
        }
    gids = pl.concat([posts["group_id"], drill["group_id"]]).drop_nulls().unique()
    groups = result.groups.filter(pl.col("group_id").is_in(gids.implode()))
    return {
        "limits": {"posts": settings.account_posts, "members": settings.members_listed},
        "clusters": clusters,
        "accounts": {
            "id": members["account_id"].to_list(),
            "cluster": members["cluster_id"].to_list(),
            "posts": members["n_posts"].to_list(),
            "created": members["account_created_at"].dt.strftime("%Y-%m-%d").to_list(),
            "review": decisions.of_accounts(members).fill_null("").to_list(),
        },
        "groups": dict(groups.select("group_id", "example_text").iter_rows()),
        "objects": shared.to_list(),
        "drill": _posts(drill, index),
        "listed": sorted([*bundled, *drilled]),
    }


def as_script(data: dict[str, Any]) -> str:
    """``data`` as JSON that is safe inside <script type="application/json">."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fits(result: ScanResult, ranked: list[int], budget: int) -> list[int]:
    """The clusters of ``ranked`` (in order) whose posts and edges fit in ``budget`` rows."""
    sizes = (
        pl.concat(
            [
                result.lazy("posts").group_by("cluster_id").len().collect(),
                result.edges.group_by("cluster_id").len(),
            ]
        )
        .group_by("cluster_id")
        .agg(pl.col("len").sum())
    )
    rows = dict(sizes.drop_nulls("cluster_id").iter_rows())
    chosen, used = [], 0
    for cid in ranked:
        size = rows.get(cid, 0)
        if used + size <= budget:
            chosen.append(cid)
            used += size
    return chosen


def _drilled(
    result: ScanResult, ranked: list[int], bundled: set[int], settings: ReportSettings
) -> list[int]:
    """The flagged clusters of ``ranked`` without a bundle whose members' first
    ``account_posts`` posts fit, together, in ``drill_rows``."""
    flagged = set(result.clusters.filter(pl.col("flagged"))["cluster_id"].to_list())
    capped = dict(
        result.accounts.drop_nulls("cluster_id")
        .group_by("cluster_id")
        .agg(pl.col("n_posts").clip(upper_bound=settings.account_posts).sum())
        .iter_rows()
    )
    chosen, used = [], 0
    for cid in ranked:
        size = capped.get(cid, 0)
        if cid in flagged and cid not in bundled and used + size <= settings.drill_rows:
            chosen.append(cid)
            used += size
    return chosen


def _by_cluster(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("cluster_id", as_dict=True).items()}


def _posts(posts: pl.DataFrame, index: dict[str, int]) -> dict[str, list]:
    return {
        "id": posts["post_id"].to_list(),
        "account": [index[a] for a in posts["account_id"].to_list()],
        "time": posts["created_at"].dt.epoch("s").to_list(),
        "group": posts["group_id"].to_list(),
    }


def _edges(edges: pl.DataFrame, index: dict[str, int]) -> dict[str, list]:
    return {
        "source": [index[a] for a in edges["source"].to_list()],
        "target": [index[a] for a in edges["target"].to_list()],
        "trace": edges["trace"].to_list(),
        "shared": edges["shared"].to_list(),
        "co_posts": edges["co_posts"].to_list(),
        "weight": edges["weight"].to_list(),
        "gap_min_s": edges["gap_min_s"].to_list(),
        "gap_median_s": edges["gap_median_s"].to_list(),
        "objects": edges["object_index"].to_list(),
    }
