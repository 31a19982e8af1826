"""Normalisation and shingling: Chinese, English, mixed and obfuscated text."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.config import ScanConfig
from detector.normalise import normalise, short_text_key_expr
from detector.shingle import shingle_hashes


def norm(text: str, **options) -> str:
    return normalise([text], ScanConfig(**options)).item()


def jaccard(a: str, b: str) -> float:
    sa, sb = (set(shingle_hashes([norm(t)])[0].tolist()) for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def test_nfkc_and_case_folding():
    assert norm("ＳＵ７ Ｕｌｔｒａ") == "su7 ultra"
    assert norm("HELLO World") == "hello world"


def test_nfkc_folds_fullwidth_letters_digits_and_punctuation():
    assert norm("ｓｕ７") == "su7"
    assert norm("ｓｕ７，ｈｅｌｌｏ！") == norm("su7,hello!") == "su7,hello!"
    assert norm("小米（ＳＵ７）：好") == norm("小米(SU7):好")


def test_invisible_characters_are_removed():
    assert norm("小\u200b米\u200d汽\ufeff车") == "小米汽车"
    assert norm("bad\u00adword\u2060s") == "badwords"


def test_homoglyphs_fold_to_latin():
    # Cyrillic а, о, і, с and Greek ο inside Latin words.
    assert norm("Xіаоmі is а ѕсаm") == "xiaomi is a scam"
    assert norm("Xiaοmi") == "xiaomi"
    assert norm("Xіаоmі", fold_homoglyphs=False) != "xiaomi"


def test_masks_urls_mentions_and_digit_runs():
    text = "看这里 https://t.cn/A6abc12 和 www.example.com/x @小米汽车 电话13812345678 谢谢"
    assert norm(text) == "看这里 url 和 url mention 电话 num 谢谢"
    assert norm("call 12345 or 123") == "call num or 123"
    assert "https" in norm(text, mask_urls=False)
    assert "@小米汽车" in norm(text, mask_mentions=False)
    assert norm("电话 12345 谢谢", mask_digits=False) == "电话 12345 谢谢"


def test_whitespace_collapses_and_null_is_empty():
    assert norm("  a\n\tb   c ") == "a b c"
    assert normalise(pl.Series([None], dtype=pl.String)).item() == ""


@pytest.mark.parametrize(
    "text", ["小 米 汽 车", "小.米.汽.车", "小米｜汽车", "小米 😀 汽车", "小·米-汽/车"]
)
def test_separators_inside_cjk_runs_are_removed(text):
    assert norm(text) == "小米汽车"
    assert norm(text, join_cjk=False) != "小米汽车"


def test_latin_word_spacing_is_kept():
    assert norm("小 米 su7 max 汽 车") == "小米 su7 max 汽车"
    assert norm("do not buy this car") == "do not buy this car"


def test_emoji_and_symbols_are_stripped():
    assert norm("great😀product 👍🏽❤️") == "great product"
    assert norm("小米汽车😡😡✨") == norm("小米汽车")
    assert norm("no\ufe0f way\u20e3 ©") == "no way"
    assert "😡" in norm("小米汽车😡", strip_symbols=False)


def test_repeated_punctuation_collapses():
    assert norm("really!!!???") == "really!"
    assert norm("太差了。。。。") == "太差了。"
    assert norm("really!!!", collapse_punctuation=False) == "really!!!"


def test_mention_and_digit_padding_is_stripped():
    assert norm("@a @b 小米汽车太差了 @c 12345") == "小米汽车太差了"
    assert norm("小米汽车太差了 #20240601") == norm("小米汽车太差了")
    assert norm("2024款小米") == "款小米"
    # Digits inside a Latin word, short runs and runs mid-text are content, not padding.
    assert norm("buy su7 1234") == "buy su7"
    assert norm("iphone 15") == "iphone 15"
    assert norm("电话 12345 谢谢") == "电话 num 谢谢"
    assert norm("@a 小米 12345", strip_padding=False) == "mention 小米 num"


def test_short_text_key_masks_codes():
    def key(text: str) -> str:
        return pl.select(short_text_key_expr(pl.lit(text), ScanConfig())).item()

    assert key("加V：ab12 领福利") == key("加V：cd34 领福利") == key("加v:V8x9k 领福利 😀 8812")
    assert key("加V：ab12 领福利") != key("加V：ab12 看视频")
    assert key("订单 12 已发货") == key("订单 934 已发货")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalisation_is_idempotent_and_total(text):
    once = normalise([text])
    assert normalise(once).item() == once.item()


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from(list("小米汽车 su7 @#!！。.，|😀\u200b\ufe0f1234５ａ")), max_size=40)
)
def test_normalisation_is_idempotent_on_obfuscation_alphabet(text):
    once = normalise([text])
    assert normalise(once).item() == once.item()


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
