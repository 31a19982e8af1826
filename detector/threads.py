"""Kernels spread over cores by plain threads.

A ``nogil`` kernel run on a range of its rows by each of ``numba.get_num_threads()``
threads is as fast as ``parallel=True`` with ``prange``, and compiles in half the time on
the first run after an install (``parallel=True`` adds a second compile of the loop body).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba as nb
import numpy as np

T = TypeVar("T")


def in_ranges(work: Callable[[int, int], T], n: int, ranges_per_thread: int = 1) -> list[T]:
    """``work(start, stop)`` over consecutive ranges that cover ``range(n)``, run by
    ``numba.get_num_threads()`` threads; ``ranges_per_thread`` above one evens out
    ranges of unequal work. Returns what each range's call returned, in range order."""
    if n <= 0:
        return []
    threads = max(1, min(nb.get_num_threads(), n))
    bounds = np.linspace(0, n, ranges_per_thread * threads + 1).astype(np.int64)
    if len(bounds) == 2:
        return [work(int(bounds[0]), int(bounds[1]))]
    with ThreadPoolExecutor(threads) as pool:
        return list(
            pool.map(lambda k: work(int(bounds[k]), int(bounds[k + 1])), range(len(bounds) - 1))
        )
