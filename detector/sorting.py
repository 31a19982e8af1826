"""Stable orders of integer keys, fast: each key packed with its position into one 64-bit
word, so one unstable sort (numpy's vectorised quicksort, several times faster than its
stable sorts) gives the stable order. The same orders as ``np.argsort(kind="stable")``
and ``np.lexsort``."""

from __future__ import annotations

import numpy as np


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` of integer ``keys``. Keys whose range is too
    wide to share a word with the positions are ranked first (``np.unique``)."""
    n = keys.shape[0]
    if n < 2:
        return np.arange(n, dtype=np.int64)
    position_bits = (n - 1).bit_length()
    low, high = int(keys.min()), int(keys.max())
    if (high - low).bit_length() + position_bits > 63:
        packed = np.unique(keys, return_inverse=True)[1].reshape(-1).astype(np.int64)
    elif keys.dtype.kind == "u":
        packed = (keys.astype(np.uint64) - np.uint64(low)).view(np.int64)
    else:
        packed = keys.astype(np.int64) - np.int64(low)
    packed <<= np.int64(position_bits)
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= np.int64((1 << position_bits) - 1)
    return packed


def lexsort(columns: tuple[np.ndarray, ...] | list[np.ndarray]) -> np.ndarray:
    """``np.lexsort(columns)`` of integer columns (the last one the primary key): a stable
    sort by each column in turn, least significant first."""
    order: np.ndarray | None = None
    for column in columns:
        step = stable_argsort(column if order is None else column[order])
        order = step if order is None else order[step]
    if order is None:
        raise TypeError("lexsort needs at least one column")
    return order
