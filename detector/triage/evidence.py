"""Per-cluster evidence shared by the HTML report and ``detector explain``: the cluster's
row, its posting timeline, account-creation histogram, busiest accounts, a network sample
and its example posts aligned into templates. Computed here once, rendered elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

from detector.errors import UsageError
from detector.result import ScanResult
from detector.score import BUSY_DAY_SHARE
from detector.triage.settings import DEFAULT, ReportSettings
from detector.triage.template import Family, families

MAX_BUCKETS = 60
MIN_BUCKETS = 12  # fewer buckets are padded on both sides, so a burst shows as one
# Bucket widths a histogram may use, in seconds: the finest that fits MAX_BUCKETS wins.
STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400)
STEPS += (7 * 86_400, 14 * 86_400, 30 * 86_400, 91 * 86_400, 365 * 86_400)


@dataclass(frozen=True)
class Histogram:
    """Counts of events in equal time buckets starting at ``start``."""

    start: datetime
    step: timedelta
    counts: list[int]

    def bucket_start(self, index: int) -> datetime:
        return self.start + self.step * index

    def peak(self) -> int:
        """Index of the fullest bucket (the first one on ties)."""
        return int(np.argmax(self.counts))

    def label(self, index: int) -> str:
        """Start of bucket ``index`` (``len(counts)``: the end), as precise as the step."""
        pattern = "%Y-%m-%d %H:%M" if self.step < timedelta(days=1) else "%Y-%m-%d"
        return self.bucket_start(index).strftime(pattern)

    @property
    def unit(self) -> str:
        """The bucket width in words: "15 min", "hour", "day", "7 days"."""
        s = int(self.step.total_seconds())
        if s % 86_400 == 0:
            return "day" if s == 86_400 else f"{s // 86_400} days"
        if s % 3600 == 0:
            return "hour" if s == 3600 else f"{s // 3600} h"
        if s % 60 == 0:
            return "minute" if s == 60 else f"{s // 60} min"
        return f"{s} s"


@dataclass(frozen=True)
class Link:
    """A drawn link between two members of one sub-community, with what they shared."""

    a: int  # indices into Network.nodes
    b: int
    weight: float
    about: str  # hover text: traces, shared objects, when


@dataclass(frozen=True)
class Bundle:
    """All links between two sub-communities, drawn as one stroke."""

    a: int  # community indices
    b: int
    links: int
    weight: float


@dataclass(frozen=True)
class Network:
    """The best-connected members, split into sub-communities (Louvain) and laid out group
    by group in [0, 1]^2: a few strongest links per member inside its group, links
    between groups bundled."""

    nodes: list[str]
    xy: np.ndarray  # (len(nodes), 2)
    degree: list[int]  # links of each node within the whole cluster
    community: list[int]  # of each node; 0 = the largest sub-community
    links: list[Link]
    bundles: list[Bundle]
    n_accounts: int
    n_edges: int


@dataclass(frozen=True)
class Wave:
    """A run of the cluster's posts without a quiet spell of ``wave_gap_s``."""

    start: datetime
    end: datetime
    n_posts: int
    n_accounts: int

    def describe(self) -> str:
        """When, how long, how many posts and accounts, in one line."""
        return (
            f"{when(self.start)} → {when(self.end)} UTC "
            f"({duration((self.end - self.start).total_seconds())}) · {self.n_posts:,} posts · "
            f"{self.n_accounts:,} accounts"
        )


@dataclass(frozen=True)
class SignUps:
    """Account creation zoomed on the mass sign-up days (each >= BUSY_DAY_SHARE of the
    members and >= 3): those days' counts and a summary of the rest."""

    busy: list[tuple[date, int]]  # the busiest days, in date order
    busy_days: int  # all busy days (``busy`` may show fewer)
    on_busy: int  # accounts created on busy days
    other: int  # accounts created on other days
    other_days: int
    other_peak: int  # most accounts created on one other day
    first: date
    last: date

    def describe(self) -> str:
        """The busy days' share of the accounts and a summary of the other days."""
        total = self.on_busy + self.other
        shown = f" (the {len(self.busy)} busiest drawn)" if len(self.busy) < self.busy_days else ""
        rest = (
            f"the other {self.other:,} were created on {self.other_days:,} days, at most "
            f"{self.other_peak:,} a day"
            if self.other
            else "no account was created on another day"
        )
        return (
            f"{self.busy_days:,} days{shown} hold {self.on_busy / total:.0%} ({self.on_busy:,}) "
            f"of the {total:,} accounts with a creation date; {rest}; all between {self.first} "
            f"and {self.last}."
        )


@dataclass(frozen=True)
class Evidence:
    """Everything shown for one cluster."""

    cluster: dict[str, Any]  # the cluster's row of the clusters table
    timeline: Histogram | None
    creation: Histogram | None  # None where creation dates are unknown
    top_accounts: list[dict[str, Any]]  # account_id, n_posts, account_created_at, links
    network: Network
    waves: list[Wave]  # the largest, in time order
    n_waves: int  # all waves, shown or not
    sign_ups: SignUps | None
    examples: list[Family]


def when(value: datetime | None) -> str:
    """A timestamp to the minute, or a dash when unknown."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


def collect(
    result: ScanResult, cluster_ids: list[int], settings: ReportSettings = DEFAULT
) -> list[Evidence]:
    """Evidence for each of ``cluster_ids`` (in that order), reading every table once; a
    usage error naming any id that is not a cluster of ``result``."""
    if not cluster_ids:
        return []
    wanted = pl.col("cluster_id").is_in(cluster_ids)
    cluster_posts = result.lazy("posts").filter(wanted).collect()
    posts = _by_cluster(cluster_posts)
    accounts = _by_cluster(result.accounts.filter(wanted))
    raw_edges = _by_cluster(result.edges.filter(wanted))
    rows = {r["cluster_id"]: r for r in result.clusters.filter(wanted).iter_rows(named=True)}
    if missing := [cid for cid in cluster_ids if cid not in rows]:
        raise UsageError(
            f"no cluster {missing[0]} in these results ({result.clusters.height} clusters)"
        )
    texts = result.groups.select("group_id", "example_text")
    out = []
    for cid in cluster_ids:
        row = rows[cid]
        members = accounts.get(cid, result.accounts.clear())
        own_posts = posts.get(cid, cluster_posts.clear())
        own_edges = raw_edges.get(cid, result.edges.clear())
        links = pair_links(own_edges)
        linked = _with_links(members, links)
        shown_waves, n_waves = waves(own_posts, settings)
        out.append(
            Evidence(
                cluster=row,
                timeline=histogram(own_posts["created_at"]),
                creation=histogram(members["account_created_at"], min_step=86_400),
                top_accounts=_top_accounts(linked, settings.top_accounts),
                network=network_sample(
                    linked,
                    links,
                    settings,
                    lambda pairs, p=own_posts, e=own_edges: link_details(
                        pairs, p, e, texts, settings.hover_chars
                    ),
                ),
                examples=families(row["example_texts"] or []),
                waves=shown_waves,
                n_waves=n_waves,
                sign_ups=sign_ups(members["account_created_at"], settings.busy_days_shown),
            )
        )
    return out


def pair_links(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` (rows of an edges table) with one row per account pair: weight and
    shared objects summed over traces, ``traces`` the traces that link the pair
    (comma-separated, in name order). Summed over each pair's run of rows in pair order,
    the traces as bits: no group-by over millions of pairs."""
    edges = edges.sort("source", "target", "trace")
    columns = ["source", "target", "cluster_id"]
    if edges.is_empty():
        empty = {"weight": pl.Float64, "shared": pl.Int64, "traces": pl.String}
        return edges.select(columns).with_columns(
            pl.lit(None, dtype).alias(name) for name, dtype in empty.items()
        )
    starts = np.flatnonzero(
        edges.select(pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift()) for c in columns))
        .to_series()
        .to_numpy()
    )
    names = sorted(edges["trace"].unique().to_list())
    code = edges["trace"].cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int64)
    mask = np.bitwise_or.reduceat(np.left_shift(1, code), starts)
    spelled = {m: ",".join(n for k, n in enumerate(names) if m >> k & 1) for m in np.unique(mask)}
    return (
        edges[starts]
        .select(columns)
        .with_columns(
            weight=np.add.reduceat(edges["weight"].to_numpy(), starts),
            shared=np.add.reduceat(edges["shared"].to_numpy(), starts),
            traces=pl.Series(mask).replace_strict(spelled, return_dtype=pl.String),
        )
    )


def _by_cluster(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("cluster_id", as_dict=True).items()}


def histogram(times: pl.Series, min_step: int = 60) -> Histogram | None:
    """Bucket timestamps with the finest step from :data:`STEPS` (at least ``min_step``
    seconds) giving <= MAX_BUCKETS buckets; None when no timestamp is known."""
    seconds = times.drop_nulls().dt.epoch("s").to_numpy()
    if seconds.size == 0:
        return None
    low, high = int(seconds.min()), int(seconds.max())
    step = next(
        (
            s
            for s in STEPS
            if s >= min_step and (high - high % s - (low - low % s)) // s < MAX_BUCKETS
        ),
        None,
    )
    step = step or -(-(high - low + 1) // MAX_BUCKETS)
    n = (high - high % step - (low - low % step)) // step + 1
    origin = low - low % step - step * max(0, (MIN_BUCKETS - n) // 2)
    size = max(n, MIN_BUCKETS)
    counts = np.bincount((seconds - origin) // step, minlength=size)
    return Histogram(
        start=datetime.fromtimestamp(origin, UTC),
        step=timedelta(seconds=step),
        counts=[int(c) for c in counts],
    )


def _with_links(members: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """``members``' ``account_id``, ``n_posts`` and ``account_created_at`` with ``links``:
    the pairs of ``links`` each is in."""
    ends = pl.concat([links["source"], links["target"]]).alias("account_id")
    return (
        members.select("account_id", "n_posts", "account_created_at")
        .join(ends.value_counts(name="links"), on="account_id", how="left")
        .with_columns(pl.col("links").fill_null(0))
    )


def _top_accounts(members: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    """The members (with their ``links``) with the most links, then the most posts."""
    return (
        members.sort(["links", "n_posts", "account_id"], descending=[True, True, False])
        .head(limit)
        .to_dicts()
    )


def network_sample(
    members: pl.DataFrame,
    edges: pl.DataFrame,
    settings: ReportSettings = DEFAULT,
    details: Callable[[pl.DataFrame], dict[tuple[str, str], str]] | None = None,
) -> Network:
    """The best-connected ``members`` (``account_id`` and ``links``, their pairs among
    ``edges``; at most ``settings.network_nodes``), split into
    sub-communities by seeded Louvain over their links, each group laid out on its own
    (seeded spring layout) and the groups packed in rows, largest first, so the picture
    is the same on every run. Inside a group only each member's strongest links are kept;
    links between groups become one bundle per pair of groups. ``details`` gives the
    hover text of the kept links (source, target -> text)."""
    best = members.sort(["links", "account_id"], descending=[True, False]).head(
        settings.network_nodes
    )
    ranked = best["account_id"].to_list()
    index = {account: i for i, account in enumerate(ranked)}
    inside = edges.filter(pl.col("source").is_in(ranked) & pl.col("target").is_in(ranked)).sort(
        ["weight", "source", "target"], descending=[True, False, False]
    )
    pairs = [
        (index[s], index[t], float(w))
        for s, t, w in inside.select("source", "target", "weight").iter_rows()
    ]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(ranked)))
    graph.add_weighted_edges_from(pairs)
    groups = sorted(
        (sorted(g) for g in nx.community.louvain_communities(graph, seed=settings.layout_seed)),
        key=lambda g: (-len(g), g[0]),
    )
    community = [0] * len(ranked)
    for c, group in enumerate(groups):
        for node in group:
            community[node] = c
    kept, bundles = _thin(pairs, community, settings.network_links_per_node)
    about = (details or (lambda _: {}))(
        pl.DataFrame(
            {"source": [ranked[a] for a, _, _ in kept], "target": [ranked[b] for _, b, _ in kept]},
            schema={"source": pl.String, "target": pl.String},
        )
    )
    return Network(
        nodes=ranked,
        xy=_layout(graph, groups, settings.layout_seed),
        degree=best["links"].to_list(),
        community=community,
        links=[Link(a, b, w, about.get((ranked[a], ranked[b]), "")) for a, b, w in kept],
        bundles=bundles,
        n_accounts=members.height,
        n_edges=edges.height,
    )


def _thin(
    pairs: list[tuple[int, int, float]], community: list[int], per_node: int
) -> tuple[list[tuple[int, int, float]], list[Bundle]]:
    """Links inside a group: each node's ``per_node`` strongest (``pairs`` come strongest
    first); links between groups: summed into one bundle per pair of groups."""
    used = [0] * len(community)
    kept = []
    between: dict[tuple[int, int], list[float]] = {}
    for a, b, w in pairs:
        ca, cb = community[a], community[b]
        if ca != cb:
            between.setdefault((min(ca, cb), max(ca, cb)), []).append(w)
        elif used[a] < per_node or used[b] < per_node:
            used[a] += 1
            used[b] += 1
            kept.append((a, b, w))
    bundles = [Bundle(a, b, len(ws), sum(ws)) for (a, b), ws in sorted(between.items())]
    return kept, bundles


def _layout(graph: nx.Graph, groups: list[list[int]], seed: int) -> np.ndarray:
    """Positions in [0, 1]^2: each group in a square of side ~ sqrt(its size), squares
    packed in rows of a near-square page, the group's spring layout inside its square."""
    xy = np.full((graph.number_of_nodes(), 2), 0.5)
    if not groups:
        return xy
    sides = [np.sqrt(len(g)) for g in groups]
    width = max(max(sides), 1.15 * np.sqrt(sum(side * side for side in sides)))
    x = y = row = 0.0
    for group, side in zip(groups, sides, strict=True):
        if x + side > width + 1e-9:
            x, y, row = 0.0, y + row, 0.0
        centre = np.array([x + side / 2, y + side / 2])
        if len(group) == 1:
            xy[group[0]] = centre
        else:
            inner = nx.spring_layout(graph.subgraph(group), seed=seed, iterations=50)
            pos = np.array([inner[n] for n in group], dtype=float)
            pos -= pos.mean(axis=0)
            pos /= max(float(np.abs(pos).max()), 1e-9)
            xy[group] = centre + pos * side * 0.42
        x, row = x + side, max(row, side)
    span = max(width, y + row)
    return xy / span


def link_details(
    pairs: pl.DataFrame,
    posts: pl.DataFrame,
    edges: pl.DataFrame,
    texts: pl.DataFrame,
    chars: int,
) -> dict[tuple[str, str], str]:
    """Hover text per linked pair (``pairs``: source, target): by which traces, how many
    objects, the first shared one (quoted, at most ``chars``) and, for near-duplicate
    texts, when: the first and last time the second of the two posted a text of a group
    both posted in (derived from the posts table, which the edges do not carry)."""
    if pairs.is_empty():
        return {}
    traces = (
        edges.join(pairs, on=["source", "target"], how="semi")
        .sort("source", "target", "trace")
        .group_by("source", "target", maintain_order=True)
        .agg(
            pl.format("{} ({})", "trace", "shared").str.join(", ").alias("by"),
            pl.col("objects").list.first().drop_nulls().first().alias("object"),
            pl.col("gap_min_s").min(),
        )
    )
    first_post = (
        posts.drop_nulls("group_id")
        .group_by("account_id", "group_id")
        .agg(pl.col("created_at").min())
    )
    when_ = (
        pairs.join(first_post, left_on="source", right_on="account_id")
        .join(first_post, left_on=["target", "group_id"], right_on=["account_id", "group_id"])
        .with_columns(both=pl.max_horizontal("created_at", "created_at_right"))
        .sort("both", "group_id")
        .group_by("source", "target", maintain_order=True)
        .agg(
            pl.col("both").min().alias("first"),
            pl.col("both").max().alias("last"),
            pl.col("group_id").first(),
        )
        .join(texts, on="group_id", how="left")
    )
    table = traces.join(when_, on=["source", "target"], how="left")
    out = {}
    for r in table.iter_rows(named=True):
        shared = r["example_text"] or r["object"] or ""
        quote = shared if len(shared) <= chars else shared[: chars - 1] + "…"
        parts = [f"{r['source']} – {r['target']}: shared {r['by']}"]
        if quote:
            parts.append(f"e.g. “{quote}”")
        if r["first"] is not None:
            parts.append(f"co-shared {when(r['first'])} to {when(r['last'])} UTC")
        if r["gap_min_s"] is not None:
            parts.append(f"closest {duration(r['gap_min_s'])} apart")
        out[(r["source"], r["target"])] = "; ".join(parts)
    return out


def duration(seconds: float) -> str:
    """A time span in the largest fitting unit: "45 s", "12 min", "3.5 h", "2.0 days"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def waves(posts: pl.DataFrame, settings: ReportSettings = DEFAULT) -> tuple[list[Wave], int]:
    """The cluster's posts split at every quiet spell of ``wave_gap_s``: the largest runs
    holding at least ``wave_min_share`` of the posts (at most ``max_waves``), in time
    order, and how many runs hold that much. One run covering everything is no wave."""
    timed = posts.select("created_at", "account_id").drop_nulls("created_at").sort("created_at")
    if timed.height < 2:
        return [], 0
    gap = timed["created_at"].diff().dt.total_seconds().fill_null(0) > settings.wave_gap_s
    runs = (
        timed.with_columns(run=gap.cum_sum())
        .group_by("run")
        .agg(
            start=pl.col("created_at").min(),
            end=pl.col("created_at").max(),
            n_posts=pl.len(),
            n_accounts=pl.col("account_id").n_unique(),
        )
        .filter(pl.col("n_posts") >= max(2, settings.wave_min_share * timed.height))
        .sort(["n_posts", "start"], descending=[True, False])
    )
    if runs.height == 1 and runs["n_posts"][0] == timed.height:
        return [], 0
    shown = runs.head(settings.max_waves).sort("start").drop("run")
    return [Wave(**r) for r in shown.iter_rows(named=True)], runs.height


def sign_ups(created: pl.Series, shown: int) -> SignUps | None:
    """Creation days zoomed on the mass sign-up days; None without dates or without busy
    days (the plain histogram then says enough)."""
    days = created.drop_nulls().dt.date()
    if days.is_empty():
        return None
    counts = days.value_counts().sort(days.name)
    busy = pl.col("count") >= max(3, BUSY_DAY_SHARE * days.len())
    on = counts.filter(busy)
    if on.is_empty():
        return None
    rest = counts.filter(~busy)
    top = on.sort(["count", days.name], descending=[True, False]).head(shown).sort(days.name)
    return SignUps(
        busy=list(top.iter_rows()),
        busy_days=on.height,
        on_busy=int(on["count"].sum()),
        other=int(rest["count"].sum()),
        other_days=rest.height,
        other_peak=int(rest["count"].max() or 0),
        first=counts[days.name].min(),
        last=counts[days.name].max(),
    )
