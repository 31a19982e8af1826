"""The posts after LSH: what the scan reads of them from the near-duplicate groups on, on
this machine. Each post gets its group and output group id, the spun groups are found and
the rewordings in them marked; the posts then give the traces of co-shared texts and other
objects, and once the clusters are known, the tables made from posts (each cluster's
example texts, the groups table, the posts table). :class:`SharedPosts` is what any engine
provides for these steps (the Spark engine: :mod:`detector.spark.shared`, where the posts
stay in Spark); :class:`Posts` is this machine's, from the batches the scan kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numba as nb
import numpy as np
import polars as pl

from detector.config import TRACE_COLUMNS, ScanConfig
from detector.graph import Traces, concat_traces, make_traces
from detector.numbering import sorted_firsts
from detector.objects import object_rows, url_domains
from detector.rawtexts import RawTexts
from detector.result import TableParts
from detector.rewording import TextGroups, mark_rewordings, spun_copy_sets, written_texts
from detector.schema import GROUPS, POSTS, TIME

MAX_EXAMPLES = 8  # example texts per cluster
# Each first-appearance account number's rank, and the accounts in rank order.
RankedAccounts = tuple[np.ndarray, pl.DataFrame]
# Each object a trace names (``key``) and what names it in the edges table: its
# ``label`` (an id, a URL, a tag), or for a text the ``row`` of a post that has it.
OBJECTS = pl.Schema({"key": pl.Int64, "label": pl.String, "row": pl.Int64})


@dataclass(frozen=True)
class PostCounts:
    """What the tables and summary count over every accepted post, where the stages after
    LSH may read only the posts of shared groups (the Spark engine's driver):
    ``scanned`` posts, those ``too_short`` to match, and the ``unique_texts``."""

    scanned: int
    too_short: int
    unique_texts: int


@dataclass(frozen=True)
class PostTables:
    """What the tables take from the posts once the clusters are known: each cluster's
    ``examples`` (``cluster_id``, ``example_texts``), the ``groups`` table, the ``posts``
    table and the number of shared groups of texts too short for MinHash."""

    examples: pl.DataFrame
    groups: pl.DataFrame
    posts: pl.DataFrame | TableParts
    short_text_groups: int


class SharedPosts(Protocol):
    """The posts as the stages after LSH read them, wherever an engine holds them.
    ``accounts``: by account number, ``account_id``, ``account_created_at``, ``n_posts`` and
    each one's first and last post time (``first_seen``, ``last_seen``); ``counts``: over
    every post."""

    accounts: pl.DataFrame
    counts: PostCounts

    def mark(self, config: ScanConfig) -> int:
        """Index the posts by group (output group ids among them), find the spun groups
        and mark the rewordings in them; returns the number of spun groups."""
        ...

    def traces(self, config: ScanConfig) -> tuple[Traces, pl.DataFrame]:
        """The co-sharing traces built here (the rest the engine's clusterer builds), and
        the objects they name (:data:`OBJECTS`)."""
        ...

    def texts(self, rows: np.ndarray) -> pl.Series:
        """The raw texts of posts by their ``row`` as :meth:`traces` names them."""
        ...

    def tables(self, account_cluster_id: np.ndarray, accounts: pl.DataFrame) -> PostTables:
        """The tables' parts made from the posts; ``account_cluster_id``: each account's
        output cluster id (-1 for none); ``accounts``: the accounts table."""
        ...


@dataclass
class Posts:
    """This machine's :class:`SharedPosts`: ``frame``, one row per accepted post in input
    order with ``post_id``, ``account`` (dense number, by ``account_id`` order),
    ``created_at``, ``text_id`` and the input's trace columns (``repost_of``, ``urls``...);
    ``texts``: the raw texts of given rows (the tables quote a few; the rest never come
    back); ``n_shingles`` and ``text_group``: each text's shingle count and group label
    (-1 for none; see :meth:`~detector.rewording.TextGroups.of`), by text number;
    ``groups``: the groups that can be spun, with their texts' sketches;
    ``park``: sets a frame aside while the graph and clusters are built, returning how to
    get it back (on disk once the scan is past its memory budget)."""

    frame: pl.DataFrame
    accounts: pl.DataFrame
    counts: PostCounts
    texts: Callable[[np.ndarray], pl.Series]
    n_shingles: np.ndarray
    text_group: np.ndarray
    groups: TextGroups
    park: Callable[[pl.DataFrame], Callable[[], pl.DataFrame]] = lambda frame: lambda: frame
    parked: Callable[[], pl.DataFrame] = field(init=False)  # the posts set aside by traces
    short_text_groups: int = field(init=False, default=0)  # counted by mark

    @classmethod
    def of_store(
        cls,
        raw_texts: RawTexts,
        accounts: RankedAccounts,
        n_shingles: np.ndarray,
        text_group: np.ndarray,
        groups: TextGroups,
        config: ScanConfig,
    ) -> Posts:
        """From the batches the scan kept: every column but the raw texts, which stay where
        ``raw_texts`` finds them (its store, on disk if spilled, or the input file);
        ``accounts``: each first-appearance number's rank and the accounts table in rank
        order; ``n_shingles``, ``text_group``, ``groups``: as the fields."""
        matchable = n_shingles >= config.min_shingles
        store = raw_texts.store
        if not store.rows:
            return cls(
                pl.DataFrame(schema=_POSTS),
                _active(
                    pl.DataFrame(schema=_ACCOUNTS), np.zeros(0, np.int64), np.zeros(0, np.int64)
                ),
                PostCounts(0, 0, matchable.size),
                lambda rows: pl.Series([], dtype=pl.String),
                n_shingles,
                text_group,
                groups,
            )
        rank, table = accounts
        frame = store.pop([name for name in store.names() if name not in ("text", "record")])
        account = rank[frame["account"].to_numpy()]
        frame = frame.with_columns(account=pl.Series(account))
        too_short = int((~matchable[frame["text_id"].to_numpy()]).sum())
        return cls(
            frame,
            _active(table, account, frame["created_at"].dt.epoch("us").to_numpy()),
            PostCounts(frame.height, too_short, matchable.size),
            raw_texts,
            n_shingles,
            text_group,
            groups,
            store.park,
        )

    def mark(self, config: ScanConfig) -> int:
        matchable = self.n_shingles >= config.min_shingles
        frame = _index_posts(self._take(), self.text_group, matchable)
        self.text_group = self.text_group[:0].copy()  # 8 bytes a text, read no more
        # Short-text groups are labelled from the number of texts up.
        short = frame.filter(pl.col("shared_group") >= self.n_shingles.size)
        self.short_text_groups = short["shared_group"].n_unique()
        written = written_texts(frame, self.n_shingles, self.groups)
        copies = spun_copy_sets(written, self.groups, config)
        self.frame = mark_rewordings(frame, copies, config)
        self.groups.release()
        return copies["shared_group"].n_unique()

    def traces(self, config: ScanConfig) -> tuple[Traces, pl.DataFrame]:
        """Every kind's traces; the posts are then set aside (:attr:`park`) until the
        tables."""
        found = _traces(self.frame, config)
        self.parked = self.park(_slim(self._take()))
        return found

    def tables(self, account_cluster_id: np.ndarray, accounts: pl.DataFrame) -> PostTables:
        posts = self.parked()
        cluster_id = account_cluster_id[posts["account"].to_numpy()]
        posts = posts.with_columns(cluster_id=pl.Series(cluster_id).replace(-1, None))
        clustered = posts.with_row_index("row").filter(pl.col("cluster_id").is_not_null())
        return PostTables(
            examples=_examples(clustered, self.texts),
            groups=groups_table(posts, self.texts),
            posts=posts_table(posts, accounts),
            short_text_groups=self.short_text_groups,
        )

    def _take(self) -> pl.DataFrame:
        """``frame``, no longer held here: the caller's stages then free each column as
        soon as they drop it."""
        frame, self.frame = self.frame, pl.DataFrame(schema=self.frame.schema)
        return frame


def _active(accounts: pl.DataFrame, account: np.ndarray, time: np.ndarray) -> pl.DataFrame:
    """``accounts`` with each one's ``n_posts``, ``first_seen`` and ``last_seen``, from every
    post's ``account`` number and ``time`` (epoch microseconds)."""
    first = np.full(accounts.height, np.iinfo(np.int64).max, np.int64)
    last = np.full(accounts.height, np.iinfo(np.int64).min, np.int64)
    np.minimum.at(first, account, time)
    np.maximum.at(last, account, time)
    return accounts.with_columns(
        n_posts=pl.Series(np.bincount(account, minlength=accounts.height).astype(np.int64)),
        first_seen=pl.Series(first).cast(TIME),
        last_seen=pl.Series(last).cast(TIME),
    )


_POSTS = pl.Schema(
    {"post_id": pl.String, "created_at": TIME, "account": pl.UInt32, "text_id": pl.UInt32}
)
_ACCOUNTS = pl.Schema({"account_id": pl.String, "account_created_at": TIME})


def _index_posts(
    posts: pl.DataFrame, text_group: np.ndarray, matchable: np.ndarray
) -> pl.DataFrame:
    """Attach epoch seconds, whether the text is long enough to match, and the
    near-duplicate group shared by >= 2 accounts (``shared_group``, -1 otherwise) with its
    output id (``group_id``: 1.. by decreasing number of posts, ties by first post, then
    label). The groups are numbered densely and summed in one pass over the posts
    (:func:`_group_posts`), so that every per-group array is as small as the groups are
    few: with arrays over every label (a text number) and ``np.minimum.at``, the 50M-post
    tiled world's posts took 14.7-16.1 s against 3.1-3.5 s (0.56 s against 0.52 s at
    10M)."""
    text_id = posts["text_id"].to_numpy()
    time = posts["created_at"].dt.epoch("s")
    slot, label, lowest, highest, n_posts, first = _group_posts(
        text_group, text_id, posts["account"].to_numpy(), time.to_numpy()
    )
    shared = np.flatnonzero(lowest != highest)  # a group is shared by all its posts or none
    shared_group = np.full(label.size + 1, -1, np.int64)  # by slot: dense number + 1
    shared_group[shared + 1] = label[shared]
    group_id = np.zeros(label.size + 1, np.int64)
    group_id[shared + 1] = group_ids(label[shared], n_posts[shared], first[shared])
    post_shared_group = shared_group[slot]
    return posts.with_columns(
        time=time,
        matchable=pl.Series(matchable[text_id]),
        shared_group=pl.Series(post_shared_group),
        group_id=pl.Series(group_id[slot]).set(pl.Series(post_shared_group < 0), None),
    )


@nb.njit(cache=True)
def _group_posts(
    text_group: np.ndarray, text_id: np.ndarray, account: np.ndarray, time: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The groups of the posts, numbered densely by first appearance among the texts: each
    post's ``slot`` (its group's number + 1, 0 for none), and by number each group's
    ``label``, smallest and largest account, posts and first ``time``. ``text_group``: the
    label of every text (-1 for none); the rest: every post's."""
    labels = 0
    for g in text_group:
        labels = max(labels, g + 1)
    number = np.full(labels, -1, np.int32)
    text_slot = np.empty(text_group.size, np.int32)
    label = np.empty(text_group.size, np.int64)
    n_groups = 0
    for text in range(text_group.size):
        g = text_group[text]
        if g >= 0 and number[g] < 0:
            number[g] = n_groups
            label[n_groups] = g
            n_groups += 1
        text_slot[text] = number[g] + 1 if g >= 0 else 0
    lowest = np.full(n_groups + 1, np.iinfo(account.dtype).max, account.dtype)
    highest = np.zeros(n_groups + 1, account.dtype)
    n_posts = np.zeros(n_groups + 1, np.int64)
    first = np.full(n_groups + 1, np.iinfo(np.int64).max, np.int64)
    slot = np.empty(text_id.size, np.int32)
    for post in range(text_id.size):
        s = text_slot[text_id[post]]
        slot[post] = s
        lowest[s] = min(lowest[s], account[post])
        highest[s] = max(highest[s], account[post])
        n_posts[s] += 1
        first[s] = min(first[s], time[post])
    return slot, label[:n_groups].copy(), lowest[1:], highest[1:], n_posts[1:], first[1:]


def group_ids(label: np.ndarray, n_posts: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Output ids of groups given row-aligned (their ``label``, posts and first post
    second): 1.. by decreasing number of posts, ties by first post, then label. Every
    engine numbers groups by this."""
    ids = np.empty(label.size, np.int64)
    ids[np.lexsort((label, first, -n_posts))] = np.arange(1, label.size + 1)
    return ids


def _slim(posts: pl.DataFrame) -> pl.DataFrame:
    """Drop what only the graph needed."""
    graph_only = [
        "content", "rewording", "quoting",
        *(c for c in TRACE_COLUMNS.values() if c != "text"),
    ]  # fmt: skip
    return posts.drop(graph_only, strict=False)


def _traces(posts: pl.DataFrame, config: ScanConfig) -> tuple[Traces, pl.DataFrame]:
    """Co-sharing traces of every switched-on kind the input has, and what names each
    object (:data:`OBJECTS`): for a text the ``row`` of a post that has it, whose raw text
    is read only if a written edge quotes it."""
    parts: list[Traces] = []
    labels: list[pl.DataFrame] = []
    posts = posts.with_row_index("row")
    authors = posts.select(label="post_id", source=pl.col("account").cast(pl.Int64))
    for index, kind in enumerate(config.traces):
        column = TRACE_COLUMNS[kind]
        if kind == "text":  # named by a row: filtering every shared text is costly
            rows = (
                posts.select(
                    "row", "account", "time", "matchable", "text_id", "rewording",
                    key="shared_group", variant="content",
                )
                .filter(pl.col("key") >= 0)
                .filter(_co_shared_text(config.short_text_min_variants))
            )  # fmt: skip
        elif column not in posts.columns:
            continue
        else:
            rows = object_rows(posts, column, ("account", "time"))
            rows = rows.with_columns(variant=pl.lit(0, pl.Int64))
        traces = make_traces(
            index,
            rows["key"].to_numpy(),
            rows["account"].to_numpy(),
            rows["time"].to_numpy(),
            rows["row"].to_numpy(),
            rows["variant"].to_numpy(),
            _sources(kind, rows, authors),
            rows["rewording"].to_numpy() if kind == "text" else None,
        )
        parts.append(traces)
        keys, first = sorted_firsts(traces.key)
        if "label" in rows.columns:
            named = {"label": rows["label"].gather(first), "row": None}
        else:
            named = {"label": None, "row": rows["row"].gather(first)}
        labels.append(pl.DataFrame({"key": keys, **named}, schema=OBJECTS))
        del traces, rows  # the parts are joined in place: held by the list alone
    return concat_traces(parts), pl.concat(labels) if labels else pl.DataFrame(schema=OBJECTS)


def _co_shared_text(min_variants: int) -> pl.Expr:
    """Which posts of shared groups make their group a co-sharing object: those of
    near-duplicate groups, and those of short-text groups holding at least
    ``min_variants`` distinct texts (one short phrase repeated is shared by chance)."""
    variants = pl.col("text_id").n_unique().over("key")
    return pl.col("matchable") | (variants >= min_variants)


def _sources(kind: str, rows: pl.DataFrame, authors: pl.DataFrame) -> np.ndarray | None:
    """Where each object comes from: the author of a reposted or replied-to post in the
    dump (-1 when it is not), the domain of a URL; None for other traces."""
    if kind in ("repost", "reply"):
        # Only the posts referred to: a join against every post's id was the scan's
        # highest peak at 10M posts (1.3 GiB over the traces stage's start).
        referred = authors.filter(pl.col("label").is_in(rows["label"].implode()))
        joined = rows.select("label").join(referred, on="label", how="left", maintain_order="left")
        return joined["source"].fill_null(-1).to_numpy()
    if kind == "url":
        return rows.select(url_domains(pl.col("label")))["label"].to_numpy()
    return None


def _examples(
    clustered: pl.DataFrame, raw_texts: Callable[[np.ndarray], pl.Series]
) -> pl.DataFrame:
    """Distinct example texts per cluster: variants of its largest group first, then the
    first text of its next largest groups (``clustered``: posts with their ``row``)."""
    shared = clustered.filter(pl.col("group_id").is_not_null())
    texts = (
        shared.sort("time", "post_id")
        .unique(["cluster_id", "text_id"], keep="first", maintain_order=True)
        .with_columns(rank=pl.col("group_id").rank("dense").over("cluster_id"))
    )
    variants = (
        texts.filter(pl.col("rank") == 1)
        .group_by("cluster_id")
        .agg(pl.col("row").head(MAX_EXAMPLES // 2))
    )
    others = (
        texts.filter(pl.col("rank") > 1)
        .unique(["cluster_id", "group_id"], keep="first", maintain_order=True)
        .sort("cluster_id", "rank")
        .group_by("cluster_id", maintain_order=True)
        .agg(pl.col("row").head(MAX_EXAMPLES // 2).alias("more"))
    )
    rows = (
        variants.join(others, on="cluster_id", how="full", coalesce=True)
        .select(
            "cluster_id",
            row=pl.concat_list(pl.col("row").fill_null([]), pl.col("more").fill_null([])),
        )
        .explode("row")
    )
    return (
        rows.with_columns(text=raw_texts(rows["row"].to_numpy()))
        .group_by("cluster_id", maintain_order=True)
        .agg(example_texts="text")
    )


def groups_table(posts: pl.DataFrame, raw_texts: Callable[[np.ndarray], pl.Series]) -> pl.DataFrame:
    """The groups table (:data:`~detector.schema.GROUPS`) from the posts (``group_id``,
    ``cluster_id``, ``account``, ``text_id``, ``time``, ``created_at``, ``post_id``)."""
    shared = posts.with_row_index("row").filter(pl.col("group_id").is_not_null())
    # Each group's example: its first post by (time, post_id), among its posts of the
    # earliest second only (not a sort of every shared post by a string tie-break).
    first = (
        shared.filter(pl.col("time") == pl.col("time").min().over("group_id"))
        .group_by("group_id")
        .agg(row=pl.col("row").sort_by("post_id").first())
    )
    groups = (
        shared.group_by("group_id")
        .agg(
            n_posts=pl.len(),
            n_accounts=pl.col("account").n_unique(),
            n_texts=pl.col("text_id").n_unique(),
            first_seen=pl.col("created_at").min(),
            last_seen=pl.col("created_at").max(),
        )
        .join(first, on="group_id")
        .join(_majority_clusters(shared), on="group_id", how="left")
        .with_columns(
            cluster_id=pl.when(pl.col("n") >= pl.col("n_accounts") - pl.col("in_clusters")).then(
                "cluster_id"
            )
        )
        .sort("group_id")
    )
    return (
        groups.with_columns(example_text=raw_texts(groups["row"].to_numpy()))
        .select(GROUPS.names())
        .cast(GROUPS)
    )


def _majority_clusters(shared: pl.DataFrame) -> pl.DataFrame:
    """Per group of the ``shared`` posts, the cluster with most of its accounts (``n``;
    the smallest id of those tied) and the accounts in any cluster (``in_clusters``):
    counted over clustered posts alone, a few of all, since an account is in one cluster
    at most (a group's accounts in none are the rest, which the cluster must not be
    outnumbered by)."""
    return (
        shared.filter(pl.col("cluster_id").is_not_null())
        .group_by("group_id", "cluster_id")
        .agg(n=pl.col("account").n_unique())
        .with_columns(in_clusters=pl.col("n").sum().over("group_id"))
        .sort("group_id", "n", "cluster_id", descending=[False, True, False])
        .unique("group_id", keep="first", maintain_order=True)
    )


def posts_table(posts: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """The posts table (:data:`~detector.schema.POSTS`), made in memory."""
    account_id = accounts["account_id"].gather(posts["account"])
    return posts.with_columns(account_id).select(POSTS.names()).cast(POSTS)
