"""Per-code-point tables for the normalisation kernel, derived from the reference itself.

Every entry is computed by running the polars reference (:mod:`detector.normalise`) on each
code point alone, so the kernel sees exactly the Unicode version and regex classes polars
uses. The tables are built once (about a second) and cached next to numba's cache.

A code point is *unsafe* where folding it alone may differ from folding it inside a text:
a step of its fold opens with a combining mark (canonical reordering and composition reach
across neighbours) or with the second of a composable pair (Hangul vowel and final jamo,
some Indic vowel signs: it composes with the character before), holds a capital sigma (its
lowercase depends on what follows), or Python's Unicode database does not know it. Texts
holding one go through the reference instead. So do texts with code points from U+40000
to U+DFFFF (unassigned) or from U+F0000 (private use), which the tables leave out.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from detector import normalise as reference
from detector.config import ScanConfig
from detector.shingle import utf8_buffers

N_CODE_POINTS = 0x110000
# Class bits of a code point (uint16 table).
WHITESPACE = 1 << 0  # \s
INVISIBLE = 1 << 1  # \p{Cf}, \p{Cc}
UNSAFE = 1 << 2  # see module docstring
SEPARATOR = 1 << 3  # \s, \p{P}, \p{S}
PUNCTUATION = 1 << 4  # \p{P} but "@"
SYMBOL = 1 << 5  # reference.SYMBOL_PATTERN
MENTION_CHAR = 1 << 6  # [\w\-.]
DIGIT = 1 << 7  # \d
CJK = 1 << 8  # reference.CJK
LETTER_OR_NUMBER = 1 << 9  # \p{L}, \p{N}
URL_CHAR = 1 << 10  # what a URL may hold after its prefix
CAPITAL_SIGMA = 0x03A3


@dataclass(frozen=True)
class Tables:
    """``classes[cp]``: class bits; ``fold_start[cp]:fold_start[cp + 1]`` slices
    ``fold_pool`` to the code points ``cp`` folds to (case and compatibility forms and,
    in ``*_glyph``, homoglyphs)."""

    classes: np.ndarray
    fold_start: np.ndarray
    fold_pool: np.ndarray
    fold_start_glyph: np.ndarray
    fold_pool_glyph: np.ndarray


def _code_points() -> np.ndarray:
    """The code points the tables cover: all assigned ones but private use planes."""
    return np.r_[0:0xD800, 0xE000:0x40000, 0xE0000:0xF0000]


def _one_char_strings(cps: np.ndarray) -> pl.Series:
    """Each code point as a one-character string, built from buffers (no Python loop)."""
    data = cps.astype("<u4").tobytes().decode("utf-32-le").encode()
    widths = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    offsets = np.zeros(len(cps) + 1, np.int64)
    np.cumsum(widths, out=offsets[1:])
    array = pa.LargeStringArray.from_buffers(len(cps), pa.py_buffer(offsets), pa.py_buffer(data))
    return pl.Series("text", array)


def _utf32(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code points and start offsets (length + 1) of every string of ``series``."""
    lengths = series.str.len_chars().to_numpy().astype(np.int64)
    start = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=start[1:])
    data, offsets = utf8_buffers(series)
    text = data[offsets[0] : offsets[-1]].tobytes().decode()
    pool = np.frombuffer(text.encode("utf-32-le"), "<u4").astype(np.int32)
    return pool, start


def _fold_table(folded: pl.Series, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pool, start = _utf32(folded)
    lengths = np.zeros(N_CODE_POINTS, np.int64)
    lengths[cps] = np.diff(start)
    fold_start = np.zeros(N_CODE_POINTS + 1, np.int32)
    np.cumsum(lengths, out=fold_start[1:])
    return fold_start, pool


def _never_first(cps: np.ndarray, chars: str) -> np.ndarray:
    """Code points that may not open a step of a fold (see module docstring)."""
    never = np.ones(N_CODE_POINTS, bool)
    never[cps] = np.fromiter(map(unicodedata.combining, chars), np.int64, len(chars)) > 0
    never[cps] |= np.array(list(map(unicodedata.category, chars))) == "Cn"
    for decomposition in filter(None, map(unicodedata.decomposition, chars)):
        parts = decomposition.split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            never[int(parts[1], 16)] = True
    never[0x1161:0x1176] = never[0x11A8:0x11C3] = True  # Hangul vowel and final jamo
    never[CAPITAL_SIGMA] = True
    return never


def _unsafe(steps: list[pl.Series], never: np.ndarray) -> np.ndarray:
    """Whether each code point may fold differently beside others, from the strings each
    step of its fold gives (see module docstring)."""
    unsafe = np.zeros(len(steps[0]), bool)
    for step in steps:
        pool, start = _utf32(step)
        unsafe |= start[1:] == start[:-1]
        unsafe |= never[pool[np.minimum(start[:-1], len(pool) - 1)]]
        sigmas = np.zeros(len(pool) + 1, np.int64)
        np.cumsum(pool == CAPITAL_SIGMA, out=sigmas[1:])
        unsafe |= sigmas[start[1:]] > sigmas[start[:-1]]
    return unsafe


def build() -> Tables:
    """Compute the tables from the reference expressions (about a second)."""
    cps = _code_points()
    texts = _one_char_strings(cps)
    text = pl.col("text")
    mention = reference.MENTION_PATTERN.removeprefix("@").removesuffix("+")
    patterns = {
        WHITESPACE: r"\s",
        INVISIBLE: reference.INVISIBLE_PATTERN,
        SEPARATOR: reference.SEPARATOR,
        PUNCTUATION: r"[\p{P}--@]",
        SYMBOL: reference.SYMBOL_PATTERN,
        MENTION_CHAR: mention,
        DIGIT: r"\d",
        CJK: f"[{reference.CJK}]",
        LETTER_OR_NUMBER: r"[\p{L}\p{N}]",
        URL_CHAR: reference.URL_PATTERN.split(")", 1)[1].removesuffix("+"),
    }
    nfkd = text.str.normalize("NFKD")
    lower = nfkd.str.to_lowercase()
    glyphs = lower.str.replace_many(list(reference.HOMOGLYPHS), list(reference.HOMOGLYPHS.values()))
    frame = texts.to_frame().select(
        pl.sum_horizontal(
            text.str.contains(pattern).cast(pl.UInt16) * bit for bit, pattern in patterns.items()
        ).alias("classes"),
        nfkd.alias("nfkd"),
        lower.alias("lower"),
        glyphs.alias("glyphs"),
        glyphs.str.normalize("NFKD").alias("glyphs_nfkd"),
        reference._fold(text, ScanConfig(fold_homoglyphs=False)).alias("fold"),
        reference._fold(text, ScanConfig(fold_homoglyphs=True)).alias("fold_glyph"),
    )
    classes = np.full(N_CODE_POINTS, UNSAFE, np.uint16)
    classes[cps] = frame["classes"].to_numpy()
    never = _never_first(cps, texts.str.join().item())
    steps = ["nfkd", "lower", "glyphs", "glyphs_nfkd", "fold", "fold_glyph"]
    classes[cps[_unsafe([frame[step] for step in steps], never)]] |= UNSAFE
    return Tables(classes, *_fold_table(frame["fold"], cps), *_fold_table(frame["fold_glyph"], cps))


def _cache_path() -> Path:
    """Where the tables are cached: numba's cache folder, keyed by everything they depend
    on (the reference's source and this module's, polars and the Unicode database)."""
    source = Path(reference.__file__).read_bytes() + Path(__file__).read_bytes()
    key = hashlib.sha256(
        source + pl.__version__.encode() + unicodedata.unidata_version.encode()
    ).hexdigest()[:16]
    folder = os.environ.get("NUMBA_CACHE_DIR") or str(Path(__file__).parent / "__pycache__")
    return Path(folder) / f"unitables-{key}.npz"


@cache
def tables() -> Tables:
    """The tables, from the cache when fresh, else built and cached (where writable)."""
    path = _cache_path()
    try:
        with np.load(path) as stored:
            return Tables(**{name: stored[name] for name in stored.files})
    except (OSError, ValueError, KeyError, EOFError):
        pass
    built = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(partial, **asdict(built))
        partial.replace(path)
    except OSError:
        pass
    return built
