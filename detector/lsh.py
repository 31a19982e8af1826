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

A 32-bit band key is shared by chance by two different band values about
``bands * n**2 / 2**33`` times in a scan of ``n`` texts; the later bucket's texts are then
verified against the earlier one's head and miss that band. Against exact band values, the
10M-post plain world's 7,614,300 sketched texts put 113 of 1,793,603 grouped texts (0.006%)
outside their group; comparing the band's low bytes on every key match loses none but took
LSH from 3.8 to 5.6 s on those texts (2026-12-03), so the keys are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from detector.partition import partition_bits, partition_layout
from detector.threads import in_ranges

if TYPE_CHECKING:
    from detector.spill import RowsOnDisk

CHANCE_AGREEMENT = 1.0 / 256.0  # two unrelated low bytes are equal this often
PART_TEXTS = 8192  # texts a bucketing partition aims at: its hash table fits a core's cache
VERIFY_CHUNK = 4096  # candidate pairs a thread verifies at a time


@lru_cache(maxsize=32)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` minimising the weighted false positive and negative areas under
    the S-curve, as datasketch chooses them. Both areas are integrals of polynomials of
    degree ``bands * rows <= num_perm``, which Gauss-Legendre quadrature with
    ``num_perm // 2 + 1`` nodes computes exactly: every candidate at once, no scipy."""
    nodes, node_weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    per_band = [num_perm // b for b in range(1, num_perm + 1)]
    bands = np.repeat(np.arange(1, num_perm + 1), per_band)[:, None]
    rows = np.concatenate([np.arange(1, n + 1) for n in per_band])[:, None]

    def area(low: float, high: float, collides: bool) -> np.ndarray:
        s = (high - low) / 2 * nodes + (high + low) / 2
        missed = (1 - s**rows) ** bands
        return (high - low) / 2 * ((1 - missed if collides else missed) @ node_weights)

    error = fp_weight * area(0.0, threshold, True) + fn_weight * area(threshold, 1.0, False)
    best = int(np.argmin(error))
    return int(bands[best, 0]), int(rows[best, 0])


@dataclass(frozen=True)
class Sketch:
    """What LSH needs of a set of signatures: band keys and low bytes, row-aligned."""

    keys: np.ndarray  # uint32 (bands, n)
    low_bytes: np.ndarray  # uint8 (n, num_perm)


@nb.njit(cache=True, nogil=True)
def _sketch_rows(
    sigs: np.ndarray,
    rows: np.ndarray,
    start: int,
    stop: int,
    bands: int,
    band_rows: int,
    keys: np.ndarray,
    low: np.ndarray,
) -> None:
    for r in range(start, stop):
        i = rows[r]
        for band in range(bands):
            h = np.uint64(0xCBF29CE484222325) ^ np.uint64(band)
            for j in range(band * band_rows, (band + 1) * band_rows):
                h = (h ^ np.uint64(sigs[i, j])) * np.uint64(0x100000001B3)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            keys[band, r] = np.uint32((h ^ (h >> np.uint64(31))) >> np.uint64(32))
        for j in range(sigs.shape[1]):
            low[r, j] = np.uint8(sigs[i, j] & np.uint32(0xFF))


def sketch(sigs: np.ndarray, threshold: float, rows: np.ndarray | None = None) -> Sketch:
    """Reduce signatures (the given ``rows``, default all) to their LSH sketch for
    ``threshold``: a 32-bit hash of each band and the low byte of each value."""
    rows = np.arange(sigs.shape[0]) if rows is None else np.asarray(rows, np.int64)
    bands, band_rows = optimal_bands(threshold, sigs.shape[1])
    keys = np.empty((bands, rows.shape[0]), np.uint32)
    low = np.empty((rows.shape[0], sigs.shape[1]), np.uint8)
    sigs = np.ascontiguousarray(sigs)
    in_ranges(
        lambda start, stop: _sketch_rows(sigs, rows, start, stop, bands, band_rows, keys, low),
        rows.shape[0],
    )
    return Sketch(keys, low)


@nb.njit(cache=True, inline="always")
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@nb.njit(cache=True, nogil=True)
def _bucket_pairs(
    keys: np.ndarray,
    part_bits: int,
    first_band: int,
    stop_band: int,
    scattered: np.ndarray,
    n_pairs: np.ndarray,
) -> None:
    """For each band ``b`` of ``keys`` from ``first_band`` to ``stop_band``, the pairs of
    each text that is not the first with its band key and that first text (its bucket's
    head), as ``head << 32 | text`` words in ``scattered[b, :n_pairs[b]]``. The band's
    texts are first scattered, in order, into ``2**part_bits`` partitions by their keys'
    top bits (as ``key << 32 | text`` words, in ``scattered[b]``), so each partition's
    open-addressing table of ``key << 32 | (first + 1)`` words, at most two-thirds full,
    stays in cache: one table over all texts missed it on almost every probe. A pair is
    written over a word already read, so the pairs take no memory of their own; most
    texts head their own bucket, so a band has a few pairs where a head per text was a
    write to memory per text (at 38M texts, 17 -> 8 s side by side). ``scattered`` is the
    caller's, reused band after band: a fresh one per band faulted its pages in each time."""
    n = keys.shape[1]
    n_parts = 1 << part_bits
    shift = np.uint64(32 - part_bits)
    low32 = np.uint64(0xFFFFFFFF)
    for b in range(first_band, stop_band):
        start = np.zeros(n_parts + 1, np.int64)
        for text in range(n):
            start[(np.uint64(keys[b, text]) >> shift) + 1] += 1
        largest, size = partition_layout(start)
        cursor = start[:-1].copy()
        packed = scattered[b]
        for text in range(n):
            key = np.uint64(keys[b, text])
            packed[cursor[key >> shift]] = (key << np.uint64(32)) | np.uint64(text)
            cursor[key >> shift] += 1
        mask = np.uint64(size - 1)
        table = np.zeros(size, np.uint64)
        used = np.empty(largest, np.int64)
        pairs = 0
        for part in range(n_parts):
            filled = 0
            for j in range(start[part], start[part + 1]):
                key = packed[j] >> np.uint64(32)
                text = packed[j] & low32
                slot = ((key * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask
                while True:
                    entry = table[slot]
                    if entry == 0:
                        table[slot] = (key << np.uint64(32)) | (text + np.uint64(1))
                        used[filled] = slot
                        filled += 1
                        break
                    if (entry >> np.uint64(32)) == key:
                        head = (entry & low32) - np.uint64(1)
                        packed[pairs] = (head << np.uint64(32)) | text
                        pairs += 1
                        break
                    slot = (slot + np.uint64(1)) & mask
            for k in range(filled):
                table[used[k]] = 0
        n_pairs[b] = pairs


@nb.njit(cache=True, inline="always")
def _agreeing(low_bytes: np.ndarray, i: int, j: int) -> int:
    same = 0
    for k in range(low_bytes.shape[1]):
        same += low_bytes[i, k] == low_bytes[j, k]
    return same


@nb.njit(cache=True, inline="always")
def _pair(word: np.uint64) -> tuple[int, int]:
    """A ``head << 32 | text`` word's head and text."""
    return np.int64(word >> np.uint64(32)), np.int64(word & np.uint64(0xFFFFFFFF))


@nb.njit(cache=True, nogil=True)
def _verify(
    pairs: np.ndarray,
    low_bytes: np.ndarray,
    roots: np.ndarray,
    min_agreeing: int,
    first_chunk: int,
    stop_chunk: int,
    verified: np.ndarray,
) -> None:
    """``verified[k]``: whether the two texts of pair ``k`` were in different groups when
    the block of bands began (``roots``; groups only merge, so no pair :func:`_link`
    would union is left out) and agree on at least ``min_agreeing`` low bytes; the pairs
    of chunks ``first_chunk`` to ``stop_chunk``, a chunk at a time. A chunk's pairs in
    different groups are picked out in a loop of their own, without a branch on what it
    loads, so that it waits on many reads from memory at once, then compared."""
    n = pairs.shape[0]
    apart = np.empty(VERIFY_CHUNK, np.int64)
    for chunk in range(first_chunk, stop_chunk):
        start = chunk * VERIFY_CHUNK
        stop = min(n, start + VERIFY_CHUNK)
        met = 0
        for k in range(start, stop):
            head, text = _pair(pairs[k])
            verified[k] = False
            apart[met] = k
            met += roots[head] != roots[text]
        for m in range(met):
            k = apart[m]
            head, text = _pair(pairs[k])
            verified[k] = _agreeing(low_bytes, head, text) >= min_agreeing


@nb.njit(cache=True, nogil=True)
def _link(pairs: np.ndarray, verified: np.ndarray, parent: np.ndarray) -> int:
    """Union the two texts of each verified pair; returns the number of links made."""
    links = 0
    for k in range(pairs.shape[0]):
        if verified[k]:
            head, text = _pair(pairs[k])
            ra, rb = _find(parent, head), _find(parent, text)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
                links += 1
    return links


@nb.njit(cache=True)
def _root(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        x = parent[x]
    return x


@nb.njit(cache=True, nogil=True)
def _roots(parent: np.ndarray, start: int, stop: int, out: np.ndarray) -> None:
    """``out[i]``: the root of ``i``, for ``i`` from ``start`` to ``stop``."""
    for i in range(start, stop):
        out[i] = _root(parent, np.int64(i))


def _roots_of(parent: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[i]``: the root of every ``i``, on every core; returns ``out``."""
    in_ranges(lambda start, stop: _roots(parent, start, stop, out), parent.shape[0])
    return out


def min_agreeing(threshold: float, num_perm: int) -> int:
    """Agreeing low bytes needed for an estimated Jaccard >= threshold: agreement is
    ``J + (1 - J) / 256`` in expectation."""
    return int(np.ceil(num_perm * (threshold + (1 - threshold) * CHANCE_AGREEMENT) - 1e-9))


def group_sketches(
    keys: Sequence[np.ndarray | RowsOnDisk], low_bytes: np.ndarray, threshold: float
) -> np.ndarray:
    """Group of every sketched text: the index of the group's first text. ``keys``: the
    band keys, ``(bands, n_part)`` parts whose texts follow one another; ``low_bytes``:
    ``(n, num_perm)``, every text's.

    Bands are bucketed in parallel, a thread per band, and each band's candidate pairs
    (a text and its bucket's head) verified in parallel; the union-find over the verified
    pairs runs in band order, so the groups do not depend on the number of threads. Only
    the bands bucketed at once are gathered from the parts (which may be on disk), the
    next block's read while this one is worked on.
    """
    keys = [k for k in keys if k.shape[1]]
    n = low_bytes.shape[0]
    parent = np.arange(n, dtype=np.int64)
    if n == 0:
        return parent
    if n >= 2**31 - 1:
        raise ValueError(f"LSH over {n} distinct texts: at most 2**31 - 2 in one scan")
    need = min_agreeing(threshold, low_bytes.shape[1])
    bands = keys[0].shape[0]
    width = min(nb.get_num_threads(), bands)
    part_bits = partition_bits(n, PART_TEXTS)
    scattered = np.empty((width, n), np.uint64)  # each band's texts, then its pairs
    n_pairs = np.zeros(width, np.int64)
    verified = np.empty(n, np.bool_)  # a band has fewer pairs than texts
    roots = np.empty(n, np.int64)  # the groups when a block of bands begins
    # Two buffers for every block's keys, one read while the other is worked on (the
    # kernels release the GIL): a fresh one per block was, past a few GiB of the process, a
    # stall of the kernel's page faults each time (0.4-0.7 s per block at 38M texts), and
    # parts on disk past the page cache are read at the disk's pace.
    band_keys = np.empty((2, width, n), keys[0].dtype)

    def read(block: int) -> np.ndarray:
        first = block * width
        out = band_keys[block % 2, : min(width, bands - first)]
        return np.concatenate([k[first : first + out.shape[0]] for k in keys], axis=1, out=out)

    blocks = (bands + width - 1) // width
    with ThreadPoolExecutor(1, thread_name_prefix="band-keys") as reader:
        next_keys = reader.submit(read, 0)
        for block in range(blocks):
            block_keys = next_keys.result()
            if block + 1 < blocks:
                next_keys = reader.submit(read, block + 1)
            in_ranges(  # a band per thread
                lambda first, stop, block_keys=block_keys: _bucket_pairs(
                    block_keys, part_bits, first, stop, scattered, n_pairs
                ),
                block_keys.shape[0],
            )
            _roots_of(parent, roots)
            for band in range(block_keys.shape[0]):
                pairs, checks = scattered[band, : n_pairs[band]], verified[: n_pairs[band]]
                in_ranges(
                    lambda first, stop, pairs=pairs, checks=checks: _verify(
                        pairs, low_bytes, roots, need, first, stop, checks
                    ),
                    -(-pairs.shape[0] // VERIFY_CHUNK),
                )
                _link(pairs, checks, parent)
    return _roots_of(parent, roots)


@nb.njit(cache=True, nogil=True)
def _root_agreement(
    low_bytes: np.ndarray, roots: np.ndarray, start: int, stop: int, out: np.ndarray
) -> None:
    for i in range(start, stop):
        if roots[i] != i:
            out[i] = _agreeing(low_bytes, roots[i], i)


def root_similarity(low_bytes: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each sketched text (``low_bytes``) to its group's
    first text (``roots`` as :func:`group_sketches` returns them; NaN for a group's first
    text): how far the members of a group were reworded."""
    roots = np.asarray(roots, np.int64)  # one kernel signature, whatever the caller's
    out = np.full(roots.shape[0], -1, np.int64)
    in_ranges(
        lambda start, stop: _root_agreement(low_bytes, roots, start, stop, out), roots.shape[0]
    )
    agreement = out / max(low_bytes.shape[1], 1)
    similarity = (agreement - CHANCE_AGREEMENT) / (1.0 - CHANCE_AGREEMENT)
    return np.where(out >= 0, np.clip(similarity, 0.0, 1.0), np.nan)


def copy_groups(low: np.ndarray, candidates: float, threshold: float) -> np.ndarray:
    """Groups of near-identical texts among texts known only by their low bytes: banded
    for the ``candidates`` similarity and verified at a high ``threshold`` (a copy with a
    comment added, not a rewording), as :func:`group_sketches` does. Bands for a lower
    similarity than the verified one give each copy many chances to meet its source as a
    bucket head. Low bytes are hashes in their own right, so bands of them serve as keys."""
    if low.shape[0] == 0:
        return np.zeros(0, np.int64)
    return group_sketches([sketch(low.astype(np.uint32), candidates).keys], low, threshold)


def near_duplicate_groups(sigs: np.ndarray, active: np.ndarray, threshold: float) -> np.ndarray:
    """Group label (the smallest member index) of each signature; ``-1`` where inactive
    (``active`` marks the texts long enough to match)."""
    rows = np.flatnonzero(active)
    labels = np.full(sigs.shape[0], -1, dtype=np.int64)
    sketched = sketch(sigs, threshold, rows)
    labels[rows] = rows[group_sketches([sketched.keys], sketched.low_bytes, threshold)]
    return labels
