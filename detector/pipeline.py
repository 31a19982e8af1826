"""The scan, top to bottom: ingest -> normalise -> shingle + MinHash -> LSH -> spun groups ->
graph -> cluster -> score -> tables.

Input is streamed batch by batch: each batch is normalised and only its texts not seen
before are shingled and MinHashed, so exact copies (a slogan pasted 50,000 times) cost one
signature. What is kept per post is small (ids, time, raw text, a text key); the rest of
the pipeline works on numpy arrays indexed by dense account and text numbers.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from detector import __version__
from detector.cluster import detect_communities, join_spinners, keep_core_members
from detector.config import TRACE_COLUMNS, ScanConfig
from detector.graph import AccountGraph, Traces, build_graph, concat_traces, make_traces
from detector.ingest import expand_inputs, iter_batches, parquet_rows
from detector.lsh import Sketch, group_sketches, low_bytes, sketch
from detector.minhash import signatures
from detector.model import ScoreModel, load_model
from detector.normkernel import normalise_texts, short_text_keys
from detector.progress import on_terminal, step
from detector.result import ScanResult
from detector.rewording import TextGroups, mark_rewordings, spun_groups
from detector.schema import ACCOUNTS, CLUSTERS, EDGES, FEATURES, GROUPS, POSTS, REJECTS, TIME
from detector.score import cluster_evidence, cluster_reasons, feature, score_clusters

TEXT_KEY_SEED = 0x5EED
MAX_EXAMPLES = 8
MAX_OBJECT_CHARS = 200  # of each object quoted in the edges table


@dataclass
class Stages:
    """Wall time and peak resident memory of each pipeline stage; ``progress``: show each
    stage on stderr while it runs."""

    progress: bool
    seconds: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.peak_mb[name] = round(max(self.peak_mb.get(name, 0.0), peak), 1)

    @contextmanager
    def step(self, name: str, label: str | None = None) -> Iterator[None]:
        """Time a stage run once, naming it (or ``label``) on the progress line meanwhile."""
        with step(f"scan: {label or name}", show=self.progress), self.stage(name):
            yield

    def bar(self, total: int | None, desc: str, unit: str = "posts") -> tqdm:
        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=True,
            disable=not self.progress,
            leave=False,
        )

    def report(self) -> dict[str, dict[str, float]]:
        return {
            n: {"seconds": round(s, 3), "peak_rss_mb": self.peak_mb[n]}
            for n, s in self.seconds.items()
        }


@dataclass
class _Texts:
    """Unique normalised texts seen so far, with the LSH sketches of those long enough to
    match (``sketched``: their text numbers) and the code-masked keys of the shorter ones
    (``short``: text numbers, ``short_keys``: keys)."""

    keys: list[pl.DataFrame] = field(default_factory=list)
    sketches: list[Sketch] = field(default_factory=list)
    sketched: list[np.ndarray] = field(default_factory=list)
    short: list[np.ndarray] = field(default_factory=list)
    short_keys: list[np.ndarray] = field(default_factory=list)
    n_shingles: list[np.ndarray] = field(default_factory=list)
    count: int = 0

    def add_short(self, raw: pl.Series, n_shingles: np.ndarray, config: ScanConfig) -> None:
        """Key the new texts (``raw``: one raw text each) with 1 to ``min_shingles - 1``
        shingles by their code-masked normalised text."""
        rows = np.flatnonzero((n_shingles > 0) & (n_shingles < config.min_shingles))
        keys = short_text_keys(raw.gather(rows), config).hash(TEXT_KEY_SEED)
        self.short.append(rows + self.count)
        self.short_keys.append(keys.to_numpy())

    def groups(self, threshold: float) -> np.ndarray:
        """Group label of every text, -1 for none: near-duplicate groups of the sketched
        texts are labelled by their first text's number, short-text groups by ``count``
        plus the rank of their key, so the two never share a label."""
        group = np.full(self.count, -1, np.int64)
        sketched = self._sketched()
        group[sketched] = sketched[group_sketches(self.sketches, threshold)]
        short = np.concatenate([np.zeros(0, np.int64), *self.short])
        keys = np.concatenate([np.zeros(0, np.uint64), *self.short_keys])
        group[short] = self.count + np.unique(keys, return_inverse=True)[1].reshape(-1)
        return group

    def low_bytes(self, text_ids: np.ndarray) -> np.ndarray:
        """The sketch low bytes of sketched texts, by text number."""
        return low_bytes(self.sketches, np.searchsorted(self._sketched(), text_ids))

    def _sketched(self) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int64), *self.sketched])


def _ingest(inputs: Sequence[str | Path], config: ScanConfig, stages: Stages):
    """Stream the input: keep compact per-post columns, MinHash each new text once."""
    frames: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    texts = _Texts()
    rows_read = 0
    batches = iter_batches(inputs, config)
    with stages.bar(parquet_rows(inputs), "read + minhash") as bar:
        while True:
            with stages.stage("ingest"):
                batch = next(batches, None)
            if batch is None:
                break
            rows_read += batch.rows_read
            rejects.append(batch.rejects)
            with stages.stage("normalise"):
                posts = normalise_posts(batch.posts, config)
                new = posts.select("text_key", "normalised", "text").unique(
                    "text_key", keep="first", maintain_order=True
                )
                if texts.keys:
                    new = new.join(pl.concat(texts.keys), on="text_key", how="anti")
            with stages.stage("minhash"):
                sketched, long_enough, n_shingles = sketch_texts(new["normalised"], config)
                texts.sketches.append(sketched)
                texts.sketched.append(long_enough + texts.count)
            if config.group_short_texts:
                with stages.stage("normalise"):
                    texts.add_short(new["text"], n_shingles, config)
            texts.keys.append(new.select("text_key").with_row_index("text_id", offset=texts.count))
            texts.n_shingles.append(n_shingles)
            texts.count += new.height
            frames.append(posts.drop("normalised"))
            bar.update(batch.rows_read)
    return frames, rejects, texts, rows_read


def sketch_texts(
    normalised: pl.Series, config: ScanConfig
) -> tuple[Sketch, np.ndarray, np.ndarray]:
    """MinHash normalised texts and reduce the signatures of those long enough to match to
    their LSH sketch: (sketch, rows of the sketched texts, shingles of every text). Full
    signatures never outlive the call."""
    sigs, n_shingles = signatures(
        normalised,
        num_perm=config.num_perm,
        seed=config.seed,
        cjk_ngram=config.cjk_ngram,
        word_ngram=config.word_ngram,
    )
    long_enough = np.flatnonzero(n_shingles >= config.min_shingles)
    return sketch(sigs, config.threshold, long_enough), long_enough, n_shingles


def normalise_posts(posts: pl.DataFrame, config: ScanConfig) -> pl.DataFrame:
    """``posts`` with the normalised text and its key. Each distinct raw text is normalised
    once: copies and reposts of one text make up much of a dump."""
    posts = posts.with_columns(raw_key=pl.col("text").fill_null("").hash(TEXT_KEY_SEED))
    distinct = posts.select("raw_key", "text").unique("raw_key", keep="first", maintain_order=True)
    distinct = distinct.select(
        "raw_key", normalised=normalise_texts(distinct["text"], config)
    ).with_columns(text_key=pl.col("normalised").hash(TEXT_KEY_SEED))
    return posts.join(distinct, on="raw_key", how="left", maintain_order="left").drop("raw_key")


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def scan(
    inputs: str | Path | Sequence[str | Path],
    *,
    progress: bool = False,
    config: ScanConfig | None = None,
    **options: Any,
) -> ScanResult:
    """Scan post dumps for coordinated inauthentic clusters.

    ``inputs`` are files, directories or globs (CSV, JSONL, Parquet, gzip). ``options`` are
    :class:`~detector.config.ScanConfig` fields (or pass a ready ``config``). Returns the
    result tables as polars DataFrames; nothing is written (see :meth:`ScanResult.save`).
    """
    config = config or ScanConfig.from_options(**options)
    model = load_model(config.model)
    inputs = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    files = expand_inputs(inputs)
    stages = Stages(progress=on_terminal(progress))
    started = time.perf_counter()

    frames, reject_frames, texts, rows_read = _ingest(files, config, stages)
    rejects = pl.concat([_empty(REJECTS), *reject_frames], how="diagonal_relaxed").select(
        REJECTS.names()
    )

    with stages.step("lsh"):
        posts = pl.concat(frames, how="diagonal_relaxed") if frames else _empty_posts()
        frames.clear()
        text_index = (
            pl.concat(texts.keys)
            if texts.keys
            else pl.DataFrame(schema={"text_id": pl.UInt32, "text_key": pl.UInt64})
        )
        n_shingles = np.concatenate(texts.n_shingles) if texts.n_shingles else np.zeros(0, np.int32)
        text_group = texts.groups(config.threshold)
        groups = TextGroups.of(text_group, texts.low_bytes, config.spun_min_texts)
        texts.sketches.clear()
    return scan_groups(
        posts, rejects, text_index, n_shingles, groups,
        files=files, rows_read=rows_read, config=config, model=model, stages=stages,
        started=started,
    )  # fmt: skip


def scan_groups(
    posts: pl.DataFrame,
    rejects: pl.DataFrame,
    text_index: pl.DataFrame,
    n_shingles: np.ndarray,
    groups: TextGroups,
    *,
    files: Sequence[str | Path],
    rows_read: int,
    config: ScanConfig,
    model: ScoreModel,
    stages: Stages,
    started: float,
) -> ScanResult:
    """The scan from the near-duplicate groups on: index posts, spun groups, account graph,
    clusters, scores, tables and summary. Every engine calls it, so they answer alike.

    ``posts``: accepted posts in input order with their ``text_key``; ``text_index``:
    ``text_key`` -> ``text_id`` (numbered by first appearance); ``n_shingles`` indexed by
    ``text_id``; ``groups``: each text's group and the sketches of large groups' texts.
    """
    threshold = model.threshold if config.flag_threshold is None else config.flag_threshold
    with stages.step("lsh"):
        matchable = n_shingles >= config.min_shingles
        posts = _index_posts(posts, text_index, groups.label, matchable)
        spun = spun_groups(posts, n_shingles, groups, config)
        posts = mark_rewordings(posts, spun, groups, config)

    with stages.step("graph"):
        accounts = _account_table(posts)
        n_accounts = accounts.height
        kinds = config.traces
        traces, objects = _traces(posts, config)
        posts = _slim(posts)
        graph = build_graph(
            traces,
            n_accounts,
            windows=np.array([config.window(k) for k in kinds], np.int64),
            weights=np.array([config.trace_weights[k] for k in kinds], np.float64),
            neighbours=config.neighbours,
            min_repeat=config.min_repeat,
            min_co_shares=config.min_co_shares,
            min_participation=config.min_participation,
        )
        co_shares = traces.take(graph.linked)
        del traces

    with stages.step("cluster"):
        communities = join_spinners(
            detect_communities(graph, min_size=config.min_cluster_accounts, seed=config.seed),
            co_shares.account,
            co_shares.key,
            co_shares.rewording,
            min_size=config.min_cluster_accounts,
        )
        account_cluster = keep_core_members(
            communities,
            co_shares.account,
            co_shares.key,
            co_shares.variant,
            co_shares.rewording,
            min_contents=config.min_repeat,
            min_size=config.min_cluster_accounts,
        )
        n_clusters = int(account_cluster.max()) + 1 if n_accounts else 0

    with stages.step("score"):
        post_account = posts["account"].to_numpy()
        created = accounts["account_created_at"].dt.epoch("s").fill_null(-1).to_numpy()
        evidence = cluster_evidence(
            graph=graph,
            traces=co_shares,
            object_shares=graph.object_shares,
            account_cluster=account_cluster,
            account_posts=accounts["n_posts"].to_numpy(),
            account_created=created,
            kinds=kinds,
            windows=np.array([config.window(k) for k in kinds], np.int64),
            n_clusters=n_clusters,
        )
        scores = score_clusters(evidence, model)
        flagged = scores >= threshold
        # Cluster ids rank clusters: 1 is the most suspicious.
        rank = np.lexsort((np.arange(n_clusters), -evidence.n_accounts, -scores))
        cluster_id = np.empty(n_clusters, np.int64)
        cluster_id[rank] = np.arange(1, n_clusters + 1)
        weighs = model.evidence({name: feature(evidence, name) for name in FEATURES})
        reasons = [
            cluster_reasons(
                evidence,
                c,
                flagged=bool(flagged[c]),
                weights={name: float(w[c]) for name, w in weighs.items()},
            )
            for c in range(n_clusters)
        ]

    with stages.step("report", "tables"):
        account_cid = _per_account(cluster_id, account_cluster, -1)
        posts = posts.with_columns(
            cluster_id=pl.Series(account_cid[post_account]).replace(-1, None)
        )
        clusters = _cluster_table(posts, evidence, scores, flagged, cluster_id, reasons)
        result = ScanResult(
            accounts=_accounts_out(accounts, account_cluster, cluster_id, scores, flagged, reasons),
            clusters=clusters,
            posts=posts.select(POSTS.names()).cast(POSTS),
            groups=_groups_out(posts),
            edges=_edges_out(
                graph, kinds, objects, accounts, account_cluster, cluster_id, config.write_graph
            ),
            rejects=rejects,
        )

    used = {
        "file": config.model or "default",
        "trained_on": model.trained_on,
        "flag_threshold": threshold,
    }
    result.summary = _summary(
        result, files, config, used, rows_read, posts, matchable, spun.size, graph, stages,
        time.perf_counter() - started,
    )  # fmt: skip
    return result


def _empty_posts() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "post_id": pl.String,
            "account_id": pl.String,
            "created_at": TIME,
            "text": pl.String,
            "text_key": pl.UInt64,
        }
    )


def _index_posts(
    posts: pl.DataFrame, text_index: pl.DataFrame, text_group: np.ndarray, matchable: np.ndarray
) -> pl.DataFrame:
    """Attach dense account numbers, epoch seconds, the text number and the near-duplicate
    group shared by >= 2 accounts (``shared_group``, -1 otherwise)."""
    posts = posts.join(text_index, on="text_key", how="left", maintain_order="left")
    text_id = posts["text_id"].cast(pl.Int64).to_numpy()
    posts = posts.with_columns(
        account=pl.col("account_id").rank("dense").cast(pl.Int64) - 1,
        time=pl.col("created_at").dt.epoch("s"),
        text_id=pl.Series(text_id),
        matchable=pl.Series(matchable[text_id]),
        group=pl.Series(text_group[text_id]),
    )
    shared = (pl.col("group") >= 0) & (pl.col("account").n_unique().over("group") >= 2)
    posts = posts.with_columns(shared_group=pl.when(shared).then(pl.col("group")).otherwise(-1))
    # Output group ids: 1.. by decreasing number of posts, ties by first post, then label.
    ids = (
        posts.filter(pl.col("shared_group") >= 0)
        .group_by("shared_group")
        .agg(n=pl.len(), first=pl.col("time").min())
        .sort(["n", "first", "shared_group"], descending=[True, False, False])
        .with_row_index("group_id", offset=1)
        .select("shared_group", pl.col("group_id").cast(pl.Int64))
    )
    return posts.join(ids, on="shared_group", how="left", maintain_order="left")


def _slim(posts: pl.DataFrame) -> pl.DataFrame:
    """Drop what only the graph needed, and the texts of posts in no shared group (the
    outputs quote shared texts only): at scale the raw texts are the largest column."""
    graph_only = [
        "text_key", "group", "content", "rewording",
        *(c for c in TRACE_COLUMNS.values() if c != "text"),
    ]  # fmt: skip
    return posts.drop(graph_only, strict=False).with_columns(
        text=pl.when(pl.col("group_id").is_not_null()).then(pl.col("text"))
    )


def _account_table(posts: pl.DataFrame) -> pl.DataFrame:
    """One row per account, in dense-index order."""
    columns = [pl.len().alias("n_posts")]
    if "account_created_at" in posts.columns:
        columns.append(pl.col("account_created_at").drop_nulls().min().alias("account_created_at"))
    else:
        columns.append(pl.lit(None, TIME).alias("account_created_at"))
    return posts.group_by("account", "account_id").agg(columns).sort("account")


def _hash_key(values: pl.Expr) -> pl.Expr:
    return values.hash(TEXT_KEY_SEED).reinterpret(signed=True)


def _traces(posts: pl.DataFrame, config: ScanConfig) -> tuple[Traces, pl.DataFrame]:
    """Co-sharing traces of every switched-on kind the input has, and a label per object
    key (a text, an id, a URL, a tag) for the edge evidence."""
    parts: list[Traces] = []
    labels: list[pl.DataFrame] = []
    posts = posts.with_row_index("row")
    authors = posts.select(label="post_id", source="account")
    for index, kind in enumerate(config.traces):
        column = TRACE_COLUMNS[kind]
        if kind == "text":  # labels gathered below: filtering every shared text is costly
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
        elif isinstance(posts.schema[column], pl.List):
            rows = (
                posts.select("row", "account", "time", label=column)
                .explode("label")
                .filter(pl.col("label").is_not_null() & (pl.col("label") != ""))
                .unique(["row", "label"], keep="first", maintain_order=True)
                .with_columns(key=_hash_key(pl.col("label")), variant=pl.lit(0, pl.Int64))
            )
        else:
            rows = (
                posts.select("row", "account", "time", label=column)
                .filter(pl.col("label").is_not_null() & (pl.col("label") != ""))
                .with_columns(key=_hash_key(pl.col("label")), variant=pl.lit(0, pl.Int64))
            )
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
        keys, first = np.unique(traces.key, return_index=True)
        label = (
            rows["label"].gather(first)
            if "label" in rows.columns
            else posts["text"].gather(rows["row"].gather(first))
        )
        labels.append(pl.DataFrame({"key": keys, "label": label}))
    objects = (
        pl.concat(labels) if labels else pl.DataFrame(schema={"key": pl.Int64, "label": pl.String})
    )
    return concat_traces(parts), objects


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
        joined = rows.select("label").join(authors, on="label", how="left", maintain_order="left")
        return joined["source"].fill_null(-1).to_numpy()
    if kind == "url":
        domain = pl.col("label").str.extract(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?([^/?#]+)")
        return rows.select(_hash_key(domain).fill_null(-1).abs())["label"].to_numpy()
    return None


def _cluster_table(
    posts: pl.DataFrame,
    evidence,
    scores: np.ndarray,
    flagged: np.ndarray,
    cluster_id: np.ndarray,
    reasons: list[list[str]],
) -> pl.DataFrame:
    n_clusters = scores.shape[0]
    base = pl.DataFrame(
        {
            "cluster_id": cluster_id,
            "n_accounts": evidence.n_accounts,
            "n_posts": evidence.n_posts,
            "n_groups": evidence.n_groups,
            "n_objects": evidence.n_objects,
            "traces": pl.Series(
                [evidence.traces(c) for c in range(n_clusters)], dtype=pl.List(pl.String)
            ),
            "score": np.round(scores, 4),
            "flagged": flagged,
            **{name: np.round(evidence.features[:, k], 4) for k, name in enumerate(FEATURES)},
            "reasons": pl.Series(reasons, dtype=pl.List(pl.String))
            if n_clusters
            else pl.Series([], dtype=pl.List(pl.String)),
        },
        schema_overrides={
            "cluster_id": pl.Int64,
            "n_accounts": pl.Int64,
            "n_posts": pl.Int64,
            "n_groups": pl.Int64,
            "n_objects": pl.Int64,
        },
    ).with_columns(pl.col(FEATURES).fill_nan(None))
    clustered = posts.filter(pl.col("cluster_id").is_not_null())
    span = clustered.group_by("cluster_id").agg(
        first_seen=pl.col("created_at").min(), last_seen=pl.col("created_at").max()
    )
    return (
        base.join(_examples(clustered), on="cluster_id", how="left")
        .join(span, on="cluster_id", how="left")
        .with_columns(pl.col("example_texts").fill_null(pl.lit([], pl.List(pl.String))))
        .sort("cluster_id")
        .select(CLUSTERS.names())
        .cast(CLUSTERS)
    )


def _examples(clustered: pl.DataFrame) -> pl.DataFrame:
    """Distinct example texts per cluster: variants of its largest group first, then the
    first text of its next largest groups."""
    shared = clustered.filter(pl.col("group_id").is_not_null())
    texts = (
        shared.sort("time", "post_id")
        .unique(["cluster_id", "text_id"], keep="first", maintain_order=True)
        .with_columns(rank=pl.col("group_id").rank("dense").over("cluster_id"))
    )
    variants = (
        texts.filter(pl.col("rank") == 1)
        .group_by("cluster_id")
        .agg(pl.col("text").head(MAX_EXAMPLES // 2))
    )
    others = (
        texts.filter(pl.col("rank") > 1)
        .unique(["cluster_id", "group_id"], keep="first", maintain_order=True)
        .sort("cluster_id", "rank")
        .group_by("cluster_id", maintain_order=True)
        .agg(pl.col("text").head(MAX_EXAMPLES // 2).alias("more"))
    )
    return variants.join(others, on="cluster_id", how="full", coalesce=True).select(
        "cluster_id",
        example_texts=pl.concat_list(pl.col("text").fill_null([]), pl.col("more").fill_null([])),
    )


def _accounts_out(
    accounts: pl.DataFrame,
    account_cluster: np.ndarray,
    cluster_id: np.ndarray,
    scores: np.ndarray,
    flagged: np.ndarray,
    reasons: list[list[str]],
) -> pl.DataFrame:
    joined = ["; ".join(r) for r in reasons]
    return (
        accounts.with_columns(
            cluster_id=pl.Series(_per_account(cluster_id, account_cluster, -1)).replace(-1, None),
            score=pl.Series(_per_account(np.round(scores, 4), account_cluster, 0.0)),
            flagged=pl.Series(_per_account(flagged, account_cluster, False)),
            reasons=pl.Series(
                _per_account(np.array(joined, object), account_cluster, ""), dtype=pl.String
            ),
        )
        .select(ACCOUNTS.names())
        .cast(ACCOUNTS)
    )


def _per_account(per_cluster: np.ndarray, account_cluster: np.ndarray, outside) -> np.ndarray:
    """Spread a per-cluster value to accounts; accounts outside clusters (-1) get ``outside``."""
    return np.append(per_cluster, np.array([outside], dtype=per_cluster.dtype))[account_cluster]


def _groups_out(posts: pl.DataFrame) -> pl.DataFrame:
    shared = posts.filter(pl.col("group_id").is_not_null())
    majority = (
        shared.group_by("group_id", "cluster_id")
        .agg(n=pl.col("account").n_unique())
        .sort("group_id", "n", "cluster_id", descending=[False, True, False], nulls_last=True)
        .unique("group_id", keep="first", maintain_order=True)
        .select("group_id", "cluster_id")
    )
    return (
        shared.sort("time", "post_id")
        .group_by("group_id")
        .agg(
            n_posts=pl.len(),
            n_accounts=pl.col("account").n_unique(),
            n_texts=pl.col("text_id").n_unique(),
            first_seen=pl.col("created_at").min(),
            last_seen=pl.col("created_at").max(),
            example_text=pl.col("text").first(),
        )
        .join(majority, on="group_id", how="left")
        .sort("group_id")
        .select(GROUPS.names())
        .cast(GROUPS)
    )


def _edges_out(
    graph: AccountGraph,
    kinds: tuple[str, ...],
    objects: pl.DataFrame,
    accounts: pl.DataFrame,
    account_cluster: np.ndarray,
    cluster_id: np.ndarray,
    whole_graph: bool,
) -> pl.DataFrame:
    """One row per pair and trace: edges inside clusters, or every edge (``whole_graph``),
    with a few of the shared objects quoted."""
    a, b = account_cluster[graph.source], account_cluster[graph.target]
    inside = (a >= 0) & (a == b)
    rows = np.flatnonzero(inside | whole_graph)
    if rows.size == 0:
        return _empty(EDGES)
    ids = accounts["account_id"]
    quoted = graph.objects[rows]
    listed = (
        pl.DataFrame(
            {"edge": np.repeat(np.arange(rows.size), quoted.shape[1]), "key": quoted.reshape(-1)}
        )
        .filter(pl.col("key") >= 0)
        .join(objects, on="key", how="left", maintain_order="left")
        .group_by("edge", maintain_order=True)
        .agg(pl.col("label").str.slice(0, MAX_OBJECT_CHARS))
    )
    labels = (
        pl.DataFrame({"edge": np.arange(rows.size)})
        .join(listed, on="edge", how="left", maintain_order="left")["label"]
        .fill_null([])
    )
    cid = np.where(inside[rows], _per_account(cluster_id, a[rows], -1), -1)
    return (
        pl.DataFrame(
            {
                "source": ids.gather(graph.source[rows]),
                "target": ids.gather(graph.target[rows]),
                "trace": pl.Series(np.array(kinds, object)[graph.kind[rows]], dtype=pl.String),
                "shared": graph.shared[rows],
                "co_posts": graph.co_posts[rows],
                "weight": np.round(graph.weight[rows], 4),
                "gap_min_s": graph.gap_min[rows],
                "gap_median_s": graph.gap_median[rows],
                "objects": labels,
                "cluster_id": pl.Series(cid).replace(-1, None),
            },
            schema_overrides={"objects": pl.List(pl.String)},
        )
        .sort("cluster_id", "source", "target", "trace", nulls_last=True)
        .cast(EDGES)
    )


def _short_text_groups(posts: pl.DataFrame, n_texts: int) -> int:
    """Shared groups of texts too short for MinHash: their labels start at ``n_texts``."""
    return posts.filter(pl.col("shared_group") >= n_texts)["shared_group"].n_unique()


def _summary(
    result: ScanResult,
    files: Sequence[str | Path],
    config: ScanConfig,
    model: dict[str, Any],
    rows_read: int,
    posts: pl.DataFrame,
    matchable: np.ndarray,
    n_spun: int,
    graph: AccountGraph,
    stages: Stages,
    seconds: float,
) -> dict[str, Any]:
    times = posts["created_at"]
    return {
        "version": __version__,
        "inputs": [str(f) for f in files],
        "rows_read": rows_read,
        "rows_rejected": result.rejects.height,
        "rows_scanned": posts.height,
        "posts_too_short": int((~posts["matchable"]).sum()) if posts.height else 0,
        "unique_texts": int(matchable.shape[0]),
        "near_duplicate_groups": result.groups.height,
        "short_text_groups": _short_text_groups(posts, matchable.shape[0]),
        "spun_groups": n_spun,
        "accounts": result.accounts.height,
        "clusters": result.clusters.height,
        "flagged_clusters": int(result.clusters["flagged"].sum()),
        "flagged_accounts": int(result.accounts["flagged"].sum()),
        "graph_edges": graph.n_edges,
        "graph_edges_by_trace": {
            kind: int(np.count_nonzero(graph.kind == k)) for k, kind in enumerate(config.traces)
        },
        "edges_written": result.edges.height,
        "rejects_by_reason": dict(
            result.rejects.group_by("reason")
            .len()
            .sort("len", "reason", descending=[True, False])
            .iter_rows()
        ),
        "first_seen": times.min().isoformat() if posts.height else None,
        "last_seen": times.max().isoformat() if posts.height else None,
        "seconds": round(seconds, 3),
        "stages": stages.report(),
        "config": config.to_dict(),
        "model": model,
    }
