"""The first run: numba compiles the scan's kernels once, on both cores.

numba compiles a kernel on its first call and caches the machine code on disk (next to
the sources, or in the user's cache folder when the package folder is read-only), so only
the first scan after an install or an upgrade pays for it: about 20 s of one core on a
slow day of the benchmark machine. While that cache is cold, :func:`compiling_alongside`
says so and starts a helper process that compiles the kernels the scan needs last (graph
aggregation, scoring) into the cache while the scan compiles the first ones as it reaches
them; the scan then loads the helper's from disk instead of compiling them. The scan never
waits for the helper: where the helper is late, the scan compiles the kernel itself, as it
would without one.

``KERNELS`` lists each kernel in the order a scan first calls it, with the seconds its
compile takes, callees included (compiled in that order in one process with an empty
cache, on one core of the benchmark machine on a slow day: only their shares matter, which
split the work in two halves); :func:`signatures` gives the argument types the scan calls
it with. ``tests/test_kernels.py`` checks that a scan after :func:`compile_kernels`
compiles nothing. The ``DEFERRED`` ones come last and count neither in the split nor as a
cold cache: while they are cold a scan of few texts takes a slower exact path instead
(normalisation by polars: see ``ScanConfig.compile_normaliser_texts``) and a large one
compiles them itself; the helper compiles them after its share where it has the time.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

MESSAGE = "compiling kernels, first run only: this scan takes longer"
KERNELS: tuple[tuple[str, str, float], ...] = (
    ("detector.minhash", "_signatures_block", 5.7),
    ("detector.numbering", "_number_keys", 0.3),
    ("detector.lsh", "_sketch_rows", 0.9),
    ("detector.lsh", "_bucket_pairs", 2.0),
    ("detector.lsh", "_verify", 0.7),
    ("detector.lsh", "_link", 0.4),
    ("detector.lsh", "_roots", 0.6),
    ("detector.lsh", "_root_agreement", 0.3),
    ("detector.posts", "_group_posts", 1.4),
    ("detector.graph", "_linked", 0.6),
    ("detector.numbering", "_first_appearances", 1.6),
    ("detector.numbering", "_move_keys", 0.3),
    ("detector.graph", "_neighbour_edges", 1.2),
    ("detector.graph", "_aggregate", 2.4),
    ("detector.graph", "_count_co_posts", 1.8),
    ("detector.cluster", "_count_pairs", 0.6),
    ("detector.cluster", "_fill_symmetric", 0.9),
    ("detector.cluster", "_components", 1.1),
    ("detector.score", "_object_features", 2.2),
    ("detector.score", "_account_features", 0.6),
    ("detector.graph", "_same_cluster", 0.8),
    ("detector.normkernel", "_normalise_block", 9.7),
)
DEFERRED = frozenset({"_normalise_block"})
PACKAGE = Path(__file__).resolve().parent


@cache
def signatures(name: str) -> list[tuple[Any, ...]]:
    """The argument types a scan calls kernel ``name`` with, one tuple per way it calls
    it (numba is imported here, not with this module, so the cheap cache check runs
    before it)."""
    from numba import types

    def array(dtype: types.Type, ndim: int = 1, readonly: bool = False) -> types.Array:
        return types.Array(dtype, ndim, "C", readonly=readonly)

    i64, f64, flags, n = array(types.int64), array(types.float64), array(types.boolean), types.int64
    u32x2, u8x2 = array(types.uint32, 2), array(types.uint8, 2)
    u16, i32, settings = array(types.uint16), array(types.int32), array(types.boolean)
    i8 = array(types.int8)
    u64, read_u64 = array(types.uint64), array(types.uint64, readonly=True)
    text = (array(types.uint8, readonly=True), array(types.int64, readonly=True))
    listed = {
        "_normalise_block": (*text, u16, i32, i32, settings, n),
        "_signatures_block": (
            array(types.uint8, readonly=True), array(types.int64, readonly=True),
            n, n, n, n, array(types.uint32), array(types.uint32), types.boolean,
            u32x2, array(types.int32),
        ),
        "_number_keys": (u64, array(types.uint32), read_u64, n, i64, flags),
        "_sketch_rows": (u32x2, i64, n, n, n, n, u32x2, u8x2),
        "_bucket_pairs": (u32x2, n, n, n, array(types.uint64, 2), i64),
        "_verify": (u64, u8x2, i64, n, n, n, flags),
        "_link": (u64, flags, i64),
        "_roots": (i64, n, n, i64),
        "_root_agreement": (u8x2, i64, n, n, i64),
        "_group_posts": (
            i64, array(types.uint32, readonly=True), array(types.uint32, readonly=True),
            array(types.int64, readonly=True),
        ),
        "_linked": (i64, i32, i64, i64, i64, flags),
        "_first_appearances": (u64, n, flags),
        "_move_keys": (u64, array(types.uint32), u64, array(types.uint32)),
        "_neighbour_edges": (
            i64, i32, i64, i64, i64, n, types.boolean, i32, n, i64, i64, i64, i32, i32,
        ),
        "_aggregate": (i32, i32, i32, i32, i8, i64, i64, f64, i64),
        "_count_co_posts": (i64, i64, flags, i32, i32, i32, i32, i32),
        "_object_features": (i64, i64, i32, i64, i64, flags, f64, n),
        "_account_features": (i64, i64, n),
        "_count_pairs": (i32, i32, f64, i32, i32),
        "_fill_symmetric": (i32, i32, f64, i32, i64, i64, n, n, n, i32, f64),
        "_components": (i32, i32),
        "_same_cluster": (i32, i32, i64),
    }[name]  # fmt: skip
    return listed if isinstance(listed, list) else [listed]


def _dispatcher(module: str, name: str) -> Any:
    from numba.core.dispatcher import Dispatcher

    kernel = getattr(importlib.import_module(module), name, None)
    return kernel if isinstance(kernel, Dispatcher) else None


def probably_cold() -> bool:
    """Whether some listed kernel but the deferred ones has no cache index file at all
    beside the sources: a fresh install, told apart without importing numba. False where
    numba caches elsewhere (``NUMBA_CACHE_DIR``, or a read-only package folder);
    :func:`cold` decides there."""
    cache_dir = PACKAGE / "__pycache__"
    if os.environ.get("NUMBA_CACHE_DIR") or not os.access(PACKAGE, os.W_OK):
        return False
    return any(
        not any(cache_dir.glob(f"{module.rsplit('.', 1)[1]}.{name}-*.nbi"))
        for module, name, _ in KERNELS
        if name not in DEFERRED
    )


def _fresh(kernel: Any) -> bool:
    try:
        return bool(kernel._cache._cache_file._load_index())  # numba's own freshness check
    except (AttributeError, OSError, EOFError, ValueError):
        return False


def cold() -> bool:
    """Whether some listed kernel but the deferred ones has no fresh machine code in numba's
    on-disk cache (the first scan after an install, or after its source changed)."""
    kernels = (_dispatcher(m, name) for m, name, _ in KERNELS if name not in DEFERRED)
    return any(kernel is not None and not _fresh(kernel) for kernel in kernels)


def ready(module: str, name: str) -> bool:
    """Whether a ``DEFERRED`` kernel can run without compiling: compiled or loaded in this
    process, or fresh in the on-disk cache."""
    kernel = _dispatcher(module, name)
    return kernel is not None and (bool(kernel.signatures) or _fresh(kernel))


def compile_kernels(first: int, stop: int) -> None:
    """Compile ``KERNELS[first:stop]`` into the cache (or load them from it); a kernel
    whose listed signature no longer types is left to compile on its first call."""
    for module, name, _ in KERNELS[first:stop]:
        kernel = _dispatcher(module, name)
        if kernel is None:
            continue
        for argument_types in signatures(name):
            try:
                kernel.compile(argument_types)
            except Exception:
                continue


def helper_share() -> int:
    """Index of the first kernel the helper compiles: it takes the last ones, about half
    of the compile seconds (it starts with the scan, and the scan compiles the rest and
    reads the input before it reaches them)."""
    costs = [cost for _, name, cost in KERNELS if name not in DEFERRED]
    total = sum(costs)
    done = 0.0
    for index, cost in enumerate(costs):
        if done + cost / 2 >= total / 2:
            return index
        done += cost
    return len(costs)


@contextmanager
def compiling_alongside(show: Callable[[str], None]) -> Iterator[None]:
    """While the block (a scan) runs, compile the kernels it needs last in a helper
    process if the cache is cold, saying so with ``show``; the helper is stopped when the
    block ends, however it ends."""
    helper = None
    if probably_cold() or cold():
        show(MESSAGE)
        code = (  # the deferred normalisation kernel's tables too (a second's build)
            f"import sys; sys.path.insert(0, {str(PACKAGE.parent)!r}); "
            "from detector.kernels import compile_kernels, helper_share; "
            f"compile_kernels(helper_share(), {len(KERNELS)}); "
            "from detector.unitables import tables; tables()"
        )
        helper = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    try:
        yield
    finally:
        if helper is not None and helper.poll() is None:
            helper.kill()
        if helper is not None:
            helper.wait()
