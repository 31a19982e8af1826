"""The trace world: schema, determinism, every family present, and the behaviours each
family is modelled on (repost-network orders land within seconds, fan reposts trail by a
heavy-tailed delay, campaign accounts mix bought old accounts with batch sign-ups, link
networks write the same article's URL in many forms)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from detector.synth import generate_trace_world
from detector.synth.scenarios import ScenarioError
from detector.synth.traces import COORDINATED, FAMILIES, load_traces

N_POSTS = 40_000
SCHEMA = {
    "post_id": pl.String,
    "account_id": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "text": pl.String,
    "urls": pl.List(pl.String),
    "hashtags": pl.List(pl.String),
    "repost_of": pl.String,
    "reply_to": pl.String,
    "account_created_at": pl.Datetime("us", "UTC"),
}


@pytest.fixture(scope="module")
def world() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate_trace_world(N_POSTS, seed=5)


@pytest.fixture(scope="module")
def labelled(world) -> pl.DataFrame:
    posts, truth = world
    return posts.join(truth, on="account_id").with_columns(family=pl.coalesce("campaign", "burst"))


def family(labelled: pl.DataFrame, name: str) -> pl.DataFrame:
    return labelled.filter(pl.col("family") == name)


def test_same_seed_same_world(world):
    posts, truth = world
    again_posts, again_truth = generate_trace_world(N_POSTS, seed=5)
    assert posts.equals(again_posts)
    assert truth.equals(again_truth)
    other, _ = generate_trace_world(N_POSTS, seed=6)
    assert not posts.equals(other)


def test_schema_and_ids(world):
    posts, truth = world
    assert posts.schema == pl.Schema(SCHEMA)
    assert posts.height == N_POSTS
    assert truth.columns == ["account_id", "campaign", "burst"]
    assert posts["post_id"].n_unique() == N_POSTS
    assert posts["created_at"].is_sorted()
    assert truth["account_id"].is_sorted()
    assert set(posts["account_id"]) == set(truth["account_id"])
    both = truth.filter(pl.col("campaign").is_not_null() & pl.col("burst").is_not_null())
    assert both.height == 0
    # reposts and replies point at earlier posts; a few at posts deleted from the dump
    refs = pl.concat([posts["repost_of"].drop_nulls(), posts["reply_to"].drop_nulls()])
    assert refs.len() > 0.3 * N_POSTS
    present = refs.is_in(posts["post_id"].implode())
    assert present.mean() > 0.9
    assert not present.all()
    ids = posts.select(pl.col("post_id").cast(pl.Int64), pl.col("repost_of").cast(pl.Int64))
    assert ids.filter(pl.col("repost_of") >= pl.col("post_id")).height == 0


def test_every_family_present_and_background_share(world, labelled):
    _, truth = world
    assert set(truth["campaign"].drop_nulls()) == set(COORDINATED)
    assert set(truth["burst"].drop_nulls()) == set(FAMILIES) - set(COORDINATED)
    counts = dict(labelled.group_by("family").len().iter_rows())
    assert all(counts[name] > 200 for name in FAMILIES)
    assert counts[None] > 0.15 * N_POSTS


def test_too_small_world_is_refused():
    with pytest.raises(ValueError):
        generate_trace_world(5_000)


def test_bad_seed_file_is_rejected(tmp_path):
    import shutil

    from detector.synth.scenarios import DEFAULT_DIR

    for path in DEFAULT_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    assert set(load_traces(tmp_path)) == {*FAMILIES, "organic_background"}
    target = tmp_path / "trace_idol_fans.toml"
    good = target.read_text()
    target.write_text(good.replace("devoted_share = 0.05", "devoted_share = 5"))
    with pytest.raises(ScenarioError, match="devoted_share"):
        load_traces(tmp_path)
    target.write_text(good.replace("[timing]", "[timing_]"))
    with pytest.raises(ScenarioError, match="lacks timing"):
        load_traces(tmp_path)
    target.write_text(good)
    (tmp_path / "trace_viral_post.toml").unlink()
    with pytest.raises(ScenarioError, match="missing"):
        load_traces(tmp_path)


def test_repost_network_orders_land_within_seconds(labelled):
    reposts = (
        family(labelled, "repost_network")
        .filter(pl.col("repost_of").is_not_null())
        .sort("created_at")
        .with_columns(gap=pl.col("created_at").diff().dt.total_seconds().over("repost_of"))
    )
    orders = reposts.group_by("repost_of").agg(
        n=pl.len(),
        first=pl.col("created_at").min(),
        span=(pl.col("created_at").max() - pl.col("created_at").min()).dt.total_seconds(),
    )
    assert orders.height >= 40
    assert orders["n"].median() > 30
    # one repost after another, seconds apart; the whole order done within half an hour
    assert reposts["gap"].median() <= 10
    assert reposts["gap"].max() <= 20
    assert orders["span"].max() <= 1800
    # the first repost 5-120 s after the target appeared
    posted = labelled.select(repost_of="post_id", posted="created_at")
    lag = orders.join(posted, on="repost_of").select(
        (pl.col("first") - pl.col("posted")).dt.total_seconds()
    )["first"]
    assert lag.len() == orders.height
    assert lag.min() >= 5
    assert lag.max() <= 125
    # members take part in only some orders, and post ordinary things too
    per_member = reposts.group_by("account_id").len()["len"]
    assert per_member.min() < 0.5 * orders.height < per_member.max()
    members = family(labelled, "repost_network")
    own = members.filter(pl.col("repost_of").is_null() & (pl.col("text").str.len_chars() > 0))
    assert own["account_id"].n_unique() > 0.5 * members["account_id"].n_unique()
    # most targets are posts by the operation's own seed accounts, which are in the dump
    targets = labelled.filter(pl.col("post_id").is_in(orders["repost_of"].implode()))
    assert (targets["family"] == "repost_network").mean() > 0.6


def test_idol_fan_delays_are_heavy_tailed(labelled):
    fans = family(labelled, "idol_fans")
    posts = fans.filter(pl.col("repost_of").is_null()).select("post_id", "account_id")
    idol = posts.group_by("account_id").len().sort("len")["account_id"][-1]
    originals = labelled.filter(pl.col("account_id") == idol).select(
        repost_of="post_id", posted="created_at"
    )
    delays = fans.join(originals, on="repost_of").select(
        delay=(pl.col("created_at") - pl.col("posted")).dt.total_seconds()
    )["delay"]
    assert delays.len() > 1000
    assert 10 * 60 <= delays.median() <= 3 * 3600
    assert (delays <= 60).mean() > 0.02  # a devoted few within seconds
    assert delays.quantile(0.95) > 5 * delays.median()  # and a long tail


def test_fans_include_new_accounts_campaigns_old_ones(world, labelled):
    posts, _ = world
    end = posts["created_at"].max()
    accounts = labelled.group_by("account_id").agg(
        pl.col("family").first(), created=pl.col("account_created_at").first()
    )
    fans = accounts.filter(pl.col("family") == "idol_fans")
    year_before = end.replace(year=end.year - 1)
    assert (fans["created"] > year_before).mean() > 0.1
    for name in COORDINATED:
        members = accounts.filter(pl.col("family") == name)
        old = (members["created"] < datetime(2023, 1, 1, tzinfo=UTC)).mean()
        assert 0.2 < old < 0.7, name  # bought aged accounts beside batch sign-ups


def test_link_network_urls_vary_in_surface_form(labelled):
    links = family(labelled, "link_network").explode("urls").drop_nulls("urls")["urls"]
    assert links.str.starts_with("http://").any()
    assert links.str.starts_with("https://").any()
    assert links.str.contains("://www.").any()
    assert links.str.contains("utm_source=").any()
    assert links.str.contains("#").any()
    # the same article under several forms: strip scheme, www, query and fragment
    bare = links.str.replace(r"^https?://(www\.)?", "").str.replace(r"[?#].*$", "")
    bare = bare.str.strip_suffix("/")
    forms = (
        pl.DataFrame({"bare": bare, "url": links})
        .filter(pl.col("bare").str.count_matches("/") >= 3)  # articles, not short links
        .group_by("bare")
        .agg(pl.col("url").n_unique(), posts=pl.len())
        .filter(pl.col("posts") >= 10)
    )
    assert forms.height >= 5
    assert forms["url"].median() >= 5
    # each article has one short form, reached over http or https
    short = links.filter(bare.str.count_matches("/") == 1)
    assert 0.1 < short.len() / links.len() < 0.5
    texts = family(labelled, "link_network").filter(pl.col("urls").list.len() > 0)["text"]
    assert texts.n_unique() > 0.95 * texts.len()


def test_default_text_links_are_one_page_once_normalised(labelled):
    apps = load_traces()["default_texts"]["text"]["apps"]
    links = family(labelled, "default_texts").explode("urls").drop_nulls("urls")["urls"]
    links = links.filter(links.str.contains("|".join(a["url"] for a in apps)))  # not everyday
    assert links.len() > 1000
    assert links.n_unique() > 2 * len(apps)  # share buttons add parameters, slashes, fragments
    pages = links.str.replace(r"[?#].*$", "").str.strip_suffix("/").n_unique()
    assert pages == len(apps)


def test_command_line_writes_a_trace_world(tmp_path, capsys):
    from detector.synth.__main__ import main

    main(
        [
            "--traces",
            "--posts",
            "30000",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--format",
            "parquet",
        ]
    )
    posts = pl.read_parquet(tmp_path / "posts.parquet")
    assert posts.height == 30_000
    assert "reply_to" in posts.columns
    truth = pl.read_csv(tmp_path / "truth.csv", schema_overrides={"account_id": pl.String})
    assert set(truth["campaign"].drop_nulls()) == set(COORDINATED)
    assert "30000 posts" in capsys.readouterr().out


def test_other_families_behave(labelled):
    hijack = family(labelled, "hashtag_hijack").filter(pl.col("hashtags").list.len() >= 2)
    assert hijack["text"].n_unique() > 0.95 * hijack.height
    trending = family(labelled, "trending_hashtag").filter(
        pl.col("hashtags").list.contains("高考加油")
    )
    assert trending.height > 1000
    assert trending.group_by("account_id").len()["len"].max() == 1
    assert trending["text"].n_unique() > 0.95 * trending.height
    viral = family(labelled, "viral_post")
    assert viral["reply_to"].drop_nulls().len() > 0.1 * viral.height
    defaults = family(labelled, "default_texts")
    assert defaults["text"].str.contains("@").any()
    assert defaults["text"].str.contains("转发微博").any()
    assert family(labelled, "idol_fans")["text"].str.contains(" @").any()
