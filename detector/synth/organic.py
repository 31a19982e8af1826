"""The authentic background: everyday posts in Chinese, English and a mix of both, by
ordinary long-lived accounts, spread over the whole period."""

from __future__ import annotations

import numpy as np
import polars as pl

from detector.synth import timeline
from detector.synth.ledger import accounts, part
from detector.synth.scenarios import Scenario, epoch, words
from detector.synth.text import compose_posts, decorate, lists, pick

CHUNK = 500_000  # posts composed at a time, to bound memory in very large worlds


class Composer:
    """Composes everyday posts (text, urls, hashtags) from the background word pools."""

    def __init__(self, cfg: Scenario) -> None:
        zh_pools = {k: words(v) for k, v in cfg["zh"]["pools"].items()}
        self.grammars = {}
        for lang in ("zh", "en", "mixed"):
            pools = {k: words(v) for k, v in cfg[lang]["pools"].items()}
            if lang == "mixed":
                pools = {**zh_pools, **pools}
            self.grammars[lang] = (cfg[lang], pools)
        shares = cfg["scale"]["language_shares"]
        self.languages = list(shares)
        self.shares = np.array([shares[k] for k in self.languages], dtype=float)
        self.scale = cfg["scale"]
        extras = cfg["extras"]
        self.emoji = words(extras["emoji"])
        self.tags = words(extras["hashtags"])
        self.domains = words(extras["url_domains"])

    def posts(self, rng: np.random.Generator, n: int) -> tuple[pl.Series, pl.Series, pl.Series]:
        """``n`` everyday posts as (text, urls, hashtags) series."""
        frame = pl.concat([self._chunk(rng, min(CHUNK, n - i)) for i in range(0, max(n, 1), CHUNK)])
        return frame["text"], frame["urls"], frame["hashtags"]

    def _chunk(self, rng: np.random.Generator, n: int) -> pl.DataFrame:
        """Up to CHUNK posts, each in a language drawn by the configured shares."""
        lang = rng.choice(len(self.languages), n, p=self.shares / self.shares.sum())
        bodies, order = [], []
        for index, name in enumerate(self.languages):
            spec, pools = self.grammars[name]
            rows = np.flatnonzero(lang == index)
            body = compose_posts(
                rng,
                len(rows),
                spec["patterns"],
                pools,
                tuple(spec["clauses"]),
                self.scale["clause_decay"],
                spec["joiner"],
            )
            bodies.append(body)
            order.append(rows)
        text = pl.concat(bodies).gather(np.argsort(np.concatenate(order), kind="stable"))
        text = decorate(rng, text, self.emoji, self.scale["emoji_share"], front=False)
        has_link = rng.random(n) < self.scale["url_share"]
        has_tag = rng.random(n) < self.scale["hashtag_share"]
        links = _links(rng, int(has_link.sum()), self.domains)
        tags = pick(rng, self.tags, int(has_tag.sum()))
        frame = pl.DataFrame(
            {
                "text": text,
                "urls": lists(links, has_link.astype(np.int64)),
                "hashtags": lists(tags, has_tag.astype(np.int64)),
            }
        )
        tag_text = pl.concat_str(pl.lit(" #"), pl.col("hashtags").list.first())
        link_text = pl.concat_str(pl.lit(" "), pl.col("urls").list.first())
        return frame.with_columns(
            text=pl.concat_str(
                "text",
                pl.when(pl.col("hashtags").list.len() > 0).then(tag_text).otherwise(pl.lit("")),
                pl.when(pl.col("urls").list.len() > 0).then(link_text).otherwise(pl.lit("")),
            )
        )


def _links(rng: np.random.Generator, n: int, domains: list[str]) -> pl.Series:
    """Links to random pages (``https://t.cn/<code>``): practically never repeated."""
    codes = rng.integers(0, 2**62, n).astype(np.uint64)
    frame = pl.DataFrame({"d": pick(rng, domains, n), "c": codes})
    return frame.select(
        pl.concat_str(pl.lit("https://"), "d", pl.lit("/"), pl.col("c").cast(pl.String))
    ).to_series()


def background_accounts(rng: np.random.Generator, cfg: Scenario, n: int) -> pl.DataFrame:
    """The ``n`` background accounts (numbers 0..n-1), created before the period, more of
    them in recent years."""
    lo = epoch(cfg["accounts"]["created_from"])
    hi = epoch(cfg["accounts"]["created_to"])
    created = lo + ((hi - lo) * rng.random(n) ** 0.7).astype(np.int64)
    return accounts(np.arange(n, dtype=np.int64), created)


def background(
    rng: np.random.Generator, cfg: Scenario, composer: Composer, n_accounts: int, n_posts: int
) -> pl.DataFrame:
    """``n_posts`` everyday posts by the background accounts, whose activity is lognormal
    (most post a few times, a few very often)."""
    weights = rng.lognormal(0.0, cfg["scale"]["posts_per_account_sigma"], n_accounts)
    cumulative = np.cumsum(weights)
    acct = np.searchsorted(cumulative, rng.random(n_posts) * cumulative[-1]).astype(np.int64)
    start, end = epoch(cfg["timing"]["start"]), epoch(cfg["timing"]["end"])
    ts = timeline.spread(rng, n_posts, start, end)
    text, urls, hashtags = composer.posts(rng, n_posts)
    return part(acct, ts, text, urls, hashtags)
