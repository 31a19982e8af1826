"""The published coordination-network-toolkit (PyPI ``coordination-network-toolkit``) on
the same dump: posts loaded into its SQLite database, its co-similar-text network computed
with a 12-hour window and Jaccard threshold 0.5 over token sets (posts under 5 tokens
ignored), edges kept from weight 2 (its default: two accounts posted >= 2 similar messages within
the window), then Louvain communities of >= 5 accounts flagged, as the baseline does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import polars as pl
from coordination_network_toolkit.compute_networks import compute_co_similar_tweet
from coordination_network_toolkit.graph import get_edge_rows
from coordination_network_toolkit.preprocess import preprocess_data
from coordination_network_toolkit.similarity import get_similarity_fn_from_min_size

from benchmarks.common import WINDOW_SECONDS, Stages, flag_communities

SIMILARITY = 0.5
MIN_TOKENS = 5
MIN_EDGE_WEIGHT = 2
COMMAND = "co_similar_tweet"


def _messages(posts: pl.DataFrame) -> Iterator[tuple]:
    """Rows in the order ``preprocess_data`` expects."""
    for post_id, account_id, repost_of, text, timestamp, urls in posts.iter_rows():
        yield post_id, account_id, account_id, repost_of, None, text, timestamp, urls or []


def detect(path: str, stages: Stages, work: Path, threads: int) -> pl.DataFrame:
    """Predictions (account_id, cluster, flagged) for the posts in a Parquet file."""
    db = work / "toolkit.db"
    for stale in work.glob("toolkit.db*"):
        stale.unlink()
    with stages.stage("load"):
        posts = pl.read_parquet(path)
        posts = posts.select(
            "post_id",
            "account_id",
            pl.col("repost_of") if "repost_of" in posts.columns else pl.lit(None, pl.String),
            "text",
            pl.col("created_at").dt.epoch("s").cast(pl.Float64),
            pl.col("urls") if "urls" in posts.columns else pl.lit(None, pl.List(pl.String)),
        )
        preprocess_data(str(db), _messages(posts))
    with stages.stage("network"):
        compute_co_similar_tweet(
            str(db),
            WINDOW_SECONDS,
            n_threads=threads,
            similarity_threshold=SIMILARITY,
            min_edge_weight=MIN_EDGE_WEIGHT,
            similarity_function=get_similarity_fn_from_min_size(MIN_TOKENS),
        )
    with stages.stage("cluster"):
        graph = nx.Graph()
        for user_1, user_2, weight, _ in get_edge_rows(str(db), COMMAND):
            if graph.has_edge(user_1, user_2):
                weight = max(weight, graph[user_1][user_2]["weight"])
            graph.add_edge(user_1, user_2, weight=weight)
        flagged = flag_communities(graph, None)
    everyone = posts.select(pl.col("account_id").unique())
    return everyone.join(flagged, on="account_id", how="left").with_columns(
        pl.col("flagged").fill_null(False)
    )
