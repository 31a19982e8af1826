"""The co-sharing graph: the field's co-share semantics per trace, linear in posts, chance
discounted, communities deterministic."""

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detector.graph
from detector.cluster import detect_communities, symmetric_adjacency
from detector.config import ScanConfig
from detector.graph import (
    MAX_OBJECTS,
    _Shares,
    build_graph,
    concat_traces,
    linked_in_window,
    make_traces,
)
from detector.spill import batch_store, join_columns

HOUR = 3600
KEY_BITS = (1 << 59) - 1  # a trace key less its kind
TEXT, URL, REPOST = 0, 1, 2
WINDOWS = np.array([12 * HOUR, HOUR, 60])
WEIGHTS = np.array([1.0, 1.0, 0.5])


def traces_of(kind, keys, accounts, times):
    keys, accounts, times = (np.asarray(x, np.int64) for x in (keys, accounts, times))
    return make_traces(kind, keys, accounts, times, np.arange(keys.size))


def per_pair(source, target, values):
    """``{(source, target): value}`` of a graph's rows."""
    return dict(zip(zip(source.tolist(), target.tolist(), strict=True), values, strict=True))


def graph_of(traces, n_accounts, **options):
    settings = {"windows": WINDOWS, "weights": WEIGHTS, "neighbours": 5, "min_repeat": 1}
    return build_graph(traces, n_accounts, **{**settings, **options})


def template_traces(n_accounts: int, n_contents: int, rng, spread: int = 2 * HOUR):
    accounts = np.repeat(np.arange(n_accounts), n_contents)
    keys = np.tile(np.arange(n_contents), n_accounts)
    times = keys * 7 * 24 * HOUR + rng.integers(0, spread, accounts.size)
    return traces_of(TEXT, keys, accounts, times)


def test_one_template_by_10000_accounts_stays_linear():
    rng = np.random.default_rng(0)
    # 10,000 of 100,000 accounts post the template; the others post objects of their own.
    template = template_traces(10_000, 1, rng)
    others = traces_of(TEXT, np.arange(1, 90_001), np.arange(10_000, 100_000), np.zeros(90_000))
    traces = concat_traces([template, others])
    graph = graph_of(traces, 100_000)
    all_pairs = 10_000 * 9_999 // 2
    assert graph.n_edges <= 5 * template.n_rows  # at most `neighbours` links per post
    assert graph.n_edges < all_pairs / 500
    labels = detect_communities(symmetric_adjacency(graph), ScanConfig(seed=1))
    assert np.all(labels[:10_000] >= 0)  # every account still reachable from the others


def test_one_hyperactive_accounts_links_are_aggregated_a_batch_at_a_time(monkeypatch):
    # Account 0 shares one hashtag every second; 2,000 others share it once each in
    # between. Every link has account 0 as its smaller end: batched by that end alone,
    # its 30,000 links would be aggregated at once whatever the batch size.
    rng = np.random.default_rng(3)
    n = 20_000
    accounts = np.r_[np.zeros(n, np.int64), np.arange(1, 2_001)]
    times = np.r_[np.arange(n), rng.integers(0, n, 2_000)]
    traces = traces_of(URL, np.zeros(accounts.size), accounts, times)
    sizes = []
    pair_rows = detector.graph._pair_rows

    def counted(*args):
        sizes.append(args[-1].size)
        return pair_rows(*args)

    monkeypatch.setattr(detector.graph, "_pair_rows", counted)
    batched = graph_of(traces, 2_001, batch_edges=2_000 * detector.graph.nb.get_num_threads())
    assert sum(sizes) > 20 * 2_000 and max(sizes) <= 2 * 2_000
    monkeypatch.undo()
    whole = graph_of(traces, 2_001, batch_edges=10**9)
    for name, value in _fields(whole).items():
        assert np.array_equal(value, _fields(batched)[name], equal_nan=True), name


def test_each_trace_has_its_own_window():
    # Two reposts 90 s apart are outside the 60 s repost window; two URL shares 90 s apart
    # are inside the 1 h URL window.
    reposts = traces_of(REPOST, [0, 0], [0, 1], [0, 90])
    urls = traces_of(URL, [0, 0], [2, 3], [0, 90])
    graph = graph_of(concat_traces([reposts, urls]), 4)
    assert list(zip(graph.source.tolist(), graph.target.tolist(), strict=True)) == [(2, 3)]
    assert graph.linked.tolist() == [False, False, True, True]


def test_pair_weight_counts_distinct_objects_in_window_and_gaps():
    # Accounts 0 and 1 co-share objects 0, 1, 2 (object 2 twice by account 1) 5, 10, 20 s
    # apart; object 3 they share an hour apart, outside the 60 s repost window.
    keys = [0, 0, 1, 1, 2, 2, 2, 3, 3]
    accounts = [0, 1, 0, 1, 0, 1, 1, 0, 1]
    times = [0, 5, 100, 110, 200, 220, 230, 300, 300 + HOUR]
    graph = graph_of(traces_of(REPOST, keys, accounts, times), 2)
    assert graph.shared.tolist() == [3]
    assert graph.gap_min.tolist() == [5]
    assert graph.gap_median.tolist() == [10.0]
    assert graph.repetition.tolist() == [3, 3]
    assert (graph.objects & KEY_BITS).tolist() == [0, 1, 2]


def test_each_edge_quotes_its_first_objects_up_to_the_cap():
    # Pair (0, 1) co-shares seven objects, pair (2, 3) one: the first quotes five.
    keys = [*np.repeat(np.arange(7), 2), 9, 9]
    accounts = [*np.tile([0, 1], 7), 2, 3]
    graph = graph_of(traces_of(REPOST, keys, accounts, np.zeros(16)), 4)
    assert graph.shared.tolist() == [7, 1]
    assert graph.objects.size == MAX_OBJECTS + 1
    position, key = graph.quoted(np.array([1, 0]))
    assert position.tolist() == [0, 1, 1, 1, 1, 1]
    assert (key & KEY_BITS).tolist() == [9, 0, 1, 2, 3, 4]
    kept = graph.edges_at(np.array([1]))
    assert kept["shared"].tolist() == [1] and (kept["objects"] & KEY_BITS).tolist() == [9]


def test_min_co_shares_and_min_participation():
    # Pair (0, 1) co-shares two objects, pair (2, 3) one.
    keys = [0, 0, 1, 1, 2, 2]
    accounts = [0, 1, 0, 1, 2, 3]
    traces = traces_of(REPOST, keys, accounts, np.zeros(6))
    assert graph_of(traces, 4, min_co_shares=2).source.tolist() == [0]
    assert graph_of(traces, 4, min_participation=2).source.tolist() == [0]
    assert graph_of(traces, 4).n_edges == 2


def test_repetition_respects_the_window():
    # Same objects, but account 1 always comes a day later: nothing is co-shared in window.
    keys = [0, 0, 1, 1, 2, 2]
    accounts = [0, 1, 0, 1, 0, 1]
    times = [0, 86_400, 10, 86_410, 20, 86_420]
    graph = graph_of(traces_of(URL, keys, accounts, times), 2)
    assert graph.repetition.tolist() == [0, 0]
    assert graph.n_edges == 0


def test_crowd_content_weighs_less_than_rare_content():
    rng = np.random.default_rng(1)
    crowd = traces_of(TEXT, np.zeros(1000), np.arange(1000), rng.integers(0, HOUR, 1000))
    # Accounts 0 and 1 also share a rare content; 0 and 2 share only the crowd one.
    rare = traces_of(TEXT, np.ones(2), [0, 1], [0, 60])
    graph = graph_of(concat_traces([crowd, rare]), 1000, neighbours=999)
    source, target, weight = graph.pairs()
    weights = per_pair(source, target, weight)
    assert weights[(0, 1)] > 5 * weights.get((0, 2), 0.0)


def test_a_post_reposted_by_everyone_links_nobody():
    # All 50 accounts repost object 0 within a minute: IDF is zero, the edges weigh nothing.
    rng = np.random.default_rng(3)
    traces = traces_of(REPOST, np.zeros(50), np.arange(50), np.sort(rng.integers(0, 50, 50)))
    graph = graph_of(traces, 50)
    assert graph.n_edges > 0
    assert graph.pairs()[0].size == 0
    config = ScanConfig(min_cluster_accounts=2, seed=1)
    assert np.all(detect_communities(symmetric_adjacency(graph), config) == -1)


def test_chance_explains_co_shares_of_very_active_accounts():
    # Two accounts that each repost every one of 200 popular objects (with 30 others each)
    # co-share them by chance: their weight is discounted to nothing, unlike a quiet pair
    # that co-shares two rare objects.
    rng = np.random.default_rng(4)
    keys, accounts, times = [], [], []
    for obj in range(200):
        crowd = rng.choice(np.arange(4, 400), 30, replace=False)
        for account in [0, 1, *crowd.tolist()]:
            keys.append(obj)
            accounts.append(account)
            times.append(obj * 1000 + int(rng.integers(0, 50)))
    keys += [500, 500, 501, 501]
    accounts += [2, 3, 2, 3]
    times += [10**6, 10**6 + 5, 2 * 10**6, 2 * 10**6 + 5]
    graph = graph_of(traces_of(REPOST, keys, accounts, times), 400, neighbours=999)
    source, target, weight = graph.pairs()
    weights = per_pair(source, target, weight)
    assert weights.get((0, 1), 0.0) < 0.2 * weights[(2, 3)]


def test_kinds_never_collide():
    text = traces_of(TEXT, [5, 5], [0, 1], [0, 0])
    url = traces_of(URL, [5, 5], [2, 3], [0, 0])
    graph = graph_of(concat_traces([text, url]), 4)
    assert sorted(zip(graph.source.tolist(), graph.target.tolist(), strict=True)) == [
        (0, 1),
        (2, 3),
    ]
    assert graph.kind.tolist() == [TEXT, URL]


@settings(deadline=None)
@given(st.lists(st.integers(-5, 40), min_size=1, max_size=80))
def test_distinct_sorts_and_counts(values):
    array = np.array(values, np.int64)
    assert detector.graph._distinct(array) == len(set(values))
    assert array.tolist() == sorted(values)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 300)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 120),
)
def test_linked_matches_brute_force(rows, window):
    key, account, time = (np.array(column, np.int64) for column in zip(*rows, strict=True))
    got = linked_in_window(key, account, time, np.full(key.size, window))
    want = [
        any(key[j] == key[i] and account[j] != account[i] and abs(time[j] - time[i]) <= window
            for j in range(key.size))
        for i in range(key.size)
    ]  # fmt: skip
    assert got.tolist() == want


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 6), st.integers(0, 200)),
        min_size=2,
        max_size=40,
    )
)
def test_pair_counts_are_exact_below_the_neighbour_cap(rows):
    key, account, time = (np.array(column, np.int64) for column in zip(*rows, strict=True))
    graph = graph_of(traces_of(REPOST, key, account, time), 7, neighbours=100)
    got = per_pair(graph.source, graph.target, graph.shared.tolist())
    want: dict = {}
    for a in range(7):
        for b in range(a + 1, 7):
            objects = {
                key[i]
                for i in range(key.size)
                for j in range(key.size)
                if key[i] == key[j] and account[i] == a and account[j] == b
                and abs(time[i] - time[j]) <= 60
            }  # fmt: skip
            if objects:
                want[(a, b)] = len(objects)
    assert got == want


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 150)),
        min_size=2,
        max_size=50,
    )
)
def test_co_posts_count_each_accounts_posts_the_other_co_shared(rows):
    # Each trace its own post; few accounts and keys, so accounts share a key again and
    # again and a pair's row holds several links (the rows counted post by post).
    key, account, time = (np.array(column, np.int64) for column in zip(*rows, strict=True))
    graph = graph_of(traces_of(REPOST, key, account, time), 5, neighbours=100)
    got = per_pair(graph.source, graph.target, graph.co_posts.tolist())
    want: dict = {}
    for a in range(5):
        for b in range(a + 1, 5):
            posts = [
                sum(
                    any(key[j] == key[i] and account[j] == y and abs(time[j] - time[i]) <= 60
                        for j in range(key.size))
                    for i in range(key.size)
                    if account[i] == x
                )
                for x, y in ((a, b), (b, a))
            ]  # fmt: skip
            if max(posts):
                want[(a, b)] = max(posts)
    assert got == want


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(-3, 3) | st.just(2**58), st.integers(0, 6)),
        max_size=60,
    )
)
def test_shares_count_as_np_unique_numbers_objects_and_pairs(rows):
    """Objects and (object, account) pairs numbered as np.unique numbers them, keys of
    several kinds (a key's kind in its top bits; keys given negative, or at the top of
    the 59 bits a kind leaves, among them)."""
    kind, key, account = (np.array([row[i] for row in rows], np.int64) for i in range(3))
    parts = []
    for k in range(3):
        of_kind = account[kind == k]
        parts.append(make_traces(k, key[kind == k], of_kind, of_kind, of_kind))
    traces = concat_traces(parts)
    n = 7
    shares = _Shares.of(traces, n, 3)
    keys, key_index = np.unique(traces.key, return_inverse=True)
    pairs, pair_index, pair_traces = np.unique(
        key_index * n + traces.account, return_inverse=True, return_counts=True
    )
    assert shares.key_index.tolist() == key_index.tolist()
    assert shares.pair_index.tolist() == pair_index.tolist()
    assert shares.pair_traces.tolist() == pair_traces.tolist()
    assert shares.pair_account.tolist() == (pairs % n).tolist()
    assert shares.df.tolist() == np.bincount(pairs // n, minlength=keys.size).tolist()
    pair_kind = (keys >> np.int64(59))[pairs // n]
    objects = np.bincount((pairs % n) * 3 + pair_kind, minlength=n * 3).reshape(n, 3)
    assert shares.objects.tolist() == objects.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 4),
            st.integers(0, 100),
            st.sampled_from([0, 1, 2, 2**40]),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_repetition_counts_distinct_contents_co_shared_in_window(rows):
    key, account, time, variant = (np.array(c, np.int64) for c in zip(*rows, strict=True))
    traces = make_traces(TEXT, key, account, time, np.arange(key.size), variant)
    graph = graph_of(traces, 5)
    linked = linked_in_window(key, account, time, np.full(key.size, WINDOWS[TEXT]))
    want = [
        len(
            {
                (k, v)
                for k, a, v in zip(key[linked], account[linked], variant[linked], strict=True)
                if a == x
            }
        )
        for x in range(5)
    ]
    assert graph.repetition.tolist() == want


def test_communities_are_deterministic_and_separate_groups():
    rng = np.random.default_rng(2)
    a = template_traces(60, 4, rng)
    b = traces_of(
        TEXT,
        np.repeat(np.arange(10, 14), 60),
        np.tile(np.arange(60, 120), 4),
        rng.integers(0, HOUR, 240),
    )
    graph = graph_of(concat_traces([a, b]), 120, min_repeat=2)
    first = detect_communities(symmetric_adjacency(graph), ScanConfig(seed=1))
    assert np.array_equal(first, detect_communities(symmetric_adjacency(graph), ScanConfig(seed=1)))
    assert len(set(first[:60].tolist()) & set(first[60:].tolist())) == 0


@pytest.mark.parametrize("neighbours", [1, 5])
def test_graph_does_not_depend_on_trace_order(neighbours):
    rng = np.random.default_rng(5)
    traces = template_traces(40, 3, rng, spread=HOUR)
    shuffled = traces.take(rng.permutation(traces.n_rows))
    one, two = (
        graph_of(traces, 40, neighbours=neighbours),
        graph_of(shuffled, 40, neighbours=neighbours),
    )
    assert np.array_equal(one.source, two.source) and np.array_equal(one.shared, two.shared)


def _fields(graph):
    return {name: getattr(graph, name) for name in graph.__dataclass_fields__}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 7), st.integers(0, 90)),
        min_size=2,
        max_size=60,
    ),
    st.integers(1, 8),
)
def test_the_graph_is_the_same_whatever_the_batch_of_links(rows, batch_edges):
    # Kinds, keys, accounts (an account sharing an object twice takes the co-posts path)
    # and times; the links aggregated `batch_edges` at a time or all at once.
    kind, key, account, time = (np.array(c, np.int64) for c in zip(*rows, strict=True))
    traces = concat_traces(
        [traces_of(k, key[kind == k], account[kind == k], time[kind == k]) for k in range(3)]
    )
    whole, batched = (graph_of(traces, 8, batch_edges=b) for b in (10**9, batch_edges))
    with batch_store(1) as store:  # every batch's rows past the budget: on disk, mapped
        spilled = graph_of(
            traces, 8, batch_edges=batch_edges, join=partial(join_columns, store=store)
        )
        for name, value in _fields(whole).items():
            for other in (batched, spilled):
                assert np.array_equal(value, _fields(other)[name], equal_nan=True), name
