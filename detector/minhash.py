"""MinHash signatures by numba kernels, bit-compatible with datasketch.

For the same 32-bit shingle hashes, ``num_perm``, ``seed`` and permutation scheme, a row of
:func:`signatures` equals ``datasketch.MinHash(num_perm, seed, scheme=...).hashvalues``
after ``update_batch`` of those hashes (``hashfunc`` the identity). The permutation
parameters are drawn as datasketch draws them (``tests/test_minhash.py`` checks them
against datasketch's own); datasketch is not imported by a scan: its import pulls in
scipy.integrate, half a second of every run.

Two schemes are supported: ``"affine32"`` (datasketch >= 2.0's default: MurmurHash3 fmix32,
then ``a*h + b mod 2**32``; SIMD-friendly 32-bit arithmetic) and ``"legacy"`` (datasketch
< 2.0: ``(a*h + b) mod (2**61 - 1)`` truncated to 32 bits).
"""

from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np
import polars as pl

from detector.shingle import shingle_tokens, tokenise, utf8_buffers
from detector.threads import in_ranges

SCHEMES = ("affine32", "legacy")
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)
BLOCKS_PER_THREAD = 8  # blocks of texts per thread: evens out texts of unequal length


@lru_cache(maxsize=8)
def permutations(
    num_perm: int, seed: int, scheme: str = "affine32"
) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters datasketch uses for this num_perm/seed/scheme:
    drawn from ``RandomState(seed)``, odd 32-bit multipliers for affine32, (a, b) pairs
    below 2**61 - 1 for legacy."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    draw = np.random.RandomState(seed)
    if scheme == "affine32":
        a = draw.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = draw.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        return a, b
    pairs = [
        (draw.randint(1, _MERSENNE, dtype=np.uint64), draw.randint(0, _MERSENNE, dtype=np.uint64))
        for _ in range(num_perm)
    ]
    a, b = np.array(pairs, dtype=np.uint64).T
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


@nb.njit(cache=True, inline="always")
def _fmix32(h: np.uint32) -> np.uint32:
    # numba widens 32-bit products to 64 bits: truncate after each step to wrap mod 2**32.
    h = np.uint32(h ^ (h >> np.uint32(16)))
    h = np.uint32(h * np.uint32(0x85EBCA6B))
    h = np.uint32(h ^ (h >> np.uint32(13)))
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    return np.uint32(h ^ (h >> np.uint32(16)))


@nb.njit(cache=True)
def _minhash_affine32(
    shingles: np.ndarray, n: int, a: np.ndarray, b: np.ndarray, sig: np.ndarray
) -> None:
    sig[:] = np.uint32(0xFFFFFFFF)
    for s in range(n):
        hv = _fmix32(np.uint32(shingles[s]))
        for j in range(a.shape[0]):
            sig[j] = min(sig[j], np.uint32(hv * a[j] + b[j]))


@nb.njit(cache=True)
def _minhash_legacy(
    shingles: np.ndarray, n: int, a: np.ndarray, b: np.ndarray, sig: np.ndarray
) -> None:
    sig[:] = np.uint32(0xFFFFFFFF)
    for s in range(n):
        hv = np.uint64(shingles[s])
        for j in range(a.shape[0]):
            x = a[j] * hv + b[j]  # wraps modulo 2**64, exactly as numpy does
            x = (x & _MERSENNE) + (x >> np.uint64(61))  # x mod (2**61 - 1), one fold
            if x >= _MERSENNE:
                x -= _MERSENNE
            v = np.uint32(x & _MAX32)
            if v < sig[j]:
                sig[j] = v


@nb.njit(cache=True, nogil=True)
def _signatures_block(
    data: np.ndarray,
    offsets: np.ndarray,
    lo: int,
    hi: int,
    cjk_ngram: int,
    word_ngram: int,
    a: np.ndarray,
    b: np.ndarray,
    legacy: bool,
    sigs: np.ndarray,
    n_shingles: np.ndarray,
) -> None:
    """Shingle and MinHash texts ``lo`` to ``hi`` (without the GIL: blocks run in threads)."""
    longest = 1
    for i in range(lo, hi):
        longest = max(longest, offsets[i + 1] - offsets[i])
    tok_hash = np.empty(longest, np.uint64)
    tok_kind = np.empty(longest, np.uint8)
    shingles = np.empty(longest, np.uint32)
    for i in range(lo, hi):
        n_tok = tokenise(data, offsets[i], offsets[i + 1], tok_hash, tok_kind)
        n = shingle_tokens(tok_hash, tok_kind, n_tok, cjk_ngram, word_ngram, shingles)
        n_shingles[i] = n
        if legacy:
            _minhash_legacy(shingles, n, a, b, sigs[i])
        else:
            _minhash_affine32(shingles, n, a, b, sigs[i])


def signatures(
    texts: pl.Series,
    *,
    num_perm: int = 128,
    seed: int = 1,
    cjk_ngram: int = 2,
    word_ngram: int = 2,
    scheme: str = "affine32",
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle and MinHash every (normalised) text, in blocks spread over the cores
    (:func:`detector.threads.in_ranges`).

    Returns ``(sigs, n_shingles)``: a ``(len(texts), num_perm)`` uint32 matrix and the
    number of shingles of each text (a text with none keeps the all-ones empty signature).
    ``out``: a C-contiguous uint32 array of at least ``len(texts)`` rows to write the
    signatures into (``sigs`` is its first rows), for a caller that MinHashes block after
    block: a fresh matrix each time is fresh memory for the system to find and clear.
    """
    a, b = permutations(num_perm, seed, scheme)
    data, offsets = utf8_buffers(texts)
    n = len(texts)
    if out is None:
        sigs = np.empty((n, num_perm), dtype=np.uint32)
    elif out.dtype != np.uint32 or out.shape[1:] != (num_perm,) or out.shape[0] < n:
        raise ValueError(f"out must be uint32 with {num_perm} columns and {n} rows or more")
    elif not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    else:
        sigs = out[:n]
    n_shingles = np.zeros(n, dtype=np.int32)
    in_ranges(
        lambda start, stop: _signatures_block(
            data, offsets, start, stop, cjk_ngram, word_ngram, a, b, scheme == "legacy",
            sigs, n_shingles,
        ),
        n,
        BLOCKS_PER_THREAD,
    )  # fmt: skip
    return sigs, n_shingles


def minhash_values(
    hashes: np.ndarray, *, num_perm: int = 128, seed: int = 1, scheme: str = "affine32"
) -> np.ndarray:
    """Signature of one set of 32-bit hash values: the kernel datasketch is checked against."""
    a, b = permutations(num_perm, seed, scheme)
    values = np.ascontiguousarray(hashes, dtype=np.uint32)
    sig = np.empty(num_perm, dtype=np.uint32)
    (_minhash_legacy if scheme == "legacy" else _minhash_affine32)(values, len(values), a, b, sig)
    return sig
