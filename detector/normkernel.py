"""The normalisation of :mod:`detector.normalise` as one numba pass over UTF-8 buffers.

``normalise_expr`` takes about 17 polars passes over every text (three of them Unicode
normalisations); this kernel decodes each text once, folds it code point by code point
from tables built from the reference (:mod:`detector.unitables`), and runs the regex steps
as small state machines that reproduce the regexes' leftmost-first matches exactly. A text
holding a code point whose fold depends on its neighbours is flagged, and
:func:`normalise_texts` sends it through the reference instead.
"""

from __future__ import annotations

from dataclasses import replace

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from detector import kernels
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
from detector.shingle import decode_utf8, utf8_buffers
from detector.threads import in_ranges

_URL = np.array([ord(c) for c in URL_TOKEN], np.int32)
_MENTION = np.array([ord(c) for c in MENTION_TOKEN], np.int32)
_WORD = np.array([ord(c) for c in MENTION_TOKEN.strip()], np.int32)
_NUMBER = np.array([ord(c) for c in NUMBER_TOKEN], np.int32)
_AT, _SPACE, _H, _T, _P, _S, _W, _DOT, _COLON, _SLASH = (ord(c) for c in "@ htpsw.:/")
# What a folded text holds that some later step acts on.
NEED_URL = 1  # ":" or "w."
NEED_AT = 2
NEED_PER_CHAR = 4  # symbols or punctuation
NEED_CJK = 8
NEED_DIGITS = 16  # a run of min_run digits
# The kernels copy with loops, never slices, and call no helpers: both cost seconds of
# compile time on a fresh install, and helpers compile once more per literal argument.


@nb.njit(cache=True)
def _fold(data, start, end, classes, fold_start, fold_pool, min_run, dst) -> tuple[int, int]:
    """Whitespace runs to one space, invisible characters dropped, every other code
    point folded into ``dst``: the length (-1 where a code point is unsafe, -2 where
    ``dst`` cannot hold 5 code points per one), and which later steps may change the
    text (``NEED_*`` bits)."""
    limit = (len(dst) - 2) // 5
    m = 0
    needs = 0
    seen = 0  # class bits of the folded code points
    digits = 0  # digits the folded text ends with
    in_space = False
    i = start
    while i < end:
        cp, i = decode_utf8(data, i)
        bits = classes[cp]
        if bits & ut.WHITESPACE:
            if not in_space:
                if m >= limit:
                    return -2, 0
                dst[m] = _SPACE
                m += 1
                digits = 0
            in_space = True
            continue
        in_space = False
        if bits & ut.INVISIBLE:
            continue
        if bits & ut.UNSAFE:
            return -1, 0
        if m + fold_start[cp + 1] - fold_start[cp] > limit:
            return -2, 0
        for k in range(fold_start[cp], fold_start[cp + 1]):
            folded = fold_pool[k]
            dst[m] = folded
            m += 1
            seen |= classes[folded]
            digits = digits + 1 if classes[folded] & ut.DIGIT else 0
            if digits >= min_run:
                needs |= NEED_DIGITS
            if folded == _COLON or (folded == _DOT and m > 1 and dst[m - 2] == _W):
                needs |= NEED_URL
            elif folded == _AT:
                needs |= NEED_AT
    if seen & (ut.SYMBOL | ut.PUNCTUATION):
        needs |= NEED_PER_CHAR
    if seen & ut.CJK:
        needs |= NEED_CJK
    return m, needs


@nb.njit(cache=True, inline="always")
def _run_end(src, p, n, classes, flag) -> int:
    """The end of the run of characters of class ``flag`` starting at ``p``."""
    while p < n and classes[src[p]] & flag:
        p += 1
    return p


@nb.njit(cache=True, inline="always")
def _put(token, dst, m) -> int:
    """``token`` written at ``dst[m:]``; returns the position after it."""
    for k in range(len(token)):
        dst[m + k] = token[k]
    return m + len(token)


@nb.njit(cache=True)
def _mask_urls(src, n, classes, dst) -> int:
    """``URL_PATTERN`` -> ``URL_TOKEN``: "http://", "https://" or "www." and at least one
    URL character, the whole run of them."""
    m = 0
    i = 0
    while i < n:
        p = -1
        if i + 4 <= n and src[i] == _H and src[i + 1] == _T and src[i + 2] == _T:
            q = i + 4 if src[i + 3] == _P else n
            if q < n and src[q] == _S:
                q += 1
            if q + 3 <= n and src[q] == _COLON and src[q + 1] == _SLASH and src[q + 2] == _SLASH:
                p = q + 3
        elif i + 4 <= n and src[i] == _W and src[i + 1] == _W and src[i + 2] == _W:
            p = i + 4 if src[i + 3] == _DOT else -1
        if p != -1 and p < n and classes[src[p]] & ut.URL_CHAR:
            m = _put(_URL, dst, m)
            i = _run_end(src, p, n, classes, ut.URL_CHAR)
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
        if symbols and classes[cp] & ut.SYMBOL:
            cp = _SPACE
        punct = punctuation and (classes[cp] & ut.PUNCTUATION) != 0
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
        if src[i] == _AT and i + 1 < n and classes[src[i + 1]] & ut.MENTION_CHAR:
            m = _put(_MENTION, dst, m)
            i = _run_end(src, i + 1, n, classes, ut.MENTION_CHAR)
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
        if not classes[cp] & ut.CJK:
            continue
        k = i
        while k < n and classes[src[k]] & ut.SEPARATOR:
            k += 1
        j = k
        while j > i and not (j < n and classes[src[j]] & ut.CJK):
            j -= 1
        if j > i:
            dst[m] = src[j]
            m += 1
            i = j + 1
    return m


@nb.njit(cache=True)
def _words(src, n, mentions, word) -> bool:
    """Mark in ``word`` where the mention token's word starts (when ``mentions``), and
    say whether ``src[:n]`` holds it or an "@"."""
    found = False
    for i in range(n):
        word[i] = False
        if src[i] == _AT:
            found = True
        elif mentions and src[i] == _WORD[0] and i + len(_WORD) <= n:
            k = 1
            while k < len(_WORD) and src[i + k] == _WORD[k]:
                k += 1
            word[i] = k == len(_WORD)
            found |= k == len(_WORD)
    return found


@nb.njit(cache=True)
def _strip_trailing(src, n, classes, min_run, work) -> int:
    """Length left once the trailing pattern of ``padding_patterns`` is dropped: its tail
    is separators and pads, at least one pad, and the kept prefix is the shortest that is
    empty or ends in a non letter/number or a CJK character. In ``work``: ``word``, where
    the mention token starts; ``ok[i]``: ``src[i:]`` is separators and pads;
    ``padded[i]``: and holds a pad; ``next_ok[i]``: the first j >= i with ``ok[j]``."""
    word, ok, next_ok, padded = work[9], work[7], work[2], work[8]
    ok[n] = True
    padded[n] = False
    next_ok[n] = n
    next_ok[n + 1] = n + 2
    mention_end = n  # end of the run of mention characters from i + 1
    digit_end = n
    for i in range(n - 1, -1, -1):
        bits = classes[src[i]]
        if not bits & ut.DIGIT:
            digit_end = i
        tail = False
        pad = False
        if bits & ut.SEPARATOR:
            tail = ok[i + 1]
            pad = padded[i + 1]
        if src[i] == _AT and mention_end > i + 1 and next_ok[i + 2] <= mention_end:
            tail = pad = True
        if word[i] and ok[i + len(_WORD)]:
            tail = pad = True
        if digit_end - i >= min_run and next_ok[i + min_run] <= digit_end:
            tail = pad = True
        ok[i] = tail
        padded[i] = pad
        next_ok[i] = i if tail else next_ok[i + 1]
        if not bits & ut.MENTION_CHAR:
            mention_end = i
    for t in range(n):
        if padded[t] and (
            t == 0 or not classes[src[t - 1]] & ut.LETTER_OR_NUMBER or classes[src[t - 1]] & ut.CJK
        ):
            return t
    return n


@nb.njit(cache=True)
def _strip_leading(src, n, classes, min_run, work):
    """Start of what is left once the leading pattern of ``padding_patterns`` is dropped,
    following the regex's backtracking order (greedy runs, alternatives in order) with
    one table per position instead of a search. ``after[e]``: where the match's pads end
    when more of them may follow from ``e``, -1 if no match; ``body[j]``: that end when a
    pad starts at ``j``; ``best[e]``: the last j of the separator run from ``e`` with
    ``body[j] != -1``; ``mention_y[e]``/``digit_y[e]``: the last end of a mention/digit
    run from ``e`` with ``after`` defined (all in ``work``, as ``word``: where the mention
    token starts)."""
    word, after, body, best = work[9], work[2], work[3], work[4]
    mention_y, digit_y = work[5], work[6]
    mention_end = n  # of the run of mention characters from e + 1
    digit_end = n
    for e in range(n, -1, -1):
        bits = classes[src[e]] if e < n else 0
        if e < n and not bits & ut.DIGIT:
            digit_end = e
        end = -1
        if e < n and src[e] == _AT and mention_end > e + 1 and mention_y[e + 2] != -1:
            end = after[mention_y[e + 2]]
        if end == -1 and e < n and word[e]:
            end = after[e + len(_WORD)]
        if end == -1 and digit_end - e >= min_run and digit_y[e + min_run] != -1:
            end = after[digit_y[e + min_run]]
        body[e] = end
        separator = (bits & ut.SEPARATOR) != 0
        if separator and best[e + 1] != -1:
            best[e] = best[e + 1]
        else:
            best[e] = e if end != -1 else -1
        if best[e] != -1:
            after[e] = body[best[e]]
        elif e == n or separator or bits & ut.CJK:
            after[e] = e
        else:
            after[e] = -1
        mention_y[e] = mention_y[e + 1] if bits & ut.MENTION_CHAR else -1
        if mention_y[e] == -1 and after[e] != -1:
            mention_y[e] = e
        digit_y[e] = digit_y[e + 1] if bits & ut.DIGIT else -1
        if digit_y[e] == -1 and after[e] != -1:
            digit_y[e] = e
        if e < n and not bits & ut.MENTION_CHAR:
            mention_end = e
    return body[best[0]] if best[0] != -1 else 0


@nb.njit(cache=True)
def _mask_digits(src, n, classes, min_run, dst) -> int:
    """Runs of ``min_run`` or more digits -> ``NUMBER_TOKEN``."""
    m = 0
    i = 0
    while i < n:
        j = _run_end(src, i, n, classes, ut.DIGIT)
        if j - i >= min_run:
            m = _put(_NUMBER, dst, m)
            i = j
            continue
        for k in range(i, max(j, i + 1)):
            dst[m] = src[k]
            m += 1
        i = max(j, i + 1)
    return m


@nb.njit(cache=True)
def _encode(src, n, classes, out, m) -> tuple[np.ndarray, int]:
    """``out`` (grown when full) with ``src[:n]`` appended from byte ``m`` as UTF-8,
    space runs squeezed to one space and whitespace stripped from both ends, and the
    byte after it."""
    if m + 4 * n > len(out):
        grown = np.empty(max(2 * len(out), m + 4 * n), np.uint8)
        for i in range(m):
            grown[i] = out[i]
        out = grown
    first = 0
    while first < n and classes[src[first]] & ut.WHITESPACE:
        first += 1
    last = n
    while last > first and classes[src[last - 1]] & ut.WHITESPACE:
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
def _normalise_block(data, offsets, classes, fold_start, fold_pool, steps, min_run):
    """Normalise every text of an Arrow string column (``data``, ``offsets``): the UTF-8
    bytes (the first ``offsets[-1]``) and offsets of the results, and which texts need
    the reference instead (their result is left empty). ``steps``: mask_urls,
    strip_symbols, collapse_punctuation, mask_mentions, join_cjk, strip_padding,
    mask_digits."""
    n_texts = len(offsets) - 1
    out = np.empty(max(16, offsets[n_texts] - offsets[0]), np.uint8)
    out_offsets = np.zeros(n_texts + 1, np.int64)
    slow = np.zeros(n_texts, np.bool_)
    work = np.empty((10, 1024), np.int32)  # two texts, five position tables, three flags
    m = out_offsets[0]  # an int64 variable, not a literal 0 (which _encode compiles for)
    for t in range(n_texts):
        n, needs = _fold(
            data, offsets[t], offsets[t + 1], classes, fold_start, fold_pool, min_run, work[0]
        )
        while n == -2:
            work = np.empty((10, 2 * work.shape[1]), np.int32)
            n, needs = _fold(
                data, offsets[t], offsets[t + 1], classes, fold_start, fold_pool, min_run, work[0]
            )
        if n == -1:
            slow[t] = True
            out_offsets[t + 1] = m
            continue
        a = 0
        if steps[0] and needs & NEED_URL:
            n = _mask_urls(work[a], n, classes, work[1 - a])
            a = 1 - a
        if (steps[1] or steps[2]) and needs & NEED_PER_CHAR:
            n = _per_char(work[a], n, classes, steps[1], steps[2], work[1 - a])
            a = 1 - a
        if steps[3] and needs & NEED_AT:
            n = _mask_mentions(work[a], n, classes, work[1 - a])
            a = 1 - a
        if steps[4] and needs & NEED_CJK:
            n = _join_cjk(work[a], n, classes, work[1 - a])
            n = _join_cjk(work[1 - a], n, classes, work[a])
        if steps[5] and (_words(work[a], n, steps[3], work[9]) or needs & NEED_DIGITS):
            n = _strip_trailing(work[a], n, classes, min_run, work)
            first = _strip_leading(work[a], n, classes, min_run, work)
            for i in range(first, n):
                work[1 - a, i - first] = work[a, i]
            n -= first
            a = 1 - a
        if steps[6] and needs & NEED_DIGITS:
            n = _mask_digits(work[a], n, classes, min_run, work[1 - a])
            a = 1 - a
        out, m = _encode(work[a], n, classes, out, m)
        out_offsets[t + 1] = m
    return out, out_offsets, slow


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
) -> tuple[list[pa.LargeStringArray], np.ndarray]:
    """``_normalise_block`` over equal slices of the texts, one per thread (the kernel
    releases the GIL: :func:`detector.threads.in_ranges`): each slice's results as an
    Arrow array, in order (not joined into one: a copy of every byte into fresh pages),
    and which texts need the reference."""
    tables = ut.tables()
    fold_start, fold_pool = (
        (tables.fold_start_glyph, tables.fold_pool_glyph)
        if config.fold_homoglyphs
        else (tables.fold_start, tables.fold_pool)
    )
    settings = _settings(config)

    def block(lo: int, hi: int) -> tuple[pa.LargeStringArray, np.ndarray]:
        out, out_offsets, slow = _normalise_block(
            data, offsets[lo : hi + 1], tables.classes, fold_start, fold_pool, settings,
            config.min_digit_run,
        )  # fmt: skip
        array = pa.LargeStringArray.from_buffers(
            hi - lo, pa.py_buffer(out_offsets), pa.py_buffer(out)
        )
        return array, slow

    parts = in_ranges(block, len(offsets) - 1)
    slow = np.concatenate([np.zeros(0, np.bool_), *(flags for _, flags in parts)])
    return [array for array, _ in parts], slow


def _reference(texts: pl.Series, config: ScanConfig) -> pl.Series:
    """``normalise_expr`` of every text, in a chunk per polars thread (polars runs a
    string expression over a column's chunks in parallel, over one chunk on one core)."""
    step = max(1, -(-len(texts) // pl.thread_pool_size()))
    parts = [texts.slice(offset, step) for offset in range(0, len(texts), step)]
    chunked = pl.concat(parts, rechunk=False) if len(parts) > 1 else texts
    return chunked.to_frame("text").select(normalise_expr(pl.col("text"), config)).to_series()


def normalise_texts(texts: pl.Series, config: ScanConfig) -> pl.Series:
    """``normalise_expr`` of every text (nulls read as empty), by the kernel; the few
    texts it flags go through the reference, and all of them do while the kernel is
    not compiled yet and there are too few to pay for its compile."""
    few = len(texts) < config.compile_normaliser_texts
    if few and not kernels.ready(__name__, "_normalise_block"):
        return _reference(texts, config).alias(texts.name)
    parts, slow = _normalise_parallel(*utf8_buffers(texts), config)
    result = pl.Series(texts.name, pa.chunked_array(parts, pa.large_string()), pl.String)
    rows = np.flatnonzero(slow)
    if len(rows):
        result = result.scatter(rows, _reference(texts.gather(rows), config))
    return result


def short_text_keys(texts: pl.Series, config: ScanConfig) -> pl.Series:
    """``short_text_key_expr`` of every text: normalised by the kernel with digits left
    unmasked, then every code masked."""
    unmasked = normalise_texts(texts, replace(config, mask_digits=False))
    masked = unmasked.str.replace_all(CODE_PATTERN, CODE_TOKEN)
    return masked.str.replace_all(r" {2,}", " ").str.strip_chars()
