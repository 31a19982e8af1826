"""The co-posting graph stays linear in posts, weights repetition over crowds, and
communities are deterministic."""

import numpy as np

from detector.cluster import detect_communities
from detector.graph import build_graph, concat_traces, make_traces, shared_contents

HOUR = 3600


def template_traces(n_accounts: int, n_contents: int, rng, spread: int = 2 * HOUR):
    accounts = np.repeat(np.arange(n_accounts), n_contents)
    keys = np.tile(np.arange(n_contents), n_accounts)
    times = keys * 7 * 24 * HOUR + rng.integers(0, spread, accounts.size)
    return make_traces("text", keys, accounts, times)


def test_one_template_by_10000_accounts_stays_linear():
    rng = np.random.default_rng(0)
    traces = template_traces(10_000, 1, rng)
    graph = build_graph(traces, 10_000, window_seconds=12 * HOUR, neighbours=5, min_repeat=1)
    all_pairs = 10_000 * 9_999 // 2
    assert graph.n_edges <= 5 * traces.key.size  # at most `neighbours` links per post
    assert graph.n_edges < all_pairs / 500
    labels = detect_communities(graph, min_size=5, seed=1)
    assert np.all(labels >= 0)  # every account still reachable from the others


def test_window_limits_links():
    traces = make_traces(
        "text", np.zeros(4), np.arange(4), np.array([0, 10, 100 * HOUR, 100 * HOUR + 10])
    )
    graph = build_graph(traces, 4, window_seconds=HOUR, neighbours=5, min_repeat=1)
    assert sorted(zip(graph.source.tolist(), graph.target.tolist(), strict=True)) == [
        (0, 1),
        (2, 3),
    ]


def test_repetition_counts_distinct_contents():
    # Accounts 0 and 1 co-post three contents; 2 joins them once.
    keys = np.array([0, 0, 1, 1, 2, 2, 0])
    accounts = np.array([0, 1, 0, 1, 0, 1, 2])
    traces = make_traces("text", keys, accounts, np.zeros(7, np.int64))
    assert shared_contents(traces, 3).tolist() == [3, 3, 1]
    graph = build_graph(traces, 3, window_seconds=HOUR, neighbours=5, min_repeat=2)
    assert graph.source.tolist() == [0] and graph.target.tolist() == [1]
    assert graph.shared.tolist() == [3]


def test_crowd_content_weighs_less_than_rare_content():
    rng = np.random.default_rng(1)
    crowd = make_traces("text", np.zeros(1000), np.arange(1000), rng.integers(0, HOUR, 1000))
    # Accounts 0 and 1 also share a rare content; 0 and 2 share only the crowd one.
    rare = make_traces("text", np.ones(2), np.array([0, 1]), np.array([0, 60]))
    traces = concat_traces([crowd, rare])
    graph = build_graph(traces, 1000, window_seconds=2 * HOUR, neighbours=999, min_repeat=1)
    weight = {(s, t): w for s, t, w in zip(graph.source, graph.target, graph.weight, strict=True)}
    assert weight[(0, 1)] > 5 * weight[(0, 2)]


def test_kinds_never_collide():
    text = make_traces("text", np.array([5, 5]), np.array([0, 1]), np.zeros(2, np.int64))
    url = make_traces("url", np.array([5, 5]), np.array([2, 3]), np.zeros(2, np.int64))
    graph = build_graph(concat_traces([text, url]), 4, window_seconds=1, neighbours=5, min_repeat=1)
    assert sorted(zip(graph.source.tolist(), graph.target.tolist(), strict=True)) == [
        (0, 1),
        (2, 3),
    ]


def test_communities_are_deterministic_and_separate_groups():
    rng = np.random.default_rng(2)
    a = template_traces(60, 4, rng)
    b = make_traces(
        "text",
        np.repeat(np.arange(10, 14), 60),
        np.tile(np.arange(60, 120), 4),
        rng.integers(0, HOUR, 240),
    )
    traces = concat_traces([a, b])
    graph = build_graph(traces, 120, window_seconds=12 * HOUR, neighbours=5, min_repeat=2)
    first = detect_communities(graph, min_size=5, seed=1)
    assert np.array_equal(first, detect_communities(graph, min_size=5, seed=1))
    assert len(set(first[:60].tolist()) & set(first[60:].tolist())) == 0
