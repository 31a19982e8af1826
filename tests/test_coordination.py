"""The scan splits by components of the account-object graph (detector.coordination): each
component's closed trace set, run on its own with the whole scan's per-kind totals, gives
the whole scan's clusters, evidence and edges. A numpy reference of the split the Spark
engine makes in DataFrames, assembled by the Spark engine's own driver code."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import detector.pipeline
from detector.config import ScanConfig
from detector.coordination import find_clusters
from detector.graph import Traces, linked_in_window
from detector.score import ClusterEvidence

pytest.importorskip("pyspark", reason="the Spark engine's assembly imports pyspark")

from detector.spark.accounts import assemble, part_rows

DEMO = Path(__file__).parent.parent / "fixtures" / "demo.csv.gz"


@pytest.fixture(scope="module")
def scanned(monkeypatch_module):
    """The demo's traces and per-account figures as the local scan hands them over, and
    its clustering."""
    seen = {}

    def record(handed, posts, created, config, step, park, join):
        seen.update(traces=handed[0], posts=posts, created=created, config=config)
        seen["found"] = find_clusters(handed, posts, created, config, step, park=park, join=join)
        return seen["found"]

    monkeypatch_module.setattr(detector.pipeline, "find_clusters", record)
    detector.pipeline.scan(DEMO, write_graph=True)
    return seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def closed_parts(traces: Traces, config: ScanConfig) -> list[np.ndarray]:
    """Trace rows of each component's closed set: every trace of its objects and of its
    accounts, the components those of the kept (in-window, gated) account-object links."""
    windows = np.array([config.window(k) for k in config.traces], np.int64)
    linked = linked_in_window(traces.key, traces.account, traces.time, windows[traces.kind])
    counted = linked & (traces.rewording >= 0)
    contents = np.unique(np.stack([traces.account, traces.key, traces.variant])[:, counted], axis=1)
    repeat = np.bincount(contents[0], minlength=traces.account.max() + 1)
    own = np.zeros_like(repeat, bool)
    own[traces.account[linked & (traces.rewording > 0)]] = True
    kept = linked & ((repeat >= config.min_repeat) | own)[traces.account]
    keys, key_node = np.unique(traces.key[kept], return_inverse=True)
    n_accounts = int(traces.account.max()) + 1
    n = n_accounts + keys.size
    links = coo_matrix(
        (np.ones(kept.sum()), (traces.account[kept], n_accounts + key_node)), shape=(n, n)
    )
    _, label = connected_components(links, directed=False)
    members = np.unique(traces.account[kept])
    parts = []
    for component in np.unique(label[members]):
        in_keys = keys[label[n_accounts:] == component]
        in_accounts = members[label[members] == component]
        rows = np.isin(traces.key, in_keys) | np.isin(traces.account, in_accounts)
        parts.append(np.flatnonzero(rows))
    return parts


def test_components_give_the_whole_scans_answer(scanned):
    traces, config, whole = scanned["traces"], scanned["config"], scanned["found"]
    kinds = len(config.traces)
    pairs = np.unique(np.stack([traces.kind, traces.key, traces.account]), axis=1)
    totals = (
        np.bincount(pairs[0], minlength=kinds),
        np.array([np.unique(pairs[2, pairs[0] == k]).size for k in range(kinds)]),
    )
    parts = closed_parts(traces, config)
    assert len(parts) >= 3
    rows = []
    for number, part in enumerate(parts):
        accounts, local = np.unique(traces.account[part], return_inverse=True)
        names = Traces.__dataclass_fields__
        sub = Traces.of(**{n: local if n == "account" else getattr(traces, n)[part] for n in names})
        found = find_clusters(
            [sub], scanned["posts"][accounts], scanned["created"][accounts], config,
            kind_totals=totals,
        )  # fmt: skip
        rows.append(part_rows(number, accounts, found, sub.account.size))
    split = assemble(pl.concat(rows, how="diagonal_relaxed"), whole.account_cluster.size, config)

    assert whole.n_clusters > 0
    np.testing.assert_array_equal(split.account_cluster, whole.account_cluster)
    for name in ClusterEvidence.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(split.evidence, name), getattr(whole.evidence, name))
    np.testing.assert_array_equal(split.edges_by_kind, whole.edges_by_kind)

    def edges(graph):
        return graph.edges_at(np.lexsort((graph.kind, graph.target, graph.source)))

    assert whole.edges.n_edges == whole.edges_by_kind.sum()  # the whole graph, written
    for name, values in edges(whole.edges).items():
        np.testing.assert_array_equal(edges(split.edges)[name], values, err_msg=name)
