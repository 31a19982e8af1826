"""The Spark engine's evidence split (detector.spark.accounts): clusters bucketed whole,
each bucket given the edges between its members and its members' co-shares, give the
whole scan's evidence, bit for bit. The buckets are the rows Spark hands the engine's own
bucket function, which is run here without Spark, then assembled by the driver's code."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import detector.coordination
import detector.pipeline
from detector.score import ClusterEvidence

pytest.importorskip("pyspark", reason="the Spark engine's buckets import pyspark")

from pyspark.sql.pandas.types import to_arrow_schema

from detector.spark.accounts import (
    EDGES_READ,
    PARTS,
    TRACE_FIELDS,
    TRACES_READ,
    Found,
    assemble,
    bucket_evidence,
)

DEMO = Path(__file__).parent.parent / "fixtures" / "demo.csv.gz"


@pytest.fixture(scope="module")
def scanned(monkeypatch_module):
    """The demo's graph, co-shares and per-account figures as the local scan hands them to
    the steps after the graph, and its clustering."""
    seen = {}
    clusters_of = detector.coordination.clusters_of

    def record(handed, co_shares, posts, created, config, step, park):
        seen.update(graph=handed[0], co_shares=co_shares, posts=posts, created=created)
        seen.update(config=config)
        seen["found"] = clusters_of(handed, co_shares, posts, created, config, step, park)
        return seen["found"]

    monkeypatch_module.setattr(detector.coordination, "clusters_of", record)
    detector.pipeline.scan(DEMO, write_graph=True)
    return seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_clusters_bucketed_whole_give_the_whole_scans_evidence(scanned):
    graph, co_shares, config, whole = (
        scanned[k] for k in ("graph", "co_shares", "config", "found")
    )
    cluster = whole.account_cluster
    assert whole.n_clusters >= 3
    buckets = 3
    member = cluster[co_shares.account] >= 0
    account = co_shares.account[member]
    traces = pl.DataFrame(
        {
            "part": cluster[account] % buckets,
            "cluster": cluster[account],
            **{name: getattr(co_shares, name)[member] for name in TRACE_FIELDS},
            "place": np.arange(member.sum()),  # the scan's order, as (kind, post, place) is
            "shares": graph.object_shares[member],
            "rep": graph.repetition[account],
            "n_posts": scanned["posts"][account],
            "created": scanned["created"][account],
        }
    ).sample(fraction=1.0, shuffle=True, seed=3)  # rows come in any order from a shuffle
    inside = np.flatnonzero(graph.within_clusters(cluster))
    edges = graph.edges_at(inside)
    offsets = graph.object_offsets()
    quoted = offsets[inside + 1] - offsets[inside]
    edges["objects"] = np.split(edges["objects"], np.cumsum(quoted)[:-1])
    edges = pl.DataFrame({"part": cluster[edges["source"]] % buckets, **edges})
    run = bucket_evidence(config, to_arrow_schema(PARTS, timezone="UTC"))
    rows = []
    for part in range(buckets):
        tables = (f.filter(pl.col("part") == part).to_arrow() for f in (edges, traces))
        rows.append(pl.DataFrame(pl.from_arrow(run(*tables))))
    every = np.arange(graph.n_edges)
    written = graph.edges_at(every)
    written["objects"] = np.split(written["objects"], offsets[1:-1])
    found = Found(
        parts=pl.concat(rows, how="diagonal_relaxed"),
        edges=pl.DataFrame(written, schema_overrides={"objects": pl.List(pl.Int64)}),
        by_kind=pl.DataFrame({"kind": np.arange(len(config.traces)), "n": whole.edges_by_kind}),
    )
    split = assemble(found, cluster.size, config)

    np.testing.assert_array_equal(split.account_cluster, cluster)
    for name in ClusterEvidence.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(split.evidence, name), getattr(whole.evidence, name))
    np.testing.assert_array_equal(split.edges_by_kind, whole.edges_by_kind)
    for row, read in ((TRACES_READ, traces.height), (EDGES_READ, inside.size)):
        assert found.parts.filter(pl.col("row") == row)["n"].sum() == read
    assert whole.edges.n_edges == whole.edges_by_kind.sum()  # the whole graph, written
    for name, values in whole.edges.edges_at(every).items():
        np.testing.assert_array_equal(split.edges.edges_at(every)[name], values, err_msg=name)
