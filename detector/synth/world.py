"""Assemble a synthetic world: every scenario sized for the requested number of posts,
merged, time-sorted, given realistic ids, with the ground truth per account.

Sizes (documented in seeds/README.md): the authentic bursts take fixed shares of the
posts; the black-manuscript network has its full ~10,000 accounts from 300k posts on and
fewer (never under 300) below; the review ring is always a few tens of accounts; the
organic background fills whatever remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from detector.synth import bursts, campaigns, organic
from detector.synth.ledger import Ledger
from detector.synth.scenarios import Scenario, load_scenarios

TIME = pl.Datetime("us", "UTC")
POST_ID_BASE = 5_100_000_000_000_000  # 16-digit ids that grow with time, like Weibo's
ACCOUNT_ID_BASE = 1_000_000_000
MIN_ORGANIC_SHARE = 0.2


@dataclass(frozen=True)
class Plan:
    """How big each scenario is in a world of ``n_posts`` posts."""

    n_posts: int
    support_posts: int
    backlash_posts: int
    official_posts: int
    campaign_accounts: int
    campaign_mean_posts: float
    english_accounts: int
    organic_accounts: int


def plan(n_posts: int, scenarios: dict[str, Scenario]) -> Plan:
    """Scenario sizes for ``n_posts`` (see the module docstring)."""
    campaign = scenarios["black_manuscript"]["scale"]
    growth = min(1.0, n_posts / campaign["mean_full_at"])
    mean_posts = campaign["mean_posts_small"] + growth * (
        campaign["mean_posts_full"] - campaign["mean_posts_small"]
    )
    background = scenarios["organic_background"]["scale"]
    support = round(n_posts * scenarios["support_wave"]["scale"]["share_of_posts"])
    backlash = round(n_posts * scenarios["fan_backlash"]["scale"]["share_of_posts"])
    official = round(n_posts * scenarios["official_repost"]["scale"]["share_of_posts"])
    accounts = campaigns.ramp(n_posts, campaign)
    english_scale = scenarios["english_amplification"]["scale"]
    english = campaigns.ramp(n_posts, english_scale)
    english_posts = english * sum(english_scale["posts_per_account"]) / 2
    others = support + backlash + official + accounts * mean_posts + english_posts
    return Plan(
        n_posts=n_posts,
        support_posts=support,
        backlash_posts=backlash,
        official_posts=official,
        campaign_accounts=accounts,
        campaign_mean_posts=mean_posts,
        english_accounts=english,
        organic_accounts=max(1, round((n_posts - others) / background["posts_per_account_mean"])),
    )


def generate_world(
    n_posts: int, seed: int = 7, seeds_dir: Path | None = None, evasion: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A world of exactly ``n_posts`` posts and its ground truth, deterministic in
    (``n_posts``, ``seed``, the scenario files, ``evasion``).

    Returns (posts, truth): posts with post_id, account_id, created_at, text, urls,
    hashtags, repost_of, account_created_at, sorted by time; truth with account_id,
    campaign (inauthentic accounts) and burst (authentic burst participants).
    """
    scenarios = load_scenarios(seeds_dir)
    sizes = plan(n_posts, scenarios)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    ev = scenarios["evasion"] if evasion else None
    background_cfg = scenarios["organic_background"]
    composer = organic.Composer(background_cfg)
    ledger = Ledger(rngs[0], sizes.organic_accounts)
    account_parts = [organic.background_accounts(rngs[0], background_cfg, sizes.organic_accounts)]
    post_parts, labels = [], []
    for build, rng, name, n in (
        (bursts.support_wave, rngs[1], "support_wave", sizes.support_posts),
        (bursts.fan_backlash, rngs[2], "fan_backlash", sizes.backlash_posts),
        (bursts.official_repost, rngs[3], "official_repost", sizes.official_posts),
    ):
        posts, new, borrowed = build(rng, scenarios[name], ledger, n)
        post_parts.append(posts)
        account_parts.append(new)
        labels.append(borrowed)
    for posts, new in (
        campaigns.black_manuscript(
            rngs[4],
            scenarios["black_manuscript"],
            ev,
            ledger,
            sizes.campaign_accounts,
            sizes.campaign_mean_posts,
            composer,
        ),
        campaigns.review_ring(rngs[5], scenarios["review_ring"], ev, ledger),
        campaigns.english_amplification(
            rngs[6], scenarios["english_amplification"], ev, ledger, sizes.english_accounts
        ),
    ):
        post_parts.append(posts)
        account_parts.append(new)
    remaining = n_posts - sum(p.height for p in post_parts)
    if remaining < MIN_ORGANIC_SHARE * n_posts:
        raise ValueError(f"{n_posts} posts is too few for every scenario; ask for more")
    post_parts.append(
        organic.background(rngs[7], background_cfg, composer, sizes.organic_accounts, remaining)
    )
    return assemble(rngs[8], pl.concat(post_parts), pl.concat(account_parts), pl.concat(labels))


def assemble(
    rng: np.random.Generator, posts: pl.DataFrame, accounts: pl.DataFrame, labels: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sort by time, give ids, resolve reposts (and replies, when posts have a ``reply``
    column), drop ``hidden`` posts (deleted since; what pointed at them keeps the id),
    attach account data, and build the truth."""
    n = posts.height
    posts = posts.with_columns(tie=pl.Series(rng.permutation(n))).sort("ts", "tie")
    post_id = POST_ID_BASE + np.arange(n, dtype=np.int64) * 8 + rng.integers(0, 8, n)
    posts = posts.with_columns(post_id=pl.Series(post_id).cast(pl.String))
    anchors = posts.filter(pl.col("anchor").is_not_null())
    targets = {"repost_of": "repost", "reply_to": "reply"}
    targets = {name: column for name, column in targets.items() if column in posts.columns}
    posts = posts.with_columns(
        pl.col(column)
        .replace_strict(anchors["anchor"], anchors["post_id"], default=None, return_dtype=pl.String)
        .alias(name)
        for name, column in targets.items()
    )
    if "hidden" in posts.columns:
        posts = posts.filter(~pl.col("hidden"))
    n_accounts = int(accounts["acct"].max()) + 1
    account_id = ACCOUNT_ID_BASE + rng.permutation(n_accounts).astype(np.int64) * 64
    account_id += rng.integers(0, 64, n_accounts)
    borrowed = labels.select("acct", borrowed_burst="burst")
    accounts = (
        accounts.with_columns(
            account_id=pl.Series(account_id).cast(pl.String).gather(accounts["acct"]),
            account_created_at=pl.from_epoch("created", time_unit="s").dt.replace_time_zone("UTC"),
        )
        .join(borrowed, on="acct", how="left")
        .with_columns(burst=pl.coalesce("burst", "borrowed_burst"))
        .drop("borrowed_burst")
    )
    posts = posts.join(
        accounts.select("acct", "account_id", "account_created_at"),
        on="acct",
        how="left",
        maintain_order="left",
    ).select(
        "post_id",
        "account_id",
        pl.from_epoch("ts", time_unit="s")
        .dt.replace_time_zone("UTC")
        .cast(TIME)
        .alias("created_at"),
        "text",
        "urls",
        "hashtags",
        *targets,
        pl.col("account_created_at").cast(TIME),
    )
    truth = (
        accounts.join(posts.select("account_id").unique(), on="account_id", how="semi")
        .select("account_id", "campaign", "burst")
        .sort("account_id")
    )
    return posts, truth
