"""Text normalisation: make trivially different copies of a post identical before shingling.

Everything here is a polars expression, so normalising millions of posts runs in Rust,
in parallel, with no Python loop over rows.
"""

from __future__ import annotations

import polars as pl

from detector.config import ScanConfig

# Latin look-alikes from Cyrillic and Greek that obfuscators substitute into Latin words.
# Folding them everywhere is safe for matching: it maps each script consistently.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
}  # fmt: skip

URL_PATTERN = r"(?:https?://|www\.)[^\s<>\"'，。！？、]+"
MENTION_PATTERN = r"@[\w\-.]+"
# Zero-width, bidi and other format characters (Cf) and control characters (Cc) are
# invisible: obfuscators insert them to break exact and n-gram matching.
INVISIBLE_PATTERN = r"[\p{Cf}\p{Cc}]"

URL_TOKEN = " url "
MENTION_TOKEN = " mention "
NUMBER_TOKEN = " num "


def normalise_expr(text: pl.Expr, config: ScanConfig) -> pl.Expr:
    """Expression mapping raw post text to its normalised form (never null)."""
    out = text.fill_null("").str.normalize("NFKC")
    out = out.str.replace_all(r"\s+", " ").str.replace_all(INVISIBLE_PATTERN, "")
    if config.mask_urls:
        out = out.str.replace_all(URL_PATTERN, URL_TOKEN)
    if config.mask_mentions:
        out = out.str.replace_all(MENTION_PATTERN, MENTION_TOKEN)
    out = out.str.to_lowercase()
    if config.fold_homoglyphs:
        out = out.str.replace_many(list(HOMOGLYPHS), list(HOMOGLYPHS.values()))
    if config.mask_digits:
        out = out.str.replace_all(rf"\d{{{config.min_digit_run},}}", NUMBER_TOKEN)
    return out.str.replace_all(r" {2,}", " ").str.strip_chars()


def normalise(texts: pl.Series | list[str], config: ScanConfig | None = None) -> pl.Series:
    """Normalise a series of texts: NFKC, case folding, invisible characters removed,
    homoglyphs folded, URLs/mentions/long digit runs masked (each configurable)."""
    series = texts if isinstance(texts, pl.Series) else pl.Series("text", texts, pl.String)
    frame = series.to_frame("text")
    return frame.select(normalise_expr(pl.col("text"), config or ScanConfig())).to_series()
