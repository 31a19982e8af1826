"""The normalisation kernel gives exactly the reference expression's text, for every
setting, on texts drawn from what obfuscators and real dumps use."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector import kernels, unitables
from detector.config import ScanConfig
from detector.normalise import normalise_expr, short_text_key_expr
from detector.normkernel import _normalise_block, normalise_texts, short_text_keys

PIECES = [
    *"abcxyzABCXYZ019 ",
    *"小米汽车续航好一路走好ひらがなカタカナ・゠゛",  # CJK, kana, kana punctuation
    *"ｓｕ７ＡＢ１２，！？。、（）　",  # fullwidth
    *"аеоросхіјѕһԁӏαβγεηικνορτυχωϲϳΣσςΑΩ",  # homoglyphs, Greek case
    *"𝐁𝐔𝐘𝟏𝟐ℌ𝔄ⅫⅨ①㈱㍿ﬁﷺ½²",  # math alphanumerics, compatibility forms
    *"😀👍🏽👨\u200d👩\u2764\ufe0f1\ufe0f\u20e3©™^`¨",  # emoji, skin tone, ZWJ, keycap
    *"e\u0301\u0308\u0327\u0345\u1dc0",  # combining marks
    *"가각\u1100\u1161\u11a8\u3131",  # Hangul syllables and jamo
    *"\u200b\u200c\u200e\u202e\u2060\ufeff\u00ad\x00\x1f\x85\xa0\u2028\u3000\t\n",  # invisible
    *"٠١٢٣४५",  # other decimal digits
    *"@#$%&*-_.,:;!?/|<>'\"~+=[](){}",
    *"İßẞǅΐ\u0390ŉ",  # case folds with several code points
    "http://",
    "https://",
    "www.",
    "t.cn/A6ab",
    "@user",
    "@小米",
    "mention",
    "1234",
    "13812345678",
    "!!!",
    "。。",
    " ... ",
    "\U000e0001",
    "\U0001f1e8\U0001f1f3",
    "\U00040000",
    "\U000f0000",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
CONFIGS = st.builds(
    ScanConfig,
    mask_urls=st.booleans(),
    mask_mentions=st.booleans(),
    mask_digits=st.booleans(),
    min_digit_run=st.integers(1, 6),
    fold_homoglyphs=st.booleans(),
    strip_padding=st.booleans(),
    strip_symbols=st.booleans(),
    collapse_punctuation=st.booleans(),
    join_cjk=st.booleans(),
)


@pytest.fixture(autouse=True, scope="module")
def compiled_kernel():
    """The kernel compiled: a scan normalises with the reference until it is."""
    _normalise_block.compile(kernels.signatures("_normalise_block")[0])


def reference(texts: list[str | None], config: ScanConfig) -> list[str]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    return frame.select(normalise_expr(pl.col("text"), config)).to_series().to_list()


def fast(texts: list[str | None], config: ScanConfig) -> list[str]:
    return normalise_texts(pl.Series("text", texts, pl.String), config).to_list()


@settings(max_examples=400, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=8))
def test_kernel_matches_reference_on_obfuscation_alphabet(texts):
    assert fast(texts, ScanConfig()) == reference(texts, ScanConfig())


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4), CONFIGS)
def test_kernel_matches_reference_for_every_setting(texts, config):
    assert fast(texts, config) == reference(texts, config)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_kernel_matches_reference_on_any_text(texts):
    assert fast(texts, ScanConfig()) == reference(texts, ScanConfig())


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=6))
def test_short_text_keys_match_reference(texts):
    series = pl.Series("text", texts, pl.String)
    expected = series.to_frame().select(short_text_key_expr(pl.col("text"), ScanConfig()))
    assert short_text_keys(series, ScanConfig()).to_list() == expected.to_series().to_list()


def test_padding_follows_the_regex_backtracking():
    texts = [
        "1234 5678x",
        "@a @b 1234",
        "mention mention小米",
        "x 12345 mention",
        "su7 1234",
        "小米 1234",
        "@-",
        "12345678",
        "..1234..5678..",
        "mentionmention",
        "a1234",
    ]
    for config in (ScanConfig(), ScanConfig(mask_mentions=False), ScanConfig(min_digit_run=1)):
        assert fast(texts, config) == reference(texts, config)


def test_null_empty_and_long_texts():
    texts = [None, "", " ", "\u200b", "ﷺ" * 5000, "a" * 100_000 + " 1234", "@" + "x" * 50_000]
    assert fast(texts, ScanConfig()) == reference(texts, ScanConfig())
    assert fast([], ScanConfig()) == []


def test_unsafe_code_points_go_to_the_reference():
    classes = unitables.tables().classes
    for char in "\u0301\u1161\u11a8Σ\U00040000":
        assert classes[ord(char)] & unitables.UNSAFE
    for char in "aé가😀\ufe0fﷺ𝐁":
        assert not classes[ord(char)] & unitables.UNSAFE
    texts = ["e\u0301", "Σας", "\u1100\u1161", "ok"]
    config = replace(ScanConfig(), mask_digits=False)
    assert fast(texts, config) == reference(texts, config)
