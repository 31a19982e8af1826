"""From co-sharing traces to clusters with their evidence: the account graph, communities,
core members and per-cluster evidence (:func:`find_clusters`), the steps after the graph
in a function of their own (:func:`clusters_of`).

The Spark engine runs the same steps across tasks (:mod:`detector.spark.accounts`): the
graph by object and pair buckets, communities and core members by DataFrame rounds and
aggregations, and evidence by buckets of whole clusters. Evidence splits by cluster
because a cluster's figures read only its members' in-window traces (each with its
object's shares), its members' posts, creation times and repetition, and the edges
between its members: a bucket holding whole clusters, with those rows alone, computes
each cluster's figures as the whole scan does. Accounts and posts numbered in the scan's
order and traces in the scan's order make the sums run in the same order: the same
floats, not merely close ones. Clusters are then numbered across buckets as
:func:`detector.cluster.keep_core_members` numbers them (members descending, then
smallest member), which needs each cluster's size and smallest member only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from detector.cluster import (
    detect_communities,
    join_spinners,
    keep_core_members,
    symmetric_adjacency,
)
from detector.config import ScanConfig
from detector.graph import EDGE_FIELDS, AccountGraph, Join, Traces, build_graph
from detector.score import ClusterEvidence, cluster_evidence
from detector.spill import join_columns, release_freed_memory

Step = Callable[[str], AbstractContextManager[object]]
# Sets arrays aside (on disk once a scan is past its memory budget) and gives them back.
Park = Callable[[dict[str, np.ndarray]], Callable[[], dict[str, np.ndarray]]]


@dataclass(frozen=True)
class Clustering:
    """Each account's cluster (0.. by members descending, then smallest member; -1 for
    none), each cluster's evidence, the graph's edges to write (all of them, or only those
    inside clusters when the graph is not written whole), its edge count per kind, and the
    objects those edges quote whose traces the clusterer built itself (the Spark engine's,
    from posts the driver never holds), as :data:`detector.posts.OBJECTS` names them."""

    account_cluster: np.ndarray
    evidence: ClusterEvidence
    edges: AccountGraph
    edges_by_kind: np.ndarray
    objects: pl.DataFrame | None = None

    @property
    def n_clusters(self) -> int:
        return int(self.evidence.n_accounts.shape[0])


# Traces (handed over in a list the clusterer empties), posts and creation time per
# account, config, stage timer -> clusters.
Clusterer = Callable[[list[Traces], np.ndarray, np.ndarray, ScanConfig, Step], Clustering]


def _no_step(name: str) -> AbstractContextManager[object]:
    return nullcontext()


def find_clusters(
    handed: list[Traces],
    account_posts: np.ndarray,
    account_created: np.ndarray,
    config: ScanConfig,
    step: Step = _no_step,
    park: Park = lambda arrays: lambda: arrays,
    join: Join = join_columns,
) -> Clustering:
    """Graph, communities, core members and evidence of the accounts of the traces
    ``handed`` over (``account_posts``/``account_created``: posts and creation time, epoch
    seconds or -1, per account number). ``handed`` is a list holding the traces, emptied
    here, so that a caller keeping no other reference has their memory back once the
    graph is built (an argument passed as such stays referenced by the caller until the
    call returns, through everything below: at 50M posts 1.5 GiB). The graph's edges are
    set aside by ``park`` while the communities and core members are found (at 50M posts they
    are a third of what the scan holds there); ``join`` holds them as they are made (in
    memory, or on disk past the scan's memory budget: :func:`detector.spill.join_columns`)."""
    traces = handed.pop()
    kinds = config.traces
    n_accounts = int(account_posts.shape[0])
    windows = np.array([config.window(k) for k in kinds], np.int64)
    with step("graph"):
        graph = build_graph(
            traces,
            n_accounts,
            windows=windows,
            weights=np.array([config.trace_weights[k] for k in kinds], np.float64),
            neighbours=config.neighbours,
            min_repeat=config.min_repeat,
            min_co_shares=config.min_co_shares,
            min_participation=config.min_participation,
            batch_edges=config.graph_batch_edges,
            join=join,
        )
        co_shares = traces.take(graph.linked)
    del traces  # the later steps read the co-shares only
    release_freed_memory()  # the graph's working arrays, before the communities' own
    built = [graph]
    del graph  # held by ``built`` alone, so that parking it frees its edges
    return clusters_of(built, co_shares, account_posts, account_created, config, step, park)


def clusters_of(
    handed: list[AccountGraph],
    co_shares: Traces,
    account_posts: np.ndarray,
    account_created: np.ndarray,
    config: ScanConfig,
    step: Step = _no_step,
    park: Park = lambda arrays: lambda: arrays,
) -> Clustering:
    """Communities, core members and evidence of the accounts of the graph ``handed`` over
    (in a list emptied here, as :func:`find_clusters` takes its traces), given their
    ``co_shares`` (the in-window traces the graph was built from, the graph's
    ``object_shares`` per trace) and their posts and creation time: the steps after the
    graph."""
    graph = handed.pop()
    kinds = config.traces
    n_accounts = int(account_posts.shape[0])
    windows = np.array([config.window(k) for k in kinds], np.int64)
    with step("cluster"):
        adjacency = symmetric_adjacency(graph)
        graph_back = _set_aside(graph, park)
        del graph
        labels = detect_communities(adjacency, config)
        del adjacency
        joined = join_spinners(
            labels,
            co_shares.account,
            co_shares.key,
            co_shares.rewording,
            min_size=config.min_cluster_accounts,
        )
        account_cluster = keep_core_members(
            joined,
            co_shares.account,
            co_shares.key,
            co_shares.variant,
            co_shares.rewording,
            min_contents=config.min_repeat,
            min_size=config.min_cluster_accounts,
        )
        n_clusters = int(account_cluster.max()) + 1 if n_accounts else 0
        graph = graph_back()

    with step("score"):
        evidence = cluster_evidence(
            graph=graph,
            traces=co_shares,
            object_shares=graph.object_shares,
            account_cluster=account_cluster,
            account_posts=account_posts,
            account_created=account_created,
            kinds=kinds,
            windows=windows,
            n_clusters=n_clusters,
        )
    edges = graph if config.write_graph else inside_clusters(graph, account_cluster)
    by_kind = np.bincount(graph.kind, minlength=len(kinds)).astype(np.int64)
    return Clustering(account_cluster, evidence, edges, by_kind)


def _set_aside(graph: AccountGraph, park: Park) -> Callable[[], AccountGraph]:
    """``graph``'s edge columns handed to ``park``; the graph back with them."""
    back = park({name: getattr(graph, name) for name in EDGE_FIELDS})
    hollow = replace(graph, **{name: getattr(graph, name)[:0].copy() for name in EDGE_FIELDS})
    return lambda: replace(hollow, **back())


def inside_clusters(graph: AccountGraph, account_cluster: np.ndarray) -> AccountGraph:
    """The edges of ``graph`` between members of one cluster; per-account and per-trace
    fields left empty (the tables need the edges only)."""
    inside = np.flatnonzero(graph.within_clusters(account_cluster))
    return edge_graph(graph, inside, graph.n_accounts)


def edge_graph(graph: AccountGraph, rows: np.ndarray, n_accounts: int) -> AccountGraph:
    """An :class:`AccountGraph` of the edges ``rows`` of ``graph`` only."""
    none = np.zeros(0, np.int64)
    return AccountGraph(
        **graph.edges_at(rows),
        n_accounts=n_accounts,
        linked=none.astype(bool),
        repetition=none,
        rewords=none.astype(bool),
        participation=none,
        object_shares=none,
    )
