"""Account co-posting graph: accounts linked when they post the same content close in time.

Content is anything two accounts can share: a near-duplicate text group, a URL, a hashtag, a
reposted post. Each becomes a *trace* ``(key, account, time)``.

Never all pairs. A key posted by ``m`` accounts would give ``m*(m-1)/2`` pairs (50 million
for one template pushed by 10,000 accounts). Instead the traces of a key are sorted by
time and each post is linked only to the next ``neighbours`` posts by other accounts that
fall within ``window_seconds`` of it. A key contributes at most ``neighbours`` edges per
post, so the edge list is linear in the number of posts; accounts that posted the same key
in one wave still end up connected, through chains of neighbours, which is all community
detection needs.

Weights follow IDF: a link through a key shared by ``df`` of the ``n`` accounts weighs
``kind_weight * ln(n / df)``, so a slogan or statement pushed by a huge crowd counts for
little, while a pair that co-posts many *different* contents accumulates weight over each
of them. Repetition is counted as the number of distinct contents an account shares with
others (see :func:`shared_contents`); accounts sharing fewer than ``min_repeat`` are left
out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

# How much one shared key of each kind counts, relative to a near-duplicate text.
KIND_WEIGHTS = {"text": 1.0, "url": 1.0, "repost": 0.5, "hashtag": 0.3}
KIND_CODES = {kind: code for code, kind in enumerate(KIND_WEIGHTS)}


@dataclass(frozen=True)
class Traces:
    """Co-posting traces: for each row, a content key, the account and the time (seconds)."""

    key: np.ndarray  # int64, unique across kinds
    account: np.ndarray  # int64 dense account index
    time: np.ndarray  # int64 epoch seconds
    weight: np.ndarray  # float64 kind weight of the key
    variant: np.ndarray  # int64: which text within a near-duplicate group (0 for other kinds)


@dataclass(frozen=True)
class AccountGraph:
    """Undirected weighted graph over dense account indices (``source < target``)."""

    source: np.ndarray  # int64
    target: np.ndarray  # int64
    weight: np.ndarray  # float64: sum over shared keys of kind_weight * idf
    shared: np.ndarray  # int64: distinct keys the pair co-posted
    n_accounts: int
    repetition: np.ndarray  # int64 per account: contents shared with others (shared_contents)

    @property
    def n_edges(self) -> int:
        return int(self.source.shape[0])


def make_traces(
    kind: str,
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    variant: np.ndarray | None = None,
) -> Traces:
    """Traces of one kind; ``key`` is any int64 identifier (a group label or a value hash),
    ``variant`` tells the distinct texts of one near-duplicate group apart."""
    code = np.int64(KIND_CODES[kind])
    tagged = (np.asarray(key, dtype=np.int64) & np.int64((1 << 60) - 1)) | (code << np.int64(60))
    weight = np.full(tagged.shape[0], KIND_WEIGHTS[kind], dtype=np.float64)
    variant = (
        np.zeros(tagged.shape[0], np.int64) if variant is None else np.asarray(variant, np.int64)
    )
    return Traces(
        tagged, np.asarray(account, np.int64), np.asarray(time, np.int64), weight, variant
    )


def concat_traces(parts: list[Traces]) -> Traces:
    names = ("key", "account", "time", "weight", "variant")
    if not parts:
        return Traces(*(np.zeros(0, np.float64 if n == "weight" else np.int64) for n in names))
    return Traces(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))


@nb.njit(cache=True)
def _key_document_frequency(
    key: np.ndarray, account: np.ndarray, order: np.ndarray, df_out: np.ndarray
) -> None:
    """Distinct accounts per key, written at every row of the key (rows sorted by key, account)."""
    n = order.shape[0]
    start = 0
    while start < n:
        end = start
        distinct = 0
        previous = -1
        while end < n and key[order[end]] == key[order[start]]:
            if account[order[end]] != previous:
                distinct += 1
                previous = account[order[end]]
            end += 1
        for i in range(start, end):
            df_out[order[i]] = distinct
        start = end


@nb.njit(cache=True)
def _neighbour_edges(
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    row_weight: np.ndarray,
    order: np.ndarray,
    window: int,
    neighbours: int,
    src: np.ndarray,
    dst: np.ndarray,
    edge_key: np.ndarray,
    edge_weight: np.ndarray,
) -> int:
    """Link each trace (rows sorted by key, time) to its next ``neighbours`` in-window traces
    of other accounts under the same key; returns the number of edges written."""
    n = order.shape[0]
    n_edges = 0
    for p in range(n):
        i = order[p]
        linked = 0
        q = p + 1
        while q < n and linked < neighbours:
            j = order[q]
            if key[j] != key[i] or time[j] - time[i] > window:
                break
            if account[j] != account[i]:
                a, b = account[i], account[j]
                src[n_edges] = min(a, b)
                dst[n_edges] = max(a, b)
                edge_key[n_edges] = key[i]
                edge_weight[n_edges] = row_weight[i]
                n_edges += 1
                linked += 1
            q += 1
    return n_edges


@nb.njit(cache=True)
def _aggregate_pairs(
    src: np.ndarray,
    dst: np.ndarray,
    edge_key: np.ndarray,
    edge_weight: np.ndarray,
    order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse edges sorted by (src, dst, key): one row per pair, weight summed over
    distinct keys, ``shared`` = number of distinct keys."""
    n = order.shape[0]
    out_src = np.empty(n, np.int64)
    out_dst = np.empty(n, np.int64)
    out_w = np.empty(n, np.float64)
    out_shared = np.empty(n, np.int64)
    m = -1
    for p in range(n):
        e = order[p]
        new_pair = p == 0 or src[e] != out_src[m] or dst[e] != out_dst[m]
        if new_pair:
            m += 1
            out_src[m], out_dst[m], out_w[m], out_shared[m] = src[e], dst[e], 0.0, 0
        if new_pair or edge_key[e] != edge_key[order[p - 1]]:
            out_w[m] += edge_weight[e]
            out_shared[m] += 1
    m += 1
    return out_src[:m], out_dst[:m], out_w[:m], out_shared[:m]


@nb.njit(cache=True)
def _account_repetition(
    key: np.ndarray,
    account: np.ndarray,
    variant: np.ndarray,
    order: np.ndarray,
    df: np.ndarray,
    n_accounts: int,
) -> np.ndarray:
    """Distinct (key, variant) contents per account among shared keys (df >= 2); rows
    sorted by (account, key, variant)."""
    out = np.zeros(n_accounts, np.int64)
    for p in range(order.shape[0]):
        i = order[p]
        if df[i] < 2:
            continue
        if p > 0:
            j = order[p - 1]
            if account[j] == account[i] and key[j] == key[i] and variant[j] == variant[i]:
                continue
        out[account[i]] += 1
    return out


def shared_contents(traces: Traces, n_accounts: int) -> np.ndarray:
    """How many distinct contents each account shares with at least one other account.

    Two different rewordings in one near-duplicate group count as two contents (a spinner
    produced both); the same text posted twice counts once.
    """
    return _shared_contents(traces, _document_frequency(traces), n_accounts)


def _shared_contents(traces: Traces, df: np.ndarray, n_accounts: int) -> np.ndarray:
    order = np.lexsort((traces.variant, traces.key, traces.account))
    return _account_repetition(traces.key, traces.account, traces.variant, order, df, n_accounts)


def _document_frequency(traces: Traces) -> np.ndarray:
    order = np.lexsort((traces.account, traces.key))
    df = np.zeros(traces.key.shape[0], np.int64)
    _key_document_frequency(traces.key, traces.account, order, df)
    return df


def build_graph(
    traces: Traces,
    n_accounts: int,
    *,
    window_seconds: int,
    neighbours: int,
    min_repeat: int,
) -> AccountGraph:
    """The co-posting graph of the accounts that share at least ``min_repeat`` contents."""
    df = _document_frequency(traces)
    repetition = _shared_contents(traces, df, n_accounts)
    keep = (df >= 2) & (repetition[traces.account] >= min_repeat)
    key, account, time = traces.key[keep], traces.account[keep], traces.time[keep]
    active = max(int(np.count_nonzero(repetition >= min_repeat)), 2)
    idf = np.log(np.maximum(active / np.maximum(df[keep], 1), 1.0)) + 1e-3
    row_weight = traces.weight[keep] * idf

    order = np.lexsort((account, time, key))
    capacity = key.shape[0] * neighbours
    src, dst = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
    edge_key, edge_weight = np.empty(capacity, np.int64), np.empty(capacity, np.float64)
    n_edges = _neighbour_edges(
        key,
        account,
        time,
        row_weight,
        order,
        window_seconds,
        neighbours,
        src,
        dst,
        edge_key,
        edge_weight,
    )
    src, dst, edge_key, edge_weight = (
        src[:n_edges],
        dst[:n_edges],
        edge_key[:n_edges],
        edge_weight[:n_edges],
    )
    # Edges come out in key order, so a stable sort by pair orders them by (pair, key).
    pair_order = np.argsort(src * np.int64(n_accounts) + dst, kind="stable")
    source, target, weight, shared = _aggregate_pairs(src, dst, edge_key, edge_weight, pair_order)
    return AccountGraph(source, target, weight, shared, n_accounts, repetition)
