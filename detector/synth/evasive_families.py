"""Builders of the evasive-world families (see ``evasive.py``): six campaigns that try not
to be seen and five authentic crowds that look like campaigns, each modelled on how the
real thing behaves, with what a scorer reads (posts per account, account age, creation
batches, ordinary posts) overlapping between the two classes.

Every builder returns (posts, new accounts, borrowed-account labels) in the shapes of
``trace_families``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import polars as pl

from detector.synth import timeline
from detector.synth.copywriter import Copywriter
from detector.synth.ledger import Ledger, accounts
from detector.synth.organic import Composer
from detector.synth.scenarios import Scenario, epoch, words
from detector.synth.text import compose, decorate, pick
from detector.synth.timeline import DAY, HOUR
from detector.synth.trace_families import NO_LABELS, Built, grow, ramp, trace_part


@dataclass(frozen=True)
class Kit:
    """What every builder draws on: the ledger, composers of everyday posts (``plain``:
    without links or hashtags), the copywriter, the world's size and period."""

    ledger: Ledger
    composer: Composer
    plain: Composer
    writer: Copywriter
    n_posts: int
    period: tuple[int, int]


def _between(rng: np.random.Generator, start: int, end: np.ndarray | int, n: int) -> np.ndarray:
    """``n`` uniform times from ``start`` to ``end`` (a time or one per row)."""
    return start + (rng.random(n) * (np.asarray(end) - start)).astype(np.int64)


def _ordinary(
    rng: np.random.Generator, kit: Kit, members: np.ndarray, bounds: list[int], window: tuple
) -> pl.DataFrame:
    """``bounds[0]..bounds[1]`` everyday posts per member within ``window``."""
    acct = np.repeat(members, rng.integers(bounds[0], bounds[1] + 1, len(members)))
    ts = timeline.spread(rng, len(acct), *window)
    if len(acct) == 0:
        return trace_part(acct, ts, pl.Series([], dtype=pl.String))
    text, urls, hashtags = kit.composer.posts(rng, len(acct))
    return trace_part(acct, ts, text, urls, hashtags)


def _campaign(
    rng: np.random.Generator, cfg: Scenario, kit: Kit, label: str
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """The family's members (sized by ``ramp``), their creation times (batch sign-ups, an
    ``aged_share`` bought old accounts spread over years) and account rows."""
    acc = cfg["accounts"]
    n = ramp(kit.n_posts, cfg["scale"])
    members = kit.ledger.new(n)
    batches = [(epoch(b["start"]), b["days"]) for b in acc["batches"]]
    old = timeline.between(rng, n, epoch(acc["aged_from"]), epoch(acc["aged_to"]))
    aged = rng.random(n) < acc["aged_share"]
    created = np.where(aged, old, timeline.in_batches(rng, n, batches))
    return members, aged, accounts(members, created, campaign=label)


def _articles(rng: np.random.Generator, kit: Kit, spin: Scenario) -> list[list[str]]:
    rnd = random.Random(int(rng.integers(2**62)))
    return [kit.writer.article(rnd, spin["sentences"]) for _ in range(spin["templates"])]


def _spun(rng: np.random.Generator, kit: Kit, cfg: Scenario, article: np.ndarray) -> pl.Series:
    """One spun, disguised variant per post of the article each post pushes."""
    texts = _articles(rng, kit, cfg["spin"])
    out = pl.Series([""] * len(article), dtype=pl.String)
    for index, sentences in enumerate(texts):
        rows = np.flatnonzero(article == index)
        out.scatter(
            rows, kit.writer.variants(rng, sentences, len(rows), cfg["spin"], cfg["disguise"])
        )
    return out


def _in_waves(
    rng: np.random.Generator, n_members: int, n_waves: int, bounds: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(member, wave) of every post: each member joins ``bounds[0]..bounds[1]`` distinct
    waves, one post each."""
    count = rng.integers(bounds[0], bounds[1] + 1, n_members).clip(max=n_waves)
    rank = np.argsort(rng.random((n_members, n_waves)), axis=1)
    member, wave = np.nonzero(rank < count[:, None])
    return member, wave


def _wave_campaign(rng: np.random.Generator, cfg: Scenario, kit: Kit, members: np.ndarray):
    """Posts of members joining waves: one spun variant each within ± ``spread_hours``."""
    waves = cfg["waves"]
    starts = np.array([epoch(s) for s in waves["starts"]], dtype=np.int64)
    member, wave = _in_waves(rng, len(members), len(starts), waves["posts_per_account"])
    spread = waves["spread_hours"] * HOUR
    ts = starts[wave] + rng.integers(-spread, spread + 1, len(wave))
    article = rng.integers(0, cfg["spin"]["templates"], len(wave))
    return trace_part(members[member], ts, _spun(rng, kit, cfg, article))


def heavy_rewording(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """One smear article spun hard (see ``Copywriter``) and pushed in waves, each post
    within ±24 h of its wave; a few ordinary posts per account over the whole period."""
    members, _, new = _campaign(rng, cfg, kit, "heavy_rewording")
    pushed = _wave_campaign(rng, cfg, kit, members)
    ordinary = _ordinary(rng, kit, members, cfg["accounts"]["ordinary_posts"], kit.period)
    return pl.concat([pushed, ordinary]), new, NO_LABELS


def one_shot_blast(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Every account posts once, a spun variant of one long article, within one day; the
    bought (aged) accounts have a few ordinary posts from before the blast."""
    members, aged, new = _campaign(rng, cfg, kit, "one_shot_blast")
    start = epoch(cfg["timing"]["start"])
    ts = _between(rng, start, start + cfg["timing"]["hours"] * HOUR, len(members))
    text = _spun(rng, kit, cfg, np.zeros(len(members), dtype=np.int64))
    history = (kit.period[0], start)
    ordinary = _ordinary(rng, kit, members[aged], cfg["accounts"]["ordinary_posts"], history)
    return pl.concat([trace_part(members, ts, text), ordinary]), new, NO_LABELS


def _crowd(
    rng: np.random.Generator,
    acc: Scenario,
    ledger: Ledger,
    n: int,
    borrowed_share: float,
    label: str,
) -> tuple[np.ndarray, pl.DataFrame, pl.DataFrame]:
    """``n`` authentic participants: a ``borrowed_share`` of background users (who keep
    their everyday posts), the rest fresh accounts, a ``new_share`` of which signed up in
    the days around the event (when the seed names such a window)."""
    borrowed = ledger.borrow(round(n * borrowed_share))
    fresh = ledger.new(n - len(borrowed))
    created = timeline.between(
        rng, len(fresh), epoch(acc["created_from"]), epoch(acc["created_to"])
    )
    if "new_share" in acc:
        recent = timeline.between(rng, len(fresh), epoch(acc["new_from"]), epoch(acc["new_to"]))
        created = np.where(rng.random(len(fresh)) < acc["new_share"], recent, created)
    labels = pl.DataFrame(
        {"acct": borrowed, "burst": label}, schema={"acct": pl.Int64, "burst": pl.String}
    )
    return np.concatenate([borrowed, fresh]), accounts(fresh, created, burst=label), labels


def pickup(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """A campaign posting spun variants of three articles again and again over weeks (each
    article around its own hour of the day), and real users who copy one or two of its
    posts hours to days later, verbatim or with a comment (burst ``pickup_copiers``)."""
    members, _, new = _campaign(rng, cfg, kit, "pickup")
    timing, spin = cfg["timing"], cfg["spin"]
    lo, hi = timing["posts_per_account"]
    member = np.repeat(np.arange(len(members)), rng.integers(lo, hi + 1, len(members)))
    n = len(member)
    article = rng.integers(0, spin["templates"], n)
    hour = rng.integers(0, 24, spin["templates"])
    day = rng.integers(0, timing["weeks"] * 7, n)
    jitter = rng.normal(0.0, timing["spread_hours"] * HOUR, n).astype(np.int64)
    ts = epoch(timing["start"]) + day * DAY + hour[article] * HOUR + jitter
    text = _spun(rng, kit, cfg, article)
    pushed = trace_part(members[member], ts, text)
    ordinary = _ordinary(rng, kit, members, cfg["accounts"]["ordinary_posts"], kit.period)
    copies, copiers, labels = _copies(rng, cfg["copiers"], kit, ts, text)
    return pl.concat([pushed, ordinary, copies]), pl.concat([new, copiers]), labels


def _copies(
    rng: np.random.Generator, cop: Scenario, kit: Kit, ts: np.ndarray, text: pl.Series
) -> Built:
    """Real users copying campaign posts (times ``ts``, texts ``text``)."""
    total = round(cop["share_of_posts"] * kit.n_posts)
    n_users = round(total / (1 + cop["second_share"]))
    users, fresh, labels = _crowd(
        rng, cop, kit.ledger, n_users, cop["borrowed_share"], "pickup_copiers"
    )
    acct = np.repeat(users, 1 + (rng.random(n_users) < cop["second_share"]))
    m = len(acct)
    source = rng.integers(0, len(ts), m)
    delay = rng.lognormal(np.log(cop["delay_median_hours"] * HOUR), cop["delay_sigma"], m)
    frame = pl.DataFrame(
        {
            "t": text.gather(source),
            "c": pick(rng, cop["comments"], m),
            "j": pick(rng, cop["joiners"], m),
            "v": rng.random(m) < cop["verbatim_share"],
            "f": rng.random(m) < 0.5,
        }
    )
    copied = frame.select(
        pl.when("v")
        .then("t")
        .when("f")
        .then(pl.concat_str("c", "j", "t"))
        .otherwise(pl.concat_str("t", "j", "c"))
    ).to_series()
    return trace_part(acct, ts[source] + delay.astype(np.int64), copied), fresh, labels


def slow_burn(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Every two weeks for five months a random majority of the accounts posts a spun
    variant of that round's article, spread over ± ``spread_hours``; ordinary posts between."""
    members, _, new = _campaign(rng, cfg, kit, "slow_burn")
    timing = cfg["timing"]
    rounds = epoch(timing["start"]) + np.arange(timing["rounds"]) * timing["interval_days"] * DAY
    share = rng.uniform(*timing["participation"], timing["rounds"])
    member, round_ = np.nonzero(rng.random((len(members), timing["rounds"])) < share[None, :])
    spread = timing["spread_hours"] * HOUR
    ts = rounds[round_] + rng.integers(-spread, spread + 1, len(round_))
    text = _spun(rng, kit, cfg, round_ % cfg["spin"]["templates"])
    ordinary = _ordinary(rng, kit, members, cfg["accounts"]["ordinary_posts"], kit.period)
    return pl.concat([trace_part(members[member], ts, text), ordinary]), new, NO_LABELS


def aged_accounts(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Bought accounts registered years apart, each with years of ordinary history, used
    for a few waves of spun smear posts."""
    acc = cfg["accounts"]
    n = ramp(kit.n_posts, cfg["scale"])
    members = kit.ledger.new(n)
    created = timeline.between(rng, n, epoch(acc["aged_from"]), epoch(acc["aged_to"]))
    history = (epoch(acc["history_from"]), kit.period[1])
    ordinary = _ordinary(rng, kit, members, acc["ordinary_posts"], history)
    pushed = _wave_campaign(rng, cfg, kit, members)
    new = accounts(members, created, campaign="aged_accounts")
    return pl.concat([pushed, ordinary]), new, NO_LABELS


def _codes(rng: np.random.Generator, alphabet: str, bounds: list[int], n: int) -> pl.Series:
    """``n`` random contact codes such as ``ab12``."""
    chars = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    length = rng.integers(bounds[0], bounds[1] + 1, n)
    grid = chars[rng.integers(0, len(chars), (n, bounds[1]))]
    return pl.Series([row[:k].tobytes().decode() for row, k in zip(grid, length, strict=True)])


def short_code_spam(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Short "加V：ab12 领福利" texts with a fresh code in nearly every post, posted in
    hourly rounds over weeks by a random part of the network each time."""
    members, _, new = _campaign(rng, cfg, kit, "short_code_spam")
    timing, text_cfg = cfg["timing"], cfg["text"]
    n_rounds = grow(kit.n_posts, cfg["scale"]["full_at"], timing["rounds"])
    start = epoch(timing["start"])
    rounds = _between(rng, start, start + timing["weeks"] * 7 * DAY, n_rounds)
    share = rng.uniform(*timing["participation"], n_rounds)
    member, round_ = np.nonzero(rng.random((len(members), n_rounds)) < share[None, :])
    ts = rounds[round_] + rng.integers(0, timing["round_minutes"] * 60, len(round_))
    codes = _codes(rng, text_cfg["code_alphabet"], text_cfg["code_length"], len(ts))
    pattern = pick(rng, text_cfg["patterns"], len(ts))
    text = pl.DataFrame({"p": pattern, "c": codes}).select(
        pl.col("p").str.replace("{code}", pl.col("c"), literal=True)
    )
    ordinary = _ordinary(rng, kit, members, cfg["accounts"]["ordinary_posts"], kit.period)
    return pl.concat([trace_part(members[member], ts, text.to_series()), ordinary]), new, NO_LABELS


def _wave_times(rng: np.random.Generator, timing: Scenario, n: int) -> np.ndarray:
    return timeline.burst(rng, n, epoch(timing["start"]), timing["hours"], timing["decay_hours"])


def slogan_wave(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Thousands posting one short slogan once each within 72 hours, some with an emoji."""
    scale, text_cfg = cfg["scale"], cfg["text"]
    n = round(scale["share_of_posts"] * kit.n_posts)
    members, new, labels = _crowd(
        rng, cfg["accounts"], kit.ledger, n, scale["borrowed_share"], "slogan_wave"
    )
    text = decorate(rng, pick(rng, text_cfg["slogans"], n), text_cfg["emoji"],
                    text_cfg["emoji_share"], front=False)  # fmt: skip
    return trace_part(members, _wave_times(rng, cfg["timing"], n), text), new, labels


def slogan_own_words(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """The slogan with a sentence of one's own before or after it, once or twice each."""
    scale, text_cfg = cfg["scale"], cfg["text"]
    n = round(scale["share_of_posts"] * kit.n_posts / (1 + scale["second_share"]))
    members, new, labels = _crowd(
        rng, cfg["accounts"], kit.ledger, n, scale["borrowed_share"], "slogan_own_words"
    )
    acct = np.repeat(members, 1 + (rng.random(n) < scale["second_share"]))
    m = len(acct)
    frame = pl.DataFrame(
        {
            "s": pick(rng, text_cfg["slogans"], m),
            "o": kit.plain.posts(rng, m)[0],
            "j": pick(rng, text_cfg["joiners"], m),
            "f": rng.random(m) < text_cfg["front_share"],
        }
    )
    text = frame.select(
        pl.when("f").then(pl.concat_str("s", "j", "o")).otherwise(pl.concat_str("o", "j", "s"))
    ).to_series()
    return trace_part(acct, _wave_times(rng, cfg["timing"], m), text), new, labels


def default_share_text(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """An app's invite button text, once per user over the launch fortnight, most with the
    user's own invite link."""
    scale, text_cfg = cfg["scale"], cfg["text"]
    n = round(scale["share_of_posts"] * kit.n_posts)
    members, new, labels = _crowd(
        rng, cfg["accounts"], kit.ledger, n, scale["borrowed_share"], "default_share_text"
    )
    filled = [t.replace("<App>", a) for a in text_cfg["apps"] for t in text_cfg["templates"]]
    body = pick(rng, filled, n)
    invite = _codes(rng, text_cfg["code_alphabet"], text_cfg["code_length"], n)
    url = text_cfg["url"] + invite
    has_url = rng.random(n) < text_cfg["url_share"]
    text = (
        pl.DataFrame({"b": body, "u": url, "h": has_url})
        .select(pl.when("h").then(pl.concat_str("b", pl.lit(" "), "u")).otherwise("b"))
        .to_series()
    )
    urls = (
        url.to_frame("u")
        .select(
            pl.when(pl.Series(has_url))
            .then(pl.concat_list("u"))
            .otherwise(pl.lit([], pl.List(pl.String)))
        )
        .to_series()
    )
    return trace_part(members, _wave_times(rng, cfg["timing"], n), text, urls=urls), new, labels


def signup_surge(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """Thousands of real accounts created in one launch week, then posting everyday things
    until the end of the period; some also join a trending topic in their own words."""
    scale, acc, trend = cfg["scale"], cfg["accounts"], cfg["trend"]
    lo, hi = scale["posts_per_account"]
    n = round(scale["share_of_posts"] * kit.n_posts / ((lo + hi) / 2 + trend["share"]))
    members = kit.ledger.new(n)
    created = timeline.between(rng, n, epoch(acc["created_from"]), epoch(acc["created_to"]))
    owner = np.repeat(np.arange(n), rng.integers(lo, hi + 1, n))
    ts = _between(rng, created[owner], epoch(cfg["timing"]["end"]), len(owner))
    text, urls, hashtags = kit.composer.posts(rng, len(owner))
    everyday = trace_part(members[owner], ts, text, urls, hashtags)
    joined = np.flatnonzero(rng.random(n) < trend["share"])
    which = rng.integers(0, len(trend["tags"]), len(joined))
    starts = np.array([epoch(s) for s in trend["starts"]], dtype=np.int64)
    offset = timeline.burst(rng, len(joined), 0, trend["hours"], trend["decay_hours"])
    tag = pl.Series(trend["tags"]).gather(which)
    own = kit.plain.posts(rng, len(joined))[0]
    topical = trace_part(
        members[joined],
        starts[which] + offset,
        own + " #" + tag,
        hashtags=tag.to_frame("t").select(pl.concat_list("t")).to_series(),
    )
    return (
        pl.concat([everyday, topical]),
        accounts(members, created, burst="signup_surge"),
        NO_LABELS,
    )


def news_outlets(rng: np.random.Generator, cfg: Scenario, kit: Kit) -> Built:
    """About fifty old news accounts running the same wire headlines within minutes of
    each other, each in its own format (prefix, ending, link), besides their own stories."""
    scale, timing, text_cfg = cfg["scale"], cfg["timing"], cfg["text"]
    k = scale["outlets"]
    outlets = kit.ledger.new(k)
    acc = cfg["accounts"]
    created = timeline.between(rng, k, epoch(acc["created_from"]), epoch(acc["created_to"]))
    pools = {name: words(pool) for name, pool in text_cfg["pools"].items()}
    n_stories = grow(kit.n_posts, scale["full_at"], scale["stories"])
    window = (epoch(timing["start"]), epoch(timing["end"]))
    wire = timeline.spread(rng, n_stories, *window)
    share = rng.uniform(*scale["participation"], n_stories)
    outlet, story = np.nonzero(rng.random((k, n_stories)) < share[None, :])
    delay = rng.lognormal(
        np.log(timing["delay_median_minutes"] * 60), timing["delay_sigma"], len(story)
    )
    headline = compose(rng, n_stories, text_cfg["patterns"], pools).gather(story)
    lo, hi = scale["own_posts"]
    own = np.repeat(np.arange(k), rng.integers(lo, hi + 1, k))
    own_headline = compose(rng, len(own), text_cfg["patterns"], pools)
    who = np.concatenate([outlet, own])
    ts = np.concatenate(
        [wire[story] + delay.astype(np.int64), timeline.spread(rng, len(own), *window)]
    )
    style = rng.integers(0, len(text_cfg["prefixes"]), k)[who]
    link = (
        text_cfg["url"]
        + pl.Series(who).cast(pl.String)
        + "/"
        + pl.Series(rng.integers(10**6, 10**7, len(who))).cast(pl.String)
    )
    frame = pl.DataFrame(
        {
            "p": pl.Series(text_cfg["prefixes"]).gather(style),
            "h": pl.concat([headline, own_headline]),
            "e": pick(rng, text_cfg["endings"], len(who)),
            "u": link,
        }
    )
    text = frame.select(pl.concat_str("p", "h", "e", pl.lit(" "), "u")).to_series()
    urls = link.to_frame("u").select(pl.concat_list("u")).to_series()
    posts = trace_part(outlets[who], ts, text, urls=urls)
    return posts, accounts(outlets, created, burst="news_outlets"), NO_LABELS
