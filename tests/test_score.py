"""Cluster features: exclusivity must tell a network's own contents from a crowd's."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.graph import build_graph, make_traces
from detector.score import _median_per_cluster, cluster_evidence, feature

WINDOWS = np.array([3600])


def _exclusivity(own_posts: int, crowd_posts_by_members: int, crowd_posts_by_others: int):
    """One 5-account cluster posting ``own_posts`` in a group nobody else posts, and
    ``crowd_posts_by_members`` in a group that ``crowd_posts_by_others`` outsiders post too."""
    members = np.arange(5)
    own = np.resize(members, own_posts)
    joined = np.resize(members, crowd_posts_by_members)
    outsiders = 5 + np.arange(crowd_posts_by_others)
    account = np.concatenate([own, joined, outsiders])
    group = np.repeat([0, 1, 1], [own.size, joined.size, outsiders.size])
    n_accounts = 5 + crowd_posts_by_others
    rows = np.arange(account.size)
    traces = make_traces(0, group, account, rows // 100, rows, rows)
    graph = build_graph(
        traces, n_accounts, windows=WINDOWS, weights=np.ones(1), neighbours=5, min_repeat=1
    )
    evidence = cluster_evidence(
        graph=graph,
        traces=traces.take(graph.linked),
        object_shares=graph.object_shares,
        account_cluster=np.where(np.arange(n_accounts) < 5, 0, -1),
        account_posts=np.bincount(account, minlength=n_accounts),
        account_created=np.full(n_accounts, -1),
        kinds=("text",),
        windows=WINDOWS,
        n_clusters=1,
    )
    return float(feature(evidence, "exclusivity")[0])


def test_camouflage_in_a_huge_everyday_group_does_not_hide_a_network():
    # 90% of the network's shared posts are its own; 10% join a phrase 100,000 others post.
    assert _exclusivity(90, 10, 100_000) == pytest.approx(0.9, abs=1e-3)


def test_members_of_a_crowd_own_little_of_what_they_post():
    assert _exclusivity(0, 20, 10_000) == pytest.approx(20 / 10_020)


def test_a_network_alone_owns_all_of_it():
    assert _exclusivity(50, 0, 0) == 1.0


def test_a_graph_without_clusters_has_no_evidence():
    account = np.arange(6) % 3
    traces = make_traces(
        0, np.zeros(6, np.int64), account, np.arange(6), np.arange(6), np.arange(6)
    )
    graph = build_graph(traces, 3, windows=WINDOWS, weights=np.ones(1), neighbours=5, min_repeat=1)
    evidence = cluster_evidence(
        graph=graph,
        traces=traces.take(graph.linked),
        object_shares=graph.object_shares,
        account_cluster=np.full(3, -1),
        account_posts=np.bincount(account, minlength=3),
        account_created=np.full(3, -1),
        kinds=("text",),
        windows=WINDOWS,
        n_clusters=0,
    )
    assert evidence.features.shape[0] == 0 and evidence.n_accounts.size == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.floats(0.1, 3.0)),
        max_size=40,
    ),
    st.booleans(),
)
def test_median_per_cluster_is_each_clusters_lower_weighted_middle(rows, weighted):
    """Per cluster, the first value in sorted order whose cumulative weight reaches half
    the cluster's weight (all weigh one unless ``weighted``); NaN for a cluster without."""
    cluster = np.array([c for c, _, _ in rows], np.int64)
    values = np.array([v for _, v, _ in rows], np.float64)
    weights = np.array([w for _, _, w in rows]) if weighted else None
    expected = np.full(5, np.nan)
    weighs = weights if weighted else np.ones(len(rows))
    for c in set(cluster.tolist()):
        own = sorted((v, w) for v, w, k in zip(values, weighs, cluster, strict=True) if k == c)
        total, half = 0.0, sum(w for _, w in own) / 2
        expected[c] = next(v for v, w in own if (total := total + w) >= half)
    assert np.array_equal(
        _median_per_cluster(cluster, values, 5, weights), expected, equal_nan=True
    )
