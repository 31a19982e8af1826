"""Spun groups: near-duplicate groups made of many distinct rewordings of one long text, the
mark of copywriting software, and in them whose rewording each post is.

A campaign that spins one article into thousands of variants can post each variant from a
different account, once. What gives it away is the group, not the account: far more
distinct texts than an authentic crowd writes (a slogan is copied, a complaint reposted with
a comment, an app's share text posted as is), each a long text, and each reworded well away
from the others. A post in such a group is its account's *own rewording* when the account
posted it (or a near-identical copy of it) first. A later copy by another account, verbatim
or with a comment added, is that account *picking the post up* when it is all the account
did in spun groups, once or twice: a reader passing the campaign on, not writing for it. An
operation's accounts also post each other's variants, but they write their own as well.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from detector.config import ScanConfig
from detector.graph import index_type
from detector.lsh import copy_groups, root_similarity

OWN = 1  # the account's own rewording in a spun group
PICKUP = -1  # a copy of another account's post there, by an account that only picked it up
QUOTES = ("repost_of", "reply_to")  # a post with either quotes or answers another
TABLE_SPAN = 32  # positions_in's table entries a value at most: 128 bytes, its sketch's size


def _written(posts: pl.DataFrame) -> pl.Expr:
    """Posts that are texts of their own: neither a repost nor a reply (which quote or
    answer another post, and in many dumps carry its text or a chain of comments). Posts
    without the reposted and replied-to ids (the Spark engine leaves them where the posts
    lie) say which they are in ``quoting``."""
    quoting = [pl.col(c).is_not_null() for c in QUOTES if c in posts.columns]
    if "quoting" in posts.columns:
        quoting.append(pl.col("quoting"))
    in_group = pl.col("matchable") & (pl.col("shared_group") >= 0)
    return in_group & ~pl.any_horizontal(quoting) if quoting else in_group


@dataclass
class TextGroups:
    """The near-duplicate groups that can be spun, those of at least ``spun_min_texts``
    texts, as spun-group detection reads them from any engine: their texts (``large``:
    sorted text numbers) and, row-aligned, each one's group ``label`` (its group's first
    text's number) and sketch low bytes (``low``)."""

    large: np.ndarray
    label: np.ndarray
    low: np.ndarray

    @classmethod
    def of(
        cls, label: np.ndarray, low_bytes: Callable[[np.ndarray], np.ndarray], min_texts: int
    ) -> TextGroups:
        """From the group ``label`` of every text number (-1 for none; near-duplicate
        groups are labelled by their first text's number, short-text groups from the number
        of texts up) and the low bytes of texts (``low_bytes``: by text number)."""
        large = large_group_texts(label, min_texts)
        return cls(large, label[large], low_bytes(large))

    def release(self) -> None:
        """Free the large groups' sketches once the rewordings are marked: nothing after
        reads them, and every engine's caller still holds the groups."""
        empty = (a[:0].copy() for a in (self.large, self.label, self.low))  # a view keeps all
        self.large, self.label, self.low = empty

    def candidates(self) -> np.ndarray:
        """Labels of the groups that can be spun, sorted."""
        return np.unique(self.label)

    def low_bytes(self, text_ids: np.ndarray) -> np.ndarray:
        """Low bytes of texts of large groups, by text number."""
        return self.low[np.searchsorted(self.large, text_ids)]

    def similarity(self, text_ids: np.ndarray) -> np.ndarray:
        """The estimated similarity of texts of large groups (by text number) to their
        group's first text: NaN for first texts."""
        position = positions_in(self.large)
        return root_similarity(self.low, position(self.label))[position(text_ids)]


def positions_in(ascending: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A lookup of the position in ``ascending`` (distinct integers) of any of its values.
    Where they are dense in their range (a scan's large groups' texts), one read from a
    table over the range, at most ``TABLE_SPAN`` entries a value: a binary search per value
    in unordered queries misses the cache at each step once the array outgrows it (the
    spun groups' similarities at 50M posts: 7.0 s against 0.4 s). Elsewhere (one group's
    texts, spread over a whole dump's), the binary search."""
    if ascending.size == 0 or ascending[-1] - ascending[0] >= TABLE_SPAN * ascending.size:
        return lambda values: np.searchsorted(ascending, values)
    low = int(ascending[0])
    position = index_type(ascending.size)
    table = np.full(int(ascending[-1]) - low + 1, -1, position)
    table[ascending - low] = np.arange(ascending.size, dtype=position)
    return lambda values: table[values - low]


def large_group_texts(label: np.ndarray, min_texts: int) -> np.ndarray:
    """Sorted text numbers of the near-duplicate groups (labels below the number of texts)
    holding at least ``min_texts`` texts."""
    near = np.flatnonzero((label >= 0) & (label < label.size))
    sizes = np.bincount(label[near], minlength=label.size)
    return near[sizes[label[near]] >= min_texts]


def short_group_labels(keys: np.ndarray, n_texts: int) -> np.ndarray:
    """The group labels of short texts by their code-masked ``keys`` (unsigned): from
    ``n_texts`` up, by the rank of the key, so they never meet a near-duplicate group's
    label (its first text's number). Every engine labels short-text groups by this."""
    return n_texts + np.unique(keys, return_inverse=True)[1].reshape(-1)


def written_texts(posts: pl.DataFrame, n_shingles: np.ndarray, groups: TextGroups) -> pl.DataFrame:
    """Per text of the groups that can be spun shared in ``posts`` (columns
    ``shared_group``, ``text_id``, ``matchable``, and ``repost_of``/``reply_to`` or
    ``quoting`` when the input says which posts quote): its posts written as texts of their
    own (``n_posts``) and its ``shingles`` (``n_shingles``: by text number), what
    :func:`spun_groups` reads."""
    candidates = pl.Series(groups.candidates(), dtype=pl.Int64)
    counts = (
        posts.filter(_written(posts) & pl.col("shared_group").is_in(candidates.implode()))
        .group_by("shared_group", "text_id")
        .agg(n_posts=pl.len())
    )
    shingles = n_shingles[counts["text_id"].to_numpy()]
    return counts.with_columns(shingles=pl.Series(shingles, dtype=pl.Int64))


def spun_groups(texts: pl.DataFrame, groups: TextGroups, config: ScanConfig) -> np.ndarray:
    """Sorted labels of the spun groups, from their texts' written posts and shingles
    (``texts``: ``shared_group``, ``text_id``, ``n_posts``, ``shingles``, as
    :func:`written_texts` gives them, from any engine)."""
    similarity = groups.similarity(texts["text_id"].to_numpy())
    stats = (
        texts.with_columns(similarity=pl.Series(similarity).fill_nan(None))
        .sort("shared_group", "text_id")  # the mean's terms in one order, whatever the engine
        .group_by("shared_group", maintain_order=True)
        .agg(
            pl.col("n_posts").sum(),
            n_texts=pl.len(),
            shingles=pl.col("shingles").median(),
            similarity=pl.col("similarity").mean(),
        )
    )
    spun = stats.filter(
        (pl.col("n_texts") >= config.spun_min_texts)
        & (pl.col("n_texts") >= config.spun_min_variant_share * pl.col("n_posts"))
        & (pl.col("shingles") >= config.spun_min_shingles)
        & (pl.col("similarity") <= config.spun_max_similarity)
    )
    return np.sort(spun["shared_group"].to_numpy())


def spun_copy_sets(texts: pl.DataFrame, groups: TextGroups, config: ScanConfig) -> pl.DataFrame:
    """The texts of the spun groups among ``texts`` (as :func:`spun_groups` reads them),
    each with its copy set (:func:`copy_sets`): what :func:`mark_rewordings` reads, from
    any engine."""
    spun = pl.Series(spun_groups(texts, groups, config), dtype=pl.Int64)
    return copy_sets(texts.filter(pl.col("shared_group").is_in(spun.implode())), groups, config)


def copy_sets(texts: pl.DataFrame, groups: TextGroups, config: ScanConfig) -> pl.DataFrame:
    """Each text's copy set in its spun group (``texts``: ``shared_group``, ``text_id``, the
    texts of spun groups written as posts of their own): ``content``, the set's first text
    number. A copy set is a text and its near-identical copies (a comment added, not a
    rewording), found group by group, so that an engine holding each group's texts apart
    finds the same sets."""
    texts = texts.select("shared_group", "text_id").unique().sort("shared_group", "text_id")
    group, text_ids = (texts[name].to_numpy() for name in ("shared_group", "text_id"))
    content = text_ids.copy()
    bounds = np.flatnonzero(np.diff(group, prepend=-2, append=-2)) if group.size else []
    for start, end in itertools.pairwise(bounds):
        members = text_ids[start:end]
        roots = copy_groups(
            groups.low_bytes(members), config.copy_candidate_similarity, config.copy_similarity
        )
        content[start:end] = members[roots]
    return texts.with_columns(content=pl.Series(content, dtype=pl.Int64))


def mark_rewordings(posts: pl.DataFrame, copies: pl.DataFrame, config: ScanConfig) -> pl.DataFrame:
    """``posts`` with ``rewording`` and ``content``. ``rewording``: :data:`OWN` for the
    first post of each copy set of a spun group (``copies``: :func:`copy_sets` of the spun
    groups' texts) and that account's later posts of it; :data:`PICKUP` for copies by an
    account that wrote no rewording of its own in any spun group and posted at most
    ``pickup_max_copies`` posts in them; 0 otherwise (an operation's accounts reusing each
    other's variants, posts outside spun groups). ``content``: the copy set's first text
    number in a spun group, the post's own text number elsewhere."""
    if copies.height == 0:
        return posts.with_columns(content=pl.col("text_id"), rewording=pl.lit(0, pl.Int8))
    spun = copies["shared_group"].unique().implode()
    in_spun = _written(posts) & pl.col("shared_group").is_in(spun)
    copy_of = copies.select("text_id", "content")
    marked = (
        posts.with_row_index("_row")
        .filter(in_spun)
        .select("_row", "shared_group", "text_id", "account", "time", "post_id")
        .join(copy_of, on="text_id", how="left")
        .sort("time", "post_id")
        .with_columns(
            own=pl.col("account") == pl.col("account").first().over("shared_group", "content")
        )
        .with_columns(
            rewording=pl.when("own")
            .then(pl.lit(OWN, pl.Int8))
            .when(
                ~pl.col("own").any().over("account")
                & (pl.len().over("account") <= config.pickup_max_copies)
            )
            .then(pl.lit(PICKUP, pl.Int8))
            .otherwise(pl.lit(0, pl.Int8))
        )
        .select("_row", "content", "rewording")
    )
    # Scattered into new columns rather than joined: a join would copy every column of
    # the posts, raw texts included, for a few spun rows.
    rows = marked["_row"].to_numpy()
    content = posts["text_id"].to_numpy().copy()
    content[rows] = marked["content"].to_numpy()
    rewording = np.zeros(posts.height, np.int8)
    rewording[rows] = marked["rewording"].to_numpy()
    return posts.with_columns(content=pl.Series(content), rewording=pl.Series(rewording))
