"""Shingling that works for Chinese, English and mixed text.

A text is read as a stream of tokens: every CJK character (Han, kana) is a token, and every
run of other letters/digits is a word token; punctuation, symbols, emoji and spaces only
separate. Shingles are ``cjk_ngram``-grams of consecutive CJK characters and
``word_ngram``-grams of consecutive words, never spanning a change of script, so
"小米SU7续航" gives character n-grams of "小米", the word "su7" and those of "续航".

The kernels work on the UTF-8 bytes and offsets of an Arrow string column; shingles are
32-bit hashes, the form :mod:`detector.minhash` (and datasketch) consume.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import polars as pl

KIND_SEPARATOR = 0
KIND_WORD = 1
KIND_CJK = 2

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@nb.njit(cache=True, inline="always")
def _kind(cp: int) -> int:
    """Token kind of one code point (see module docstring)."""
    if cp < 0x80:
        if (0x30 <= cp <= 0x39) or (0x41 <= cp <= 0x5A) or (0x61 <= cp <= 0x7A):
            return KIND_WORD
        return KIND_SEPARATOR
    if (
        (0x4E00 <= cp <= 0x9FFF)
        or (0x3400 <= cp <= 0x4DBF)
        or (0x3040 <= cp <= 0x30FF)
        or (0xF900 <= cp <= 0xFAFF)
        or (0x20000 <= cp <= 0x2FA1F)
    ):
        return KIND_CJK
    if (
        cp <= 0xBF
        or cp == 0xD7
        or cp == 0xF7
        or (0x2000 <= cp <= 0x2BFF)
        or (0x2E00 <= cp <= 0x303F)
        or (0xE000 <= cp <= 0xF8FF)
        or (0xFE00 <= cp <= 0xFE6F)
        or (0xFF00 <= cp <= 0xFF20)
        or (0xFF3B <= cp <= 0xFF40)
        or (0xFF5B <= cp <= 0xFF65)
        or (0x1F000 <= cp <= 0x1FAFF)
        or cp >= 0xE0000
    ):
        return KIND_SEPARATOR
    return KIND_WORD


@nb.njit(cache=True, inline="always")
def _mix64(h: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: spreads FNV state over all bits."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def decode_utf8(data: np.ndarray, i: int) -> tuple[int, int]:
    """The code point whose UTF-8 encoding starts at byte ``i`` of ``data``, and the byte
    after it. Unchecked: Arrow strings are valid UTF-8."""
    b0 = np.int32(data[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int32(data[i + 1]) & 0x3F), i + 2
    if b0 < 0xF0:
        cp = ((b0 & 0x0F) << 12) | ((np.int32(data[i + 1]) & 0x3F) << 6)
        return cp | (np.int32(data[i + 2]) & 0x3F), i + 3
    cp = ((b0 & 0x07) << 18) | ((np.int32(data[i + 1]) & 0x3F) << 12)
    cp |= (np.int32(data[i + 2]) & 0x3F) << 6
    return cp | (np.int32(data[i + 3]) & 0x3F), i + 4


@nb.njit(cache=True)
def tokenise(
    data: np.ndarray, start: int, end: int, tok_hash: np.ndarray, tok_kind: np.ndarray
) -> int:
    """Decode UTF-8 ``data[start:end]`` into token hashes/kinds; returns the token count.

    Invalid UTF-8 never occurs here (Arrow strings are valid), so decoding is unchecked.
    """
    n_tokens = 0
    word = _FNV_OFFSET
    in_word = False
    i = start
    while i < end:
        cp, i = decode_utf8(data, i)
        kind = _kind(cp)
        if kind == KIND_WORD:
            word = (word ^ np.uint64(cp)) * _FNV_PRIME
            in_word = True
            continue
        if in_word:
            tok_hash[n_tokens] = word
            tok_kind[n_tokens] = KIND_WORD
            n_tokens += 1
            word = _FNV_OFFSET
            in_word = False
        if kind == KIND_CJK:
            tok_hash[n_tokens] = (_FNV_OFFSET ^ np.uint64(cp)) * _FNV_PRIME
            tok_kind[n_tokens] = KIND_CJK
            n_tokens += 1
    if in_word:
        tok_hash[n_tokens] = word
        tok_kind[n_tokens] = KIND_WORD
        n_tokens += 1
    return n_tokens


@nb.njit(cache=True)
def shingle_tokens(
    tok_hash: np.ndarray,
    tok_kind: np.ndarray,
    n_tokens: int,
    cjk_ngram: int,
    word_ngram: int,
    out: np.ndarray,
) -> int:
    """Write the 32-bit shingle hashes of a token stream into ``out``; returns their count.

    A run of one kind shorter than its n gives a single shingle of the whole run.
    """
    n_out = 0
    run_start = 0
    while run_start < n_tokens:
        kind = tok_kind[run_start]
        run_end = run_start + 1
        while run_end < n_tokens and tok_kind[run_end] == kind:
            run_end += 1
        n = cjk_ngram if kind == KIND_CJK else word_ngram
        last = max(run_start, run_end - n)
        for s in range(run_start, last + 1):
            h = _FNV_OFFSET ^ np.uint64(kind)
            for t in range(s, min(s + n, run_end)):
                h = (h ^ tok_hash[t]) * _FNV_PRIME
            out[n_out] = np.uint32(_mix64(h) & np.uint64(0xFFFFFFFF))
            n_out += 1
        run_start = run_end
    return n_out


def utf8_buffers(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and int64 offsets of a string series (nulls read as empty), zero-copy
    where Arrow allows."""
    array = texts.fill_null("").rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    if hasattr(array, "combine_chunks"):
        array = array.combine_chunks()
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    return data, offsets


def shingle_hashes(
    texts: pl.Series | list[str], cjk_ngram: int = 2, word_ngram: int = 2
) -> list[np.ndarray]:
    """Shingle hashes of each (already normalised) text: the inspection/testing entry point;
    the scan itself fuses shingling into the MinHash kernel."""
    series = texts if isinstance(texts, pl.Series) else pl.Series(texts, dtype=pl.String)
    data, offsets = utf8_buffers(series)
    result = []
    for i in range(len(series)):
        length = int(offsets[i + 1] - offsets[i])
        tok_hash = np.empty(length, np.uint64)
        tok_kind = np.empty(length, np.uint8)
        n_tok = tokenise(data, offsets[i], offsets[i + 1], tok_hash, tok_kind)
        out = np.empty(max(n_tok, 1), np.uint32)
        n = shingle_tokens(tok_hash, tok_kind, n_tok, cjk_ngram, word_ngram, out)
        result.append(out[:n].copy())
    return result
