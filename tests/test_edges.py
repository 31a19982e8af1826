"""The graph's edges made as the Spark engine makes them (detector.spark.edges), object
bucket by object bucket and then pair bucket by pair bucket, are the local engine's
(:func:`detector.graph.build_graph`): the same rows and the same floats, however the
objects and pairs are split. The engine's tasks run here on buckets made with polars, the
per-object and per-account figures aggregated as the engine aggregates them."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.config import ScanConfig
from detector.graph import EDGE_FIELDS, MAX_OBJECTS, Traces, build_graph, linked_in_window

pytest.importorskip("pyspark", reason="the Spark engine's tasks import pyspark")

from pyspark.sql.pandas.types import to_arrow_schema

from detector.spark.edges import EDGES, LINKS, object_links, pair_edges


def arrow(schema):
    return to_arrow_schema(schema, timezone="UTC", prefers_large_types=False)


def run_buckets(task, frame: pl.DataFrame, bucket: pl.Expr, buckets: int) -> pl.DataFrame:
    """``task`` run on each bucket of ``frame``'s rows (shuffled: a task sorts them)."""
    parts = [
        frame.filter(bucket == b).sample(fraction=1.0, shuffle=True, seed=b) for b in range(buckets)
    ]
    return pl.concat([pl.DataFrame(pl.from_arrow(task(part.to_arrow()))) for part in parts])


def split_edges(frame: pl.DataFrame, config: ScanConfig, n_accounts: int, buckets: int):
    """The edges of the traces ``frame`` as the Spark engine makes them, in ``buckets``
    object buckets and as many pair buckets."""
    windows = np.array([config.window(k) for k in config.traces], np.int64)
    ends = (frame[c].to_numpy() for c in ("key", "account", "time"))
    linked = frame.filter(linked_in_window(*ends, windows[frame["kind"].to_numpy()]))
    gated = linked.group_by("account").agg(
        rep=pl.struct("key", "variant").filter(pl.col("rewording") >= 0).n_unique(),
        own=(pl.col("rewording") > 0).any(),
        n=pl.len(),
    )
    members = gated.filter((pl.col("rep") >= config.min_repeat) | pl.col("own"))
    pairs = frame.group_by("kind", "key", "account").agg(traces=pl.len())
    df = pairs.group_by("key").agg(df=pl.len())
    per_kind = pairs.group_by("account", "kind").agg(k=pl.len())
    total = np.bincount(pairs["kind"].to_numpy(), minlength=len(windows))
    accounts = np.array(
        [pairs.filter(pl.col("kind") == k)["account"].n_unique() for k in range(len(windows))]
    )
    kept = (
        linked.join(members.select("account"), on="account")
        .join(df, on="key")
        .join(per_kind, on=["account", "kind"])
        .join(pairs.select("key", "account", "traces"), on=["key", "account"])
    )
    by_object = pl.col("key") % buckets
    links = run_buckets(
        object_links(config, total, accounts, arrow(LINKS)), kept, by_object, buckets
    )
    by_pair = (pl.col("src") * 7 + pl.col("dst")) % buckets
    edges = run_buckets(pair_edges(config, n_accounts, arrow(EDGES)), links, by_pair, buckets)
    busy = gated.filter(pl.col("n") >= config.min_participation)["account"].to_list()
    return edges.filter(pl.col("source").is_in(busy) | pl.col("target").is_in(busy)).sort(
        "source", "target", "kind"
    )


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0, 0, 0, 1, 2]),  # kind: text, repost, reply
            st.integers(0, 2),  # object
            st.integers(0, 5),  # account
            st.integers(0, 1_500),  # second
            st.integers(0, 2),  # variant
            st.sampled_from([0, 0, 0, -1, 1]),  # rewording mark
        ),
        min_size=20,
        max_size=120,
    ),
    buckets=st.integers(1, 3),
    neighbours=st.integers(1, 4),
    floors=st.tuples(st.integers(1, 2), st.integers(1, 3)),
)
def test_edges_made_across_tasks_are_the_local_engines(rows, buckets, neighbours, floors):
    config = ScanConfig(neighbours=neighbours, min_co_shares=floors[0], min_participation=floors[1])
    kind, key, account, time, variant, rewording = np.array(rows, np.int64).T
    n = kind.size
    post = np.arange(n) // 2  # two traces a post, as a post carries several objects
    frame = pl.DataFrame(
        {
            "kind": kind,
            "key": (kind << 59) | key,
            "account": account,
            "time": time,
            "post": post,
            "place": np.arange(n) % 2,
            "source": np.full(n, -1),
            "variant": np.where(kind == 0, variant, 0),
            "rewording": np.where(kind == 0, rewording, 0),
        }
    ).sort("kind", "post", "place")  # the local engine's trace order
    n_accounts = int(account.max()) + 1
    kinds = config.traces
    local = build_graph(
        Traces.of(**{name: frame[name].to_numpy() for name in Traces.__dataclass_fields__}),
        n_accounts,
        windows=np.array([config.window(k) for k in kinds], np.int64),
        weights=np.array([config.trace_weights[k] for k in kinds], np.float64),
        neighbours=config.neighbours,
        min_repeat=config.min_repeat,
        min_co_shares=config.min_co_shares,
        min_participation=config.min_participation,
    )
    split = split_edges(frame, config, n_accounts, buckets)
    for name in EDGE_FIELDS:
        if name == "objects":
            quoted = np.concatenate([np.zeros(0, np.int64), *split["objects"].to_numpy()])
            assert quoted.tolist() == local.objects.tolist()
            assert (np.minimum(split["shared"], MAX_OBJECTS).sum()) == quoted.size
        else:  # exactly: weights summed in the same order are the same floats
            np.testing.assert_array_equal(split[name].to_numpy(), getattr(local, name), name)


def test_edges_split_keep_each_pair_once():
    # Many buckets, few objects: a pair's links come from several object buckets and
    # meet in one pair bucket, which sums them into one row per kind.
    config = ScanConfig()
    frame = pl.DataFrame(
        {
            "kind": [0] * 6,
            "key": [1, 1, 2, 2, 3, 3],
            "account": [0, 1, 0, 1, 0, 1],
            "time": [0, 5, 100, 120, 200, 260],
            "post": [0, 1, 2, 3, 4, 5],
            "place": [0] * 6,
            "source": [-1] * 6,
            "variant": [0] * 6,
            "rewording": [0] * 6,
        }
    )
    edges = split_edges(frame, config, 3, buckets=3)
    assert edges.select("source", "target", "kind", "shared", "gap_min").rows() == [(0, 1, 0, 3, 5)]
    assert edges["objects"].to_list() == [[1, 2, 3]]
