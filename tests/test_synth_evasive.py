"""The evasion world (``generate_evasion_world``): determinism, shape, every family present
at a plausible size, and the behaviours each family is modelled on, in particular that the
campaign and authentic classes overlap in what a scorer reads (account age, creation
batches, posts per account, ordinary posts). Generator properties only: detection figures
are measured by ``benchmarks/evasive.py``."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import polars as pl
import pytest

from detector.synth import generate_evasion_world
from detector.synth.evasive import AUTHENTIC, COORDINATED, FAMILIES, load_evasive
from detector.synth.scenarios import DEFAULT_DIR, ScenarioError

N_POSTS = 60_000
OLD = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate_evasion_world(N_POSTS, seed=3)


@pytest.fixture(scope="module")
def labelled(world) -> pl.DataFrame:
    posts, truth = world
    return posts.join(truth, on="account_id").with_columns(family=pl.coalesce("campaign", "burst"))


@pytest.fixture(scope="module")
def per_account(labelled) -> pl.DataFrame:
    return labelled.group_by("account_id").agg(
        pl.col("family").first(), posts=pl.len(), created=pl.col("account_created_at").first()
    )


def members(per_account: pl.DataFrame, name: str) -> pl.DataFrame:
    return per_account.filter(pl.col("family") == name)


def test_same_seed_same_world(world):
    posts, truth = world
    again_posts, again_truth = generate_evasion_world(N_POSTS, seed=3)
    assert posts.equals(again_posts)
    assert truth.equals(again_truth)
    assert not posts.equals(generate_evasion_world(N_POSTS, seed=4)[0])


def test_exact_size_and_truth_covers_every_account(world):
    posts, truth = world
    assert posts.height == N_POSTS
    assert posts["post_id"].n_unique() == N_POSTS
    assert posts["created_at"].is_sorted()
    assert truth.columns == ["account_id", "campaign", "burst"]
    assert set(posts["account_id"]) == set(truth["account_id"])
    assert truth.filter(pl.col("campaign").is_not_null() & pl.col("burst").is_not_null()).is_empty()


def test_every_family_present_at_a_plausible_size(world, per_account):
    _, truth = world
    assert set(truth["campaign"].drop_nulls()) == set(COORDINATED)
    assert set(truth["burst"].drop_nulls()) == set(AUTHENTIC)
    sizes = dict(per_account.group_by("family").len().iter_rows())
    assert all(sizes[name] >= 50 for name in FAMILIES), sizes
    assert sizes["one_shot_blast"] > 5 * sizes["heavy_rewording"]  # thousands, scaled down
    assert sizes["slogan_wave"] > 1000
    assert sizes["news_outlets"] == load_evasive()["news_outlets"]["scale"]["outlets"]
    assert sizes[None] > 0.1 * truth.height


def test_one_shot_accounts_post_once_within_a_day(labelled):
    timing = load_evasive()["one_shot_blast"]["timing"]
    start = datetime.fromisoformat(timing["start"].replace("Z", "+00:00"))
    blast = labelled.filter(pl.col("family") == "one_shot_blast")
    window = blast.filter(pl.col("created_at") >= start)
    assert window["account_id"].n_unique() == blast["account_id"].n_unique()
    assert window.group_by("account_id").len()["len"].max() == 1
    span = window["created_at"].max() - window["created_at"].min()
    assert span.total_seconds() <= timing["hours"] * 3600
    assert window["text"].n_unique() > 0.95 * window.height  # a rewording per account


def test_pickup_copiers_copy_but_are_not_members(world, labelled):
    _, truth = world
    copiers = truth.filter(pl.col("burst") == "pickup_copiers")
    assert copiers.height > 100
    assert copiers["campaign"].is_null().all()
    campaign = labelled.filter(pl.col("family") == "pickup")["text"]
    copies = labelled.filter(pl.col("family") == "pickup_copiers")["text"]
    made = load_evasive()["pickup"]["copiers"]["share_of_posts"] * N_POSTS
    verbatim = copies.is_in(campaign.implode()).sum()
    assert 0.2 < verbatim / made < 0.8  # verbatim or with a comment of their own
    per_copier = labelled.filter(
        (pl.col("family") == "pickup_copiers") & pl.col("text").is_in(campaign.implode())
    ).group_by("account_id")
    assert per_copier.len()["len"].max() <= 2


def test_heavy_rewording_is_disguised(labelled):
    texts = labelled.filter(pl.col("family") == "heavy_rewording")["text"]
    assert texts.str.contains("[\u200b\u200c\u200d\u2060]").any()  # invisible characters
    assert texts.str.contains("[А-я]").any()  # Cyrillic look-alikes
    assert texts.str.contains("[Ａ-ｚ０-９]").any()  # fullwidth forms
    assert texts.str.contains(r"[\u4e00-\u9fff][ ·/丶*_.][\u4e00-\u9fff]").mean() > 0.2


def test_short_code_spam_is_short_with_changing_codes(labelled):
    spam = labelled.filter(
        (pl.col("family") == "short_code_spam") & (pl.col("text").str.len_chars() < 20)
    )
    assert spam.height > 500
    assert spam["text"].n_unique() > 0.9 * spam.height
    assert spam.group_by("account_id").len()["len"].median() >= 5


def test_campaign_accounts_look_ordinary_in_places(per_account):
    for name in ("heavy_rewording", "one_shot_blast", "slow_burn", "pickup"):
        old = (members(per_account, name)["created"] < OLD).mean()
        assert 0.1 < old < 0.6, name  # bought accounts beside batch sign-ups
    aged = members(per_account, "aged_accounts")
    assert (aged["created"] < OLD).all()
    assert aged["posts"].median() > 15  # years of ordinary history
    heavy = members(per_account, "heavy_rewording")["posts"]
    waves = load_evasive()["heavy_rewording"]["waves"]["posts_per_account"]
    assert (heavy > waves[1]).any()  # ordinary posts between waves


def test_authentic_accounts_look_like_campaigns_in_places(per_account):
    surge = members(per_account, "signup_surge")["created"]
    assert (surge.max() - surge.min()).days <= 7  # one launch week
    for name in ("slogan_wave", "slogan_own_words", "default_share_text"):
        new = (members(per_account, name)["created"] > datetime(2025, 1, 1, tzinfo=UTC)).mean()
        assert new > 0.05, name  # sign-ups around the event
    assert (members(per_account, "slogan_own_words")["posts"] >= 2).mean() > 0.2
    news = members(per_account, "news_outlets")
    assert (news["created"] < OLD).all()
    assert news["posts"].min() > 10


def test_news_outlets_run_the_same_headlines_within_minutes(labelled):
    news = labelled.filter(pl.col("family") == "news_outlets").with_columns(
        headline=pl.col("text")
        .str.replace(r"^(【[^】]*】|#[^#]*#|突发！)", "")
        .str.replace(r"\s.*$", "")
    )
    stories = news.group_by("headline").agg(
        n=pl.len(), span=(pl.col("created_at").max() - pl.col("created_at").min())
    )
    shared = stories.filter(pl.col("n") >= 10)
    assert shared.height >= 20
    assert shared["span"].median().total_seconds() < 3600


def test_too_small_world_is_refused():
    with pytest.raises(ValueError):
        generate_evasion_world(5_000)


def test_bad_seed_file_is_rejected(tmp_path):
    for path in DEFAULT_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "evasive_pickup.toml"
    good = target.read_text()
    target.write_text(good.replace("verbatim_share = 0.5", "verbatim_share = 2"))
    with pytest.raises(ScenarioError, match="verbatim_share"):
        load_evasive(tmp_path)
    target.write_text(good)
    (tmp_path / "evasive_slow_burn.toml").unlink()
    with pytest.raises(ScenarioError, match="missing"):
        load_evasive(tmp_path)
