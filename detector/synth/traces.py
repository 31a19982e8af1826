"""A "trace world": the organic background plus seven families modelled on how real
coordinated operations and real authentic crowds behave, so that classes differ in what
a coordination scorer reads (how exactly accounts co-share, how exclusively, how often the
same pairs recur, how fast) and not only in posts per account, account age or batches.

Coordinated (truth ``campaign``): ``repost_network`` (dashboard-driven mass reposts within
seconds), ``link_network`` (bursts of article links on campaign domains, written in many
surface forms), ``hashtag_hijack`` (synchronised bursts riding trending hashtags).
Authentic (truth ``burst``): ``idol_fans`` (a fandom reposting its idol for weeks),
``viral_post`` (mass reposts and replies of a few posts within hours),
``trending_hashtag`` (one own post each on a hashtag's day), ``default_texts`` (app
share-button texts). Figures live in ``seeds/trace_*.toml``; see ``seeds/README.md``.
"""

from __future__ import annotations

import math
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from detector.synth import organic, trace_families
from detector.synth.ledger import Ledger
from detector.synth.scenarios import DEFAULT_DIR, REQUIRED, Scenario, ScenarioError, epoch
from detector.synth.world import assemble

FAMILIES = (
    "repost_network",
    "link_network",
    "hashtag_hijack",
    "idol_fans",
    "viral_post",
    "trending_hashtag",
    "default_texts",
)
COORDINATED = FAMILIES[:3]
ORGANIC_SHARE = 0.36  # share of posts the background is sized for (its account count)
MIN_ORGANIC_SHARE = 0.25  # below this the world is refused as too small

# What each trace file must hold, by dotted key: "share" in [0, 1], "range" [lo, hi] with
# 0 <= lo <= hi, "count" a positive integer, "number" a positive number, "time" ISO 8601,
# "pool" a non-empty list of strings or a word-pool string, "text" a non-empty string,
# "batches" a non-empty list of {start, days}, "apps" a non-empty list of
# {name, url, handle, weight}.
_COORDINATED_ACCOUNTS = {
    "accounts.aged_share": "share",
    "accounts.aged_from": "time",
    "accounts.aged_to": "time",
    "accounts.ordinary_posts": "range",
    "accounts.batches": "batches",
}
_RAMP = {
    "scale.accounts_full": "count",
    "scale.full_at": "count",
    "scale.ramp_power": "number",
    "scale.accounts_min": "count",
}
SCHEMA: dict[str, dict[str, str]] = {
    "repost_network": {
        **_RAMP,
        **_COORDINATED_ACCOUNTS,
        "scale.orders": "range",
        "scale.seed_accounts": "range",
        "accounts.activity": "range",
        "orders.start": "time",
        "orders.weeks": "number",
        "orders.participation": "range",
        "orders.fire_seconds": "range",
        "orders.gap_seconds": "range",
        "orders.workers": "range",
        "orders.popular_share": "share",
        "popular.organic_reposts_median": "number",
        "popular.organic_reposts_sigma": "number",
        "popular.delay_median_minutes": "number",
        "popular.delay_sigma": "number",
        "popular.empty_share": "share",
        "popular.comments": "pool",
        "text.empty_share": "share",
        "text.comments": "pool",
        "text.sources": "pool",
    },
    "link_network": {
        **_RAMP,
        **_COORDINATED_ACCOUNTS,
        "scale.articles": "range",
        "scale.domains": "range",
        "scale.bursts": "range",
        "timing.start": "time",
        "timing.days": "number",
        "timing.burst_seconds": "count",
        "timing.posts_per_account": "range",
        "timing.urls_per_burst": "range",
        "timing.participation": "range",
        "links.domains": "pool",
        "links.sections": "pool",
        "links.shorteners": "pool",
        "links.short_share": "share",
        "links.http_share": "share",
        "links.www_share": "share",
        "links.utm_share": "share",
        "links.fragment_share": "share",
        "links.slash_share": "share",
        "links.utm_sources": "pool",
        "links.utm_mediums": "pool",
        "links.utm_campaigns": "pool",
        "links.fragments": "pool",
    },
    "hashtag_hijack": {
        **_RAMP,
        **_COORDINATED_ACCOUNTS,
        "scale.bursts": "range",
        "accounts.activity": "range",
        "timing.start": "time",
        "timing.weeks": "number",
        "timing.participation": "range",
        "timing.burst_seconds": "range",
        "timing.hijack_delay_hours": "range",
        "text.campaign_tags": "pool",
        "text.trending": "pool",
        "text.openers": "pool",
        "text.claims": "pool",
        "text.closers": "pool",
        "text.marks": "pool",
    },
    "idol_fans": {
        "scale.share_of_posts": "share",
        "scale.idol_posts": "range",
        "scale.full_at": "count",
        "scale.fans_min": "count",
        "scale.repost_share": "range",
        "scale.share_beta": "range",
        "scale.hyper_share": "share",
        "scale.hyper_repost_share": "range",
        "scale.devoted_share": "share",
        "scale.devoted_seconds": "range",
        "scale.delay_median_minutes": "number",
        "scale.delay_sigma": "number",
        "scale.ordinary_posts": "range",
        "scale.hidden_share": "share",
        "accounts.idol_created": "time",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "accounts.surge_start": "time",
        "accounts.surge_days": "number",
        "accounts.surge_share": "share",
        "timing.start": "time",
        "timing.weeks": "number",
        "text.idol": "text",
        "text.idol_patterns": "pool",
        "text.empty_share": "share",
        "text.emoji_share": "share",
        "text.mention_share": "share",
        "text.comments": "pool",
        "text.emoji": "pool",
        "text.handle_heads": "pool",
        "text.handle_tails": "pool",
        "text.pools.greet": "pool",
        "text.pools.body": "pool",
        "text.pools.sign": "pool",
    },
    "viral_post": {
        "scale.share_of_posts": "share",
        "scale.borrowed_share": "share",
        "scale.second_share": "share",
        "scale.reply_share": "share",
        "scale.posts": "range",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "accounts.author_created": "time",
        "timing.starts": "pool",
        "timing.hours": "number",
        "timing.decay_hours": "number",
        "timing.min_seconds": "count",
        "text.posts": "pool",
        "text.empty_share": "share",
        "text.repost_comments": "pool",
        "text.replies": "pool",
        "text.emoji": "pool",
        "text.emoji_share": "share",
    },
    "trending_hashtag": {
        "scale.share_of_posts": "share",
        "scale.borrowed_share": "share",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "timing.start": "time",
        "timing.hours": "number",
        "timing.decay_hours": "number",
        "text.tag": "text",
        "text.second_share": "share",
        "text.second_tags": "pool",
    },
    "default_texts": {
        "scale.share_of_posts": "share",
        "scale.borrowed_share": "share",
        "scale.posts_per_account": "range",
        "scale.count_decay": "share",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "timing.start": "time",
        "timing.end": "time",
        "text.templates": "pool",
        "text.url_share": "share",
        "text.url_suffixes": "pool",
        "text.mention_share": "share",
        "text.apps": "apps",
    },
}


def _is_time(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _valid(kind: str, value: Any) -> bool:
    """Whether ``value`` is of ``kind`` (see ``SCHEMA``)."""
    if kind == "share":
        return _is_number(value) and 0 <= value <= 1
    if kind == "range":
        return (
            isinstance(value, list)
            and len(value) == 2
            and all(_is_number(v) for v in value)
            and 0 <= value[0] <= value[1]
        )
    if kind == "count":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if kind == "number":
        return _is_number(value) and value > 0
    if kind == "time":
        return _is_time(value)
    if kind == "pool":
        if isinstance(value, str):
            return bool(value.split())
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    if kind == "text":
        return isinstance(value, str) and bool(value)
    if kind == "batches":
        return (
            isinstance(value, list)
            and bool(value)
            and all(
                isinstance(b, dict) and _is_time(b.get("start")) and _is_number(b.get("days"))
                for b in value
            )
        )
    if kind == "apps":
        return (
            isinstance(value, list)
            and bool(value)
            and all(
                isinstance(a, dict)
                and all(isinstance(a.get(k), str) and a[k] for k in ("name", "url", "handle"))
                and _is_number(a.get("weight"))
                and a["weight"] > 0
                for a in value
            )
        )
    raise ValueError(f"unknown kind {kind}")


def _read(path: Path) -> Scenario:
    if not path.is_file():
        raise ScenarioError(f"scenario file missing: {path}")
    with path.open("rb") as handle:
        return tomllib.load(handle)


def read_checked(path: Path, spec: dict[str, str]) -> Scenario:
    """The seed file at ``path``, every dotted key of ``spec`` present and of its kind
    (see ``SCHEMA``); raises ``ScenarioError`` naming the file and key otherwise."""
    data = _read(path)
    for key, kind in spec.items():
        value: Any = data
        for step in key.split("."):
            if not isinstance(value, dict) or step not in value:
                raise ScenarioError(f"{path.name} lacks {key}")
            value = value[step]
        if not _valid(kind, value):
            raise ScenarioError(f"{path.name}: {key} = {value!r} is not a valid {kind}")
    return data


def load_traces(seeds_dir: Path | None = None) -> dict[str, Scenario]:
    """The trace families (``trace_<family>.toml``) and the organic background
    (``organic_background.toml``) in ``seeds_dir`` (default: the repository's ``seeds/``),
    by name; raises ``ScenarioError`` for a missing file, key or malformed figure."""
    folder = Path(seeds_dir) if seeds_dir is not None else DEFAULT_DIR
    out: dict[str, Scenario] = {}
    for name, spec in SCHEMA.items():
        path = folder / f"trace_{name}.toml"
        out[name] = read_checked(path, spec)
    path = folder / "organic_background.toml"
    background = _read(path)
    missing = [k for k in REQUIRED["organic_background"] if k not in background]
    if missing:
        raise ScenarioError(f"{path.name} lacks {', '.join(missing)}")
    out["organic_background"] = background
    return out


def generate_trace_world(
    n_posts: int, seed: int = 7, seeds_dir: Path | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A trace world of exactly ``n_posts`` posts and its ground truth, deterministic in
    (``n_posts``, ``seed``, the seed files).

    Returns (posts, truth): posts with post_id, account_id, created_at, text, urls,
    hashtags, repost_of, reply_to, account_created_at, sorted by time (reposts and replies
    name real post ids of the world, a few of them posts deleted from the dump); truth with
    account_id, campaign (the family of coordinated accounts) and burst (the family of
    authentic participants), sorted by account_id. Raises ``ValueError`` when ``n_posts``
    leaves too little room for the organic background.
    """
    cfg = load_traces(seeds_dir)
    background_cfg = cfg["organic_background"]
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    composer = organic.Composer(background_cfg)
    plain_scale = {**background_cfg["scale"], "url_share": 0.0, "hashtag_share": 0.0}
    plain = organic.Composer({**background_cfg, "scale": plain_scale})
    period = (epoch(background_cfg["timing"]["start"]), epoch(background_cfg["timing"]["end"]))
    n_background = max(
        1, round(n_posts * ORGANIC_SHARE / background_cfg["scale"]["posts_per_account_mean"])
    )
    ledger = Ledger(rngs[0], n_background)
    account_parts = [organic.background_accounts(rngs[0], background_cfg, n_background)]
    trend_cfg = cfg["trending_hashtag"]
    trend = (trend_cfg["text"]["tag"], epoch(trend_cfg["timing"]["start"]))
    f = trace_families
    built = [
        f.repost_network(rngs[1], cfg["repost_network"], ledger, composer, n_posts, period),
        f.link_network(rngs[2], cfg["link_network"], ledger, composer, plain, n_posts, period),
        f.hashtag_hijack(rngs[3], cfg["hashtag_hijack"], ledger, composer, n_posts, period, trend),
        f.idol_fans(rngs[4], cfg["idol_fans"], ledger, composer, n_posts, period),
        f.viral_post(rngs[5], cfg["viral_post"], ledger, n_posts),
        f.trending_hashtag(rngs[6], trend_cfg, ledger, plain, n_posts),
        f.default_texts(rngs[7], cfg["default_texts"], ledger, n_posts),
    ]
    posts = pl.concat([b[0] for b in built])
    account_parts += [b[1] for b in built]
    labels = pl.concat([b[2] for b in built])
    remaining = n_posts - int((~posts["hidden"]).sum())
    if remaining < MIN_ORGANIC_SHARE * n_posts:
        raise ValueError(f"{n_posts} posts is too few for every trace family; ask for more")
    everyday = organic.background(rngs[8], background_cfg, composer, n_background, remaining)
    everyday = trace_families.trace_part(
        everyday["acct"].to_numpy(),
        everyday["ts"].to_numpy(),
        everyday["text"],
        everyday["urls"],
        everyday["hashtags"],
    )
    return assemble(rngs[9], pl.concat([posts, everyday]), pl.concat(account_parts), labels)
