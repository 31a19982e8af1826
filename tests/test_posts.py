"""Posts indexed by their near-duplicate groups: which groups are shared by two or more
accounts, and their output ids, checked against a plain group-by of the same posts."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.posts import _index_posts
from detector.schema import TIME


@st.composite
def grouped_posts(draw):
    n_texts = draw(st.integers(1, 30))
    n_posts = draw(st.integers(0, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Labels as the scan gives them: below the number of texts for near-duplicate groups,
    # from it up for short-text groups; -1 for none.
    text_group = rng.integers(-1, n_texts + 5, n_texts)
    posts = pl.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n_posts)],
            "account": rng.integers(0, draw(st.integers(1, 6)), n_posts).astype(np.uint32),
            "text_id": rng.integers(0, n_texts, n_posts).astype(np.uint32),
            "created_at": pl.Series(rng.integers(0, 50, n_posts) * 1_000_000).cast(TIME),
        }
    )
    return posts, text_group, rng.random(n_texts) < 0.8


def _expected(posts: pl.DataFrame, text_group: np.ndarray) -> pl.DataFrame:
    """Group, whether shared and id of every post by a group-by over the posts."""
    grouped = posts.with_row_index("row").with_columns(
        group=pl.Series(text_group[posts["text_id"].to_numpy()]),
        time=pl.col("created_at").dt.epoch("s"),
    )
    shared = (
        grouped.filter(pl.col("group") >= 0)
        .group_by("group")
        .agg(accounts=pl.col("account").n_unique(), n=pl.len(), first=pl.col("time").min())
        .filter(pl.col("accounts") >= 2)
        .sort(pl.col("n"), "first", "group", descending=[True, False, False])
        .with_row_index("group_id", offset=1)
        .select("group", pl.col("group_id").cast(pl.Int64))
    )
    return (
        grouped.join(shared, on="group", how="left")
        .sort("row")
        .select(
            shared_group=pl.when(pl.col("group_id").is_not_null()).then("group").otherwise(-1),
            group_id="group_id",
        )
    )


@settings(max_examples=80, deadline=None)
@given(grouped_posts())
def test_shared_groups_and_their_ids_are_those_of_a_group_by(case):
    posts, text_group, matchable = case
    indexed = _index_posts(posts, text_group, matchable)
    expected = _expected(posts, text_group)
    assert indexed["shared_group"].to_list() == expected["shared_group"].to_list()
    assert indexed["group_id"].to_list() == expected["group_id"].to_list()
    assert indexed["matchable"].to_list() == matchable[posts["text_id"].to_numpy()].tolist()
    assert indexed["time"].to_list() == posts["created_at"].dt.epoch("s").to_list()
