"""Account co-sharing graph: accounts linked when they share the same object close in time.

An object is anything two accounts can share: a near-duplicate text group, a reposted post,
a post replied to, a URL, a hashtag, a mentioned account. Each share is a *trace*
``(kind, key, account, time)``; every kind has its own window (seconds for reposts, hours
for a spun article) and weight, set in :class:`~detector.config.ScanConfig`.

Co-share semantics are the field's (coordination-network-toolkit, CooRTweet): a pair's
``shared`` count for a kind is the number of *distinct objects* both accounts shared within
that kind's window of each other. Two discounts keep chance out of the weights:

- IDF: an object shared by ``df`` of the ``n`` accounts active in its kind weighs
  ``ln(n / df)``, so a post reposted by everyone links nobody;
- a null model (as coordinationz does, here per object): in a configuration model of the
  account-object graph account ``a`` shares object ``o`` by chance with probability
  ``p_a = min(1, k_a * df_o / M)`` (``k_a`` its distinct objects of the kind, ``M`` all
  account-object shares of the kind); a co-shared object counts ``1 - p_a * p_b`` of its
  IDF weight, so two hyperactive accounts that repost every popular post are not linked
  by what their activity alone explains.

Never all pairs. A key shared by ``m`` accounts would give ``m*(m-1)/2`` pairs (50 million
for one template pushed by 10,000 accounts). The traces of a key are sorted by time and each
is linked only to the next ``neighbours`` traces of other accounts within the window, so
the edge list is linear in the number of traces; accounts of one wave still end up
connected through chains of neighbours. Counts are exact whenever fewer than
``neighbours`` other accounts' shares of an object fall between two accounts' shares.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

import numba as nb
import numpy as np

from detector.numbering import first_appearances, sorted_numbers
from detector.sorting import lexsort, stable_argsort
from detector.spill import join_columns

MAX_OBJECTS = 5  # shared objects quoted per pair and kind
T = TypeVar("T")
# Columns made a batch of rows at a time -> each as one array (see detector.spill).
Join = Callable[[Iterable[list[np.ndarray]]], list[np.ndarray]]


@dataclass(frozen=True)
class Traces:
    """Co-sharing traces, one row per (object, account, time); ``kind`` indexes the kind
    names the graph is built with. Columns as narrow as their values allow (see
    :meth:`of`): a large scan holds hundreds of millions of traces beside its posts."""

    kind: np.ndarray  # int8 kind index
    key: np.ndarray  # int64 object key, unique across kinds
    account: np.ndarray  # dense account index, in index_type
    time: np.ndarray  # int64 epoch seconds
    post: np.ndarray  # row of the post that carries the trace, in index_type
    variant: np.ndarray  # int64: which text within a near-duplicate group (0 for other kinds)
    source: np.ndarray  # int64: who the object comes from (author, URL domain); -1 unknown
    rewording: np.ndarray  # int8: 1 own rewording in a spun group, -1 picked up there, else 0

    @classmethod
    def of(cls, **columns: np.ndarray) -> Traces:
        """Traces from integer columns of any type, each cast to its own: 8 bits for the
        kind and the rewording mark, :func:`index_type` of their largest value for accounts
        and posts (32 bits where they fit), 64 for the rest."""
        return cls(**{name: _narrow(name, np.asarray(values)) for name, values in columns.items()})

    @property
    def n_rows(self) -> int:
        return int(self.key.shape[0])

    def take(self, rows: np.ndarray) -> Traces:
        """The traces at ``rows`` (indices or a boolean mask)."""
        return Traces(*(getattr(self, n)[rows] for n in self.__dataclass_fields__))


def _narrow(name: str, values: np.ndarray) -> np.ndarray:
    """Column ``name`` of :class:`Traces` in its type."""
    if name in ("kind", "rewording"):
        return values.astype(np.int8, copy=False)
    if name in ("account", "post"):
        return values.astype(index_type(int(values.max(initial=0)) + 1), copy=False)
    return values.astype(np.int64, copy=False)


def make_traces(
    kind: int,
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    post: np.ndarray,
    variant: np.ndarray | None = None,
    source: np.ndarray | None = None,
    rewording: np.ndarray | None = None,
) -> Traces:
    """Traces of one kind (``kind`` < 16); ``key`` is any int64 identifier (a group label or
    a value hash), ``variant`` tells the distinct texts of one near-duplicate group apart,
    ``source`` where the object comes from (the reposted post's author, a URL's domain),
    ``rewording`` marks own rewordings and copies in spun groups (see
    :mod:`detector.rewording`)."""
    tagged = kind_keys(kind, key)
    n = tagged.shape[0]
    return Traces.of(
        kind=np.full(n, kind, np.int8),
        key=tagged,
        account=account,
        time=time,
        post=post,
        variant=np.zeros(n, np.int64) if variant is None else variant,
        source=np.full(n, -1, np.int64) if source is None else source,
        rewording=np.zeros(n, np.int8) if rewording is None else rewording,
    )


def index_type(count: int) -> type[np.signedinteger]:
    """The integer type of the numbers ``0 .. count - 1`` (accounts, trace rows, batches):
    32 bits where they fit."""
    return np.int32 if count < 2**31 else np.int64


def kind_keys(kind: int, key: np.ndarray) -> np.ndarray:
    """Keys of one kind's objects made unique across kinds: the kind in the top bits."""
    low = np.asarray(key, dtype=np.int64) & np.int64((1 << 59) - 1)
    return low | (np.int64(kind) << np.int64(59))


def concat_traces(parts: list[Traces]) -> Traces:
    """The traces of ``parts`` one after another. The list is emptied and each part's
    column let go as soon as it is joined, so that the traces are held about once, not
    twice, where nothing else holds the parts (the traces step's peak at 50M posts)."""
    if not parts:
        return Traces.of(**{name: np.zeros(0, np.int64) for name in Traces.__dataclass_fields__})
    held = [dict(vars(part)) for part in parts]
    parts.clear()
    columns = {
        name: np.concatenate([h.pop(name) for h in held]) for name in Traces.__dataclass_fields__
    }
    return Traces(**columns)


EDGE_FIELDS = (
    "source", "target", "kind", "shared", "weight", "gap_min", "gap_median", "objects",
    "co_posts",
)  # fmt: skip


@dataclass(frozen=True)
class AccountGraph:
    """Co-sharing edges, one row per (pair, kind) with ``source < target``, and what the
    later stages need of the traces."""

    # Integer columns as narrow as their values allow (account numbers in
    # :func:`index_type`, counts in 32 bits where they fit, the kind in 8): past a scan's
    # memory budget the edges go to disk, and each byte is written and read back.
    source: np.ndarray  # account number
    target: np.ndarray  # account number
    kind: np.ndarray  # int8 kind index
    shared: np.ndarray  # distinct objects co-shared within the kind's window
    weight: np.ndarray  # float64 IDF sum over those objects, less what chance explains
    gap_min: np.ndarray  # int64 seconds: closest shares of one object by the two accounts
    gap_median: np.ndarray  # float64 seconds: median over objects of that closest gap
    # int64 keys of each row's first min(shared, MAX_OBJECTS) shared objects, row after
    # row (nearly every pair shares one: a padded table would be four-fifths padding)
    objects: np.ndarray
    co_posts: np.ndarray  # the toolkit's edge weight (see _co_posts)
    n_accounts: int
    linked: np.ndarray  # bool per trace row: another account shared its object within window
    repetition: np.ndarray  # int64 per account: distinct objects co-shared within window
    rewords: np.ndarray  # bool per account: co-shared an own rewording in a spun group
    participation: np.ndarray  # int64 per account: its co-share traces (CooRTweet's count)
    # int64 per linked trace: all shares of its object, less copies of a spun group's posts
    # (a campaign whose posts are picked up is not thereby sharing what everyone shares)
    object_shares: np.ndarray

    @property
    def n_edges(self) -> int:
        return int(self.source.shape[0])

    def in_pair_order(self) -> bool:
        """Whether the rows come sorted by (source, target), as :func:`build_graph` writes
        them (graphs put together from parts need not)."""
        src, dst = self.source, self.target
        return bool(np.all((src[1:] > src[:-1]) | ((src[1:] == src[:-1]) & (dst[1:] >= dst[:-1]))))

    def quoted(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The quoted objects of the edges ``rows`` (indices): each one's position in
        ``rows`` and its key, in that order."""
        offsets = self.object_offsets()
        n = offsets[rows + 1] - offsets[rows]
        position = np.repeat(np.arange(rows.size), n)
        offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        return position, self.objects[offsets[rows][position] + offset]

    def object_offsets(self) -> np.ndarray:
        """Where each edge's quoted objects start in ``objects``, then where the last end
        (summed in place: one array the size of the edges)."""
        offsets = np.zeros(self.n_edges + 1, np.int64)
        np.minimum(self.shared, MAX_OBJECTS, out=offsets[1:])
        np.cumsum(offsets[1:], out=offsets[1:])
        return offsets

    def within_clusters(self, account_cluster: np.ndarray) -> np.ndarray:
        """Whether each edge joins two members of one cluster (``account_cluster``: -1 for
        none); one byte an edge, no cluster columns the size of the graph."""
        return _same_cluster(self.source, self.target, account_cluster)

    def edges_at(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The edge fields (:data:`EDGE_FIELDS`) of the edges ``rows`` (indices)."""
        return {
            name: self.quoted(rows)[1] if name == "objects" else getattr(self, name)[rows]
            for name in EDGE_FIELDS
        }

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(source, target, weight) with one row per pair: weights summed over kinds, pairs
        whose co-shares chance explains fully left out."""
        positive = self.weight > 0
        src, dst = self.source[positive].astype(np.int64), self.target[positive].astype(np.int64)
        w = self.weight[positive]
        n = np.int64(max(self.n_accounts, 1))
        unique, inverse = np.unique(src * n + dst, return_inverse=True)
        total = np.bincount(inverse, weights=w, minlength=unique.size)
        narrow = self.source.dtype
        return (unique // n).astype(narrow), (unique % n).astype(narrow), total


@nb.njit(cache=True)
def _same_cluster(
    source: np.ndarray, target: np.ndarray, account_cluster: np.ndarray
) -> np.ndarray:
    inside = np.empty(source.shape[0], np.bool_)
    for e in range(source.shape[0]):
        cluster = account_cluster[source[e]]
        inside[e] = cluster >= 0 and cluster == account_cluster[target[e]]
    return inside


def linked_in_window(
    key: np.ndarray, account: np.ndarray, time: np.ndarray, window: np.ndarray
) -> np.ndarray:
    """Per trace: does another account share the same ``key`` within ``window`` of it?"""
    order = lexsort((account, time, key))
    out = np.zeros(key.shape[0], bool)
    _linked(key, account, time, window, order, out)
    return out


@nb.njit(cache=True)
def _linked(
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    window: np.ndarray,
    order: np.ndarray,
    out: np.ndarray,
) -> None:
    """Mark each trace that another account's trace of the same key lies within the
    window of (rows sorted by key, time). Two linear passes: each keeps the latest trace
    and the latest trace of any *other* account than the latest's."""
    n = order.shape[0]
    for direction in range(2):
        previous_key = np.int64(-1)
        last_account = np.int64(-1)
        last_time = np.int64(0)
        other_time = np.int64(0)
        has_other = False
        for p in range(n):
            i = order[p] if direction == 0 else order[n - 1 - p]
            if p == 0 or key[i] != previous_key:
                previous_key = key[i]
                last_account = -1
                has_other = False
            if last_account >= 0:
                if last_account != account[i]:
                    near = last_time
                    found = True
                else:
                    near = other_time
                    found = has_other
                if found and abs(time[i] - near) <= window[i]:
                    out[i] = True
            if last_account >= 0 and last_account != account[i]:
                other_time = last_time
                has_other = True
            last_account = account[i]
            last_time = time[i]


def neighbour_links(
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    window: np.ndarray,
    neighbours: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The links of traces in (key, time, account) order, as :func:`build_graph` makes
    them: each link's two trace rows, the earlier first, in key order."""
    n = key.shape[0]
    row_type = index_type(n)
    order = np.arange(n, dtype=np.int64)
    one_batch = (np.zeros(n, np.int32), 1, np.zeros(0, np.int64), np.zeros(0, np.int64))
    columns = (key, account, time, window, order, neighbours)
    cursor = np.zeros(1, np.int64)
    none = np.zeros(0, row_type)
    _neighbour_edges(*columns, False, *one_batch, cursor, none, none)
    edge_row, edge_other = (np.empty(cursor[0], row_type) for _ in range(2))
    cursor[0] = 0
    _neighbour_edges(*columns, True, *one_batch, cursor, edge_row, edge_other)
    return edge_row, edge_other


@nb.njit(cache=True)
def _neighbour_edges(
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    window: np.ndarray,
    order: np.ndarray,
    neighbours: int,
    write: bool,
    code: np.ndarray,
    n_accounts: int,
    split_first: np.ndarray,
    split_parts: np.ndarray,
    cursor: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
) -> None:
    """Link each trace (rows sorted by key, time) to its next ``neighbours`` in-window traces
    of other accounts under the same key. Each edge belongs to a batch: the ``code`` of its
    source trace (the one of the smaller account), or where that account's edges are split
    (``code`` ``-1 - s``), the part of the range of accounts above it in which the other
    lies, of the ``split_parts[s]`` batches from ``split_first[s]`` (see
    :func:`_batch_codes`). A first pass (not ``write``) counts the edges of each batch in
    ``cursor``; the second writes each edge's two trace rows at ``cursor[batch]``, so the
    edges of each batch lie together, in key order. With each trace its own code, the
    count is by source trace: read and written near the trace linked from, where a count
    by account was a miss of the cache per link once the accounts pass it. A run of one
    account's traces is skipped in one step, so an account posting a key a million times
    costs linear time, not its posts in window squared."""
    n = order.shape[0]
    run_end = np.empty(n, np.int64)  # first position after the run of equal (key, account)
    for p in range(n - 1, -1, -1):
        same = p + 1 < n and key[order[p]] == key[order[p + 1]]
        if same and account[order[p]] == account[order[p + 1]]:
            run_end[p] = run_end[p + 1]
        else:
            run_end[p] = p + 1
    for p in range(n):
        i = order[p]
        linked = 0
        q = p + 1
        while q < n and linked < neighbours:
            j = order[q]
            if key[j] != key[i] or time[j] - time[i] > window[i]:
                break
            if account[j] == account[i]:
                q = run_end[q]
                continue
            source, target = (i, j) if account[i] < account[j] else (j, i)
            b = code[source]
            if b < 0:
                s = -b - 1
                low = account[source]
                part = (account[target] - low - 1) * split_parts[s] // (n_accounts - low - 1)
                b = split_first[s] + part
            if write:
                edge_row[cursor[b]] = i
                edge_other[cursor[b]] = j
            cursor[b] += 1
            linked += 1
            q += 1


@nb.njit(cache=True, nogil=True)
def _aggregate(
    src: np.ndarray,
    dst: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
    trace_kind: np.ndarray,
    trace_key: np.ndarray,
    trace_time: np.ndarray,
    key_weight: np.ndarray,
    order: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Collapse edges sorted by (src, dst, kind, key) into one row per (pair, kind):
    distinct keys, their summed weight and the first MAX_OBJECTS keys (row after row); and
    each distinct (row, key)'s smallest gap (``key_row``, ``key_gap``), from which
    :func:`_gap_stats` takes the row's smallest and median gap. An edge's kind and key are
    its first trace's (``edge_row``), its gap the time from there to its other
    (``edge_other``), read in place: three edge columns fewer at the graph stage's peak.
    Accounts come out in ``src``'s type, kinds in 8 bits and counts in ``edge_row``'s (no
    pair shares more distinct keys than there are traces)."""
    n = order.shape[0]
    n_rows = 0  # counted first, so the outputs are allocated at their size
    n_keys = 0
    n_quoted = 0
    row_keys = 0
    for p in range(n):
        e, f = order[p], order[p - 1] if p > 0 else order[p]
        kind, key = trace_kind[edge_row[e]], trace_key[edge_row[e]]
        if p == 0 or src[e] != src[f] or dst[e] != dst[f] or kind != trace_kind[edge_row[f]]:
            n_rows += 1
            row_keys = 0
        elif key == trace_key[edge_row[f]]:
            continue
        n_keys += 1
        row_keys += 1
        if row_keys <= MAX_OBJECTS:
            n_quoted += 1
    out_src = np.empty(n_rows, src.dtype)
    out_dst = np.empty(n_rows, dst.dtype)
    out_kind = np.empty(n_rows, np.int8)
    out_shared = np.zeros(n_rows, edge_row.dtype)
    out_weight = np.zeros(n_rows, np.float64)
    out_objects = np.empty(n_quoted, np.int64)
    key_row = np.empty(n_keys, np.int64)
    key_gap = np.empty(n_keys, np.int64)
    record_row = np.empty(n, np.int64)  # the output row of each edge record
    m = -1
    q = -1
    o = 0
    for p in range(n):
        e = order[p]
        kind, key = trace_kind[edge_row[e]], trace_key[edge_row[e]]
        gap = trace_time[edge_other[e]] - trace_time[edge_row[e]]
        if m < 0 or src[e] != out_src[m] or dst[e] != out_dst[m] or kind != out_kind[m]:
            m += 1
            out_src[m], out_dst[m], out_kind[m] = src[e], dst[e], kind
            new_key = True
        else:
            new_key = key != trace_key[edge_row[order[p - 1]]]
        record_row[e] = m
        if new_key:
            q += 1
            k = out_shared[m]
            key_row[q], key_gap[q] = m, gap
            if k < MAX_OBJECTS:
                out_objects[o] = key
                o += 1
            out_weight[m] += key_weight[e]
            out_shared[m] = k + 1
        else:
            key_gap[q] = min(key_gap[q], gap)
    return (
        out_src,
        out_dst,
        out_kind,
        out_shared,
        out_weight,
        out_objects,
        record_row,
        key_row,
        key_gap,
    )


def _gap_stats(
    shared: np.ndarray, key_row: np.ndarray, key_gap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the smallest and the median over its keys of each key's smallest gap
    (``key_row`` ascending, ``shared`` keys per row)."""
    start = np.cumsum(shared) - shared
    return np.minimum.reduceat(key_gap, start), group_medians(key_row, key_gap, shared.size)


def group_medians(
    group: np.ndarray, values: np.ndarray, n_groups: int, empty: float = np.nan
) -> np.ndarray:
    """The median of ``values`` in each group (the mean of the two middle values, as
    ``np.median``), ``empty`` where a group has none. Only groups of three or more values
    are sorted: the median of one or two is their mean, and most groups are that small."""
    count = np.bincount(group, minlength=n_groups)
    out = np.full(n_groups, empty)
    small = (count > 0) & (count <= 2)
    out[small] = np.bincount(group, weights=values, minlength=n_groups)[small] / count[small]
    large = count[group] > 2
    group, values = group[large], values[large]
    values = values[np.lexsort((values, group))]
    count = np.where(count > 2, count, 0)
    start = np.cumsum(count) - count
    has = count > 0
    low = start[has] + (count[has] - 1) // 2
    high = start[has] + count[has] // 2
    out[has] = (values[low] + values[high]) / 2.0
    return out


@dataclass(frozen=True)
class _Shares:
    """Distinct (object, account) shares, the basis of popularity and chance: one sort
    of the traces serves the trace order, the IDF, the null model and the repeat check.

    ``key_index``/``pair_index``: each trace's object number and (object, account) number;
    ``df``: distinct accounts per object; ``pair_traces``/``pair_account``: traces and
    account per (object, account);
    ``objects``: per account and kind its distinct objects (``k_at`` below); ``total``:
    per kind all distinct shares (``M_t``); ``accounts``: per kind its active accounts.
    """

    key_index: np.ndarray
    pair_index: np.ndarray
    df: np.ndarray
    pair_traces: np.ndarray
    pair_account: np.ndarray
    objects: np.ndarray
    total: np.ndarray
    accounts: np.ndarray

    @classmethod
    def of(cls, traces: Traces, n_accounts: int, n_kinds: int) -> _Shares:
        keys, key_index = sorted_numbers(traces.key)
        # (object, account) pairs in order, as np.unique would number them, from one stable
        # order of the traces by object and account (np.unique arg-sorts the 64-bit codes).
        n = np.int64(max(n_accounts, 1))
        by_pair = lexsort((traces.account, key_index))
        codes = key_index[by_pair] * n + traces.account[by_pair]
        new_pair = np.ones(codes.size, bool)
        np.not_equal(codes[1:], codes[:-1], out=new_pair[1:])
        pair_index = np.empty(codes.size, np.int64)
        pair_index[by_pair] = np.cumsum(new_pair) - 1
        del by_pair
        pair_traces = np.diff(np.append(np.flatnonzero(new_pair), codes.size))
        pairs = codes[new_pair]
        del codes, new_pair
        pair_key, pair_account = pairs // n, pairs % n
        pair_kind = (keys >> np.int64(59))[pair_key]
        objects = np.zeros((int(n), n_kinds), np.int32)
        _count_objects(pair_account, pair_kind, objects)
        total = np.bincount(pair_kind, minlength=n_kinds)
        accounts = np.count_nonzero(objects, axis=0)
        df = np.bincount(pair_key, minlength=keys.size)
        return cls(key_index, pair_index, df, pair_traces, pair_account, objects, total, accounts)

    def surprise(
        self, source: np.ndarray, target: np.ndarray, kind: np.ndarray, row: np.ndarray
    ) -> np.ndarray:
        """:func:`surprise` of the co-shares of trace ``row`` by ``source`` and ``target``."""
        n_kinds = self.objects.shape[1]
        objects = self.objects.reshape(-1)  # flat indices: 2-D fancy indexing is slower
        source, target = source.astype(np.int64), target.astype(np.int64)
        return surprise(
            objects[source * n_kinds + kind],
            objects[target * n_kinds + kind],
            self.df[self.key_index[row]],
            self.total[kind],
        )


@nb.njit(cache=True)
def _count_objects(account: np.ndarray, kind: np.ndarray, objects: np.ndarray) -> None:
    """Distinct objects per account and kind into ``objects`` (zeros), from the (object,
    account) pairs' account and kind: counted in the table's own 32 bits, where a
    bincount counts in 64 and is then narrowed (at 50M posts, 88M counts)."""
    for p in range(account.shape[0]):
        objects[account[p], kind[p]] += 1


def share_weights(
    weights: np.ndarray, accounts: np.ndarray, kind: np.ndarray, df: np.ndarray
) -> np.ndarray:
    """Per trace its kind's weight times the IDF ``ln(n / df)`` of its object (``df``
    sharing accounts), ``n`` the accounts active in its kind (``weights``, ``accounts``:
    per kind)."""
    active = np.maximum(accounts, 1).astype(np.float64)[kind]
    return np.asarray(weights, np.float64)[kind] * np.log(np.maximum(active / df, 1.0))


def surprise(
    k_source: np.ndarray, k_target: np.ndarray, df: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """``1 - p_source * p_target`` per co-share: the null model, in which account ``a``
    shares an object of ``df`` sharing accounts by chance with ``p = min(1, k_at * df /
    M_t)`` (``k_at``: its distinct objects of the kind; ``total``: ``M_t``, all distinct
    shares of the kind), as in a configuration model of the account-object graph."""
    popularity = df / np.maximum(total, 1)
    p_source = np.minimum(1.0, k_source * popularity)
    return 1.0 - p_source * np.minimum(1.0, k_target * popularity)


def build_graph(
    traces: Traces,
    n_accounts: int,
    *,
    windows: np.ndarray,
    weights: np.ndarray,
    neighbours: int,
    min_repeat: int,
    min_co_shares: int = 1,
    min_participation: int = 1,
    batch_edges: int = 1_000_000,
    join: Join = join_columns,
) -> AccountGraph:
    """The co-sharing graph of the accounts that co-shared at least ``min_repeat`` distinct
    objects within their kinds' windows (``windows``/``weights``: per kind index), or one
    own rewording in a spun group: there the spinner did the repeating. Posts picked up
    in a spun group (see :mod:`detector.rewording`) count as no content.

    Edges need ``min_co_shares`` distinct co-shared objects of one kind and one end with at
    least ``min_participation`` co-share traces (CooRTweet's ``min_participation``).

    ``batch_edges``: links aggregated at once (the
    stage's working memory, about 200 bytes a link); the graph is the same for any.
    ``join``: how the batches' edge columns become the graph's (in memory, or spilled
    and mapped back past a scan's memory budget: :func:`detector.spill.join_columns`).
    """
    window = np.asarray(windows, np.int64)[traces.kind]
    # Object popularity over every share of it, in or out of window.
    shares = _Shares.of(traces, n_accounts, len(windows))
    order = lexsort((traces.account, traces.time, shares.key_index))
    linked = np.zeros(traces.n_rows, bool)
    _linked(traces.key, traces.account, traces.time, window, order, linked)
    participation = np.bincount(traces.account[linked], minlength=n_accounts).astype(np.int64)
    repetition = _distinct_contents(traces, shares, linked & (traces.rewording >= 0), n_accounts)
    own = linked & (traces.rewording > 0)
    rewords = np.bincount(traces.account[own], minlength=n_accounts) > 0

    row_weight = share_weights(weights, shares.accounts, traces.kind, shares.df[shares.key_index])

    keep = linked & ((repetition[traces.account] >= min_repeat) | rewords[traces.account])
    sub_order = order[keep[order]]
    del order
    columns = (traces.key, traces.account, traces.time, window, sub_order, neighbours)
    # Each link's two trace rows, in 32 bits where they fit: the stage's largest arrays.
    row_type = index_type(traces.n_rows)
    none, unsplit = np.zeros(0, row_type), np.zeros(0, np.int64)
    # Links counted by source trace (each trace its own batch), then summed by account.
    per_trace = np.zeros(traces.n_rows, np.int64)
    each_own = (np.arange(traces.n_rows, dtype=row_type), n_accounts, unsplit, unsplit)
    _neighbour_edges(*columns, False, *each_own, per_trace, none, none)
    per_source = np.bincount(traces.account, weights=per_trace, minlength=n_accounts)
    per_source = per_source.astype(np.int64)
    del per_trace, each_own
    threads = nb.get_num_threads()
    first_batch, parts = _source_batches(per_source, batch_edges // threads)
    n_batches = int(first_batch[-1] + parts[-1]) if n_accounts else 1
    batch, split_first, split_parts = _batch_codes(first_batch, parts)
    codes = (batch[traces.account], n_accounts, split_first, split_parts)
    del batch
    if parts.max(initial=1) == 1:
        per_batch = np.bincount(first_batch, weights=per_source, minlength=n_batches)
    else:  # an account with more links than a batch: its batches counted edge by edge
        per_batch = np.zeros(n_batches, np.int64)
        _neighbour_edges(*columns, False, *codes, per_batch, none, none)
    bounds = np.concatenate([np.zeros(1, np.int64), np.cumsum(per_batch).astype(np.int64)])
    cursor = bounds[:-1].copy()
    edge_row, edge_other = (np.empty(bounds[-1], row_type) for _ in range(2))
    _neighbour_edges(*columns, True, *codes, cursor, edge_row, edge_other)
    del sub_order, per_source, first_batch, parts, codes, cursor
    # The edges are aggregated batch by batch of source accounts, a batch per thread: a
    # few batches' sorts and records are held at once, and the rows come out in pair order.
    repeated = shares.pair_traces[shares.pair_index] > 1
    batches = ((edge_row[lo:hi], edge_other[lo:hi]) for lo, hi in itertools.pairwise(bounds))
    pair_rows = partial(_pair_rows, traces, shares, row_weight, repeated)
    edges = join(_in_threads(lambda batch: pair_rows(*batch), batches, threads))
    del edge_row, edge_other
    graph = AccountGraph(
        *edges,
        n_accounts,
        linked,
        repetition,
        rewords,
        participation,
        np.bincount(shares.key_index, weights=traces.rewording >= 0).astype(np.int64)[
            shares.key_index[linked]
        ],
    )
    busy = participation >= min_participation
    keep_edge = (graph.co_posts >= min_co_shares) & (busy[graph.source] | busy[graph.target])
    if keep_edge.all():
        return graph
    return replace(graph, **graph.edges_at(np.flatnonzero(keep_edge)))


def _in_threads(
    work: Callable[[T], list[np.ndarray]], items: Iterable[T], threads: int
) -> Iterator[list[np.ndarray]]:
    """``map(work, items)`` in order, run by ``threads`` threads (numpy and the ``nogil``
    kernels release the GIL), no more than ``threads`` results made ahead of the caller."""
    with ThreadPoolExecutor(max(threads, 1)) as pool:
        made: deque[Future[list[np.ndarray]]] = deque()
        for item in items:
            made.append(pool.submit(work, item))
            if len(made) >= threads:
                yield made.popleft().result()
        while made:
            yield made.popleft().result()


def _source_batches(per_source: np.ndarray, batch_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Source accounts cut, in order, into batches of about ``batch_edges`` edges: each
    account's first batch, and the number of batches its edges are split into (one; for
    an account with more, as many as it fills, by ranges of the accounts it links to, so
    that one hyperactive account's links are aggregated a batch at a time too)."""
    batch_edges = max(batch_edges, 1)
    parts = np.maximum(-(-per_source // batch_edges), 1)
    start = (np.cumsum(per_source) - per_source) // batch_edges
    batch_of = np.cumsum(np.diff(start, prepend=start[:1]) > 0)
    return batch_of + np.cumsum(parts - 1) - (parts - 1), parts


def _batch_codes(
    first_batch: np.ndarray, parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each account's batch in one 32-bit word where they fit, ``-1 - s`` for the ``s``-th
    account whose edges are split, and the split accounts' first batch and number of
    batches: one word a trace (its account's) is what :func:`_neighbour_edges` reads
    per link, near the trace linked from, where reading two 64-bit arrays by account was
    a miss of the cache per link (one URL in 10M posts, two million accounts: both
    passes 8.6 -> 2.9 s)."""
    split = np.flatnonzero(parts > 1)
    batch = first_batch.astype(
        index_type(max(first_batch.size, int(first_batch.max(initial=0)) + 1))
    )
    batch[split] = -1 - np.arange(split.size)
    return batch, first_batch[split], parts[split]


def _pair_rows(
    traces: Traces,
    shares: _Shares,
    row_weight: np.ndarray,
    repeated: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
) -> list[np.ndarray]:
    """The (pair, kind) rows of a batch of edges (in key order; every edge of a pair in the
    batch), as :func:`pair_rows` makes them, each edge weighed by its trace's weight and
    what chance does not explain of it."""
    src, dst = edge_ends(traces.account, edge_row, edge_other)
    edge_weight = row_weight[edge_row] * shares.surprise(src, dst, traces.kind[edge_row], edge_row)
    n_accounts = int(shares.objects.shape[0])  # one row per account, one at least
    return pair_rows(traces, repeated, edge_row, edge_other, src, dst, edge_weight, n_accounts)


def edge_ends(
    account: np.ndarray, edge_row: np.ndarray, edge_other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's smaller and larger account (``account``: per trace)."""
    first, other = account[edge_row], account[edge_other]
    return np.minimum(first, other), np.maximum(first, other)


def pair_rows(
    traces: Traces,
    repeated: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    edge_weight: np.ndarray,
    n_accounts: int,
) -> list[np.ndarray]:
    """The (pair, kind) rows of edges given in key order, every edge of each of their
    pairs among them (``src``/``dst``: :func:`edge_ends`; ``edge_weight``: each edge's
    weight, the same for the edges of one pair and key): source, target, kind, shared,
    weight, gap_min, gap_median, objects, co_posts. Weights are summed in (pair, kind, key)
    order, so any split of the edges by pair gives the same floats."""
    # Edges come in key order (and a key's kind is in its top bits), so one stable sort by
    # pair orders them by (pair, kind, key).
    edge_order = stable_argsort(src.astype(np.int64) * np.int64(max(n_accounts, 1)) + dst)
    narrow = index_type(n_accounts)
    source, target, kind, shared, weight, objects, record_row, key_row, key_gap = _aggregate(
        src.astype(narrow),
        dst.astype(narrow),
        edge_row,
        edge_other,
        traces.kind,
        traces.key,
        traces.time,
        edge_weight,
        edge_order,
    )
    del src, dst, edge_weight
    gap_min, gap_median = _gap_stats(shared, key_row, key_gap)
    del key_row, key_gap
    co_posts = _co_posts(traces, repeated, edge_row, edge_other, edge_order, record_row, shared)
    return [source, target, kind, shared, weight, gap_min, gap_median, objects, co_posts]


def _co_posts(
    traces: Traces,
    repeated: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
    edge_order: np.ndarray,
    record_row: np.ndarray,
    shared: np.ndarray,
) -> np.ndarray:
    """coordination-network-toolkit's edge weight of each (pair, kind) row: the larger, over
    the two accounts, of the number of its posts that the other co-shared within window.
    It differs from ``shared`` (distinct objects) only where an account shared one object
    more than once (``repeated``, per trace), so only those rows are counted post by post."""
    co_posts = shared.copy()
    _count_co_posts(
        edge_order,
        record_row,
        repeated,
        edge_row,
        edge_other,
        traces.account,
        traces.post,
        co_posts,
    )
    return co_posts


@nb.njit(cache=True, nogil=True)
def _count_co_posts(
    order: np.ndarray,
    record_row: np.ndarray,
    repeated: np.ndarray,
    edge_row: np.ndarray,
    edge_other: np.ndarray,
    account: np.ndarray,
    post: np.ndarray,
    co_posts: np.ndarray,
) -> None:
    """For each row with an edge from a ``repeated`` trace, the larger of the distinct
    posts of its source and of its target among its edges, into ``co_posts``. The edges
    of a row lie together in ``order`` (as :func:`_aggregate` made the rows); a row of
    one edge has one post at each end, as ``co_posts`` already says, and the posts of the
    others are sorted row by row, a few at a time. Sorting every edge's (row, post) code
    was most of the time of a batch of one URL posted again and again, whose rows nearly
    all have one edge."""
    n = order.shape[0]
    sources, targets = np.empty(n, np.int64), np.empty(n, np.int64)
    start = 0
    while start < n:
        row = record_row[order[start]]
        end = start + 1
        while end < n and record_row[order[end]] == row:
            end += 1
        if end - start > 1:
            counted = False
            for p in range(start, end):
                first, other = edge_row[order[p]], edge_other[order[p]]
                counted |= repeated[first] or repeated[other]
                if account[first] > account[other]:
                    first, other = other, first
                sources[p], targets[p] = post[first], post[other]
            if counted:
                co_posts[row] = max(_distinct(sources[start:end]), _distinct(targets[start:end]))
        start = end


@nb.njit(cache=True, nogil=True)
def _distinct(values: np.ndarray) -> int:
    """The number of distinct ``values``, sorted in place: by insertion where they are a
    few, as they nearly always are, else by heapsort, written out here: numba's own sort
    took 3 s of the first run's compile, more than any kernel."""
    n = values.shape[0]
    if n > 16:
        start, end = n // 2, n  # heapify from the middle down, then take the largest out
        while end > 1:
            if start > 0:
                start -= 1
            else:
                end -= 1
                values[0], values[end] = values[end], values[0]
            root = start
            while 2 * root + 1 < end:
                child = 2 * root + 1
                if child + 1 < end and values[child] < values[child + 1]:
                    child += 1
                if values[root] >= values[child]:
                    break
                values[root], values[child] = values[child], values[root]
                root = child
    else:
        for i in range(1, n):
            value, j = values[i], i - 1
            while j >= 0 and values[j] > value:
                values[j + 1] = values[j]
                j -= 1
            values[j + 1] = value
    count = 1
    for i in range(1, n):
        count += values[i] != values[i - 1]
    return count


def _distinct_contents(
    traces: Traces, shares: _Shares, linked: np.ndarray, n_accounts: int
) -> np.ndarray:
    """Distinct (key, variant) contents each account co-shared within window. Two
    rewordings in one near-duplicate group count as two (a spinner produced both).
    Counted as distinct (object-account pair, variant) codes of one word each."""
    rows = np.flatnonzero(linked)
    pair, variant = shares.pair_index[rows], traces.variant[rows]
    if rows.size and (variant.min() < 0 or variant.max() >= 2**32 or pair.max() >= 2**31):
        distinct = np.unique(np.stack([pair, variant], axis=1), axis=0)[:, 0]
    else:
        distinct = pair[first_appearances((pair << np.int64(32)) | variant)]
    return np.bincount(shares.pair_account[distinct], minlength=n_accounts).astype(np.int64)
