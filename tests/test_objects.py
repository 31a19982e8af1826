"""Object traces: one row per post and distinct non-empty object, the same whether a frame
is taken whole (the local engine) or batch by batch (the Spark engine)."""

from itertools import pairwise

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.objects import hash_key, object_rows, url_domains

VALUES = st.sampled_from(["", "a", "b", "#x", "http://s.cn/1", "https://t.co/a?b", "c"])
POSTS = st.lists(
    st.tuples(st.none() | st.lists(st.none() | VALUES, max_size=5), st.none() | VALUES),
    max_size=30,
)


def _frame(posts: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(len(posts))),
            "account": [row % 4 for row in range(len(posts))],
            "tags": [tags for tags, _ in posts],
            "repost_of": [ref for _, ref in posts],
        },
        schema={
            "row": pl.Int64,
            "account": pl.Int64,
            "tags": pl.List(pl.String),
            "repost_of": pl.String,
        },
    )


@settings(max_examples=200, deadline=None)
@given(POSTS, st.lists(st.integers(0, 30), max_size=4))
def test_rows_are_the_same_whole_or_batch_by_batch(posts, cuts):
    frame = _frame(posts)
    bounds = [0, *sorted(min(c, frame.height) for c in cuts), frame.height]
    for column in ("tags", "repost_of"):
        whole = object_rows(frame, column, ("account",))
        batches = [object_rows(frame[a:b], column, ("account",)) for a, b in pairwise(bounds)]
        assert pl.concat(batches).equals(whole)


@settings(max_examples=200, deadline=None)
@given(POSTS)
def test_one_row_per_post_and_distinct_value_in_first_appearance_order(posts):
    frame = _frame(posts)
    rows = object_rows(frame, "tags", ("account",))
    expected = [
        (row, value)
        for row, (tags, _) in enumerate(posts)
        for i, value in enumerate(tags or [])
        if value and value not in (tags or [])[:i]
    ]
    assert list(zip(rows["row"], rows["label"], strict=True)) == expected
    assert rows["key"].equals(rows.select(hash_key(pl.col("label")).alias("key"))["key"])
    assert rows["account"].to_list() == [row % 4 for row, _ in expected]


def test_url_domains_name_where_a_link_comes_from():
    urls = pl.Series(["http://s.cn/1", "https://s.cn/2?x", "s.cn", "https://t.co/a", "/a/b"])
    keys = urls.to_frame("u").select(url_domains(pl.col("u")))["u"].to_list()
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert keys[4] == -1 and min(keys[:4]) >= 0
