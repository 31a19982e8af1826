"""The baseline: the pipeline a careful engineer writes with the usual libraries and no
numba. Same normalisation as ours, shingles built in Python, one datasketch ``MinHash``
(128 permutations) per distinct normalised text, ``MinHashLSH(threshold=0.5)`` to find
near-duplicate pairs, union-find groups, a networkx graph linking every pair of accounts
that posted the same group within 12 hours (nothing capped), Louvain communities, and
communities of >= 5 accounts that co-posted >= 2 distinct groups flagged.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

import networkx as nx
import polars as pl
from datasketch import MinHash, MinHashLSH

from benchmarks.common import WINDOW_SECONDS, Stages, flag_communities
from detector.normalise import normalise

NUM_PERM = 128
THRESHOLD = 0.5
MIN_SHINGLES = 5
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"([{CJK}]+)")
WORD = re.compile(f"[^\\W_{CJK}]+")


def shingles(text: str) -> list[bytes]:
    """Character bigrams of CJK runs and word bigrams of the words between them."""
    out: list[str] = []
    for k, part in enumerate(CJK_RUN.split(text)):
        tokens = list(part) if k % 2 else WORD.findall(part)
        if len(tokens) == 1:
            out.append(tokens[0])
        out.extend(a + " " + b for a, b in itertools.pairwise(tokens))
    return [s.encode("utf-8") for s in set(out)]


def near_duplicate_groups(texts: list[str]) -> list[int]:
    """Group of each text (union-find over MinHashLSH candidate pairs); -1 if too short."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    bags = [shingles(t) for t in texts]
    keep = [i for i, bag in enumerate(bags) if len(bag) >= MIN_SHINGLES]
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    hashes = dict(
        zip(keep, MinHash.generator((bags[i] for i in keep), num_perm=NUM_PERM), strict=True)
    )
    for i, m in hashes.items():
        lsh.insert(i, m)
    for i, m in hashes.items():
        for j in lsh.query(m):
            parent[find(j)] = find(i)
    usable = set(keep)
    return [find(i) if i in usable else -1 for i in range(len(texts))]


def co_posting_graph(posts: pl.DataFrame) -> nx.Graph:
    """Accounts linked when they posted the same group within the window; each edge keeps
    the set of groups behind it and its weight is their number."""
    shared: dict[tuple[str, str], set[int]] = defaultdict(set)
    for group, accounts, times in (
        posts.filter(pl.col("group") >= 0)
        .sort("time", "account_id", maintain_order=True)
        .group_by("group", maintain_order=True)
        .agg("account_id", "time")
        .filter(pl.col("account_id").list.n_unique() >= 2)
        .iter_rows()
    ):
        for i in range(len(times)):
            for j in range(i + 1, len(times)):
                if times[j] - times[i] > WINDOW_SECONDS:
                    break
                a, b = accounts[i], accounts[j]
                if a != b:
                    shared[(a, b) if a < b else (b, a)].add(group)
    graph = nx.Graph()
    for (a, b), groups in shared.items():
        graph.add_edge(a, b, weight=len(groups), groups=groups)
    return graph


def detect(path: str, stages: Stages) -> pl.DataFrame:
    """Predictions (account_id, cluster, flagged) for the posts in a Parquet file."""
    with stages.stage("read"):
        posts = pl.read_parquet(path, columns=["account_id", "created_at", "text"])
    with stages.stage("normalise"):
        posts = posts.with_columns(
            normalised=normalise(posts["text"]), time=pl.col("created_at").dt.epoch("s")
        )
        distinct = posts["normalised"].unique(maintain_order=True)
    with stages.stage("minhash_lsh"):
        group = near_duplicate_groups(distinct.to_list())
        lookup = pl.DataFrame({"normalised": distinct, "group": group})
        posts = posts.join(lookup, on="normalised", how="left", maintain_order="left")
    with stages.stage("graph"):
        graph = co_posting_graph(posts)
    with stages.stage("cluster"):
        flagged = flag_communities(graph, "groups")
    everyone = posts.select(pl.col("account_id").unique())
    return everyone.join(flagged, on="account_id", how="left").with_columns(
        pl.col("flagged").fill_null(False)
    )
