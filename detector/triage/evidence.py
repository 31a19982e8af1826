"""Per-cluster evidence shared by the HTML report and ``detector explain``: the cluster's
row, its posting timeline, account-creation histogram, busiest accounts, a network sample
and its example posts aligned into templates. Computed here once, rendered elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

from detector.errors import UsageError
from detector.result import ScanResult
from detector.triage.template import Family, families

MAX_BUCKETS = 60
MIN_BUCKETS = 12  # fewer buckets are padded on both sides, so a burst shows as one
# Bucket widths a histogram may use, in seconds: the finest that fits MAX_BUCKETS wins.
STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400)
STEPS += (7 * 86_400, 14 * 86_400, 30 * 86_400, 91 * 86_400, 365 * 86_400)
MAX_NETWORK_NODES = 150
MAX_NETWORK_EDGES = 600
TOP_ACCOUNTS = 10
LAYOUT_SEED = 7


@dataclass(frozen=True)
class Histogram:
    """Counts of events in equal time buckets starting at ``start``."""

    start: datetime
    step: timedelta
    counts: list[int]

    def bucket_start(self, index: int) -> datetime:
        return self.start + self.step * index

    def peak(self) -> int:
        """Index of the fullest bucket (the first one on ties)."""
        return int(np.argmax(self.counts))

    def label(self, index: int) -> str:
        """Start of bucket ``index`` (``len(counts)``: the end), as precise as the step."""
        pattern = "%Y-%m-%d %H:%M" if self.step < timedelta(days=1) else "%Y-%m-%d"
        return self.bucket_start(index).strftime(pattern)

    @property
    def unit(self) -> str:
        """The bucket width in words: "15 min", "hour", "day", "7 days"."""
        s = int(self.step.total_seconds())
        if s % 86_400 == 0:
            return "day" if s == 86_400 else f"{s // 86_400} days"
        if s % 3600 == 0:
            return "hour" if s == 3600 else f"{s // 3600} h"
        if s % 60 == 0:
            return "minute" if s == 60 else f"{s // 60} min"
        return f"{s} s"


@dataclass(frozen=True)
class Network:
    """A sample of the cluster's account graph with a deterministic 2-D layout in [0, 1]."""

    nodes: list[str]
    xy: np.ndarray  # (len(nodes), 2)
    degree: list[int]  # links of each node within the whole cluster
    edges: list[tuple[int, int, float]]  # indices into nodes, weight
    n_accounts: int
    n_edges: int


@dataclass(frozen=True)
class Evidence:
    """Everything shown for one cluster."""

    cluster: dict[str, Any]  # the cluster's row of the clusters table
    timeline: Histogram | None
    creation: Histogram | None  # None where creation dates are unknown
    top_accounts: list[dict[str, Any]]  # account_id, n_posts, account_created_at, links
    network: Network
    examples: list[Family]


def when(value: datetime | None) -> str:
    """A timestamp to the minute, or a dash when unknown."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


def collect(result: ScanResult, cluster_ids: list[int]) -> list[Evidence]:
    """Evidence for each of ``cluster_ids`` (in that order), reading every table once; a
    usage error naming any id that is not a cluster of ``result``."""
    if not cluster_ids:
        return []
    wanted = pl.col("cluster_id").is_in(cluster_ids)
    posts = _by_cluster(result.posts.filter(wanted))
    accounts = _by_cluster(result.accounts.filter(wanted))
    edges = _by_cluster(result.pair_links(result.edges.filter(wanted)))
    rows = {r["cluster_id"]: r for r in result.clusters.filter(wanted).iter_rows(named=True)}
    if missing := [cid for cid in cluster_ids if cid not in rows]:
        raise UsageError(
            f"no cluster {missing[0]} in these results ({result.clusters.height} clusters)"
        )
    out = []
    for cid in cluster_ids:
        row = rows[cid]
        members = accounts.get(cid, result.accounts.clear())
        links = edges.get(cid, result.pair_links(result.edges.clear()))
        degree = _degree(links)
        out.append(
            Evidence(
                cluster=row,
                timeline=histogram(posts.get(cid, result.posts.clear())["created_at"]),
                creation=histogram(members["account_created_at"], min_step=86_400),
                top_accounts=_top_accounts(members, degree),
                network=network_sample(members["account_id"].to_list(), links, degree),
                examples=families(row["example_texts"] or []),
            )
        )
    return out


def _by_cluster(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("cluster_id", as_dict=True).items()}


def histogram(times: pl.Series, min_step: int = 60) -> Histogram | None:
    """Bucket timestamps with the finest step from :data:`STEPS` (at least ``min_step``
    seconds) giving <= MAX_BUCKETS buckets; None when no timestamp is known."""
    seconds = times.drop_nulls().dt.epoch("s").to_numpy()
    if seconds.size == 0:
        return None
    low, high = int(seconds.min()), int(seconds.max())
    step = next(
        (
            s
            for s in STEPS
            if s >= min_step and (high - high % s - (low - low % s)) // s < MAX_BUCKETS
        ),
        None,
    )
    step = step or -(-(high - low + 1) // MAX_BUCKETS)
    n = (high - high % step - (low - low % step)) // step + 1
    origin = low - low % step - step * max(0, (MIN_BUCKETS - n) // 2)
    size = max(n, MIN_BUCKETS)
    counts = np.bincount((seconds - origin) // step, minlength=size)
    return Histogram(
        start=datetime.fromtimestamp(origin, UTC),
        step=timedelta(seconds=step),
        counts=[int(c) for c in counts],
    )


def _degree(edges: pl.DataFrame) -> dict[str, int]:
    ends = pl.concat([edges["source"], edges["target"]])
    counts = ends.value_counts()
    return dict(zip(counts[ends.name].to_list(), counts["count"].to_list(), strict=True))


def _top_accounts(members: pl.DataFrame, degree: dict[str, int]) -> list[dict[str, Any]]:
    """The members with the most links in the cluster, then the most posts."""
    rows = [
        {
            "account_id": r["account_id"],
            "n_posts": r["n_posts"],
            "account_created_at": r["account_created_at"],
            "links": degree.get(r["account_id"], 0),
        }
        for r in members.select("account_id", "n_posts", "account_created_at").iter_rows(named=True)
    ]
    rows.sort(key=lambda r: (-r["links"], -r["n_posts"], r["account_id"]))
    return rows[:TOP_ACCOUNTS]


def network_sample(members: list[str], edges: pl.DataFrame, degree: dict[str, int]) -> Network:
    """The best-connected members (at most MAX_NETWORK_NODES), their strongest links among
    themselves (at most MAX_NETWORK_EDGES) and a seeded spring layout, so the picture is
    the same on every run."""
    ranked = sorted(members, key=lambda a: (-degree.get(a, 0), a))[:MAX_NETWORK_NODES]
    index = {account: i for i, account in enumerate(ranked)}
    inside = (
        edges.filter(pl.col("source").is_in(ranked) & pl.col("target").is_in(ranked))
        .sort(["weight", "source", "target"], descending=[True, False, False])
        .head(MAX_NETWORK_EDGES)
    )
    links = [
        (index[s], index[t], float(w))
        for s, t, w in inside.select("source", "target", "weight").iter_rows()
    ]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(ranked)))
    graph.add_weighted_edges_from(links)
    xy = np.zeros((len(ranked), 2))
    if ranked:
        layout = nx.spring_layout(graph, seed=LAYOUT_SEED, iterations=60)
        xy = np.array([layout[i] for i in range(len(ranked))], dtype=float).reshape(-1, 2)
        span = xy.max(axis=0) - xy.min(axis=0)
        xy = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
        xy[:, span == 0] = 0.5
    return Network(
        nodes=ranked,
        xy=xy,
        degree=[degree.get(a, 0) for a in ranked],
        edges=links,
        n_accounts=len(members),
        n_edges=edges.height,
    )
