"""Near-duplicate groups from MinHash signatures: LSH banding, verification, union-find.

Signatures are cut into ``bands`` bands of ``rows`` rows, chosen for the Jaccard threshold
exactly as datasketch's ``MinHashLSH`` chooses them. Texts whose band hashes collide are
candidates; a candidate is linked only if the two signatures agree on enough positions to
put the estimated Jaccard similarity at or above ``threshold``. Each band is bucketed in a
hash table and every text in a bucket is verified against the bucket's first member only,
so the work stays linear in the number of texts however large a bucket gets; transitivity
through union-find and the other bands recovers the rest of the group.

Memory: a scan never keeps full signatures. Each batch's signatures are reduced at once to
a :class:`Sketch`: 32-bit band keys plus the low byte of every MinHash value (b-bit
MinHash, Li & König 2010), about 230 bytes a text instead of 512. Two such bytes agree by
chance with probability 1/256, which the verification corrects for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba as nb
import numpy as np
from scipy.integrate import quad

CHANCE_AGREEMENT = 1.0 / 256.0  # two unrelated low bytes are equal this often


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
            fp = _false_positive(threshold, bands, rows)
            error = fp_weight * fp + fn_weight * _false_negative(threshold, bands, rows)
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


@dataclass(frozen=True)
class Sketch:
    """What LSH needs of a set of signatures: band keys and low bytes, row-aligned."""

    keys: np.ndarray  # uint32 (bands, n)
    low_bytes: np.ndarray  # uint8 (n, num_perm)

    @classmethod
    def concat(cls, parts: list[Sketch]) -> Sketch:
        return cls(
            np.concatenate([p.keys for p in parts], axis=1),
            np.concatenate([p.low_bytes for p in parts], axis=0),
        )


@nb.njit(cache=True, parallel=True)
def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """32-bit hash of each band of each signature, shape ``(bands, n)``."""
    n = sigs.shape[0]
    keys = np.empty((bands, n), dtype=np.uint32)
    for i in nb.prange(n):
        for band in range(bands):
            h = np.uint64(0xCBF29CE484222325) ^ np.uint64(band)
            for j in range(band * rows, (band + 1) * rows):
                h = (h ^ np.uint64(sigs[i, j])) * np.uint64(0x100000001B3)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            keys[band, i] = np.uint32((h ^ (h >> np.uint64(31))) >> np.uint64(32))
    return keys


def sketch(sigs: np.ndarray, threshold: float) -> Sketch:
    """Reduce signatures to their LSH sketch for ``threshold``."""
    bands, rows = optimal_bands(threshold, sigs.shape[1])
    return Sketch(band_keys(sigs, bands, rows), (sigs & 0xFF).astype(np.uint8))


@nb.njit(cache=True, inline="always")
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@nb.njit(cache=True)
def _agreeing(low_bytes: np.ndarray, i: int, j: int) -> int:
    same = 0
    for k in range(low_bytes.shape[1]):
        same += low_bytes[i, k] == low_bytes[j, k]
    return same


@nb.njit(cache=True)
def _link_bands(
    keys: np.ndarray, low_bytes: np.ndarray, min_agreeing: int, parent: np.ndarray
) -> int:
    """For each band, bucket texts by key in an open-addressing hash table and union each
    text with its bucket's first member when they verify. Linear in the number of texts per
    band; returns the number of links made."""
    n = keys.shape[1]
    size = 1
    while size < 2 * n:
        size *= 2
    mask = np.uint32(size - 1)
    table_key = np.empty(size, np.uint32)
    table_head = np.empty(size, np.int64)
    links = 0
    for band in range(keys.shape[0]):
        table_head[:] = -1
        for i in range(n):
            key = keys[band, i]
            slot = key & mask
            while table_head[slot] != -1 and table_key[slot] != key:
                slot = (slot + np.uint32(1)) & mask
            head = table_head[slot]
            if head == -1:
                table_key[slot] = key
                table_head[slot] = i
                continue
            ra, rb = _find(parent, head), _find(parent, i)
            if ra != rb and _agreeing(low_bytes, head, i) >= min_agreeing:
                parent[max(ra, rb)] = min(ra, rb)
                links += 1
    return links


@nb.njit(cache=True)
def _roots(parent: np.ndarray) -> np.ndarray:
    out = np.empty(parent.shape[0], dtype=np.int64)
    for i in range(parent.shape[0]):
        out[i] = _find(parent, i)
    return out


def min_agreeing(threshold: float, num_perm: int) -> int:
    """Agreeing low bytes needed for an estimated Jaccard >= threshold: agreement is
    ``J + (1 - J) / 256`` in expectation."""
    return int(np.ceil(num_perm * (threshold + (1 - threshold) * CHANCE_AGREEMENT) - 1e-9))


def group_sketches(sk: Sketch, active: np.ndarray, threshold: float) -> np.ndarray:
    """Group label (the smallest member index) of each text; ``-1`` where inactive.

    ``active`` marks the texts long enough to match; the others never join a group.
    """
    n = sk.low_bytes.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    index = np.flatnonzero(active)
    if index.size == 0:
        return labels
    keys = np.ascontiguousarray(sk.keys[:, index])
    low_bytes = np.ascontiguousarray(sk.low_bytes[index])
    parent = np.arange(index.size, dtype=np.int64)
    _link_bands(keys, low_bytes, min_agreeing(threshold, low_bytes.shape[1]), parent)
    labels[index] = index[_roots(parent)]
    return labels


def near_duplicate_groups(sigs: np.ndarray, active: np.ndarray, threshold: float) -> np.ndarray:
    """Group labels straight from full signatures (see :func:`group_sketches`)."""
    return group_sketches(sketch(sigs, threshold), active, threshold)
