"""What every benchmarked system shares: the prediction table, stage timing and the
community flagging rule of the two reference systems."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import networkx as nx
import polars as pl

WINDOW_SECONDS = 12 * 3600
MIN_ACCOUNTS = 5
MIN_GROUPS = 2
LOUVAIN_SEED = 1

PREDICTIONS = pl.Schema({"account_id": pl.String, "cluster": pl.Int64, "flagged": pl.Boolean})


class Stages:
    """Wall seconds per named stage, and what the run's work grows with (distinct
    texts, graph edges: figures a system reports about its input, ours only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.work: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


def flag_communities(graph: nx.Graph, evidence: str | None) -> pl.DataFrame:
    """Louvain communities of ``graph``; a community is flagged when it has at least
    ``MIN_ACCOUNTS`` accounts and its inside edges carry at least ``MIN_GROUPS`` distinct
    items of ``evidence`` (an edge attribute holding a set; ``None`` when every edge already
    stands for ``MIN_GROUPS`` or more shared items)."""
    communities = nx.community.louvain_communities(graph, weight="weight", seed=LOUVAIN_SEED)
    rows: list[tuple[str, int, bool]] = []
    for cluster, members in enumerate(communities):
        flagged = len(members) >= MIN_ACCOUNTS
        if flagged and evidence is not None:
            items: set = set()
            for _, _, found in graph.subgraph(members).edges(data=evidence):
                items |= found
            flagged = len(items) >= MIN_GROUPS
        rows.extend((str(account), cluster, flagged) for account in members)
    return pl.DataFrame(rows, schema=PREDICTIONS, orient="row")


def head_commit() -> str:
    """The repository's commit, short: what a benchmark's figures were measured at."""
    git = ["git", "rev-parse", "--short", "HEAD"]
    return subprocess.run(git, capture_output=True, text=True, check=False).stdout.strip()
