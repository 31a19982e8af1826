"""The account graph's edges made across tasks, as :func:`detector.graph.build_graph` makes
them on one machine: the same rows, the same floats.

1. From every trace, by DataFrame aggregation: per object its sharing accounts (``df``,
   the IDF's) and its shares; per (object, account) its traces (more than one: a repeated
   share, which the toolkit's co-post count reads); per (account, kind) its distinct
   objects (the null model's ``k``); per kind all distinct shares and active accounts.
2. Object buckets: each bucket's kept traces (in window, of accounts past the repeat gate)
   in the local order (object, time, account, then trace order) are linked to their next
   neighbours (:func:`detector.graph.neighbour_links`), each link weighed as locally.
3. Pair buckets: each bucket's links in (pair, key) order become one row per (pair, kind)
   (:func:`detector.graph.pair_rows`: weights summed in that order, so the same floats);
   rows with too few co-posts, or between two accounts under the participation floor, are
   dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from detector.config import ScanConfig
from detector.graph import (
    MAX_OBJECTS,
    Traces,
    neighbour_links,
    pair_rows,
    share_weights,
    surprise,
)
from detector.spark.arrow import arrow_schema, struct, to_batches

LINKS = struct(
    "src BIGINT, dst BIGINT, kind BIGINT, key BIGINT, gap BIGINT, weight DOUBLE, "
    "src_post BIGINT, dst_post BIGINT, repeated TINYINT"
)
EDGES = struct(
    "source BIGINT, target BIGINT, kind BIGINT, shared BIGINT, weight DOUBLE, gap_min BIGINT, "
    "gap_median DOUBLE, objects ARRAY<BIGINT>, co_posts BIGINT"
)
PAIR_FIELDS = ("source", "target", "kind", "shared", "weight", "gap_min", "gap_median")


@dataclass(frozen=True)
class ShareCounts:
    """What the edges' weights read of every trace: per object (``key``) its sharing
    accounts ``df`` and shares ``shares``; per (key, account) its ``traces``; per
    (account, kind) its distinct objects ``k``; per kind (index) all distinct shares
    ``total`` and active ``accounts``."""

    objects: DataFrame
    pairs: DataFrame
    per_kind: DataFrame
    total: np.ndarray
    accounts: np.ndarray
    cached: DataFrame

    @classmethod
    def of(cls, traces: DataFrame, n_kinds: int) -> ShareCounts:
        """The counts of ``traces``, cached until :meth:`release` (read by four joins and
        an aggregation: one shuffle of every trace, not one each)."""
        pairs = (
            traces.groupBy("kind", "key", "account")
            .agg(
                F.count("*").alias("traces"),
                F.sum((F.col("rewording") >= 0).cast("long")).alias("counted"),
            )
            .persist()
        )
        totals = (
            pairs.groupBy("kind")
            .agg(F.count("*").alias("total"), F.count_distinct("account").alias("accounts"))
            .collect()
        )
        total, accounts = np.zeros(n_kinds, np.int64), np.zeros(n_kinds, np.int64)
        for row in totals:
            total[row.kind], accounts[row.kind] = row.total, row.accounts
        return cls(
            objects=pairs.groupBy("key").agg(
                F.count("*").alias("df"), F.sum("counted").alias("shares")
            ),
            pairs=pairs.select("key", "account", "traces"),
            per_kind=pairs.groupBy("account", "kind").agg(F.count("*").alias("k")),
            total=total,
            accounts=accounts,
            cached=pairs,
        )

    def release(self) -> None:
        self.cached.unpersist()


def account_edges(
    spark: SparkSession,
    kept: DataFrame,
    participation: DataFrame,
    counts: ShareCounts,
    config: ScanConfig,
    n_accounts: int,
) -> DataFrame:
    """The graph's edges (:data:`EDGES`) from the ``kept`` traces (kind, key, account,
    time, post, place), ``participation`` (per account its in-window traces, ``n``)."""
    buckets = int(spark.conf.get("spark.sql.shuffle.partitions") or 1)
    weighed = (
        kept.join(counts.objects.select("key", "df"), "key")
        .join(counts.per_kind, ["account", "kind"])
        .join(counts.pairs, ["key", "account"])
    )
    links = weighed.groupBy(F.pmod(F.xxhash64("key"), F.lit(buckets)).alias("bucket")).applyInArrow(
        object_links(config, counts.total, counts.accounts, arrow_schema(spark, LINKS)), LINKS
    )
    rows = links.groupBy(F.pmod(F.xxhash64("src", "dst"), F.lit(buckets)).alias("bucket"))
    edges = rows.applyInArrow(pair_edges(config, n_accounts, arrow_schema(spark, EDGES)), EDGES)
    if config.min_participation <= 1:  # every account of a link has an in-window trace
        return edges
    busy = participation.filter(F.col("n") >= config.min_participation).select("account")
    ends = [
        busy.select(F.col("account").alias(end), F.lit(True).alias(f"busy_{end}"))
        for end in ("source", "target")
    ]
    return (
        edges.join(ends[0], "source", "left")
        .join(ends[1], "target", "left")
        .filter(F.col("busy_source").isNotNull() | F.col("busy_target").isNotNull())
        .select(EDGES.names)
    )


def object_links(
    config: ScanConfig, total: np.ndarray, accounts: np.ndarray, schema: pa.Schema
) -> Callable[[pa.Table], pa.Table]:
    """Per bucket of objects: the links of its kept traces, each weighed (``total``,
    ``accounts``: per kind all distinct shares and active accounts)."""
    windows = np.array([config.window(k) for k in config.traces], np.int64)
    weights = np.array([config.trace_weights[k] for k in config.traces], np.float64)

    def run(table: pa.Table) -> pa.Table:
        frame = pl.DataFrame(pl.from_arrow(table)).sort(
            "key", "time", "account", "kind", "post", "place"
        )
        c = {name: frame[name].to_numpy() for name in frame.columns}
        kind = c["kind"]
        ends = (c["key"], c["account"], c["time"], windows[kind])
        row, other = neighbour_links(*ends, config.neighbours)
        low = c["account"][row] < c["account"][other]  # the row's account is the source's
        src_trace, dst_trace = np.where(low, row, other), np.where(low, other, row)
        src, dst = c["account"][src_trace], c["account"][dst_trace]
        k = c["k"]
        row_weight = share_weights(weights, accounts, kind, c["df"])
        chance = surprise(k[src_trace], k[dst_trace], c["df"][row], total[kind[row]])
        links = pl.DataFrame(
            {
                "src": src,
                "dst": dst,
                "kind": kind[row],
                "key": c["key"][row],
                "gap": c["time"][other] - c["time"][row],
                "weight": row_weight[row] * chance,
                "src_post": c["post"][src_trace],
                "dst_post": c["post"][dst_trace],
                "repeated": (c["traces"][row] > 1) | (c["traces"][other] > 1),
            }
        )
        return pa.Table.from_batches(list(to_batches(links, schema)), schema)

    return run


def pair_edges(
    config: ScanConfig, n_accounts: int, schema: pa.Schema
) -> Callable[[pa.Table], pa.Table]:
    """Per bucket of account pairs: their links as one row per (pair, kind). Each link
    stands for its two traces, the source's first (at time 0) and the target's (at the
    link's gap), which is all :func:`pair_rows` reads of them."""

    def run(table: pa.Table) -> pa.Table:
        links = pl.DataFrame(pl.from_arrow(table)).sort("src", "dst", "key")
        n = links.height
        twice = {name: np.tile(links[name].to_numpy(), 2) for name in ("kind", "key")}
        traces = Traces.of(
            **twice,
            account=np.concatenate([links["src"].to_numpy(), links["dst"].to_numpy()]),
            time=np.concatenate([np.zeros(n, np.int64), links["gap"].to_numpy()]),
            post=np.concatenate([links["src_post"].to_numpy(), links["dst_post"].to_numpy()]),
            variant=np.zeros(2 * n, np.int64),
            source=np.zeros(2 * n, np.int64),
            rewording=np.zeros(2 * n, np.int64),
        )
        repeated = np.concatenate([links["repeated"].to_numpy() > 0, np.zeros(n, bool)])
        row, other = np.arange(n), np.arange(n, 2 * n)
        src, dst = links["src"].to_numpy(), links["dst"].to_numpy()
        columns = pair_rows(
            traces, repeated, row, other, src, dst, links["weight"].to_numpy(), n_accounts
        )
        fields = dict(zip((*PAIR_FIELDS, "objects", "co_posts"), columns, strict=True))
        quoted = np.minimum(fields["shared"], MAX_OBJECTS).astype(np.int64)
        offsets = np.concatenate([np.zeros(1, np.int64), np.cumsum(quoted)])
        rows = pl.DataFrame(
            {
                **{name: fields[name] for name in PAIR_FIELDS},
                "objects": pl.from_arrow(pa.LargeListArray.from_arrays(offsets, fields["objects"])),
                "co_posts": fields["co_posts"],
            }
        ).filter(pl.col("co_posts") >= config.min_co_shares)
        return pa.Table.from_batches(list(to_batches(rows, schema)), schema)

    return run
