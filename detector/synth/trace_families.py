"""Builders of the trace-world families (see ``traces.py``): three coordinated operations
and four authentic crowds, each modelled on how the real thing behaves.

Every builder returns (posts, new accounts, borrowed-account labels) in the ledger's
shapes, posts extended by ``reply`` (anchor replied to) and ``hidden`` (an anchor post that
is in the world, so it gets an id, but not in the dump).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from detector.synth import timeline
from detector.synth.ledger import Ledger, accounts, part
from detector.synth.organic import Composer
from detector.synth.scenarios import Scenario, epoch, words
from detector.synth.text import compose, decorate, lists, pick, short_links
from detector.synth.timeline import DAY, HOUR

Built = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]
NO_LABELS = pl.DataFrame(schema={"acct": pl.Int64, "burst": pl.String})


def trace_part(
    acct: np.ndarray,
    ts: np.ndarray,
    text: pl.Series,
    urls: pl.Series | None = None,
    hashtags: pl.Series | None = None,
    anchor: np.ndarray | None = None,
    repost: np.ndarray | None = None,
    reply: np.ndarray | None = None,
    hidden: np.ndarray | None = None,
) -> pl.DataFrame:
    """Posts in the ledger's shape plus ``reply`` and ``hidden``; negative anchor numbers in
    ``anchor``/``repost``/``reply`` mean none."""
    frame = part(
        np.asarray(acct, dtype=np.int64), np.asarray(ts, dtype=np.int64), text, urls, hashtags
    )
    cols = {"anchor": anchor, "repost": repost, "reply": reply}
    return frame.with_columns(
        *(
            (
                pl.Series(name, np.asarray(v, dtype=np.int64))
                if v is not None
                else pl.lit(-1, dtype=pl.Int64).alias(name)
            )
            for name, v in cols.items()
        ),
        hidden=pl.Series(hidden, dtype=pl.Boolean) if hidden is not None else pl.lit(False),
    ).with_columns(pl.when(pl.col(c) >= 0).then(c).alias(c) for c in cols)


def ramp(n_posts: int, scale: Scenario) -> int:
    """Accounts of a coordinated family: ``accounts_full`` from ``full_at`` posts on,
    ``(n_posts / full_at) ** ramp_power`` of them below, never under ``accounts_min``."""
    fraction = min(1.0, n_posts / scale["full_at"]) ** scale["ramp_power"]
    return max(scale["accounts_min"], round(scale["accounts_full"] * fraction))


def grow(n_posts: int, full_at: int, bounds: list[int]) -> int:
    """A count from ``bounds[0]`` (tiny worlds) rising linearly to ``bounds[1]`` at ``full_at``."""
    return round(bounds[0] + (bounds[1] - bounds[0]) * min(1.0, n_posts / full_at))


def _coordinated_created(rng: np.random.Generator, acc: Scenario, n: int) -> np.ndarray:
    """Batch sign-ups, with an ``aged_share`` of bought old accounts spread over years."""
    batches = [(epoch(b["start"]), b["days"]) for b in acc["batches"]]
    created = timeline.in_batches(rng, n, batches)
    aged = rng.random(n) < acc["aged_share"]
    old = timeline.between(rng, n, epoch(acc["aged_from"]), epoch(acc["aged_to"]))
    return np.where(aged, old, created)


def _ordinary(
    rng: np.random.Generator,
    composer: Composer,
    members: np.ndarray,
    bounds: list[int],
    period: tuple[int, int],
) -> pl.DataFrame:
    """``bounds[0]..bounds[1]`` everyday posts per member over the whole period."""
    counts = rng.integers(bounds[0], bounds[1] + 1, len(members))
    acct = np.repeat(members, counts)
    ts = timeline.spread(rng, len(acct), *period)
    if len(acct) == 0:
        return trace_part(acct, ts, pl.Series([], dtype=pl.String))
    text, urls, hashtags = composer.posts(rng, len(acct))
    return trace_part(acct, ts, text, urls, hashtags)


def _comments(rng: np.random.Generator, n: int, pool: list[str], empty_share: float) -> pl.Series:
    """Short repost comments, an ``empty_share`` of them empty."""
    text = pick(rng, pool, n)
    return text.zip_with(pl.Series(rng.random(n) >= empty_share), pl.Series([""] * n))


def _lognormal(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def _members(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n: int, label: str
) -> tuple[np.ndarray, pl.DataFrame]:
    members = ledger.new(n)
    created = _coordinated_created(rng, cfg["accounts"], n)
    return members, accounts(members, created, campaign=label)


def _activity(rng: np.random.Generator, bounds: list[float], n: int) -> np.ndarray:
    """Per-member readiness scaled to mean 1: reserves join few operations, the core most."""
    weight = rng.uniform(bounds[0], bounds[1], n)
    return weight / weight.mean()


def _queue(rng: np.random.Generator, k: int, gaps: list[int], workers: list[int]) -> np.ndarray:
    """Offsets of ``k`` reposts a control panel sends out: ``workers[0]..workers[1]`` workers
    (each starting up to a few seconds late) take the accounts in turn, each waiting a
    random ``gaps[0]..gaps[1]`` seconds between two reposts."""
    w = int(rng.integers(workers[0], workers[1] + 1))
    step = rng.integers(gaps[0], gaps[1] + 1, k)
    worker = np.arange(k) % w
    step[:w] = rng.integers(0, 6, min(w, k))  # each worker's first repost
    offset = np.empty(k, dtype=np.int64)
    for j in range(w):
        offset[worker == j] = np.cumsum(step[worker == j])
    return offset


def repost_network(
    rng: np.random.Generator,
    cfg: Scenario,
    ledger: Ledger,
    composer: Composer,
    n_posts: int,
    period: tuple[int, int],
) -> Built:
    """Orders from one dashboard: each mobilises a random majority of the network to repost
    one target within seconds of each other (the first repost 5-120 s after the target, the
    next ones 0-20 s apart, the panel working through its queue with one to three workers).
    Targets are mostly posts of the operation's own seed accounts, some popular posts that
    ordinary users repost over hours as well."""
    scale, orders, acc = cfg["scale"], cfg["orders"], cfg["accounts"]
    n = ramp(n_posts, scale)
    members, new = _members(rng, cfg, ledger, n, "repost_network")
    n_orders = grow(n_posts, scale["full_at"], scale["orders"])
    n_seeds = int(rng.integers(scale["seed_accounts"][0], scale["seed_accounts"][1] + 1))
    weight = _activity(rng, acc["activity"], n)
    start = epoch(orders["start"])
    target_ts = np.sort(timeline.spread(rng, n_orders, start, start + orders["weeks"] * 7 * DAY))
    popular = rng.random(n_orders) < orders["popular_share"]
    seed_of = rng.integers(0, n_seeds, n_orders)
    anchors = np.array([ledger.anchor() for _ in range(n_orders)], dtype=np.int64)
    author = np.where(popular, rng.integers(0, ledger.organic_accounts, n_orders), members[seed_of])
    texts = pick(rng, cfg["text"]["sources"], n_orders)
    pop_rows = np.flatnonzero(popular)
    if len(pop_rows):
        texts.scatter(pop_rows, composer.posts(rng, len(pop_rows))[0])
    targets = trace_part(author, target_ts, texts, anchor=anchors)

    who, when, what = [], [], []
    lo, hi = orders["participation"]
    for o in range(n_orders):
        take = rng.random(n) < np.clip(rng.uniform(lo, hi) * weight, 0.0, 1.0)
        if not popular[o]:
            take[seed_of[o]] = False  # a seed account does not repost itself
        fire = target_ts[o] + rng.integers(orders["fire_seconds"][0], orders["fire_seconds"][1] + 1)
        k = int(take.sum())
        who.append(rng.permutation(members[take]))
        when.append(fire + _queue(rng, k, orders["gap_seconds"], orders["workers"]))
        what.append(np.full(k, anchors[o]))
    acct = np.concatenate(who)
    text = _comments(rng, len(acct), cfg["text"]["comments"], cfg["text"]["empty_share"])
    reposts = trace_part(acct, np.concatenate(when), text, repost=np.concatenate(what))

    pop = cfg["popular"]
    counts = np.round(
        _lognormal(rng, len(pop_rows), pop["organic_reposts_median"], pop["organic_reposts_sigma"])
    ).astype(np.int64)
    which = np.repeat(pop_rows, counts)
    delay = _lognormal(rng, len(which), pop["delay_median_minutes"] * 60, pop["delay_sigma"])
    organic_reposts = trace_part(
        rng.integers(0, ledger.organic_accounts, len(which)),
        target_ts[which] + np.clip(delay, 10, 7 * DAY).astype(np.int64),
        _comments(rng, len(which), pop["comments"], pop["empty_share"]),
        repost=anchors[which],
    )
    ordinary = _ordinary(rng, composer, members, acc["ordinary_posts"], period)
    posts = pl.concat([targets, reposts, organic_reposts, ordinary])
    return posts, new, NO_LABELS


def _surface_urls(
    rng: np.random.Generator, links: Scenario, article: np.ndarray, canon: pl.DataFrame
) -> pl.Series:
    """One link per post to ``article``, written the way sharers write them: http or https,
    with or without ``www.``, ``utm_*`` parameters, a fragment, a trailing slash, or the
    article's (one, fixed) short link."""
    n = len(article)

    def flag(key: str) -> pl.Series:
        return pl.Series(rng.random(n) < links[key])

    frame = pl.DataFrame(
        {
            "domain": canon["domain"].gather(article),
            "path": canon["path"].gather(article),
            "short": canon["short"].gather(article),
            "src": pick(rng, links["utm_sources"], n),
            "med": pick(rng, links["utm_mediums"], n),
            "camp": pick(rng, links["utm_campaigns"], n),
            "frag": pick(rng, links["fragments"], n),
            "http": flag("http_share"),
            "www": flag("www_share"),
            "utm": flag("utm_share"),
            "three": pl.Series(rng.random(n) < 0.5),
            "fragment": flag("fragment_share"),
            "slash": flag("slash_share"),
            "use_short": flag("short_share"),
        }
    )
    empty = pl.lit("")
    scheme = pl.when("http").then(pl.lit("http://")).otherwise(pl.lit("https://"))
    utm = pl.concat_str(
        pl.lit("?utm_source="),
        "src",
        pl.when("three")
        .then(pl.concat_str(pl.lit("&utm_medium="), "med", pl.lit("&utm_campaign="), "camp"))
        .otherwise(empty),
    )
    full = pl.concat_str(
        scheme,
        pl.when("www").then(pl.lit("www.")).otherwise(empty),
        "domain",
        "path",
        pl.when("slash").then(pl.lit("/")).otherwise(empty),
        pl.when("utm").then(utm).otherwise(empty),
        pl.when("fragment").then(pl.concat_str(pl.lit("#"), "frag")).otherwise(empty),
    )
    short = pl.concat_str(scheme, "short")
    return frame.select(pl.when("use_short").then(short).otherwise(full).alias("url")).to_series()


def link_network(
    rng: np.random.Generator,
    cfg: Scenario,
    ledger: Ledger,
    composer: Composer,
    plain: Composer,
    n_posts: int,
    period: tuple[int, int],
) -> Built:
    """Accounts pushing a few dozen articles on a few campaign domains over two weeks in
    bursts (a share of the network within ~10 minutes, each post one of the burst's 1-3
    links); every text a unique everyday sentence plus the link in a varying surface form."""
    scale, timing, links = cfg["scale"], cfg["timing"], cfg["links"]
    n = ramp(n_posts, scale)
    members, new = _members(rng, cfg, ledger, n, "link_network")
    n_articles = grow(n_posts, scale["full_at"], scale["articles"])
    n_domains = int(rng.integers(scale["domains"][0], scale["domains"][1] + 1))
    domains = rng.choice(links["domains"], min(n_domains, len(links["domains"])), replace=False)
    start = epoch(timing["start"])
    days = (start + rng.integers(-20 * DAY, 0, n_articles)) // DAY
    dates = pl.from_epoch(pl.Series(days * DAY), time_unit="s").dt.strftime("%Y/%m%d")
    canon = pl.DataFrame(
        {
            "domain": pick(rng, list(domains), n_articles),
            "section": pick(rng, links["sections"], n_articles),
            "date": dates,
            "id": pl.Series(rng.integers(100_000, 999_999, n_articles)).cast(pl.String),
            "short": short_links(rng, n_articles, links["shorteners"], int(rng.integers(2**40))),
        }
    ).with_columns(
        path=pl.concat_str(pl.lit("/"), "section", pl.lit("/"), "date", pl.lit("/"), "id"),
        short=pl.col("short").str.strip_prefix("https://"),
    )
    n_bursts = int(rng.integers(scale["bursts"][0], scale["bursts"][1] + 1))
    burst_ts = np.sort(timeline.spread(rng, n_bursts, start, start + timing["days"] * DAY))
    per_burst = rng.integers(timing["urls_per_burst"][0], timing["urls_per_burst"][1] + 1, n_bursts)
    cycle = np.concatenate(
        [rng.permutation(n_articles) for _ in range(int(per_burst.sum()) // n_articles + 1)]
    )
    offsets = np.concatenate([[0], np.cumsum(per_burst)])
    pull = rng.uniform(*timing["participation"], n_bursts)
    counts = rng.integers(
        timing["posts_per_account"][0], timing["posts_per_account"][1] + 1, n
    ).clip(max=n_bursts)
    # weighted sampling of each account's bursts without replacement (Efraimidis-Spirakis)
    keys = rng.random((n, n_bursts)) ** (1.0 / pull[None, :])
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    owner, burst = np.nonzero(rank < counts[:, None])
    pick_in_burst = (rng.random(len(burst)) * per_burst[burst]).astype(np.int64)
    article = cycle[offsets[burst] + pick_in_burst]
    ts = burst_ts[burst] + rng.integers(0, timing["burst_seconds"] + 1, len(burst))
    url = _surface_urls(rng, links, article, canon)
    sentence = plain.posts(rng, len(url))[0]
    text = pl.DataFrame({"s": sentence, "u": url}).select(pl.concat_str("s", pl.lit(" "), "u"))
    pushed = trace_part(
        members[owner],
        ts,
        text.to_series(),
        urls=lists(url, np.ones(len(url), dtype=np.int64)),
    )
    ordinary = _ordinary(rng, composer, members, cfg["accounts"]["ordinary_posts"], period)
    return pl.concat([pushed, ordinary]), new, NO_LABELS


def _unique_combos(rng: np.random.Generator, n: int, pools: list[list[str]]) -> pl.Series:
    """``n`` texts of one item of each pool, the last pool's item (a mark) appended and the
    others joined by commas; all different while the pools allow."""
    sizes = np.array([len(p) for p in pools], dtype=np.int64)
    space = int(np.prod(sizes))
    index = rng.choice(space, n, replace=n > space)
    columns = {}
    for k in range(len(pools) - 1, -1, -1):
        columns[f"p{k}"] = pl.Series(pools[k]).gather(index % sizes[k])
        index = index // sizes[k]
    frame = pl.DataFrame(dict(sorted(columns.items())))
    body = pl.concat_str([f"p{k}" for k in range(len(pools) - 1)], separator="，")
    return frame.select(pl.concat_str(body, f"p{len(pools) - 1}")).to_series()


def hashtag_hijack(
    rng: np.random.Generator,
    cfg: Scenario,
    ledger: Ledger,
    composer: Composer,
    n_posts: int,
    period: tuple[int, int],
    trend: tuple[str, int],
) -> Built:
    """Synchronised bursts (most of the network within 1-3 minutes) of unique texts with
    one or two campaign hashtags plus the hashtag trending at the time; the first burst
    rides the trending-hashtag family's tag on its day (``trend``: tag, start)."""
    scale, timing, text_cfg = cfg["scale"], cfg["timing"], cfg["text"]
    n = ramp(n_posts, scale)
    members, new = _members(rng, cfg, ledger, n, "hashtag_hijack")
    weight = _activity(rng, cfg["accounts"]["activity"], n)
    n_bursts = grow(n_posts, scale["full_at"], scale["bursts"])
    start = epoch(timing["start"])
    burst_ts = timeline.spread(rng, n_bursts, start, start + timing["weeks"] * 7 * DAY)
    delay = rng.uniform(*timing["hijack_delay_hours"]) * HOUR
    burst_ts[0] = trend[1] + int(delay)
    pool = text_cfg["trending"]
    tags = [trend[0]] + [pool[i] for i in rng.permutation(len(pool))[: n_bursts - 1]]
    while len(tags) < n_bursts:
        tags.append(pool[int(rng.integers(len(pool)))])
    who, when, which = [], [], []
    lo, hi = timing["participation"]
    for b in range(n_bursts):
        take = rng.random(n) < np.clip(rng.uniform(lo, hi) * weight, 0.0, 1.0)
        span = int(rng.integers(timing["burst_seconds"][0], timing["burst_seconds"][1] + 1))
        who.append(members[take])
        when.append(burst_ts[b] + rng.integers(0, span + 1, int(take.sum())))
        which.append(np.full(int(take.sum()), b))
    acct, burst = np.concatenate(who), np.concatenate(which)
    m = len(acct)
    camp = text_cfg["campaign_tags"]
    first = rng.integers(0, len(camp), m)
    second = (first + 1 + rng.integers(0, len(camp) - 1, m)) % len(camp)
    frame = pl.DataFrame(
        {
            "a": pl.Series(camp).gather(first),
            "b": pl.Series(camp).gather(second),
            "t": pl.Series(tags).gather(burst),
            "two": rng.random(m) < 0.5,
        }
    )
    hashtags = frame.select(
        pl.when("two")
        .then(pl.concat_list("a", "b", "t"))
        .otherwise(pl.concat_list("a", "t"))
        .alias("hashtags")
    ).to_series()
    pools = [text_cfg[k] for k in ("openers", "claims", "closers")] + [words(text_cfg["marks"])]
    body = _unique_combos(rng, m, pools)
    text = pl.DataFrame({"body": body, "h": hashtags}).select(
        pl.concat_str("body", pl.lit(" #"), pl.col("h").list.join(" #"))
    )
    pushed = trace_part(acct, np.concatenate(when), text.to_series(), hashtags=hashtags)
    ordinary = _ordinary(rng, composer, members, cfg["accounts"]["ordinary_posts"], period)
    return pl.concat([pushed, ordinary]), new, NO_LABELS


def _crowd(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n: int, label: str
) -> tuple[np.ndarray, pl.DataFrame, pl.DataFrame]:
    """``n`` participants of an authentic crowd: a ``borrowed_share`` of background users
    (who keep their everyday posts), the rest fresh accounts created over the given span."""
    borrowed = ledger.borrow(round(n * cfg["scale"]["borrowed_share"]))
    fresh = ledger.new(n - len(borrowed))
    acc = cfg["accounts"]
    created = timeline.between(
        rng, len(fresh), epoch(acc["created_from"]), epoch(acc["created_to"])
    )
    labels = pl.DataFrame(
        {"acct": borrowed, "burst": label}, schema={"acct": pl.Int64, "burst": pl.String}
    )
    return np.concatenate([borrowed, fresh]), accounts(fresh, created, burst=label), labels


def _handles(rng: np.random.Generator, text_cfg: Scenario, n: int) -> pl.Series:
    """Screen names such as ``屿宝不睡觉0713`` for @mentions."""
    frame = pl.DataFrame(
        {
            "h": pick(rng, text_cfg["handle_heads"], n),
            "t": pick(rng, words(text_cfg["handle_tails"]), n),
            "d": pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4),
        }
    )
    return frame.select(pl.concat_str("h", "t", "d")).to_series()


def idol_fans(
    rng: np.random.Generator,
    cfg: Scenario,
    ledger: Ledger,
    composer: Composer,
    n_posts: int,
    period: tuple[int, int],
) -> Built:
    """One idol's posts over weeks, each reposted by a random part of a fandom of thousands:
    every fan reposts a share of the posts (a few hyperactive ones nearly all), mostly with
    a lognormal delay of about an hour, a devoted 5% within seconds; comments, emoji,
    @friends; old accounts plus a surge of sign-ups in one week; fans' everyday posts."""
    scale, acc, text_cfg = cfg["scale"], cfg["accounts"], cfg["text"]
    n_idol = grow(n_posts, scale["full_at"], scale["idol_posts"])
    lo, hi = scale["repost_share"]
    a, b = scale["share_beta"]
    per_fan = n_idol * (lo + (hi - lo) * a / (a + b))
    n_fans = max(scale["fans_min"], round(scale["share_of_posts"] * n_posts / per_fan))
    idol = ledger.new(1)
    start = epoch(cfg["timing"]["start"])
    idol_ts = np.sort(timeline.spread(rng, n_idol, start, start + cfg["timing"]["weeks"] * 7 * DAY))
    anchors = np.array([ledger.anchor() for _ in range(n_idol)], dtype=np.int64)
    pools = {k: words(v) for k, v in text_cfg["pools"].items()}
    idol_posts = trace_part(
        np.repeat(idol, n_idol),
        idol_ts,
        compose(rng, n_idol, text_cfg["idol_patterns"], pools),
        anchor=anchors,
        hidden=rng.random(n_idol) < scale["hidden_share"],
    )
    fans = ledger.new(n_fans)
    created = timeline.between(rng, n_fans, epoch(acc["created_from"]), epoch(acc["created_to"]))
    surge_start = epoch(acc["surge_start"])
    surge = timeline.between(rng, n_fans, surge_start, surge_start + acc["surge_days"] * DAY)
    created = np.where(rng.random(n_fans) < acc["surge_share"], surge, created)
    share = lo + (hi - lo) * rng.beta(a, b, n_fans)
    hyper = rng.random(n_fans) < scale["hyper_share"]
    share = np.where(hyper, rng.uniform(*scale["hyper_repost_share"], n_fans), share)
    devoted = rng.random(n_fans) < scale["devoted_share"]
    who, when, what = [], [], []
    for p in range(n_idol):
        take = np.flatnonzero(rng.random(n_fans) < share)
        fast = rng.integers(scale["devoted_seconds"][0], scale["devoted_seconds"][1] + 1, len(take))
        slow = _lognormal(rng, len(take), scale["delay_median_minutes"] * 60, scale["delay_sigma"])
        slow = np.clip(slow, 60, 30 * DAY).astype(np.int64)
        ts = idol_ts[p] + np.where(devoted[take], fast, slow)
        keep = ts > created[take]  # a fan who signed up later cannot have reposted it
        who.append(take[keep])
        when.append(ts[keep])
        what.append(np.full(int(keep.sum()), anchors[p]))
    fan = np.concatenate(who)
    m = len(fan)
    handles = _handles(rng, text_cfg, n_fans)
    comment = decorate(rng, pick(rng, text_cfg["comments"], m), text_cfg["emoji"],
                       text_cfg["emoji_share"], front=False)  # fmt: skip
    friend = handles.gather(rng.integers(0, n_fans, m))
    draw = rng.random(m)
    text = (
        pl.DataFrame({"c": comment, "f": friend, "d": draw})
        .select(
            pl.when(pl.col("d") < text_cfg["empty_share"])
            .then(pl.lit(""))
            .when(pl.col("d") < text_cfg["empty_share"] + text_cfg["mention_share"])
            .then(pl.concat_str("c", pl.lit(" @"), "f"))
            .otherwise("c")
        )
        .to_series()
    )
    reposts = trace_part(fans[fan], np.concatenate(when), text, repost=np.concatenate(what))
    ordinary = _ordinary(rng, composer, fans, scale["ordinary_posts"], period)
    new = pl.concat(
        [
            accounts(idol, np.array([epoch(acc["idol_created"])]), burst="idol_fans"),
            accounts(fans, created, burst="idol_fans"),
        ]
    )
    return pl.concat([idol_posts, reposts, ordinary]), new, NO_LABELS


def viral_post(rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_posts: int) -> Built:
    """One to three posts reposted and replied to by tens of thousands within hours, the
    pace fading fast, mostly one interaction per person."""
    scale, timing, text_cfg = cfg["scale"], cfg["timing"], cfg["text"]
    total = round(scale["share_of_posts"] * n_posts)
    k = int(rng.integers(scale["posts"][0], scale["posts"][1] + 1))
    k = min(k, len(timing["starts"]), len(text_cfg["posts"]))
    authors = ledger.new(k)
    starts = np.array([epoch(s) for s in timing["starts"][:k]], dtype=np.int64)
    anchors = np.array([ledger.anchor() for _ in range(k)], dtype=np.int64)
    originals = trace_part(authors, starts, pl.Series(text_cfg["posts"][:k]), anchor=anchors)
    second = scale["second_share"]
    members, new, labels = _crowd(rng, cfg, ledger, round(total / (1 + second)), "viral_post")
    acct = np.repeat(members, 1 + (rng.random(len(members)) < second))
    n = len(acct)
    target = rng.choice(k, n, p=rng.dirichlet(np.full(k, 2.0)))
    ts = np.empty(n, dtype=np.int64)
    for p in range(k):
        rows = np.flatnonzero(target == p)
        ts[rows] = timeline.burst(
            rng, len(rows), int(starts[p]), timing["hours"], timing["decay_hours"]
        )
    ts = np.maximum(ts, starts[target] + timing["min_seconds"])
    is_reply = rng.random(n) < scale["reply_share"]
    reply_text = decorate(rng, pick(rng, text_cfg["replies"], n), text_cfg["emoji"],
                          text_cfg["emoji_share"], front=False)  # fmt: skip
    repost_text = _comments(rng, n, text_cfg["repost_comments"], text_cfg["empty_share"])
    text = reply_text.zip_with(pl.Series(is_reply), repost_text)
    interactions = trace_part(
        acct,
        ts,
        text,
        repost=np.where(is_reply, -1, anchors[target]),
        reply=np.where(is_reply, anchors[target], -1),
    )
    new = pl.concat([accounts(authors, np.full(k, epoch(cfg["accounts"]["author_created"])),
                              burst="viral_post"), new])  # fmt: skip
    return pl.concat([originals, interactions]), new, labels


def trending_hashtag(
    rng: np.random.Generator, cfg: Scenario, ledger: Ledger, plain: Composer, n_posts: int
) -> Built:
    """Many users each posting once, in their own words, with the hashtag trending that
    day, some adding a second popular hashtag."""
    timing, text_cfg = cfg["timing"], cfg["text"]
    members, new, labels = _crowd(
        rng, cfg, ledger, round(cfg["scale"]["share_of_posts"] * n_posts), "trending_hashtag"
    )
    n = len(members)
    ts = timeline.burst(rng, n, epoch(timing["start"]), timing["hours"], timing["decay_hours"])
    frame = pl.DataFrame(
        {
            "s": plain.posts(rng, n)[0],
            "t": pl.Series([text_cfg["tag"]] * n, dtype=pl.String),
            "x": pick(rng, text_cfg["second_tags"], n),
            "two": rng.random(n) < text_cfg["second_share"],
        }
    ).with_columns(
        hashtags=pl.when("two").then(pl.concat_list("t", "x")).otherwise(pl.concat_list("t"))
    )
    text = frame.select(pl.concat_str("s", pl.lit(" #"), pl.col("hashtags").list.join(" #")))
    posts = trace_part(members, ts, text.to_series(), hashtags=frame["hashtags"])
    return posts, new, labels


def default_texts(rng: np.random.Generator, cfg: Scenario, ledger: Ledger, n_posts: int) -> Built:
    """Texts other apps' share buttons write ("转发微博", "I just joined <App>! Join me"),
    1-5 per user at random times over months, often with the app's link (with the share
    parameters, slash or fragment each app adds; one page once normalised) or @account."""
    scale, text_cfg = cfg["scale"], cfg["text"]
    ks = np.arange(scale["posts_per_account"][0], scale["posts_per_account"][1] + 1)
    p = scale["count_decay"] ** (ks - ks[0])
    p = p / p.sum()
    n_users = round(scale["share_of_posts"] * n_posts / float((ks * p).sum()))
    members, new, labels = _crowd(rng, cfg, ledger, n_users, "default_texts")
    acct = np.repeat(members, rng.choice(ks, len(members), p=p))
    n = len(acct)
    ts = timeline.spread(rng, n, epoch(cfg["timing"]["start"]), epoch(cfg["timing"]["end"]))
    apps = text_cfg["apps"]
    weights = np.array([a["weight"] for a in apps], dtype=float)
    app = rng.choice(len(apps), n, p=weights / weights.sum())
    templates = text_cfg["templates"]
    filled = [t.replace("<App>", a["name"]) for a in apps for t in templates]
    body = pl.Series(filled).gather(app * len(templates) + rng.integers(0, len(templates), n))
    url = pl.DataFrame(
        {
            "u": pl.Series([a["url"] for a in apps]).gather(app),
            "s": pick(rng, text_cfg["url_suffixes"], n),
        }
    ).select(pl.concat_str("u", "s").alias("url"))["url"]
    handle = pl.Series([a["handle"] for a in apps]).gather(app)
    has_url = rng.random(n) < text_cfg["url_share"]
    has_mention = rng.random(n) < text_cfg["mention_share"]
    frame = pl.DataFrame({"b": body, "u": url, "h": handle, "hu": has_url, "hm": has_mention})
    text = frame.select(
        pl.concat_str(
            "b",
            pl.when("hm").then(pl.concat_str(pl.lit(" @"), "h")).otherwise(pl.lit("")),
            pl.when("hu").then(pl.concat_str(pl.lit(" "), "u")).otherwise(pl.lit("")),
        )
    ).to_series()
    urls = lists(url.filter(pl.Series(has_url)), has_url.astype(np.int64))
    return trace_part(acct, ts, text, urls=urls), new, labels
