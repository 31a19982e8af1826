"""The normalisation of :mod:`detector.normalise` as one numba pass over UTF-8 buffers.

``normalise_expr`` takes about 17 polars passes over every text (three of them Unicode
normalisations); this kernel decodes each text once, folds it code point by code point
from tables built from the reference (:mod:`detector.unitables`), and runs the regex steps
as small state machines that reproduce the regexes' leftmost-first matches exactly. A text
holding a code point whose fold depends on its neighbours is flagged, and
:func:`normalise_texts` sends it through the reference instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cache

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from detector import unitables as ut
from detector.config import ScanConfig
from detector.normalise import (
    CODE_PATTERN,
    CODE_TOKEN,
    MENTION_TOKEN,
    NUMBER_TOKEN,
    URL_TOKEN,
    normalise_expr,
)
from detector.shingle import utf8_buffers

_URL = np.array([ord(c) for c in URL_TOKEN], np.int32)
_MENTION = np.array([ord(c) for c in MENTION_TOKEN], np.int32)
_MENTION_WORD = np.array([ord(c) for c in MENTION_TOKEN.strip()], np.int32)
_NUMBER = np.array([ord(c) for c in NUMBER_TOKEN], np.int32)
_HTTP = np.array([ord(c) for c in "http"], np.int32)
_WWW = np.array([ord(c) for c in "www."], np.int32)
_SCHEME_END = np.array([ord(c) for c in "://"], np.int32)
_AT, _SPACE, _S, _W, _DOT, _COLON = (ord(c) for c in "@ sw.:")
# What a folded text holds that some later step acts on.
NEED_URL = 1  # ":" or "w."
NEED_AT = 2
NEED_PER_CHAR = 4  # symbols or punctuation
NEED_CJK = 8


@nb.njit(cache=True, inline="always")
def _has(classes: np.ndarray, cp: int, bit: int) -> bool:
    return (classes[cp] & bit) != 0


@nb.njit(cache=True, inline="always")
def _at(src: np.ndarray, n: int, i: int, word: np.ndarray) -> bool:
    """Whether ``word`` starts at ``src[i]``."""
    if i + len(word) > n:
        return False
    for k in range(len(word)):  # noqa: SIM110 (numba compiles no generators)
        if src[i + k] != word[k]:
            return False
    return True


@nb.njit(cache=True, inline="always")
def _put(dst: np.ndarray, m: int, word: np.ndarray) -> int:
    dst[m : m + len(word)] = word
    return m + len(word)


@nb.njit(cache=True, inline="always")
def _decode(data: np.ndarray, i: int) -> tuple[int, int]:
    """The code point at byte ``i`` of valid UTF-8 and the next one's byte."""
    b0 = np.int32(data[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int32(data[i + 1]) & 0x3F), i + 2
    if b0 < 0xF0:
        cp = ((b0 & 0x0F) << 12) | ((np.int32(data[i + 1]) & 0x3F) << 6)
        return cp | (np.int32(data[i + 2]) & 0x3F), i + 3
    cp = ((b0 & 0x07) << 18) | ((np.int32(data[i + 1]) & 0x3F) << 12)
    return cp | ((np.int32(data[i + 2]) & 0x3F) << 6) | (np.int32(data[i + 3]) & 0x3F), i + 4


@nb.njit(cache=True)
def _fold(data, start, end, classes, fold_start, fold_pool, dst, write) -> tuple[int, int]:
    """Whitespace runs to one space, invisible characters dropped, every other code
    point folded (into ``dst`` where ``write``): the length, or -1 where a code point is
    unsafe, and (when written) which later steps may change the text (``NEED_*`` bits)."""
    m = 0
    needs = 0
    seen = 0  # class bits of the folded code points
    in_space = False
    i = start
    while i < end:
        cp, i = _decode(data, i)
        bits = classes[cp]
        if bits & ut.WHITESPACE:
            if not in_space:
                if write:
                    dst[m] = _SPACE
                m += 1
            in_space = True
            continue
        in_space = False
        if bits & ut.INVISIBLE:
            continue
        if bits & ut.UNSAFE:
            return -1, 0
        if not write:
            m += fold_start[cp + 1] - fold_start[cp]
            continue
        for k in range(fold_start[cp], fold_start[cp + 1]):
            folded = fold_pool[k]
            dst[m] = folded
            m += 1
            seen |= classes[folded]
            if folded == _COLON or (folded == _DOT and m > 1 and dst[m - 2] == _W):
                needs |= NEED_URL
            elif folded == _AT:
                needs |= NEED_AT
    if seen & (ut.SYMBOL | ut.PUNCTUATION):
        needs |= NEED_PER_CHAR
    if seen & ut.CJK:
        needs |= NEED_CJK
    return m, needs


@nb.njit(cache=True)
def _mask_urls(src, n, classes, dst) -> int:
    """``URL_PATTERN`` -> ``URL_TOKEN``."""
    m = 0
    i = 0
    while i < n:
        p = -1
        if _at(src, n, i, _HTTP):
            q = i + 4
            if q < n and src[q] == _S and _at(src, n, q + 1, _SCHEME_END):
                p = q + 4
            elif _at(src, n, q, _SCHEME_END):
                p = q + 3
        elif _at(src, n, i, _WWW):
            p = i + 4
        if p != -1 and p < n and _has(classes, src[p], ut.URL_CHAR):
            while p < n and _has(classes, src[p], ut.URL_CHAR):
                p += 1
            m = _put(dst, m, _URL)
            i = p
            continue
        dst[m] = src[i]
        m += 1
        i += 1
    return m


@nb.njit(cache=True)
def _per_char(src, n, classes, symbols, punctuation, dst) -> int:
    """Symbols to spaces, then each punctuation run (but "@") to its first character."""
    m = 0
    last_punct = False
    for i in range(n):
        cp = src[i]
        if symbols and _has(classes, cp, ut.SYMBOL):
            cp = _SPACE
        punct = punctuation and _has(classes, cp, ut.PUNCTUATION)
        if not (punct and last_punct):
            dst[m] = cp
            m += 1
        last_punct = punct
    return m


@nb.njit(cache=True)
def _mask_mentions(src, n, classes, dst) -> int:
    """``MENTION_PATTERN`` -> ``MENTION_TOKEN``."""
    m = 0
    i = 0
    while i < n:
        if src[i] == _AT and i + 1 < n and _has(classes, src[i + 1], ut.MENTION_CHAR):
            i += 1
            while i < n and _has(classes, src[i], ut.MENTION_CHAR):
                i += 1
            m = _put(dst, m, _MENTION)
            continue
        dst[m] = src[i]
        m += 1
        i += 1
    return m


@nb.njit(cache=True)
def _join_cjk(src, n, classes, dst) -> int:
    """One pass of ``CJK_GAP_PATTERN`` -> its two CJK characters. Kana middle dots are both
    separators and CJK, so the separator run backs off as the regex does."""
    m = 0
    i = 0
    while i < n:
        cp = src[i]
        dst[m] = cp
        m += 1
        i += 1
        if not _has(classes, cp, ut.CJK):
            continue
        k = i
        while k < n and _has(classes, src[k], ut.SEPARATOR):
            k += 1
        j = k
        while j > i and not (j < n and _has(classes, src[j], ut.CJK)):
            j -= 1
        if j > i:
            dst[m] = src[j]
            m += 1
            i = j + 1
    return m


@nb.njit(cache=True)
def _may_pad(src, n, classes, min_run, mentions) -> bool:
    """Whether ``src[:n]`` holds a pad at all ("@", the mention token, a long digit run):
    most texts do not, and skip the padding tables."""
    run = 0
    for i in range(n):
        cp = src[i]
        run = run + 1 if _has(classes, cp, ut.DIGIT) else 0
        if cp == _AT or run >= min_run or (mentions and _at(src, n, i, _MENTION_WORD)):
            return True
    return False


@nb.njit(cache=True)
def _strip_trailing(src, n, classes, min_run, mentions, ok, next_ok, padded) -> int:
    """Length left once the trailing pattern of ``padding_patterns`` is dropped: its tail
    is separators and pads, at least one pad, and the kept prefix is the shortest that is
    empty or ends in a non letter/number or a CJK character. ``ok[i]``: ``src[i:]`` is
    separators and pads; ``padded[i]``: and holds a pad; ``next_ok[i]``: first j >= i
    with ``ok[j]``."""
    ok[n] = True
    padded[n] = False
    next_ok[n] = n
    next_ok[n + 1] = n + 2
    mention_end = n  # end of the run of mention characters from i + 1
    digit_end = n
    for i in range(n - 1, -1, -1):
        cp = src[i]
        if not _has(classes, cp, ut.DIGIT):
            digit_end = i
        tail = False
        pad = False
        if _has(classes, cp, ut.SEPARATOR):
            tail = ok[i + 1]
            pad = padded[i + 1]
        if cp == _AT and mention_end > i + 1 and next_ok[i + 2] <= mention_end:
            tail = pad = True
        if mentions and _at(src, n, i, _MENTION_WORD) and ok[i + len(_MENTION_WORD)]:
            tail = pad = True
        if digit_end - i >= min_run and next_ok[i + min_run] <= digit_end:
            tail = pad = True
        ok[i] = tail
        padded[i] = pad
        next_ok[i] = i if tail else next_ok[i + 1]
        if not _has(classes, cp, ut.MENTION_CHAR):
            mention_end = i
    for t in range(n):
        if padded[t] and (
            t == 0
            or not _has(classes, src[t - 1], ut.LETTER_OR_NUMBER)
            or _has(classes, src[t - 1], ut.CJK)
        ):
            return t
    return n


@nb.njit(cache=True)
def _strip_leading(src, n, classes, min_run, mentions, after, body, best, mention_y, digit_y):
    """Start of what is left once the leading pattern of ``padding_patterns`` is dropped,
    following the regex's backtracking order (greedy runs, alternatives in order) with
    one table per position instead of a search. ``after[e]``: where the match's pads end
    when more of them may follow from ``e``, -1 if no match; ``body[j]``: that end when a
    pad starts at ``j``; ``best[e]``: the last j of the separator run from ``e`` with
    ``body[j] != -1``; ``mention_y[e]``/``digit_y[e]``: the last end of a mention/digit
    run from ``e`` with ``after`` defined."""
    mention_end = n  # of the run of mention characters from e + 1
    digit_end = n
    for e in range(n, -1, -1):
        if e < n and not _has(classes, src[e], ut.DIGIT):
            digit_end = e
        end = -1
        if e < n:
            cp = src[e]
            if cp == _AT and mention_end > e + 1 and mention_y[e + 2] != -1:
                end = after[mention_y[e + 2]]
            if end == -1 and mentions and _at(src, n, e, _MENTION_WORD):
                end = after[e + len(_MENTION_WORD)]
            if end == -1 and digit_end - e >= min_run and digit_y[e + min_run] != -1:
                end = after[digit_y[e + min_run]]
        body[e] = end
        separator = e < n and _has(classes, src[e], ut.SEPARATOR)
        if separator and best[e + 1] != -1:
            best[e] = best[e + 1]
        else:
            best[e] = e if end != -1 else -1
        if best[e] != -1:
            after[e] = body[best[e]]
        elif e == n or separator or _has(classes, src[e], ut.CJK):
            after[e] = e
        else:
            after[e] = -1
        mention = e < n and _has(classes, src[e], ut.MENTION_CHAR)
        mention_y[e] = mention_y[e + 1] if mention and mention_y[e + 1] != -1 else -1
        if mention_y[e] == -1 and after[e] != -1:
            mention_y[e] = e
        digit = e < n and _has(classes, src[e], ut.DIGIT)
        digit_y[e] = digit_y[e + 1] if digit and digit_y[e + 1] != -1 else -1
        if digit_y[e] == -1 and after[e] != -1:
            digit_y[e] = e
        if e < n and not _has(classes, src[e], ut.MENTION_CHAR):
            mention_end = e
    return body[best[0]] if best[0] != -1 else 0


@nb.njit(cache=True)
def _mask_digits(src, n, classes, min_run, dst) -> int:
    """Runs of ``min_run`` or more digits -> ``NUMBER_TOKEN``."""
    m = 0
    i = 0
    while i < n:
        j = i
        while j < n and _has(classes, src[j], ut.DIGIT):
            j += 1
        if j - i >= min_run:
            m = _put(dst, m, _NUMBER)
            i = j
        elif j > i:
            dst[m : m + j - i] = src[i:j]
            m += j - i
            i = j
        else:
            dst[m] = src[i]
            m += 1
            i += 1
    return m


@nb.njit(cache=True)
def _encode(src, n, classes, out, m) -> tuple[np.ndarray, int]:
    """``out`` (grown when full) with ``src[:n]`` appended from byte ``m`` as UTF-8,
    space runs squeezed to one space and whitespace stripped from both ends, and the
    byte after it."""
    if m + 4 * n > len(out):
        grown = np.empty(max(2 * len(out), m + 4 * n), np.uint8)
        grown[:m] = out[:m]
        out = grown
    first = 0
    while first < n and _has(classes, src[first], ut.WHITESPACE):
        first += 1
    last = n
    while last > first and _has(classes, src[last - 1], ut.WHITESPACE):
        last -= 1
    for i in range(first, last):
        cp = src[i]
        if cp < 0x80:
            if cp != _SPACE or src[i - 1] != _SPACE:
                out[m] = cp
                m += 1
        elif cp < 0x800:
            out[m] = 0xC0 | (cp >> 6)
            out[m + 1] = 0x80 | (cp & 0x3F)
            m += 2
        elif cp < 0x10000:
            out[m] = 0xE0 | (cp >> 12)
            out[m + 1] = 0x80 | ((cp >> 6) & 0x3F)
            out[m + 2] = 0x80 | (cp & 0x3F)
            m += 3
        else:
            out[m] = 0xF0 | (cp >> 18)
            out[m + 1] = 0x80 | ((cp >> 12) & 0x3F)
            out[m + 2] = 0x80 | ((cp >> 6) & 0x3F)
            out[m + 3] = 0x80 | (cp & 0x3F)
            m += 4
    return out, m


@nb.njit(cache=True, nogil=True)
def _normalise_block(data, offsets, classes, fold_start, fold_pool, growth, steps, min_run):
    """Normalise every text of an Arrow string column (``data``, ``offsets``): the UTF-8
    bytes and offsets of the results, and which texts need the reference instead (their
    result is left empty). ``growth``: the most code points a byte folds to; ``steps``:
    mask_urls, strip_symbols, collapse_punctuation, mask_mentions, join_cjk,
    strip_padding, mask_digits."""
    n_texts = len(offsets) - 1
    out = np.empty(max(16, offsets[-1] - offsets[0]), np.uint8)
    out_offsets = np.zeros(n_texts + 1, np.int64)
    slow = np.zeros(n_texts, np.bool_)
    work = np.empty((7, 0), np.int32)
    flags = np.empty((2, 0), np.bool_)
    m = 0
    for t in range(n_texts):
        start, end = offsets[t], offsets[t + 1]
        # A mask token is at most 5 code points per code point it replaces; the fold
        # length is counted only where the bound by bytes does not fit.
        n = 0
        if 5 * growth * (end - start) + 2 > work.shape[1]:
            n, _ = _fold(data, start, end, classes, fold_start, fold_pool, work[0], False)
            if 5 * n + 2 > work.shape[1]:
                work = np.empty((7, 2 * (5 * n + 2)), np.int32)
                flags = np.empty((2, work.shape[1]), np.bool_)
        a, b = work[0], work[1]
        if n >= 0:
            n, needs = _fold(data, start, end, classes, fold_start, fold_pool, a, True)
        if n < 0:
            slow[t] = True
            out_offsets[t + 1] = m
            continue
        if steps[0] and needs & NEED_URL:
            n = _mask_urls(a, n, classes, b)
            a, b = b, a
        if (steps[1] or steps[2]) and needs & NEED_PER_CHAR:
            n = _per_char(a, n, classes, steps[1], steps[2], b)
            a, b = b, a
        if steps[3] and needs & NEED_AT:
            n = _mask_mentions(a, n, classes, b)
            a, b = b, a
        if steps[4] and needs & NEED_CJK:
            n = _join_cjk(a, n, classes, b)
            n = _join_cjk(b, n, classes, a)
        if steps[5] and _may_pad(a, n, classes, min_run, steps[3]):
            n = _strip_trailing(a, n, classes, min_run, steps[3], flags[0], work[2], flags[1])
            first = _strip_leading(
                a, n, classes, min_run, steps[3], work[2], work[3], work[4], work[5], work[6]
            )
            b[: n - first] = a[first:n]
            n -= first
            a, b = b, a
        if steps[6]:
            n = _mask_digits(a, n, classes, min_run, b)
            a, b = b, a
        out, m = _encode(a, n, classes, out, m)
        out_offsets[t + 1] = m
    return out[:m], out_offsets, slow


@cache
def _growth(glyphs: bool) -> int:
    """The most code points one byte of UTF-8 folds to."""
    tables = ut.tables()
    lengths = np.diff(tables.fold_start_glyph if glyphs else tables.fold_start)
    cps = np.arange(len(lengths))
    width = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    return int(np.ceil((lengths / width).max()))


def _settings(config: ScanConfig) -> np.ndarray:
    return np.array(
        [
            config.mask_urls,
            config.strip_symbols,
            config.collapse_punctuation,
            config.mask_mentions,
            config.join_cjk,
            config.strip_padding,
            config.mask_digits,
        ],
        np.bool_,
    )


def _normalise_parallel(
    data: np.ndarray, offsets: np.ndarray, config: ScanConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_normalise_block`` over equal slices of the texts, one per polars thread (the
    kernel releases the GIL), joined back."""
    tables = ut.tables()
    fold_start, fold_pool = (
        (tables.fold_start_glyph, tables.fold_pool_glyph)
        if config.fold_homoglyphs
        else (tables.fold_start, tables.fold_pool)
    )
    n_texts = len(offsets) - 1
    bounds = np.linspace(0, n_texts, min(pl.thread_pool_size(), n_texts) + 1).astype(np.int64)
    settings = _settings(config)

    def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _normalise_block(
            data, offsets[lo : hi + 1], tables.classes, fold_start, fold_pool,
            _growth(config.fold_homoglyphs), settings, config.min_digit_run,
        )  # fmt: skip

    with ThreadPoolExecutor(len(bounds) - 1 or 1) as pool:
        parts = list(pool.map(block, bounds[:-1], bounds[1:]))
    if not parts:
        return block(0, 0)
    shift = np.cumsum([0] + [len(out) for out, _, _ in parts[:-1]])
    out_offsets = np.concatenate(
        [np.zeros(1, np.int64)] + [o[1:] + d for (_, o, _), d in zip(parts, shift, strict=True)]
    )
    return (
        np.concatenate([out for out, _, _ in parts]),
        out_offsets,
        np.concatenate([slow for _, _, slow in parts]),
    )


def normalise_texts(texts: pl.Series, config: ScanConfig) -> pl.Series:
    """``normalise_expr`` of every text (nulls read as empty), by the kernel; the few
    texts it flags go through the reference."""
    out, out_offsets, slow = _normalise_parallel(*utf8_buffers(texts), config)
    array = pa.LargeStringArray.from_buffers(
        len(texts), pa.py_buffer(out_offsets), pa.py_buffer(out)
    )
    result = pl.Series(texts.name, array, pl.String)
    rows = np.flatnonzero(slow)
    if len(rows):
        slow_texts = texts.gather(rows).to_frame("text")
        reference = slow_texts.select(normalise_expr(pl.col("text"), config)).to_series()
        result = result.scatter(rows, reference)
    return result


def short_text_keys(texts: pl.Series, config: ScanConfig) -> pl.Series:
    """``short_text_key_expr`` of every text: normalised by the kernel with digits left
    unmasked, then every code masked."""
    unmasked = normalise_texts(texts, replace(config, mask_digits=False))
    masked = unmasked.str.replace_all(CODE_PATTERN, CODE_TOKEN)
    return masked.str.replace_all(r" {2,}", " ").str.strip_chars()
