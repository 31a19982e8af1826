"""The tiled benchmark world's copies: each its own alphabet, nothing else changed."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.tiles import _lines, _rotated

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


def test_the_line_through_the_worlds_and_each_ones_gap_to_it():
    def run(setting: str, copies: int, seconds: float | None) -> dict:
        return {"host_reclaim": setting, "copies": copies} | (
            {} if seconds is None else {"seconds": seconds}
        )

    runs = [run("off", c, 40.0 * c + 2.0) for c in (1, 2, 3)] + [run("off", 4, None)]
    runs += [run("as-is", 1, 50.0), run("as-is", 5, 260.0)]  # two worlds: no line
    lines = _lines(runs)
    assert lines == {
        "off": {"seconds_per_copy": 40.0, "seconds_at_none": 2.0, "largest_gap_share": 0.0}
    }
    bent = _lines([run("off", 1, 40.0), run("off", 2, 80.0), run("off", 3, 150.0)])["off"]
    assert bent["seconds_per_copy"] == 55.0 and bent["largest_gap_share"] > 0.05
