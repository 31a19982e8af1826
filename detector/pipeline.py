"""The scan, top to bottom: ingest -> normalise -> shingle + MinHash -> LSH -> spun groups ->
graph -> cluster -> score -> tables.

Input is streamed batch by batch, the next one read and validated in a background thread
meanwhile: each batch is normalised and only its texts not seen before are shingled and
MinHashed, so exact copies (a slogan pasted 50,000 times) cost one signature. What is kept
per post is compact: the post id, time, an account number and a text number (not the
account id and the normalised text), the trace columns and the raw text, which comes back
only at the rows the tables quote. Kept batches past ``config.memory_limit`` are spilled
to disk (:mod:`detector.spill`). The rest of the pipeline works on numpy arrays indexed by
dense account and text numbers.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from tqdm.auto import tqdm

from detector import __version__
from detector.config import ScanConfig
from detector.coordination import Clusterer, find_clusters
from detector.graph import AccountGraph
from detector.ingest import expand_inputs, iter_batches, parquet_rows, read_ahead
from detector.interrupts import held_in_thread_code
from detector.lsh import Sketch, group_sketches, sketch
from detector.minhash import signatures
from detector.model import ScoreModel, load_model
from detector.normkernel import normalise_texts, short_text_keys
from detector.numbering import KeyNumbers
from detector.objects import TEXT_KEY_SEED
from detector.posts import PostCounts, Posts, RankedAccounts, SharedPosts
from detector.progress import on_terminal, step
from detector.rawtexts import RawTexts
from detector.result import ScanResult, TableParts
from detector.rewording import TextGroups, short_group_labels
from detector.schema import ACCOUNTS, CLUSTERS, EDGES, FEATURES, REJECTS, TIME
from detector.score import cluster_reasons, feature, score_clusters
from detector.spill import (
    AppendedRows,
    BatchStore,
    RowsOnDisk,
    batch_store,
    default_memory_limit,
    join_columns,
    release_freed_memory,
)

MAX_OBJECT_CHARS = 200  # of each object quoted in the edges table
# Texts MinHashed at a time: their full signatures (512 bytes a text at 128 permutations)
# were the largest transient of a batch; their sketches are kept, the signatures dropped.
SKETCH_TEXTS = 1 << 17


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

    numbers: KeyNumbers = field(default_factory=KeyNumbers)  # text key -> text number
    keys: list[np.ndarray | RowsOnDisk] = field(default_factory=list)  # band keys, in parts
    low: AppendedRows = field(default_factory=AppendedRows)  # low bytes, in one array
    sketched: list[np.ndarray] = field(default_factory=list)
    short: list[np.ndarray] = field(default_factory=list)
    short_keys: list[np.ndarray] = field(default_factory=list)
    n_shingles: list[np.ndarray] = field(default_factory=list)
    spilled: int = 0  # band key parts on disk (the first ones)

    def add_short(
        self, raw: pl.Series, n_shingles: np.ndarray, first: int, config: ScanConfig
    ) -> None:
        """Key the new texts (``raw``: one raw text each, numbered from ``first``) with 1 to
        ``min_shingles - 1`` shingles by their code-masked normalised text."""
        rows = np.flatnonzero((n_shingles > 0) & (n_shingles < config.min_shingles))
        keys = short_text_keys(raw.gather(rows), config).hash(TEXT_KEY_SEED)
        self.short.append(rows + first)
        self.short_keys.append(keys.to_numpy())

    def number(self, posts: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """The texts of ``posts`` not seen before (``text_key``, ``normalised``, ``text``,
        in order of first appearance), now numbered, and the text number of every post."""
        text_id, new = self.numbers.number(posts["text_key"].to_numpy())
        fresh = posts.select("text_key", "normalised", "text").filter(pl.Series(new))
        return fresh, pl.Series("text_id", text_id, pl.UInt32)

    def sketch(
        self, normalised: pl.Series, first: int, config: ScanConfig, sigs_out: np.ndarray
    ) -> np.ndarray:
        """MinHash and sketch new texts (numbered from ``first``), :data:`SKETCH_TEXTS` at a
        time, their signatures written over ``sigs_out``; returns their shingle counts."""
        counts = [np.zeros(0, np.int32)]
        for start in range(0, len(normalised), SKETCH_TEXTS):
            sketched, long_enough, n_shingles = sketch_texts(
                normalised.slice(start, SKETCH_TEXTS), config, sigs_out
            )
            self.keys.append(sketched.keys)
            self.low.append(sketched.low_bytes)
            self.sketched.append(long_enough + first + start)
            counts.append(n_shingles)
        return np.concatenate(counts)

    def spill(self, store: BatchStore) -> None:
        """Move the sketches not yet on disk to ``store``'s folder: LSH reads their band
        keys a few bands at a time, and low bytes only for texts whose band keys collide,
        near-duplicates, a few of all."""
        for k in range(self.spilled, len(self.keys)):
            self.keys[k] = store.spill_rows(self.keys[k])
        self.spilled = len(self.keys)
        self.low.spill(store)

    @property
    def count(self) -> int:
        """Texts numbered so far."""
        return self.numbers.count

    def resident_bytes(self) -> int:
        """Bytes of sketches still in memory (the rest are on disk)."""
        return sum(k.nbytes for k in self.keys[self.spilled :]) + self.low.resident_bytes()

    def groups(self, config: ScanConfig) -> tuple[np.ndarray, TextGroups]:
        """Group label of every text, -1 for none: near-duplicate groups of the sketched
        texts are labelled by their first text's number, short-text groups by ``count``
        plus the rank of their key, so the two never share a label; and the groups that
        can be spun, with their texts' low bytes. The low bytes are read into memory once
        for both, not mapped: verification reads nearly every page at random, and took
        35% less time at 38M texts than through a map's small pages."""
        group = np.full(self.count, -1, np.int64)
        sketched = self._sketched()
        low = self.low.array(in_memory=True)
        group[sketched] = sketched[group_sketches(self.keys, low, config.threshold)]
        short = np.concatenate([np.zeros(0, np.int64), *self.short])
        keys = np.concatenate([np.zeros(0, np.uint64), *self.short_keys])
        group[short] = short_group_labels(keys, self.count)
        spinnable = TextGroups.of(
            group, lambda texts: low[np.searchsorted(sketched, texts)], config.spun_min_texts
        )
        return group, spinnable

    def spilled_files(self) -> list[Path]:
        """The files of the sketches on disk (read by :meth:`groups` alone)."""
        keys = [k.path for k in self.keys if isinstance(k, RowsOnDisk)]
        return keys + ([self.low.path] if self.low.path is not None else [])

    def _sketched(self) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int64), *self.sketched])


@dataclass
class _Accounts:
    """Account ids seen so far, numbered by first appearance (``ids``: ``account_id`` by
    number, told apart by a 64-bit hash), and the earliest creation time given for each
    (``created``: epoch microseconds by number, :data:`NO_TIME` where none was given; room
    for more, doubled when full, so it is not copied once a batch)."""

    numbers: KeyNumbers = field(default_factory=KeyNumbers)
    ids: list[pl.Series] = field(default_factory=list)
    created: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def number(self, posts: pl.DataFrame) -> pl.Series:
        """The account number of every post, numbering accounts not seen before."""
        keys = posts["account_id"].hash(TEXT_KEY_SEED).to_numpy()
        account, new = self.numbers.number(keys)
        self.ids.append(posts["account_id"].filter(pl.Series(new)))
        if "account_created_at" in posts.columns:
            if self.numbers.count > self.created.size:
                grown = np.full(max(self.numbers.count, 2 * self.created.size), NO_TIME, np.int64)
                grown[: self.created.size] = self.created
                self.created = grown
            given = posts["account_created_at"].dt.epoch("us")
            known = np.flatnonzero(given.is_not_null().to_numpy())
            np.minimum.at(self.created, account[known], given.fill_null(0).to_numpy()[known])
        return pl.Series("account", account, pl.UInt32)

    def ranked(self) -> RankedAccounts:
        """Each first-appearance number's rank by ``account_id`` (the dense account number
        of the later stages), and the table of accounts in rank order (``account_id``,
        ``account_created_at``). The ids are sorted as values and each finds its number by
        its key, before the number table is released: polars sorts short strings in place,
        where an arg-sort compares them through their indices (14.8M ids: 0.8 s against
        8 s)."""
        ids = pl.concat([pl.Series("account_id", [], pl.String), *self.ids]).sort()
        order = self.numbers.known(ids.hash(TEXT_KEY_SEED).to_numpy())
        rank = np.empty(order.size, np.uint32)
        rank[order] = np.arange(order.size, dtype=np.uint32)
        created = np.full(order.size, NO_TIME, np.int64)
        created[: min(order.size, self.created.size)] = self.created[: order.size]
        table = pl.DataFrame(
            {
                "account_id": ids,
                "account_created_at": pl.Series(created[order]).replace(NO_TIME, None).cast(TIME),
            }
        )
        return rank, table


NO_TIME = np.iinfo(np.int64).max  # no creation time given for an account

_NOT_KEPT = ("account_id", "account_created_at", "normalised", "text_key")


def _ingest(
    inputs: Sequence[str | Path], config: ScanConfig, stages: Stages, raw_texts: RawTexts
) -> tuple[RankedAccounts, list[pl.DataFrame], _Texts, int]:
    """Stream the input, MinHash each new text once, and keep each post's compact columns
    in ``raw_texts``' store: account and text numbers instead of their ids and normalised
    texts, a Parquet file's record number instead of the raw text."""
    store = raw_texts.store
    accounts = _Accounts()
    rejects: list[pl.DataFrame] = []
    texts = _Texts()
    rows_read = 0
    # Every block's signatures are written over this one: a fresh 64 MB matrix per block
    # was fresh memory for the system to clear, 12% of MinHash's time (40 blocks).
    sigs_out = np.empty((SKETCH_TEXTS, config.num_perm), np.uint32)
    batches = read_ahead(iter_batches(inputs, config))
    with closing(batches), stages.bar(parquet_rows(inputs), "read + minhash") as bar:
        while True:
            with stages.stage("ingest"):
                batch = next(batches, None)
            if batch is None:
                break
            rows_read += batch.rows_read
            rejects.append(batch.rejects)
            with stages.stage("normalise"):
                posts = normalise_posts(batch.posts, config)
                first = texts.count
                new, text_id = texts.number(posts)
            with stages.stage("minhash"):
                n_shingles = texts.sketch(new["normalised"], first, config, sigs_out)
            if config.group_short_texts:
                with stages.stage("normalise"):
                    texts.add_short(new["text"], n_shingles, first, config)
            texts.n_shingles.append(n_shingles)
            with stages.stage("ingest"):
                kept = posts.drop(_NOT_KEPT, strict=False).with_columns(
                    accounts.number(posts), text_id
                )
                kept = raw_texts.keep(batch, kept)
            resident = texts.resident_bytes()
            with stages.stage("spill" if store.spills(kept, resident) else "ingest"):
                store.append(kept, resident)
                if store.spilled:
                    texts.spill(store)
            bar.update(batch.rows_read)
    texts.numbers.release()
    with stages.stage("ingest"):
        ranked = accounts.ranked()
    accounts.numbers.release()
    return ranked, rejects, texts, rows_read


def sketch_texts(
    normalised: pl.Series, config: ScanConfig, sigs_out: np.ndarray | None = None
) -> tuple[Sketch, np.ndarray, np.ndarray]:
    """MinHash normalised texts and reduce the signatures of those long enough to match to
    their LSH sketch: (sketch, rows of the sketched texts, shingles of every text). Full
    signatures never outlive the call; ``sigs_out``: where to write them (see
    :func:`~detector.minhash.signatures`)."""
    sigs, n_shingles = signatures(
        normalised,
        num_perm=config.num_perm,
        seed=config.seed,
        cjk_ngram=config.cjk_ngram,
        word_ngram=config.word_ngram,
        out=sigs_out,
    )
    long_enough = np.flatnonzero(n_shingles >= config.min_shingles)
    return sketch(sigs, config.threshold, long_enough), long_enough, n_shingles


def normalise_posts(posts: pl.DataFrame, config: ScanConfig) -> pl.DataFrame:
    """``posts`` with the normalised text and its key. Each distinct raw text is normalised
    once: copies and reposts of one text make up much of a dump. The distinct texts are
    found by numbering their hashes and handed back to the posts by number, a gather,
    where a polars unique and join took several times as long."""
    raw = posts["text"].fill_null("")
    number, first = KeyNumbers().number(raw.hash(TEXT_KEY_SEED).to_numpy())
    normalised = normalise_texts(raw.filter(pl.Series(first)), config)
    text_key = normalised.hash(TEXT_KEY_SEED).to_numpy()
    return posts.with_columns(
        normalised.gather(number).alias("normalised"),
        pl.Series("text_key", text_key[number], pl.UInt64),
    )


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
    Posts past ``config.memory_limit`` are spilled to a temporary folder in
    ``config.spill_dir``, deleted before this returns or raises.
    """
    config = config or ScanConfig.from_options(**options)
    model = load_model(config.model)
    inputs = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    files = expand_inputs(inputs)
    stages = Stages(progress=on_terminal(progress))
    started = time.perf_counter()
    limit = config.memory_limit or default_memory_limit()

    with held_in_thread_code(), batch_store(limit, config.spill_dir) as store:
        raw_texts = RawTexts(store, config)
        accounts, reject_frames, texts, rows_read = _ingest(files, config, stages, raw_texts)
        rejects = pl.concat([_empty(REJECTS), *reject_frames], how="diagonal_relaxed").select(
            REJECTS.names()
        )
        with stages.step("lsh"):
            # Groups first, then the posts' columns: the band keys are gone before those
            # come back from the store.
            n_shingles = (
                np.concatenate(texts.n_shingles) if texts.n_shingles else np.zeros(0, np.int32)
            )
            text_group, groups = texts.groups(config)
            store.discard(texts.spilled_files())
            del texts
            release_freed_memory()
            posts = Posts.of_store(raw_texts, accounts, n_shingles, text_group, groups, config)
            del accounts, n_shingles, text_group, groups
            release_freed_memory()
        clusterer = partial(
            find_clusters, park=store.park_arrays, join=partial(join_columns, store=store)
        )
        result = scan_posts(
            posts, rejects,
            files=files, rows_read=rows_read, config=config, model=model, stages=stages,
            started=started, clusterer=clusterer,
        )  # fmt: skip
        result.summary["engine"] = {
            "name": "local",
            "memory_limit": limit,
            "spilled_batches": len(store.files),
            "spilled_mb": round(store.spilled_bytes / 2**20, 1),
        }
    return result


def scan_posts(
    posts: SharedPosts,
    rejects: pl.DataFrame | TableParts,
    *,
    files: Sequence[str | Path],
    rows_read: int,
    config: ScanConfig,
    model: ScoreModel,
    stages: Stages,
    started: float,
    clusterer: Clusterer,
) -> ScanResult:
    """The scan from the near-duplicate groups on: index posts, spun groups, account graph,
    clusters, scores, tables and summary. Every engine calls it, so they answer alike.

    ``posts``: where the engine holds them; ``clusterer``: how the traces become clusters
    (:func:`find_clusters` on this machine).
    """
    threshold = model.threshold if config.flag_threshold is None else config.flag_threshold
    accounts, counts = posts.accounts, posts.counts
    with stages.step("lsh"):
        n_spun = posts.mark(config)

    with stages.step("graph"):
        kinds = config.traces
        traces, objects = posts.traces(config)
        release_freed_memory()  # the posts' and traces' frames, before the graph's arrays
    created = accounts["account_created_at"].dt.epoch("s").fill_null(-1).to_numpy()
    handed = [traces]  # handed over: the clusterer empties the list once the graph is built
    del traces
    found = clusterer(handed, accounts["n_posts"].to_numpy(), created, config, stages.step)
    release_freed_memory()
    account_cluster, evidence, n_clusters = found.account_cluster, found.evidence, found.n_clusters

    with stages.step("score"):
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
        listed = _accounts_out(accounts, account_cluster, cluster_id, scores, flagged, reasons)
        made = posts.tables(account_cid, listed)
        result = ScanResult(
            accounts=listed,
            clusters=_cluster_table(
                made.examples, accounts, account_cid, evidence, scores, flagged, cluster_id,
                reasons,
            ),
            posts=made.posts,
            groups=made.groups,
            edges=_edges_out(
                found.edges,
                kinds,
                objects
                if found.objects is None
                else pl.concat([objects, found.objects], how="diagonal"),
                posts.texts,
                accounts,
                account_cluster,
                cluster_id,
                config.write_graph,
            ),
            rejects=rejects,
        )  # fmt: skip

    used = {
        "file": config.model or "default",
        "trained_on": model.trained_on,
        "flag_threshold": threshold,
    }
    result.summary = _summary(
        result, files, config, used, rows_read, counts, accounts, made.short_text_groups,
        n_spun, found.edges_by_kind, stages, time.perf_counter() - started,
    )  # fmt: skip
    return result


def _quoted_objects(
    objects: pl.DataFrame, keys: np.ndarray, raw_texts: Callable[[np.ndarray], pl.Series]
) -> pl.DataFrame:
    """``key`` and ``label`` of the ``objects`` among ``keys``, cut to
    ``MAX_OBJECT_CHARS``; texts' raw texts are read here, for these objects only."""
    quoted = objects.join(
        pl.DataFrame({"key": np.unique(keys)}), on="key", how="semi", maintain_order="left"
    )
    text = quoted["row"].is_not_null()
    raw = raw_texts(quoted["row"].filter(text).to_numpy())
    label = quoted["label"].scatter(np.flatnonzero(text.to_numpy()), raw)
    # Cut once per object, not once per edge: the edges' lists then share the objects'
    # string buffers (an object is quoted by many edges).
    return pl.DataFrame({"key": quoted["key"], "label": label.str.slice(0, MAX_OBJECT_CHARS)})


def _cluster_table(
    examples: pl.DataFrame,
    accounts: pl.DataFrame,
    account_cid: np.ndarray,
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
    # Each cluster's first and last post: of its members' first and last posts.
    span = (
        accounts.select("first_seen", "last_seen", cluster_id=pl.Series(account_cid))
        .filter(pl.col("cluster_id") >= 0)
        .group_by("cluster_id")
        .agg(pl.col("first_seen").min(), pl.col("last_seen").max())
    )
    return (
        base.join(examples, on="cluster_id", how="left")
        .join(span, on="cluster_id", how="left")
        .with_columns(pl.col("example_texts").fill_null(pl.lit([], pl.List(pl.String))))
        .sort("cluster_id")
        .select(CLUSTERS.names())
        .cast(CLUSTERS)
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


def _edges_out(
    graph: AccountGraph,
    kinds: tuple[str, ...],
    objects: pl.DataFrame,
    raw_texts: Callable[[np.ndarray], pl.Series],
    accounts: pl.DataFrame,
    account_cluster: np.ndarray,
    cluster_id: np.ndarray,
    whole_graph: bool,
) -> pl.DataFrame:
    """One row per pair and trace: edges inside clusters, or every edge (``whole_graph``),
    with a few of the shared objects (:func:`_traces`) quoted, sorted by cluster, source,
    target and trace. Account numbers follow ``account_id`` order (every engine numbers
    accounts by their rank), so the rows are sorted by numbers, not by the ids' text."""
    inside = graph.within_clusters(account_cluster)
    rows = np.flatnonzero(inside | whole_graph)
    if rows.size == 0:
        return _empty(EDGES)
    cluster = account_cluster[graph.source[rows]]
    cid = np.where(inside[rows], _per_account(cluster_id, cluster, -1), -1)
    name_rank = np.argsort(np.argsort(np.array(kinds)))
    keys = {
        "cluster": np.where(cid < 0, np.iinfo(np.int64).max, cid),  # no cluster last
        "source": graph.source[rows],
        "target": graph.target[rows],
        "trace": name_rank[graph.kind[rows]],
    }
    order = pl.DataFrame(keys).select(pl.arg_sort_by(*keys)).to_series().to_numpy()
    rows, cid = rows[order], cid[order]
    edge, key = graph.quoted(rows)
    labels = pl.DataFrame({"key": key}).join(
        _quoted_objects(objects, key, raw_texts), on="key", how="left", maintain_order="left"
    )["label"]
    ids = accounts["account_id"]
    return pl.DataFrame(
        {
            "source": ids.gather(graph.source[rows]),
            "target": ids.gather(graph.target[rows]),
            "trace": pl.Series(kinds, dtype=pl.String).gather(graph.kind[rows]),
            "shared": graph.shared[rows],
            "co_posts": graph.co_posts[rows],
            "weight": np.round(graph.weight[rows], 4),
            "gap_min_s": graph.gap_min[rows],
            "gap_median_s": graph.gap_median[rows],
            "objects": _lists(np.bincount(edge, minlength=rows.size), labels),
            "cluster_id": pl.Series(cid).replace(-1, None),
        }
    ).cast(EDGES)


def _lists(lengths: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` cut into consecutive lists of ``lengths``. The values pass as string
    views, which keep pointing at the few distinct strings they were gathered from: as plain
    strings the 50M-post scan's edges held 3.4M copies of a few hundred labels (1.4 GB)."""
    offsets = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    views = values.to_arrow(compat_level=pl.CompatLevel.newest())
    return pl.Series(pa.LargeListArray.from_arrays(pa.array(offsets), views))


def _summary(
    result: ScanResult,
    files: Sequence[str | Path],
    config: ScanConfig,
    model: dict[str, Any],
    rows_read: int,
    counts: PostCounts,
    accounts: pl.DataFrame,
    short_text_groups: int,
    n_spun: int,
    edges_by_kind: np.ndarray,
    stages: Stages,
    seconds: float,
) -> dict[str, Any]:
    rejects = result.lazy("rejects").group_by("reason").len().collect()
    return {
        "version": __version__,
        "inputs": [str(f) for f in files],
        "rows_read": rows_read,
        "rows_rejected": int(rejects["len"].sum()),
        "rows_scanned": counts.scanned,
        "posts_too_short": counts.too_short,
        "unique_texts": counts.unique_texts,
        "near_duplicate_groups": result.groups.height,
        "short_text_groups": short_text_groups,
        "spun_groups": n_spun,
        "accounts": result.accounts.height,
        "clusters": result.clusters.height,
        "flagged_clusters": int(result.clusters["flagged"].sum()),
        "flagged_accounts": int(result.accounts["flagged"].sum()),
        "graph_edges": int(edges_by_kind.sum()),
        "graph_edges_by_trace": {
            kind: int(edges_by_kind[k]) for k, kind in enumerate(config.traces)
        },
        "edges_written": result.edges.height,
        "rejects_by_reason": dict(
            rejects.sort("len", "reason", descending=[True, False]).iter_rows()
        ),
        "first_seen": accounts["first_seen"].min().isoformat() if counts.scanned else None,
        "last_seen": accounts["last_seen"].max().isoformat() if counts.scanned else None,
        "seconds": round(seconds, 3),
        "stages": stages.report(),
        "config": config.to_dict(),
        "model": model,
    }
