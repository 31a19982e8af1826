"""Inauthentic campaigns: the "black manuscript" smear network, a commissioned review
ring and an English amplification network, with the evasions operators use."""

from __future__ import annotations

import random

import numpy as np
import polars as pl

from detector.synth import timeline
from detector.synth.ledger import Ledger, accounts, part
from detector.synth.organic import Composer
from detector.synth.scenarios import Scenario, epoch
from detector.synth.text import Spinner, compose, decorate, lists, obfuscate, pick, short_links
from detector.synth.timeline import DAY, HOUR

Built = tuple[pl.DataFrame, pl.DataFrame]


def ramp(n_posts: int, scale: Scenario) -> int:
    """Accounts of a campaign in a world of ``n_posts``: all ``accounts_full`` from
    ``full_at`` posts on, ``(n_posts / full_at) ** ramp_power`` of them below, never fewer
    than ``accounts_min``."""
    fraction = min(1.0, n_posts / scale["full_at"]) ** scale["ramp_power"]
    return max(scale["accounts_min"], round(scale["accounts_full"] * fraction))


def build_templates(cfg: Scenario, rnd: random.Random) -> list[list[str]]:
    """The campaign's source articles as lists of sentences, each mostly of one tactic with
    its slots filled once. Two articles share at most one sentence where the pool allows,
    so different articles are not near-duplicates."""
    pool = [(tactic, s) for tactic, group in cfg["tactics"].items() for s in group]
    tactics = list(cfg["tactics"])
    lo, hi = cfg["spin"]["sentences_per_template"]
    uses = [0] * len(pool)
    chosen: list[set[int]] = []
    for index in range(cfg["spin"]["templates"]):
        main = tactics[index % len(tactics)]
        ranked = sorted(
            range(len(pool)), key=lambda i: (uses[i] + (pool[i][0] != main), rnd.random())
        )
        picked: set[int] = set()
        size = rnd.randint(lo, hi)
        for i in ranked:
            if len(picked) < size and all(len(c & (picked | {i})) <= 1 for c in chosen):
                picked.add(i)
        for i in ranked:  # the pool is exhausted: accept overlap rather than short articles
            if len(picked) < size:
                picked.add(i)
        chosen.append(picked)
        for i in picked:
            uses[i] += 1
    templates = []
    for picked in chosen:
        fills = {slot: rnd.choice(values) for slot, values in cfg["slots"].items()}
        sentences = [pool[i][1].format(**fills) for i in sorted(picked)]
        rnd.shuffle(sentences)
        templates.append(sentences)
    return templates


def _evade(
    rng: np.random.Generator, ev: Scenario | None, text: pl.Series, ts: np.ndarray
) -> tuple[pl.Series, np.ndarray]:
    """Jitter posting times by hours and obfuscate a share of texts (no-op without ``ev``)."""
    if ev is None:
        return text, ts
    n = len(ts)
    shift = rng.normal(0.0, ev["jitter_hours"] * HOUR, n) * (rng.random(n) < ev["jitter_share"])
    text = obfuscate(
        rng, text, ev["obfuscated_share"], ev["homoglyph_share"], ev["homoglyphs"], ev["zero_width"]
    )
    return text, ts + shift.astype(np.int64)


def _spin_pools(
    cfg: Scenario,
    ev: Scenario | None,
    templates: list[list[str]],
    sizes: np.ndarray,
    rnd: random.Random,
) -> tuple[pl.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Spun variants of every template: ``sizes[t]`` ordinary ones, and with evasion a fifth
    as many heavy paraphrases. Returns (texts, ordinary offsets, heavy offsets, heavy sizes)."""
    spin, text_cfg = cfg["spin"], cfg["text"]
    spinner = Spinner(text_cfg["synonyms"])
    heavy_sizes = np.maximum(4, sizes // 5) if ev is not None else np.zeros_like(sizes)
    texts: list[str] = []
    offsets = np.zeros(len(templates), dtype=np.int64)
    heavy_offsets = np.zeros(len(templates), dtype=np.int64)
    for t, sentences in enumerate(templates):
        offsets[t] = len(texts)
        for _ in range(sizes[t]):
            filler = (
                rnd.choice(text_cfg["fillers"]) if rnd.random() < spin["filler_share"] else None
            )
            reorder = rnd.random() < spin["reorder_share"]
            texts.append(
                spinner.variant(
                    sentences, rnd, rnd.uniform(*spin["swap_probability"]), reorder, filler
                )
            )
        heavy_offsets[t] = len(texts)
        for _ in range(heavy_sizes[t]):
            filler = rnd.choice(text_cfg["fillers"])
            texts.append(
                spinner.variant(sentences, rnd, ev["heavy_swap_probability"], True, filler)
            )
    return pl.Series(texts, dtype=pl.String), offsets, heavy_offsets, heavy_sizes


def black_manuscript(
    rng: np.random.Generator,
    cfg: Scenario,
    ev: Scenario | None,
    ledger: Ledger,
    n_accounts: int,
    mean_posts: float,
    composer: Composer,
) -> Built:
    """Fake accounts created in batches post spun variants of smear articles in waves;
    within a wave each article's posts cluster within hours, squads push the same ones."""
    rnd = random.Random(int(rng.integers(2**62)))
    templates = build_templates(cfg, rnd)
    acct = ledger.new(n_accounts)
    batches = [(epoch(b["start"]), b["days"]) for b in cfg["accounts"]["batches"]]
    created = timeline.in_batches(rng, n_accounts, batches)
    if ev is not None:
        aged = rng.random(n_accounts) < ev["aged_account_share"]
        lo, hi = epoch(ev["aged_created_from"]), epoch(ev["aged_created_to"])
        created = np.where(aged, timeline.between(rng, n_accounts, lo, hi), created)

    lo, hi = cfg["scale"]["posts_per_account"]
    counts = np.clip(lo + rng.poisson(max(mean_posts - lo, 0.0), n_accounts), lo, hi)
    owner = np.repeat(np.arange(n_accounts), counts)
    n = len(owner)
    nth = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    waves, per_wave = cfg["waves"]["dates"], cfg["waves"]["templates_per_wave"]
    first = rng.integers(0, len(waves), n_accounts)
    stride = rng.integers(1, 3, n_accounts)
    wave = (first[owner] + nth * stride[owner]) % len(waves)
    active = np.stack([rng.choice(len(templates), per_wave, replace=False) for _ in waves])
    starts = np.array([epoch(w["start"]) for w in waves], dtype=np.int64)
    lengths = np.array([w["days"] * DAY for w in waves], dtype=np.int64)
    slot_time = starts[:, None] + (rng.random((len(waves), per_wave)) * lengths[:, None]).astype(
        np.int64
    )
    squad = rng.integers(0, cfg["accounts"]["squads"], n_accounts) % per_wave
    loyal = rng.random(n) < cfg["accounts"]["squad_loyalty"]
    column = np.where(loyal, squad[owner], rng.integers(0, per_wave, n))
    template = active[wave, column]
    spread = rng.normal(0.0, cfg["waves"]["spread_hours"] * HOUR, n).astype(np.int64)
    ts = slot_time[wave, column] + spread

    vlo, vhi = cfg["spin"]["variants_per_template"]
    sizes = np.clip(np.bincount(template, minlength=len(templates)) // 3, vlo, vhi)
    pool, offsets, heavy_offsets, heavy_sizes = _spin_pools(cfg, ev, templates, sizes, rnd)
    index = offsets[template] + (rng.random(n) * sizes[template]).astype(np.int64)
    if ev is not None:
        heavy = rng.random(n) < ev["heavy_paraphrase_share"]
        heavy_index = heavy_offsets[template] + (rng.random(n) * heavy_sizes[template]).astype(
            np.int64
        )
        index = np.where(heavy, heavy_index, index)
    spin, text_cfg = cfg["spin"], cfg["text"]
    text = decorate(rng, pool.gather(index), text_cfg["openers"], spin["prefix_share"], True)
    text = decorate(rng, text, text_cfg["emoji"], spin["emoji_share"], front=False)
    has_tag = rng.random(n) < spin["hashtag_share"]
    tags = lists(pick(rng, text_cfg["hashtags"], int(has_tag.sum())), has_tag.astype(np.int64))
    text = (
        pl.DataFrame({"t": text, "h": tags})
        .select(
            pl.concat_str(
                pl.when(pl.col("h").list.len() > 0)
                .then(pl.concat_str(pl.lit("#"), pl.col("h").list.first(), pl.lit("# ")))
                .otherwise(pl.lit("")),
                "t",
            )
        )
        .to_series()
    )
    text, ts = _evade(rng, ev, text, ts)
    posts = [part(acct[owner], ts, text, hashtags=tags)]
    if ev is not None:
        posts.append(_camouflage(rng, ev, acct, composer, starts[0], starts[-1] + lengths[-1]))
    return pl.concat(posts), accounts(acct, created, campaign="black_manuscript")


def _camouflage(
    rng: np.random.Generator,
    ev: Scenario,
    acct: np.ndarray,
    composer: Composer,
    start: int,
    end: int,
) -> pl.DataFrame:
    """Everyday posts by a share of the fake accounts, to look like ordinary users."""
    hidden = acct[rng.random(len(acct)) < ev["camouflage_share"]]
    lo, hi = ev["camouflage_posts"]
    owner = np.repeat(hidden, rng.integers(lo, hi + 1, len(hidden)))
    text, urls, hashtags = composer.posts(rng, len(owner))
    return part(owner, timeline.spread(rng, len(owner), start, end), text, urls, hashtags)


def review_ring(
    rng: np.random.Generator, cfg: Scenario, ev: Scenario | None, ledger: Ledger
) -> Built:
    """Tens of accounts registered within days each post two to four near-identical
    one-star reviews of different products; each product's reviews cluster within hours."""
    rnd = random.Random(int(rng.integers(2**62)))
    n_accounts = cfg["scale"]["accounts"]
    acct = ledger.new(n_accounts)
    batch = [(epoch(cfg["accounts"]["created_start"]), cfg["accounts"]["created_days"])]
    created = timeline.in_batches(rng, n_accounts, batch)
    text_cfg = cfg["text"]
    products, reviews = text_cfg["products"], text_cfg["reviews"]
    lo, hi = cfg["scale"]["reviews_per_account"]
    count = rng.integers(lo, hi + 1, n_accounts)
    order = np.argsort(rng.random((n_accounts, len(products))), axis=1)
    taken = np.arange(len(products))[None, :] < count[:, None]
    owner, product = np.nonzero(taken)[0], order[taken]
    timing = cfg["timing"]
    slot = epoch(timing["start"]) + (rng.random(len(products)) * timing["hours"] * HOUR)
    ts = (slot[product] + rng.normal(0.0, timing["spread_hours"] * HOUR, len(owner))).astype(
        np.int64
    )
    spinner = Spinner(text_cfg["synonyms"])
    texts = [
        spinner.swap(
            reviews[p % len(reviews)].format(product=products[p]),
            rnd,
            rnd.uniform(*text_cfg["swap_probability"]),
        )
        for p in product
    ]
    text, ts = _evade(rng, ev, pl.Series(texts, dtype=pl.String), ts)
    return part(acct[owner], ts, text), accounts(acct, created, campaign="review_ring")


def english_amplification(
    rng: np.random.Generator, cfg: Scenario, ev: Scenario | None, ledger: Ledger, n_accounts: int
) -> Built:
    """English templated posts with shared hashtags and a distinct short link each, pushed
    in bursts per template over about two weeks."""
    acct = ledger.new(n_accounts)
    batches = [(epoch(b["start"]), b["days"]) for b in cfg["accounts"]["batches"]]
    created = timeline.in_batches(rng, n_accounts, batches)
    lo, hi = cfg["scale"]["posts_per_account"]
    owner = np.repeat(np.arange(n_accounts), rng.integers(lo, hi + 1, n_accounts))
    n = len(owner)
    text_cfg, timing = cfg["text"], cfg["timing"]
    templates = text_cfg["templates"]
    slots = timing["slots_per_template"]
    slot_time = epoch(timing["start"]) + (
        rng.random((len(templates), slots)) * timing["days"] * DAY
    ).astype(np.int64)
    template = rng.integers(0, len(templates), n)
    ts = slot_time[template, rng.integers(0, slots, n)]
    ts = ts + rng.normal(0.0, timing["spread_hours"] * HOUR, n).astype(np.int64)
    body = compose(rng, n, templates, {"a": text_cfg["a"], "b": text_cfg["b"]}, choice=template)
    links = short_links(rng, n, text_cfg["link_domains"], salt=int(rng.integers(2**40)))
    tag_pool = text_cfg["hashtags"]
    tlo, thi = text_cfg["hashtags_per_post"]
    tag_count = rng.integers(tlo, thi + 1, n)
    tag_order = np.argsort(rng.random((n, len(tag_pool))), axis=1)
    tag_taken = np.arange(len(tag_pool))[None, :] < tag_count[:, None]
    flat = pl.Series(tag_pool, dtype=pl.String).gather(tag_order[tag_taken])
    tags = lists(flat, tag_count)
    tag_text = lists("#" + flat, tag_count).list.join(" ")
    frame = pl.DataFrame({"b": body, "l": links, "t": tag_text})
    text = frame.select(pl.concat_str("b", "l", "t", separator=" ")).to_series()
    text, ts = _evade(rng, ev, text, ts)
    urls = lists(links, np.ones(n, dtype=np.int64))
    return (
        part(acct[owner], ts, text, urls=urls, hashtags=tags),
        accounts(acct, created, campaign="english_amplification"),
    )
