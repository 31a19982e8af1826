"""Normalisation and shingling: Chinese, English, mixed and obfuscated text."""

import numpy as np
import polars as pl
import pytest

from detector.config import ScanConfig
from detector.normalise import normalise
from detector.shingle import shingle_hashes


def norm(text: str, **options) -> str:
    return normalise([text], ScanConfig(**options)).item()


def jaccard(a: str, b: str) -> float:
    sa, sb = (set(shingle_hashes([norm(t)])[0].tolist()) for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def test_nfkc_and_case_folding():
    assert norm("ＳＵ７ Ｕｌｔｒａ") == "su7 ultra"
    assert norm("HELLO World") == "hello world"


def test_invisible_characters_are_removed():
    assert norm("小\u200b米\u200d汽\ufeff车") == "小米汽车"
    assert norm("bad\u00adword\u2060s") == "badwords"


def test_homoglyphs_fold_to_latin():
    # Cyrillic а, о, і, с and Greek ο inside Latin words.
    assert norm("Xіаоmі is а ѕсаm") == "xiaomi is a scam"
    assert norm("Xiaοmi") == "xiaomi"
    assert norm("Xіаоmі", fold_homoglyphs=False) != "xiaomi"


def test_masks_urls_mentions_and_digit_runs():
    text = "看这里 https://t.cn/A6abc12 和 www.example.com/x @小米汽车 电话13812345678"
    assert norm(text) == "看这里 url 和 url mention 电话 num"
    assert norm("call 123 or 12345") == "call 123 or num"
    assert "https" in norm(text, mask_urls=False)
    assert "@小米汽车" in norm(text, mask_mentions=False)
    assert norm("12345", mask_digits=False) == "12345"


def test_whitespace_collapses_and_null_is_empty():
    assert norm("  a\n\tb   c ") == "a b c"
    assert normalise(pl.Series([None], dtype=pl.String)).item() == ""


def test_chinese_uses_character_ngrams():
    shingles = shingle_hashes(["小米汽车"], cjk_ngram=2)[0]
    assert len(shingles) == 3  # 小米 米汽 汽车
    assert len(shingle_hashes(["小米汽车"], cjk_ngram=3)[0]) == 2


def test_english_uses_word_ngrams():
    assert len(shingle_hashes(["the quick brown fox"], word_ngram=2)[0]) == 3
    assert len(shingle_hashes(["the quick brown fox"], word_ngram=1)[0]) == 4
    # Word boundaries matter, not characters: one word is one unigram.
    assert len(shingle_hashes(["supercalifragilistic"], word_ngram=2)[0]) == 1


def test_mixed_text_keeps_runs_apart():
    # 小米 | su7 | 续航 真的 -> CJK bigrams never span the Latin word.
    shingles = shingle_hashes(["小米su7续航真的"], cjk_ngram=2, word_ngram=2)[0]
    assert len(shingles) == 1 + 1 + 3
    same_word = shingle_hashes(["su7"])[0]
    assert same_word[0] in shingles


def test_punctuation_and_emoji_only_separate():
    a = shingle_hashes(["小米，汽车！！😡"])[0]
    b = shingle_hashes(["小米汽车"])[0]
    assert np.array_equal(a, b)
    assert len(shingle_hashes(["!!! 😡 ..."])[0]) == 0


def test_obfuscated_copy_matches_original():
    original = "Xiaomi SU7 brakes fail on the highway, do not buy this car"
    obfuscated = "Xіаоmі ＳＵ７ br\u200bakes fail on the HIGHWAY,, do not buy this car!!"
    assert jaccard(original, obfuscated) == 1.0


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        (
            "小米汽车的刹车系统存在严重问题大家千万不要买",
            "小米汽车的刹车系统存在严重缺陷大家千万别买",
            0.5,
            0.9,
        ),
        (
            "小米汽车的刹车系统存在严重问题大家千万不要买",
            "今天天气很好我们一起去公园散步吧",
            0.0,
            0.1,
        ),
    ],
)
def test_chinese_similarity_is_graded(a, b, low, high):
    assert low <= jaccard(a, b) <= high
