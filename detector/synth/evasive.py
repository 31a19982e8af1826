"""An "evasion world": the organic background plus eleven families of issue 10, campaigns
that try not to be seen beside authentic crowds that look like campaigns. The classes
overlap in what a coordination scorer reads: campaign accounts are sometimes old, bought
and spread out in creation date, post ordinary things, or post only once; authentic
participants are sometimes brand new, post several times, or copy a campaign verbatim.

Coordinated (truth ``campaign``): ``heavy_rewording``, ``one_shot_blast``, ``pickup``,
``slow_burn``, ``aged_accounts``, ``short_code_spam``. Authentic (truth ``burst``):
``pickup_copiers`` (real users copying the pickup campaign), ``slogan_wave``,
``slogan_own_words``, ``default_share_text``, ``signup_surge``, ``news_outlets``.
Figures live in ``seeds/evasive_*.toml``; see ``seeds/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from detector.synth import evasive_families, organic
from detector.synth.copywriter import Copywriter
from detector.synth.evasive_families import Kit
from detector.synth.ledger import Ledger
from detector.synth.scenarios import DEFAULT_DIR, Scenario, epoch, load_scenarios
from detector.synth.trace_families import trace_part
from detector.synth.traces import read_checked
from detector.synth.world import assemble

COORDINATED = (
    "heavy_rewording",
    "one_shot_blast",
    "pickup",
    "slow_burn",
    "aged_accounts",
    "short_code_spam",
)
AUTHENTIC = (
    "pickup_copiers",
    "slogan_wave",
    "slogan_own_words",
    "default_share_text",
    "signup_surge",
    "news_outlets",
)
FAMILIES = COORDINATED + AUTHENTIC

# What each evasive file must hold, by dotted key (kinds as in ``traces.SCHEMA``).
_RAMP = {
    "scale.accounts_full": "count",
    "scale.full_at": "count",
    "scale.ramp_power": "number",
    "scale.accounts_min": "count",
}
_ACCOUNTS = {
    "accounts.aged_share": "share",
    "accounts.aged_from": "time",
    "accounts.aged_to": "time",
    "accounts.ordinary_posts": "range",
    "accounts.batches": "batches",
}
_SPIN = {
    "spin.templates": "count",
    "spin.sentences": "range",
    "spin.swap_probability": "range",
    "spin.reorder_share": "share",
    "spin.drop_probability": "share",
    "spin.min_sentences": "count",
    "spin.filler_share": "share",
    "disguise.homoglyph_share": "share",
    "disguise.zero_width_share": "share",
    "disguise.fullwidth_share": "share",
    "disguise.gap_share": "share",
    "disguise.gap_probability": "range",
}
_WAVES = {
    "waves.starts": "pool",
    "waves.spread_hours": "number",
    "waves.posts_per_account": "range",
}
_CROWD = {
    "scale.share_of_posts": "share",
    "scale.borrowed_share": "share",
    "accounts.created_from": "time",
    "accounts.created_to": "time",
    "accounts.new_share": "share",
    "accounts.new_from": "time",
    "accounts.new_to": "time",
    "timing.start": "time",
    "timing.hours": "number",
    "timing.decay_hours": "number",
}
SCHEMA: dict[str, dict[str, str]] = {
    "world": {
        "background.share_of_posts": "share",
        "background.min_share": "share",
        "disguise.gaps": "pool",
        "disguise.fullwidth_offset": "count",
    },
    "heavy_rewording": {**_RAMP, **_ACCOUNTS, **_SPIN, **_WAVES},
    "one_shot_blast": {
        **_RAMP,
        **_ACCOUNTS,
        **_SPIN,
        "timing.start": "time",
        "timing.hours": "number",
    },
    "pickup": {
        **_RAMP,
        **_ACCOUNTS,
        **_SPIN,
        "timing.start": "time",
        "timing.weeks": "number",
        "timing.posts_per_account": "range",
        "timing.spread_hours": "number",
        "copiers.share_of_posts": "share",
        "copiers.borrowed_share": "share",
        "copiers.second_share": "share",
        "copiers.verbatim_share": "share",
        "copiers.delay_median_hours": "number",
        "copiers.delay_sigma": "number",
        "copiers.created_from": "time",
        "copiers.created_to": "time",
        "copiers.comments": "pool",
        "copiers.joiners": "pool",
    },
    "slow_burn": {
        **_RAMP,
        **_ACCOUNTS,
        **_SPIN,
        "timing.start": "time",
        "timing.interval_days": "number",
        "timing.rounds": "count",
        "timing.participation": "range",
        "timing.spread_hours": "number",
    },
    "aged_accounts": {
        **_RAMP,
        **_SPIN,
        **_WAVES,
        "accounts.aged_from": "time",
        "accounts.aged_to": "time",
        "accounts.ordinary_posts": "range",
        "accounts.history_from": "time",
    },
    "short_code_spam": {
        **_RAMP,
        **_ACCOUNTS,
        "timing.start": "time",
        "timing.weeks": "number",
        "timing.rounds": "range",
        "timing.participation": "range",
        "timing.round_minutes": "count",
        "text.patterns": "pool",
        "text.code_alphabet": "text",
        "text.code_length": "range",
    },
    "slogan_wave": {
        **_CROWD,
        "text.slogans": "pool",
        "text.emoji": "pool",
        "text.emoji_share": "share",
    },
    "slogan_own_words": {
        **_CROWD,
        "scale.second_share": "share",
        "text.slogans": "pool",
        "text.front_share": "share",
        "text.joiners": "pool",
    },
    "default_share_text": {
        **_CROWD,
        "text.apps": "pool",
        "text.templates": "pool",
        "text.url": "text",
        "text.url_share": "share",
        "text.code_alphabet": "text",
        "text.code_length": "range",
    },
    "signup_surge": {
        "scale.share_of_posts": "share",
        "scale.posts_per_account": "range",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "timing.end": "time",
        "trend.share": "share",
        "trend.tags": "pool",
        "trend.starts": "pool",
        "trend.hours": "number",
        "trend.decay_hours": "number",
    },
    "news_outlets": {
        "scale.outlets": "count",
        "scale.stories": "range",
        "scale.full_at": "count",
        "scale.participation": "range",
        "scale.own_posts": "range",
        "accounts.created_from": "time",
        "accounts.created_to": "time",
        "timing.start": "time",
        "timing.end": "time",
        "timing.delay_median_minutes": "number",
        "timing.delay_sigma": "number",
        "text.prefixes": "pool",
        "text.endings": "pool",
        "text.patterns": "pool",
        "text.url": "text",
        "text.pools.who": "pool",
        "text.pools.did": "pool",
        "text.pools.what": "pool",
    },
}


def load_evasive(seeds_dir: Path | None = None) -> dict[str, Scenario]:
    """The evasive families and world frame (``evasive_<name>.toml``) in ``seeds_dir``
    (default: the repository's ``seeds/``), by name, plus the scenarios they draw on
    (``black_manuscript``, ``evasion``, ``organic_background``); raises ``ScenarioError``
    for a missing file, key or malformed figure."""
    folder = Path(seeds_dir) if seeds_dir is not None else DEFAULT_DIR
    out = {
        name: read_checked(folder / f"evasive_{name}.toml", spec) for name, spec in SCHEMA.items()
    }
    base = load_scenarios(folder)
    for name in ("black_manuscript", "evasion", "organic_background"):
        out[name] = base[name]
    return out


def generate_evasion_world(
    n_posts: int, seed: int = 7, seeds_dir: Path | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An evasion world of exactly ``n_posts`` posts and its ground truth, deterministic in
    (``n_posts``, ``seed``, the seed files).

    Returns (posts, truth) shaped as ``generate_trace_world``'s: posts with post_id,
    account_id, created_at, text, urls, hashtags, repost_of, reply_to, account_created_at,
    sorted by time; truth with account_id, campaign (the family of coordinated accounts)
    and burst (the family of authentic participants), sorted by account_id. Raises
    ``ValueError`` when ``n_posts`` leaves too little room for the organic background.
    """
    cfg = load_evasive(seeds_dir)
    frame, background_cfg = cfg["world"], cfg["organic_background"]
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(FAMILIES) + 3)]
    n_background = max(
        1,
        round(
            n_posts
            * frame["background"]["share_of_posts"]
            / background_cfg["scale"]["posts_per_account_mean"]
        ),
    )
    plain_scale = {**background_cfg["scale"], "url_share": 0.0, "hashtag_share": 0.0}
    timing = background_cfg["timing"]
    kit = Kit(
        ledger=Ledger(rngs[0], n_background),
        composer=organic.Composer(background_cfg),
        plain=organic.Composer({**background_cfg, "scale": plain_scale}),
        writer=Copywriter(cfg["black_manuscript"], cfg["evasion"], frame["disguise"]),
        n_posts=n_posts,
        period=(epoch(timing["start"]), epoch(timing["end"])),
    )
    account_parts = [organic.background_accounts(rngs[0], background_cfg, n_background)]
    builders = [name for name in FAMILIES if name != "pickup_copiers"]  # built with pickup
    built = [
        getattr(evasive_families, name)(rng, cfg[name], kit)
        for name, rng in zip(builders, rngs[1:], strict=False)
    ]
    posts = pl.concat([b[0] for b in built])
    account_parts += [b[1] for b in built]
    labels = pl.concat([b[2] for b in built])
    remaining = n_posts - posts.height
    if remaining < frame["background"]["min_share"] * n_posts:
        raise ValueError(f"{n_posts} posts is too few for every evasive family; ask for more")
    everyday = organic.background(rngs[-2], background_cfg, kit.composer, n_background, remaining)
    everyday = trace_part(
        everyday["acct"].to_numpy(),
        everyday["ts"].to_numpy(),
        everyday["text"],
        everyday["urls"],
        everyday["hashtags"],
    )
    return assemble(rngs[-1], pl.concat([posts, everyday]), pl.concat(account_parts), labels)
