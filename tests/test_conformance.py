"""Co-share semantics against the peers, on their own data in ``../shared/data/``.

coordination-network-toolkit's co-retweet edge weight is, for a pair, the larger over the two
accounts of the number of its posts that the other reposted too within the window (our
``co_posts``); ``--min-co-shares`` filters on it. ``shared`` counts distinct objects instead:
the two differ only when an account reposts one object more than once. Counts are exact
when ``neighbours`` exceeds the crowding of any object's window, hence ``neighbours=1000``.
"""

from pathlib import Path

import polars as pl
import pytest

from detector.pipeline import scan

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUT = DATA / "qut_coretweet_test_input.csv"
COORTWEET = DATA / "coortweet_russian_coord_tweets.parquet"
QUT_COLUMNS = {
    "post_id": "message_id",
    "account_id": "user_id",
    "repost_of": "repost_id",
    "reply_to": "reply_id",
    "text": "message",
    "created_at": "timestamp",
}
EXACT = {"traces": "repost", "min_repeat": 1, "neighbours": 1000, "write_graph": True}


def need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    return path


def co_retweet(path: Path, window: int, **options) -> pl.DataFrame:
    result = scan(need(path), windows={"repost": window}, **EXACT, **options)
    # CooRTweet's file repeats 40 post ids (some with another repost_of): the first is kept.
    assert result.rejects["reason"].str.starts_with("duplicate post_id").all()
    return result.edges.filter(pl.col("trace") == "repost")


def pairs(edges: pl.DataFrame) -> set[tuple[str, str]]:
    return set(edges.select("source", "target").iter_rows())


def accounts(edges: pl.DataFrame) -> int:
    return pl.concat([edges["source"], edges["target"]]).n_unique()


def test_toolkit_fixture_at_60_seconds():
    edges = co_retweet(QUT, 60, columns=QUT_COLUMNS)
    assert pairs(edges) == {("uid0", "uid1"), ("uid2", "uid3"), ("uid4", "uid5")}
    both = edges.filter((pl.col("source") == "uid4") & (pl.col("target") == "uid5"))
    assert both["shared"].to_list() == [2] and both["co_posts"].to_list() == [2]


def test_toolkit_fixture_at_1_second():
    assert pairs(co_retweet(QUT, 1, columns=QUT_COLUMNS)) == {("uid4", "uid5")}


def test_coortweet_at_min_weight_1_matches_the_toolkit():
    edges = co_retweet(COORTWEET, 60)
    assert (edges.height, accounts(edges)) == (6_206, 3_954)


def test_coortweet_at_min_weight_2_matches_the_toolkit():
    edges = co_retweet(COORTWEET, 60, min_co_shares=2)
    assert (edges.height, accounts(edges)) == (63, 97)


def test_a_repost_only_dump_makes_clusters_with_default_options():
    result = scan(need(COORTWEET))
    assert result.summary["clusters"] > 0
    assert result.summary["graph_edges_by_trace"]["repost"] > 0
    assert all(traces == ["repost"] for traces in result.clusters["traces"].to_list())
