"""End to end on the co-sharing families (``generate_trace_world``): networks that repost,
push links or hijack hashtags together are flagged; fandoms, viral crowds, trending tags and
product default texts are not."""

import polars as pl
import pytest

from detector.pipeline import scan
from detector.synth import generate_trace_world

CAMPAIGNS = {"repost_network": 0.95, "link_network": 0.9, "hashtag_hijack": 0.9}
AUTHENTIC = ("idol_fans", "viral_post", "trending_hashtag", "default_texts")


@pytest.fixture(scope="module")
def result_and_truth(tmp_path_factory):
    posts, truth = generate_trace_world(100_000, seed=11)
    path = tmp_path_factory.mktemp("traces") / "posts.parquet"
    posts.write_parquet(path)
    return scan(path), truth


@pytest.fixture(scope="module")
def verdicts(result_and_truth):
    result, truth = result_and_truth
    return truth.join(result.accounts, on="account_id", how="left").with_columns(
        pl.col("flagged").fill_null(False)
    )


@pytest.mark.parametrize(("campaign", "min_recall"), CAMPAIGNS.items())
def test_coordinated_families_are_flagged(verdicts, campaign, min_recall):
    members = verdicts.filter(pl.col("campaign") == campaign)
    assert members.height >= 50
    assert members["flagged"].mean() >= min_recall


@pytest.mark.parametrize("family", AUTHENTIC)
def test_authentic_families_are_not_flagged(verdicts, family):
    participants = verdicts.filter((pl.col("burst") == family) & pl.col("campaign").is_null())
    assert participants.height >= 100
    assert participants["flagged"].mean() <= 0.002


def test_precision(verdicts):
    flagged = verdicts.filter(pl.col("flagged"))
    assert flagged.height > 0
    assert flagged["campaign"].is_not_null().mean() >= 0.99


def test_clusters_name_the_traces_that_hold_them(result_and_truth, verdicts):
    result, _ = result_and_truth
    expected = {"repost_network": "repost", "link_network": "url", "hashtag_hijack": "hashtag"}
    for campaign, trace in expected.items():
        cluster = (
            verdicts.filter((pl.col("campaign") == campaign) & pl.col("flagged"))["cluster_id"]
            .mode()
            .first()
        )
        row = result.clusters.filter(pl.col("cluster_id") == cluster).row(0, named=True)
        assert trace in row["traces"], (campaign, row["traces"])
        assert not any("spun variants" in reason for reason in row["reasons"]) or (
            "text" in row["traces"]
        )
