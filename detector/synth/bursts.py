"""Authentic bursts: many real people saying much the same thing at once. They look
coordinated at a glance and are what a detector must *not* flag."""

from __future__ import annotations

import numpy as np
import polars as pl

from detector.synth import timeline
from detector.synth.ledger import Ledger, accounts, part
from detector.synth.scenarios import Scenario, epoch
from detector.synth.text import decorate, pick


def _participants(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_accounts: int, label: str
) -> tuple[np.ndarray, pl.DataFrame, pl.DataFrame]:
    """Accounts of a burst: a share borrowed from the background, the rest new but old
    accounts. Returns (numbers, new accounts, burst labels of the borrowed ones)."""
    borrowed = ledger.borrow(round(n_accounts * cfg["scale"]["borrowed_share"]))
    fresh = ledger.new(n_accounts - len(borrowed))
    lo, hi = epoch(cfg["accounts"]["created_from"]), epoch(cfg["accounts"]["created_to"])
    created = timeline.between(rng, len(fresh), lo, hi)
    labels = pl.DataFrame(
        {"acct": borrowed, "burst": label}, schema={"acct": pl.Int64, "burst": pl.String}
    )
    return np.concatenate([borrowed, fresh]), accounts(fresh, created, burst=label), labels


def _posts_per_account(rng: np.random.Generator, n_accounts: int, second: float) -> np.ndarray:
    """1 post per account, 2 for a ``second`` share of them."""
    return 1 + (rng.random(n_accounts) < second).astype(np.int64)


def _times(rng: np.random.Generator, cfg: Scenario, n: int) -> np.ndarray:
    timing = cfg["timing"]
    return timeline.burst(rng, n, epoch(timing["start"]), timing["hours"], timing["decay_hours"])


def support_wave(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_posts: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Short cheers (Zipf-distributed, many identical), personal notes and some dissent,
    one or two per account, within the first 72 hours after the crash."""
    second = cfg["scale"]["second_comment_share"]
    members, new, labels = _participants(
        rng, cfg, ledger, round(n_posts / (1 + second)), "support_wave"
    )
    acct = np.repeat(members, _posts_per_account(rng, len(members), second))
    n = len(acct)
    text_cfg = cfg["text"]
    slogans = text_cfg["slogans"]
    zipf = 1.0 / np.arange(1, len(slogans) + 1) ** text_cfg["zipf_exponent"]
    slogan = pl.Series(slogans).gather(rng.choice(len(slogans), n, p=zipf / zipf.sum()))
    note = (
        pl.DataFrame(
            {
                "a": pick(rng, text_cfg["personal_openers"], n),
                "b": pick(rng, text_cfg["personal_bodies"], n),
                "c": pick(rng, text_cfg["personal_closers"], n),
            }
        )
        .select(pl.concat_str("a", "b", pl.lit("，"), "c"))
        .to_series()
    )
    dissent = pick(rng, text_cfg["dissent"], n)
    draw = rng.random(n)
    supportive = draw < text_cfg["supportive_share"]
    is_slogan = draw < text_cfg["supportive_share"] * text_cfg["slogan_share"]
    text = slogan.zip_with(pl.Series(is_slogan), note.zip_with(pl.Series(supportive), dissent))
    text = decorate(rng, text, text_cfg["emoji"], text_cfg["emoji_share"], front=False)
    return part(acct, _times(rng, cfg, n), text), new, labels


def fan_backlash(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_posts: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A few vocal fans post the complaints; thousands of old accounts copy or repost them
    with small personal additions within a day or two."""
    scale, text_cfg = cfg["scale"], cfg["text"]
    complaints = text_cfg["complaints"]
    voices = ledger.new(len(complaints))
    lo, hi = epoch(cfg["accounts"]["created_from"]), epoch(cfg["accounts"]["created_to"])
    voice_accounts = accounts(
        voices, timeline.between(rng, len(voices), lo, hi), burst="fan_backlash"
    )
    anchors = np.array([ledger.anchor() for _ in complaints], dtype=np.int64)
    start = epoch(cfg["timing"]["start"])
    voice_posts = part(
        voices,
        start + rng.integers(0, 3600, len(voices)),
        pl.Series(complaints),
        anchor=anchors,
    )
    second = scale["second_post_share"]
    members, new, labels = _participants(
        rng, cfg, ledger, round(n_posts / (1 + second)), "fan_backlash"
    )
    acct = np.repeat(members, _posts_per_account(rng, len(members), second))
    n = len(acct)
    which = rng.integers(0, len(complaints), n)
    text = (
        pl.DataFrame(
            {
                "a": pick(rng, text_cfg["additions_before"], n),
                "b": pl.Series(complaints).gather(which),
                "c": pick(rng, text_cfg["additions_after"], n),
            }
        )
        .select(pl.concat_str("a", "b", "c"))
        .to_series()
    )
    repost = np.where(rng.random(n) < scale["repost_share"], anchors[which], -1)
    posts = part(acct, _times(rng, cfg, n) + 3600, text, repost=repost)
    posts = posts.with_columns(repost=pl.when(pl.col("repost") >= 0).then("repost"))
    return pl.concat([voice_posts, posts]), pl.concat([voice_accounts, new]), labels


def official_repost(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_posts: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The company's statement and its mass repost (``repost_of`` the statement) within a
    day, some reposts with a short comment in front."""
    text_cfg = cfg["text"]
    official, anchor = ledger.new(1), ledger.anchor()
    start = epoch(cfg["timing"]["start"])
    created = np.array([epoch(cfg["accounts"]["created_from"])])
    statement = pl.Series([text_cfg["statement"]])
    original = part(official, np.array([start]), statement, anchor=np.array([anchor]))
    members, new, labels = _participants(rng, cfg, ledger, n_posts - 1, "official_repost")
    n = len(members)
    text = decorate(
        rng,
        statement.gather(np.zeros(n, dtype=np.int64)),
        [c + " //@小米公司：" for c in text_cfg["comments"]],
        text_cfg["comment_share"],
        front=True,
    )
    reposts = part(members, _times(rng, cfg, n) + 300, text, repost=np.full(n, anchor))
    new = pl.concat([accounts(official, created, burst="official_repost"), new])
    return pl.concat([original, reposts]), new, labels
