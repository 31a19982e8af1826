"""Near-duplicate groups from MinHash signatures: LSH banding, verification, union-find.

Signatures are cut into ``bands`` bands of ``rows`` rows, chosen for the Jaccard threshold
exactly as datasketch's ``MinHashLSH`` chooses them. Texts whose band hashes collide are
candidates; a candidate is linked only if the two signatures agree on at least
``threshold`` of their positions. Each band is bucketed in a hash table and every text in a
bucket is verified against the bucket's first member only, so the work stays linear in the
number of texts however large a bucket gets; transitivity through union-find and the other
bands recovers the rest of the group.
"""

from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np
from scipy.integrate import quad


def _false_positive(threshold: float, bands: int, rows: int) -> float:
    return quad(lambda s: 1 - (1 - s**rows) ** bands, 0.0, threshold)[0]


def _false_negative(threshold: float, bands: int, rows: int) -> float:
    return quad(lambda s: 1 - (1 - (1 - s**rows) ** bands), threshold, 1.0)[0]


@lru_cache(maxsize=32)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` minimising the weighted false positive and negative areas."""
    best, best_error = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = fp_weight * _false_positive(
                threshold, bands, rows
            ) + fn_weight * _false_negative(threshold, bands, rows)
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


@nb.njit(cache=True, parallel=True)
def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """64-bit hash of each band of each signature, shape ``(bands, n)``."""
    n = sigs.shape[0]
    keys = np.empty((bands, n), dtype=np.uint64)
    for i in nb.prange(n):
        for band in range(bands):
            h = np.uint64(0xCBF29CE484222325) ^ np.uint64(band)
            for j in range(band * rows, (band + 1) * rows):
                h = (h ^ np.uint64(sigs[i, j])) * np.uint64(0x100000001B3)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            keys[band, i] = h ^ (h >> np.uint64(31))
    return keys


@nb.njit(cache=True, inline="always")
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@nb.njit(cache=True)
def _agreement(sigs: np.ndarray, i: int, j: int) -> float:
    same = 0
    for k in range(sigs.shape[1]):
        same += sigs[i, k] == sigs[j, k]
    return same / sigs.shape[1]


@nb.njit(cache=True)
def _link_bands(keys: np.ndarray, sigs: np.ndarray, threshold: float, parent: np.ndarray) -> int:
    """For each band, bucket texts by band key in an open-addressing hash table and union
    each text with its bucket's first member when their signatures verify. Linear in the
    number of texts per band; returns the number of links made."""
    n = keys.shape[1]
    size = 1
    while size < 2 * n:
        size *= 2
    mask = np.uint64(size - 1)
    table_key = np.empty(size, np.uint64)
    table_head = np.empty(size, np.int64)
    links = 0
    for band in range(keys.shape[0]):
        table_head[:] = -1
        for i in range(n):
            key = keys[band, i]
            slot = key & mask
            while table_head[slot] != -1 and table_key[slot] != key:
                slot = (slot + np.uint64(1)) & mask
            head = table_head[slot]
            if head == -1:
                table_key[slot] = key
                table_head[slot] = i
                continue
            ra, rb = _find(parent, head), _find(parent, i)
            if ra != rb and _agreement(sigs, head, i) >= threshold:
                parent[max(ra, rb)] = min(ra, rb)
                links += 1
    return links


@nb.njit(cache=True)
def _roots(parent: np.ndarray) -> np.ndarray:
    out = np.empty(parent.shape[0], dtype=np.int64)
    for i in range(parent.shape[0]):
        out[i] = _find(parent, i)
    return out


def near_duplicate_groups(sigs: np.ndarray, active: np.ndarray, threshold: float) -> np.ndarray:
    """Group label (the smallest member index) of each signature; ``-1`` where inactive.

    ``active`` marks the texts long enough to match; the others never join a group.
    """
    n = sigs.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    index = np.flatnonzero(active)
    if index.size == 0:
        return labels
    bands, rows = optimal_bands(threshold, sigs.shape[1])
    chosen = np.ascontiguousarray(sigs[index])
    keys = band_keys(chosen, bands, rows)
    parent = np.arange(index.size, dtype=np.int64)
    _link_bands(keys, chosen, threshold, parent)
    labels[index] = index[_roots(parent)]
    return labels
