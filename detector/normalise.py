"""Text normalisation: make trivially different copies of a post identical before shingling.

``normalise_expr`` is the specification, a polars expression; the scan runs the same steps
in one numba pass (:mod:`detector.normkernel`, tested equal to it), which sends the rare
text it cannot fold exactly through this expression.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from detector.config import ScanConfig

# Latin look-alikes from Cyrillic and Greek that obfuscators substitute into Latin words.
# Folding them everywhere is safe for matching: it maps each script consistently.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i",
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
# Emoji and symbol padding: other symbols (So: emoji, dingbats, ©), modifier symbols (Sk:
# skin tones, ^), emoji shown as pictures, variation selectors and the keycap mark.
SYMBOL_PATTERN = (
    r"[\p{So}\p{Sk}\p{Emoji_Presentation}\p{Emoji_Modifier}\p{Variation_Selector}\x{20E3}]"
)
# The characters the shingler reads as CJK (see detector.shingle._kind).
CJK = r"\x{3040}-\x{30FF}\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{20000}-\x{2FA1F}"
SEPARATOR = r"[\s\p{P}\p{S}]"
CJK_GAP_PATTERN = rf"([{CJK}]){SEPARATOR}+([{CJK}])"
# Runs of punctuation other than "@", which would turn "@,1" into a mention "@1".
PUNCTUATION_RUN_PATTERN = r"([\p{P}--@])[\p{P}--@]+"
# Runs of letters and digits holding a digit ("ab12", "v8x9k", "2024"): the codes of spam.
CODE_PATTERN = rf"[\p{{L}}\p{{N}}--[{CJK}]]*\p{{N}}[\p{{L}}\p{{N}}--[{CJK}]]*"

URL_TOKEN = " url "
MENTION_TOKEN = " mention "
NUMBER_TOKEN = " num "
CODE_TOKEN = " code "


def padding_patterns(config: ScanConfig) -> tuple[str, str]:
    """Patterns of leading and trailing padding: @mentions (or their mask token) and digit
    runs of at least ``min_digit_run`` digits, with the separators around them. A run is
    padding only where it stands apart from a Latin word ("su7 1234" loses "1234", "su7"
    keeps its 7); group 1 of either pattern is the boundary to keep."""
    mention = MENTION_PATTERN + (f"|{MENTION_TOKEN.strip()}" if config.mask_mentions else "")
    pad = rf"(?:{mention}|\d{{{config.min_digit_run},}})"
    leading = rf"^(?:{SEPARATOR}*{pad})+({SEPARATOR}|[{CJK}]|$)"
    trailing = rf"(^|[^\p{{L}}\p{{N}}]|[{CJK}])(?:{SEPARATOR}*{pad})+{SEPARATOR}*$"
    return leading, trailing


def strip_padding(text: pl.Expr, config: ScanConfig) -> pl.Expr:
    """Drop leading and trailing @mentions and long digit runs: obfuscators append them
    to make each copy of a text unique."""
    leading, trailing = padding_patterns(config)
    return text.str.replace(trailing, "${1}").str.replace(leading, "${1}")


def join_cjk(text: pl.Expr) -> pl.Expr:
    """Remove spaces, punctuation and symbols between two CJK characters ("小 米.汽|车"
    -> "小米汽车"), which obfuscators insert to break n-grams. Matches cannot overlap, so a
    character ending one gap cannot start the next: a second pass joins what the first
    left ("小 米 汽" -> "小米 汽" -> "小米汽")."""
    return text.str.replace_all(CJK_GAP_PATTERN, "${1}${2}").str.replace_all(
        CJK_GAP_PATTERN, "${1}${2}"
    )


def _fold(text: pl.Expr, config: ScanConfig) -> pl.Expr:
    """Case, homoglyphs and compatibility forms folded (fullwidth "ＳＵ７" and math "𝐁𝐔𝐘"
    letters become ASCII). Case and homoglyphs are folded on the decomposed (NFKD) text,
    then NFKC composes the result, so a second normalisation changes nothing: a look-alike
    that only decomposition reveals is folded too, and what folding makes composable is
    composed ("W" + combining ring -> "ẘ")."""
    out = text.str.normalize("NFKD").str.to_lowercase()
    if config.fold_homoglyphs:
        out = out.str.replace_many(list(HOMOGLYPHS), list(HOMOGLYPHS.values()))
    return out.str.normalize("NFKC")


def normalise_expr(text: pl.Expr, config: ScanConfig) -> pl.Expr:
    """Expression mapping raw post text to its normalised form (never null)."""
    out = text.fill_null("").str.replace_all(r"\s+", " ").str.replace_all(INVISIBLE_PATTERN, "")
    out = _fold(out, config)
    if config.mask_urls:
        out = out.str.replace_all(URL_PATTERN, URL_TOKEN)
    if config.strip_symbols:
        out = out.str.replace_all(SYMBOL_PATTERN, " ")
    if config.collapse_punctuation:
        out = out.str.replace_all(PUNCTUATION_RUN_PATTERN, "${1}")
    if config.mask_mentions:
        out = out.str.replace_all(MENTION_PATTERN, MENTION_TOKEN)
    # Joining CJK runs after masking mentions keeps "@小米 电话" from becoming one mention;
    # padding goes after joining, which can turn a gap into a trailing raw mention.
    if config.join_cjk:
        out = join_cjk(out)
    if config.strip_padding:
        out = strip_padding(out, config)
    if config.mask_digits:
        out = out.str.replace_all(rf"\d{{{config.min_digit_run},}}", NUMBER_TOKEN)
    return out.str.replace_all(r" {2,}", " ").str.strip_chars()


def short_text_key_expr(text: pl.Expr, config: ScanConfig) -> pl.Expr:
    """Hashable key of a text too short for MinHash: its normalised form with digits left
    unmasked and then every code masked, so spam texts that differ only in their codes
    ("加V：ab12 领福利", "加V：cd34 领福利") share a key."""
    unmasked = normalise_expr(text, replace(config, mask_digits=False))
    masked = unmasked.str.replace_all(CODE_PATTERN, CODE_TOKEN)
    return masked.str.replace_all(r" {2,}", " ").str.strip_chars()


def normalise(texts: pl.Series | list[str], config: ScanConfig | None = None) -> pl.Series:
    """Normalise a series of texts: NFKC (fullwidth forms folded), case folding, invisible
    characters removed, homoglyphs folded, URLs masked, leading/trailing @mention and
    digit padding stripped, mentions masked, emoji and symbols removed, long digit runs
    masked, punctuation runs collapsed, separators inside CJK runs removed (each step but
    NFKC, case and invisible characters configurable)."""
    from detector.normkernel import normalise_texts  # it builds on this module

    series = texts if isinstance(texts, pl.Series) else pl.Series("text", texts, pl.String)
    return normalise_texts(series, config or ScanConfig())
