"""The tiled benchmark world's copies: each its own alphabet, nothing else changed."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.tiles import _rotated

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["https://t.cn/Ab9 看 #话题#", "Can't believe 2 things 😀", ""])


@settings(deadline=None)  # the first example compiles the kernel
@given(st.lists(TEXT | st.none(), max_size=8), st.integers(1, 4))
def test_a_copy_is_another_alphabet_of_the_same_texts(texts, copy):
    strings = pa.array(texts, pa.large_string())
    same, moved = _rotated(strings, 0).to_pylist(), _rotated(strings, copy).to_pylist()
    assert same == texts
    for text, new in zip(texts, moved, strict=True):
        if text is None:
            assert new is None
            continue
        assert len(new.encode()) == len(text.encode()) and len(new) == len(text)
        if "http://" in text or "https://" in text:  # the scheme kept, the rest moved
            assert new.count("://") == text.count("://") and new != text
            continue
        for a, b in zip(text, new, strict=True):
            rotatable = (a.isascii() and a.isalnum()) or "\u4e00" <= a <= "\u9fff"
            assert (a != b) == rotatable
        back = {b: a for a, b in zip(text, new, strict=True)}
        assert len(back) == len(set(text))  # one character for one: no two texts merge
