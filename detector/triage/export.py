"""Exports for other tools: the account graph of flagged clusters (GraphML for Gephi/igraph,
GEXF for Gephi) and enforcement.csv, the list a trust-and-safety team acts on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx
import polars as pl

from detector.errors import OutputError
from detector.progress import step
from detector.result import ScanResult
from detector.review import NO_DECISIONS, Decisions
from detector.triage.atomic import write_atomic

TOP_REASONS = 3  # of its cluster's reasons, on each row of enforcement.csv
ENFORCEMENT = (
    "account_id", "cluster_id", "score", "top_reasons", "n_posts", "shared_posts",
    "first_post", "last_post", "account_created_at", "review",
)  # fmt: skip


def flagged_graph(result: ScanResult) -> nx.Graph:
    """Flagged accounts (attributes cluster, score, flagged) and the links between them
    (attributes weight, shared, traces), one per pair."""
    graph = nx.Graph()
    accounts = result.flagged_accounts.sort("account_id")
    graph.add_nodes_from(
        (account, {"cluster": int(cluster), "score": float(score), "flagged": True})
        for account, cluster, score in accounts.select(
            "account_id", "cluster_id", "score"
        ).iter_rows()
    )
    flagged = result.clusters.filter(pl.col("flagged"))["cluster_id"]
    edges = result.pair_links(result.edges.filter(pl.col("cluster_id").is_in(flagged.implode())))
    graph.add_edges_from(
        (source, target, {"weight": float(weight), "shared": int(shared), "traces": traces})
        for source, target, weight, shared, traces in edges.select(
            "source", "target", "weight", "shared", "traces"
        ).iter_rows()
    )
    return graph


def enforcement(result: ScanResult, decisions: Decisions = NO_DECISIONS) -> pl.DataFrame:
    """Flagged accounts with their cluster, score, the cluster's top reasons, the account's
    own evidence (its posts, those in shared near-duplicate groups, first and last post,
    creation date) and the analyst's decision (``review``: confirm, reject or empty; the
    account's own, else its cluster's), highest score first (then cluster, then account)."""
    top = result.clusters.select(
        "cluster_id",
        top_reasons=pl.col("reasons").list.head(TOP_REASONS).list.join(" | ").fill_null(""),
    )
    flagged = result.flagged_accounts.select(
        "account_id", "cluster_id", "score", "n_posts", "account_created_at"
    )
    flagged = flagged.with_columns(decisions.of_accounts(flagged).fill_null(""))
    activity = (
        result.posts.join(flagged.select("account_id"), on="account_id", how="semi")
        .group_by("account_id")
        .agg(
            shared_posts=pl.col("group_id").is_not_null().sum(),
            first_post=pl.col("created_at").min(),
            last_post=pl.col("created_at").max(),
        )
    )
    return (
        flagged.join(top, on="cluster_id", how="left", maintain_order="left")
        .join(activity, on="account_id", how="left", maintain_order="left")
        .select(ENFORCEMENT)
        .sort(["score", "cluster_id", "account_id"], descending=[True, False, False])
    )


def write_exports(
    result: ScanResult,
    out_dir: Path,
    *,
    show: bool = False,
    decisions: Decisions = NO_DECISIONS,
) -> dict[str, Path]:
    """Write flagged_graph.graphml, flagged_graph.gexf and enforcement.csv (with
    ``decisions``) into ``out_dir``, each whole or not at all, naming each on stderr while
    it is written when ``show``; returns their paths by kind ("graphml", "gexf", "enforcement")."""
    out = Path(out_dir)
    graph = flagged_graph(result)
    writers: dict[str, tuple[str, Callable[[Path], object]]] = {
        "graphml": ("flagged_graph.graphml", lambda path: nx.write_graphml(graph, path)),
        "gexf": ("flagged_graph.gexf", lambda path: nx.write_gexf(graph, path)),
        "enforcement": (
            "enforcement.csv",
            lambda path: enforcement(result, decisions).write_csv(path),
        ),
    }
    paths = {kind: out / name for kind, (name, _) in writers.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for kind, (name, write) in writers.items():
            with step(f"write {name}", show=show):
                write_atomic(paths[kind], write)
    except OSError as exc:
        raise OutputError(f"cannot write exports: {exc.strerror or exc}", file=str(out)) from None
    return paths
