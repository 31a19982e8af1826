"""Dense numbers for 64-bit keys (text keys, account id hashes), batch after batch.

A scan numbers every distinct text and account in order of first appearance while the
dump streams past. Joining each batch against the table of everything seen so far costs
time in proportion to that table, so a dump read in many batches would be numbered in time
quadratic in its size; :class:`KeyNumbers` keeps one open-addressing hash table instead,
and numbering a batch costs time in proportion to the batch.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from detector.partition import partition_bits, partition_layout

MAX_LOAD = 0.6  # the table doubles once it is fuller than this
PART_KEYS = 8192  # keys a partition of first_appearances aims at: its table stays in cache


@nb.njit(cache=True, inline="always")
def _mix(key: np.uint64) -> np.uint64:
    h = (key ^ (key >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
    return h ^ (h >> np.uint64(29))


@nb.njit(cache=True)
def _number_keys(
    table_keys: np.ndarray,
    table_ids: np.ndarray,
    keys: np.ndarray,
    count: int,
    out: np.ndarray,
    first: np.ndarray,
) -> int:
    """Number of each key in ``out`` (a new key gets ``count``, then ``count + 1``...) and
    whether it appears there for the first time in ``first``; the table holds ``id + 1``
    per slot, 0 where empty. Returns the new count."""
    mask = np.uint64(table_keys.shape[0] - 1)
    for i in range(keys.shape[0]):
        key = keys[i]
        slot = _mix(key) & mask
        while True:
            held = table_ids[slot]
            if held == 0:
                table_keys[slot] = key
                table_ids[slot] = np.uint32(count + 1)
                out[i] = count
                first[i] = True
                count += 1
                break
            if table_keys[slot] == key:
                out[i] = np.int64(held) - 1
                first[i] = False
                break
            slot = (slot + np.uint64(1)) & mask
    return count


class KeyNumbers:
    """Numbers 0, 1, 2... for 64-bit keys in order of first appearance, across calls."""

    def __init__(self) -> None:
        self.count = 0
        self._keys = np.zeros(1024, np.uint64)
        self._ids = np.zeros(1024, np.uint32)

    def number(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The number of each key (int64), and which positions hold a key's first
        appearance ever (numbered ``count`` on, in order)."""
        if self._keys.shape[0] == 0:
            raise RuntimeError("numbering after release(): the table is gone")
        keys = _read_only(np.ascontiguousarray(keys, np.uint64))
        self._make_room(keys.shape[0])
        out = np.empty(keys.shape[0], np.int64)
        first = np.empty(keys.shape[0], np.bool_)
        self.count = _number_keys(self._keys, self._ids, keys, self.count, out, first)
        if self.count >= 2**32 - 1:
            raise ValueError(f"{self.count} distinct keys: at most 2**32 - 2 in one scan")
        return out, first

    def known(self, keys: np.ndarray) -> np.ndarray:
        """The number of each key, every one numbered before (the table is not grown)."""
        keys = _read_only(np.ascontiguousarray(keys, np.uint64))
        out = np.empty(keys.shape[0], np.int64)
        first = np.empty(keys.shape[0], np.bool_)
        if _number_keys(self._keys, self._ids, keys, self.count, out, first) != self.count:
            raise ValueError("a key was not numbered before")
        return out

    def release(self) -> None:
        """Free the table once every key is numbered (``count`` stays): at 50M posts the
        text and account tables hold about a gigabyte the later stages do not need."""
        self._keys, self._ids = np.zeros(0, np.uint64), np.zeros(0, np.uint32)

    def _make_room(self, coming: int) -> None:
        """Grow the table so that ``coming`` more keys keep it at most ``MAX_LOAD`` full."""
        size = self._keys.shape[0]
        while (self.count + coming) > MAX_LOAD * size:
            size *= 2
        if size == self._keys.shape[0]:
            return
        keys, ids = np.zeros(size, np.uint64), np.zeros(size, np.uint32)
        _move_keys(self._keys, self._ids, keys, ids)
        self._keys, self._ids = keys, ids


@nb.njit(cache=True)
def _move_keys(
    old_keys: np.ndarray, old_ids: np.ndarray, table_keys: np.ndarray, table_ids: np.ndarray
) -> None:
    """Insert every key of the old table, with its number, into the larger empty one, in
    the old table's slot order: a key's new slot is near its old one or as far past it as
    the old table is long, so both tables are walked almost in order (re-inserting the keys
    in the order of their numbers wrote to random slots, a cache miss each: 7.5 s of a
    50M-post scan under py-spy)."""
    mask = np.uint64(table_keys.shape[0] - 1)
    for old in range(old_keys.shape[0]):
        held = old_ids[old]
        if held == 0:
            continue
        key = old_keys[old]
        slot = _mix(key) & mask
        while table_ids[slot] != 0:
            slot = (slot + np.uint64(1)) & mask
        table_keys[slot], table_ids[slot] = key, held


def _read_only(keys: np.ndarray) -> np.ndarray:
    """``keys`` as a read-only view, as Arrow's buffers come: the kernel is compiled for
    one kind of array, not for both."""
    view = keys.view()
    view.flags.writeable = False
    return view


@nb.njit(cache=True)
def _first_appearances(keys: np.ndarray, part_bits: int, first: np.ndarray) -> None:
    """``first[i]``: whether ``keys[i]`` is not among ``keys[:i]``. Rows are scattered, in
    order, into ``2**part_bits`` partitions by their hash's top bits, keys beside them, so
    each partition's table of keys seen stays in cache: one table over all keys missed it
    on almost every probe."""
    n = keys.shape[0]
    n_parts = 1 << part_bits
    shift = np.uint64(64 - part_bits)
    start = np.zeros(n_parts + 1, np.int64)
    for i in range(n):
        start[(_mix(keys[i]) >> shift) + 1] += 1
    largest, size = partition_layout(start)
    cursor = start[:-1].copy()
    rows = np.empty(n, np.int64)
    scattered = np.empty(n, np.uint64)
    for i in range(n):
        part = _mix(keys[i]) >> shift
        rows[cursor[part]], scattered[cursor[part]] = i, keys[i]
        cursor[part] += 1
    mask = np.uint64(size - 1)
    table = np.empty(size, np.uint64)
    occupied = np.zeros(size, np.bool_)
    used = np.empty(largest, np.int64)
    for part in range(n_parts):
        filled = 0
        for j in range(start[part], start[part + 1]):
            key = scattered[j]
            slot = _mix(key) & mask
            while occupied[slot] and table[slot] != key:
                slot = (slot + np.uint64(1)) & mask
            first[rows[j]] = not occupied[slot]
            if not occupied[slot]:
                occupied[slot], table[slot] = True, key
                used[filled] = slot
                filled += 1
        for k in range(filled):
            occupied[used[k]] = False


def first_appearances(keys: np.ndarray) -> np.ndarray:
    """Whether each key appears there for the first time (a bool per key): one key of
    each distinct value, as ``np.unique(keys, return_index=True)`` finds them, in time
    linear in the keys and without sorting them."""
    keys = np.ascontiguousarray(keys).astype(np.uint64, copy=False)
    first = np.empty(keys.shape[0], np.bool_)
    if keys.shape[0]:
        _first_appearances(keys, partition_bits(keys.shape[0], PART_KEYS), first)
    return first


def dense_numbers(keys: np.ndarray) -> np.ndarray:
    """Numbers 0, 1, 2... for 64-bit ``keys`` in order of first appearance (int64), one per
    key, in time linear in the keys: the distinct ones found first, so the table is sized
    for them (a table sized for every key is mostly empty pages, a miss of the
    translation cache per probe: 22M keys of 3,200 objects, 1.2 s against 0.4 s)."""
    return _first_numbered(keys)[1]


def sorted_numbers(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` of 64-bit integer ``keys`` that repeat
    (objects shared by many): the distinct ones, sorted, and each key's place among them.
    The keys are numbered as :func:`dense_numbers` numbers them and only the distinct ones
    sorted, where ``np.unique`` arg-sorts every key, a comparison sort that numpy does not
    vectorise (the 50M-post tiled world's 24M trace keys: 1.5-4.9 s, against 0.2-0.3 s
    for its 10M world's 4.8M)."""
    distinct, number = _first_numbered(keys)
    order = np.argsort(distinct)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    return distinct[order], rank[number]


def sorted_firsts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_index=True)`` of 64-bit integer ``keys``: the distinct
    ones, sorted, and where each first appears, found by :func:`first_appearances`; only
    the distinct keys are sorted (``np.unique`` sorts every key, stably)."""
    rows = np.flatnonzero(first_appearances(keys))
    distinct = keys[rows]
    order = np.argsort(distinct)
    return distinct[order], rows[order]


def _first_numbered(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` in order of first appearance (in their own type), and each
    key's number among them. The keys are cast to the table's type once, for both
    passes."""
    keys = np.ascontiguousarray(keys)
    hashed = keys.astype(np.uint64, copy=False)
    first = first_appearances(hashed)
    numbers = KeyNumbers()
    numbers.number(hashed[first])
    return keys[first], numbers.known(hashed)
