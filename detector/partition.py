"""Radix partitioning for hash tables that stay in cache.

A hash table over millions of keys misses the cache on almost every probe. Scattering the
rows first, in order, into partitions by a few top bits of their keys (a streaming pass)
lets each partition's own small table stay in a core's cache: the LSH band buckets
(:mod:`detector.lsh`) and the first appearances of keys (:mod:`detector.numbering`).
"""

from __future__ import annotations

import numba as nb
import numpy as np


def partition_bits(n: int, per_partition: int) -> int:
    """Top bits that cut ``n`` uniformly hashed keys into partitions of about
    ``per_partition`` keys (1 to 24)."""
    return int(np.clip(np.ceil(np.log2(max(n, 1) / per_partition)), 1, 24))


@nb.njit(cache=True)
def partition_layout(start: np.ndarray) -> tuple[int, int]:
    """``start[p + 1]`` holds partition ``p``'s row count: made, in place, where each
    partition starts (``start[-1]``: all rows). Returns the largest partition's rows and
    the power-of-two size of a table that holds them at most two-thirds full."""
    largest = 0
    for part in range(start.shape[0] - 1):
        largest = max(largest, start[part + 1])
        start[part + 1] += start[part]
    size = 2
    while size < largest + largest // 2:
        size *= 2
    return largest, size
