"""The synthetic world generator: determinism, schema, ground truth, scaling, and the text
properties detection relies on (spun variants are near-duplicates, unrelated texts not)."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detector.config import ScanConfig
from detector.ingest import iter_batches
from detector.synth import generate_world, load_scenarios, write_world
from detector.synth.__main__ import main
from detector.synth.bursts import support_wave
from detector.synth.campaigns import build_templates, ramp
from detector.synth.ledger import Ledger
from detector.synth.output import FORMATS
from detector.synth.text import Spinner
from detector.synth.world import plan

N_POSTS = 20_000
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def bigrams(text: str) -> set[str]:
    """Character bigrams within runs of CJK characters (what the detector shingles)."""
    return {run[i : i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}


def overlap(x: set[str], y: set[str]) -> float:
    return len(x & y) / len(x | y) if x or y else 0.0


def jaccard(a: str, b: str) -> float:
    return overlap(bigrams(a), bigrams(b))


@pytest.fixture(scope="module")
def world() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate_world(N_POSTS, seed=3)


@pytest.fixture(scope="module")
def scenarios() -> dict:
    return load_scenarios()


def test_same_seed_same_world_and_files(world, tmp_path):
    posts, truth = world
    again_posts, again_truth = generate_world(N_POSTS, seed=3)
    assert posts.equals(again_posts)
    assert truth.equals(again_truth)
    first = write_world(posts, truth, tmp_path / "a")
    second = write_world(again_posts, again_truth, tmp_path / "b")
    for name in ("posts", "truth"):
        assert first[name].read_bytes() == second[name].read_bytes()
    other, _ = generate_world(N_POSTS, seed=4)
    assert not posts["text"].equals(other["text"])


def test_schema(world):
    posts, _ = world
    assert posts.height == N_POSTS
    assert posts.schema == pl.Schema(
        {
            "post_id": pl.String,
            "account_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "text": pl.String,
            "urls": pl.List(pl.String),
            "hashtags": pl.List(pl.String),
            "repost_of": pl.String,
            "account_created_at": pl.Datetime("us", "UTC"),
        }
    )
    assert posts["post_id"].n_unique() == posts.height
    assert posts["created_at"].is_sorted()
    assert posts["text"].null_count() == posts["account_created_at"].null_count() == 0
    assert (posts["account_created_at"] <= posts["created_at"]).all()
    reposted = posts["repost_of"].drop_nulls().unique()
    assert reposted.is_in(posts["post_id"].implode()).all()
    assert not posts["hashtags"].explode().drop_nulls().str.starts_with("#").any()


def test_truth_covers_every_account(world):
    posts, truth = world
    assert truth["account_id"].n_unique() == truth.height
    assert set(truth["account_id"]) == set(posts["account_id"])
    assert set(truth["campaign"].drop_nulls()) == {
        "black_manuscript",
        "review_ring",
        "english_amplification",
    }
    assert set(truth["burst"].drop_nulls()) == {"support_wave", "fan_backlash", "official_repost"}
    assert truth.filter(pl.col("campaign").is_not_null() & pl.col("burst").is_not_null()).is_empty()


def test_campaign_accounts_scale(world, scenarios):
    _, truth = world
    counts = truth.group_by("campaign").len()
    black = counts.filter(pl.col("campaign") == "black_manuscript")["len"].item()
    assert black == plan(N_POSTS, scenarios).campaign_accounts >= 300
    assert plan(40_000, scenarios).campaign_accounts > 400
    scale = scenarios["black_manuscript"]["scale"]
    for n_posts in (300_000, 700_000, 10_000_000):
        assert ramp(n_posts, scale) == 10_000
    ring = counts.filter(pl.col("campaign") == "review_ring")["len"].item()
    assert 10 <= ring < 100


def test_campaign_mix_at_700k(scenarios):
    sizes = plan(700_000, scenarios)
    assert 100_000 <= sizes.support_posts <= 150_000
    assert 60_000 <= sizes.campaign_accounts * sizes.campaign_mean_posts <= 120_000
    assert 200 <= sizes.english_accounts <= 500


def test_spun_variants_are_near_duplicates_templates_are_not(scenarios):
    cfg = scenarios["black_manuscript"]
    rnd = random.Random(11)
    templates = build_templates(cfg, rnd)
    assert 30 <= len(templates) <= 60
    assert all(80 <= len("".join(t)) <= 250 for t in templates)
    spinner = Spinner(cfg["text"]["synonyms"])
    fillers = cfg["text"]["fillers"]
    variants = [
        [
            spinner.variant(t, rnd, rnd.uniform(*cfg["spin"]["swap_probability"]), True, f)
            for f in (None, rnd.choice(fillers), None, rnd.choice(fillers), None, None)
        ]
        for t in templates
    ]
    within = [jaccard(a, b) for group in variants for a, b in itertools.combinations(group, 2)]
    assert np.mean(np.array(within) >= 0.5) >= 0.9
    across = [jaccard(a[0], b[0]) for a, b in itertools.combinations(variants, 2)]
    assert max(across) < 0.5


def test_campaign_posts_in_world_cluster_by_template(world):
    posts, truth = world
    fake = truth.filter(pl.col("campaign") == "black_manuscript")["account_id"]
    texts = posts.filter(pl.col("account_id").is_in(fake.implode()))["text"].to_list()
    assert len(texts) >= 5 * len(fake)
    shingles = [b for b in map(bigrams, texts) if len(b) >= 20]  # the spun articles
    best = [
        max(overlap(x, y) for y in shingles[:i] + shingles[i + 1 :])
        for i, x in enumerate(shingles[:100])
    ]
    assert np.median(best) >= 0.5  # each article post has a near-duplicate sibling


def test_organic_posts_are_not_near_duplicates(world):
    posts, truth = world
    plain = truth.filter(pl.col("campaign").is_null() & pl.col("burst").is_null())["account_id"]
    texts = posts.filter(pl.col("account_id").is_in(plain.implode()))["text"].head(600).to_list()
    shingles = [b for b in map(bigrams, texts) if len(b) >= 5]
    pairs = [overlap(x, y) >= 0.5 for x, y in itertools.combinations(shingles, 2)]
    assert np.mean(pairs) < 1e-3


def test_support_wave_within_72_hours(scenarios):
    cfg = scenarios["support_wave"]
    rng = np.random.default_rng(5)
    posts, _, _ = support_wave(rng, cfg, Ledger(rng, 1_000), 5_000)
    start = datetime.fromisoformat(cfg["timing"]["start"]).timestamp()
    assert posts["ts"].min() >= start
    assert posts["ts"].max() < start + 72 * 3600
    counts = posts["text"].value_counts(sort=True)
    assert counts["count"][0] > 0.1 * posts.height  # the commonest slogan dominates
    assert posts.group_by("acct").len()["len"].max() <= 2


def test_support_wave_in_world(world, scenarios):
    posts, truth = world
    start = datetime(2025, 3, 29, 14, tzinfo=UTC)
    slogans = scenarios["support_wave"]["text"]["slogans"]
    wave = posts.filter(pl.col("text").is_in(slogans))
    assert wave.height > 0.05 * N_POSTS
    in_window = wave["created_at"].is_between(start, start + timedelta(hours=72))
    assert in_window.mean() > 0.99
    members = truth.filter(pl.col("burst") == "support_wave")["account_id"]
    assert wave["account_id"].is_in(members.implode()).mean() > 0.99


def test_official_reposts_share_one_source(world):
    posts, truth = world
    members = truth.filter(pl.col("burst") == "official_repost")["account_id"]
    reposts = posts.filter(
        pl.col("account_id").is_in(members.implode()), pl.col("repost_of").is_not_null()
    )
    assert reposts["repost_of"].n_unique() == 1
    assert reposts.height >= 0.9 * (members.len() - 1)


def test_english_links_are_distinct(world):
    posts, truth = world
    members = truth.filter(pl.col("campaign") == "english_amplification")["account_id"]
    english = posts.filter(pl.col("account_id").is_in(members.implode()))
    links = english["urls"].explode()
    assert links.len() == english.height
    assert links.n_unique() == links.len()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_cleanly(world, tmp_path, fmt):
    posts, truth = world
    small = posts.head(500)
    paths = write_world(small, truth, tmp_path, fmt)
    batches = list(iter_batches([paths["posts"]], ScanConfig()))
    assert sum(b.posts.height for b in batches) == small.height
    assert sum(b.rejects.height for b in batches) == 0


def test_command_line(tmp_path, capsys):
    main(["--posts", "12000", "--seed", "2", "--out", str(tmp_path), "--format", "jsonl.gz"])
    assert (tmp_path / "posts.jsonl.gz").is_file()
    truth = pl.read_csv(tmp_path / "truth.csv", schema_overrides={"account_id": pl.String})
    assert truth.height > 0
    assert "12000 posts" in capsys.readouterr().out


def test_too_small_a_world_is_refused():
    with pytest.raises(ValueError, match="too few"):
        generate_world(1_000)
