"""Community detection: Louvain, and label propagation for components too large for it."""

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from detector import cluster
from detector.cluster import _colour, detect_communities, symmetric_adjacency
from detector.config import ScanConfig
from detector.graph import MAX_OBJECTS, AccountGraph


def _graph(edges: list[tuple[int, int, float]], n: int) -> AccountGraph:
    source, target, weight = (np.array(column) for column in zip(*edges, strict=True))
    m = len(edges)
    ones, zeros = np.ones(m, np.int64), np.zeros(m, np.int64)
    graph = AccountGraph(
        source, target, zeros, ones, weight, zeros, zeros.astype(float),
        np.full((m, MAX_OBJECTS), -1), ones, n, np.zeros(0, bool), np.ones(n, np.int64),
        np.zeros(n, bool), np.ones(n, np.int64), np.zeros(0, np.int64),
    )  # fmt: skip
    return graph


def _whole(adjacency) -> csr_matrix:
    """``adjacency`` over every account, the unlinked ones as empty rows and columns."""
    n, linked = adjacency.n_accounts, adjacency.accounts
    spread = csr_matrix((np.ones(linked.size), (linked, np.arange(linked.size))), (n, linked.size))
    return (spread @ adjacency.matrix @ spread.T).tocsr()


def _csr(edges: list[tuple[int, int, float]], n: int):
    m = _whole(symmetric_adjacency(_graph(edges, n)))
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data


def _propagation(indptr, indices, weights, nodes, sweeps, identity=None, runs=1):
    """The label propagation kernel over ``nodes`` cut into ``runs`` runs (as threads take
    them), each node's colour from its own number unless ``identity`` is given."""
    identity = np.arange(indptr.size - 1) if identity is None else identity
    bounds = np.unique(np.linspace(0, nodes.size, runs + 1).astype(np.int64))
    return cluster._label_propagation(indptr, indices, weights, identity, nodes, sweeps, bounds)


def test_two_dense_groups_joined_by_a_light_edge_stay_apart():
    clique = [(a, b) for a in range(6) for b in range(a + 1, 6)]
    edges = [(a, b, 1.0) for a, b in clique] + [(a + 6, b + 6, 1.0) for a, b in clique]
    edges.append((5, 6, 0.1))
    indptr, indices, weights = _csr(edges, 13)  # node 12 is isolated and not propagated
    labels = _propagation(indptr, indices, weights, np.arange(12), 30)
    assert len(set(labels[:6])) == 1 and len(set(labels[6:12])) == 1
    assert labels[0] != labels[6]
    assert labels[12] == -1


def _numbers_of_colour(colours: list[int]) -> np.ndarray:
    """The smallest increasing numbers whose colours in the first sweep are ``colours``."""
    numbers, candidate = [], 0
    for colour in colours:
        while _colour(candidate, 0) != colour:
            candidate += 1
        numbers.append(candidate)
        candidate += 1
    return np.array(numbers)


def test_heavier_neighbour_label_wins():
    # Node 0 chooses first (colour 0) and is pulled by one heavy edge to 1 rather than by
    # light edges to 2 and 3 (a tie that 2 would win); its neighbours then follow it.
    edges = [(0, 1, 5.0), (0, 2, 1.0), (0, 3, 1.0), (2, 3, 0.5)]
    indptr, indices, weights = _csr(edges, 4)
    identity = _numbers_of_colour([0, 1, 1, 1])
    labels = _propagation(indptr, indices, weights, np.arange(4), 1, identity)
    assert labels.tolist() == [1, 1, 1, 1]


def test_a_network_of_squads_is_one_community_whatever_the_component_size():
    # Eight squads of 50 accounts pushing the same articles: each account is linked to 10
    # squad mates and, at half the weight, to 10 accounts of other squads; account numbers
    # interleave the squads, as account ids do. Label propagation alone settles on the
    # squads, each owning too little of the network's content to be recognised; the path
    # components too large for Louvain take must keep the network whole, as Louvain does.
    rng = np.random.default_rng(3)
    squad = np.repeat(np.arange(8), 50)
    number = rng.permutation(squad.size)
    edges = {}
    for a in range(squad.size):
        mates = np.flatnonzero(squad == squad[a])
        others = np.flatnonzero(squad != squad[a])
        for b in [*rng.choice(mates, 10, replace=False), *rng.choice(others, 10, replace=False)]:
            if a != b:
                pair = min(number[a], number[b]), max(number[a], number[b])
                edges[pair] = 1.0 if squad[a] == squad[b] else 0.5
    edge_list = [(a, b, w) for (a, b), w in sorted(edges.items())]
    graph = _graph(edge_list, squad.size)
    indptr, indices, weights = _csr(edge_list, squad.size)
    squads_only = _propagation(indptr, indices, weights, np.arange(squad.size), 10)
    assert len(set(squads_only)) > 1  # the trap is there
    config = ScanConfig(min_cluster_accounts=5, seed=0)
    assert set(detect_communities(symmetric_adjacency(graph), config)) == {0}
    coarsened = replace(config, louvain_max_edges=100)
    assert set(detect_communities(symmetric_adjacency(graph), coarsened)) == {0}


def _naive_propagation(indptr, indices, weights, sweeps):
    """Label propagation in colour rounds as the literature writes it: every node of the
    round's colour, every round, from the labels of the round before."""
    n = indptr.size - 1
    labels = list(range(n))
    for sweep in range(sweeps):
        changed = 0
        for colour in (0, 1):
            before = list(labels)
            for node in range(n):
                if _colour(node, sweep) != colour:
                    continue
                weight: dict[int, float] = {}
                for k in range(indptr[node], indptr[node + 1]):
                    label = before[indices[k]]
                    weight[label] = weight.get(label, 0.0) + weights[k]
                if weight:
                    best = min(weight, key=lambda label: (-weight[label], label))
                    if best != labels[node]:
                        labels[node] = best
                        changed += 1
        if changed == 0:
            break
    return np.array(labels)


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(0, 29), st.integers(0, 29), st.sampled_from([0.5, 1.0, 2.0])),
        min_size=1,
        max_size=120,
    ),
    sweeps=st.integers(1, 6),
    runs=st.integers(1, 7),
)
def test_label_propagation_skips_only_nodes_whose_neighbours_kept_their_labels(pairs, sweeps, runs):
    # Ties are frequent with these weights, so the tie rule is exercised too; how the
    # nodes are cut among threads changes nothing.
    edges = {(min(a, b), max(a, b)): w for a, b, w in pairs if a != b}
    if not edges:
        return
    edge_list = [(a, b, w) for (a, b), w in sorted(edges.items())]
    indptr, indices, weights = _csr(edge_list, 30)
    labels = _propagation(indptr, indices, weights, np.arange(30), sweeps, runs=runs)
    assert labels.tolist() == _naive_propagation(indptr, indices, weights, sweeps).tolist()


def test_rounded_weights_choose_the_same_label_in_any_order_of_a_nodes_edges():
    """Node 0 weighs label 6 (through nodes 1, 2, 3, by 0.1, 0.2 and 0.3) against label 5
    (through node 4, by 0.6): as floats, 0.1 + 0.2 + 0.3 beats 0.6 in one order and ties
    it in the other. Rounded as a component too large for Louvain is rounded, the sums
    are exact: a tie in any order (as Spark's tasks gather the edges), which 5 wins."""
    assert (0.1 + 0.2) + 0.3 > 0.6 == (0.3 + 0.2) + 0.1
    edges = [(0, 1, 0.1), (0, 2, 0.2), (0, 3, 0.3), (0, 4, 0.6)]
    edges += [(1, 6, 10.0), (2, 6, 10.0), (3, 6, 10.0), (4, 5, 10.0)]
    indptr, indices, weights = _csr(edges, 7)
    nodes = np.arange(7)
    identity = _numbers_of_colour([1, 0, 0, 0, 0, 1, 1])  # 1-4 choose first, then 0
    cluster._quantise(indptr, weights, nodes)
    first = slice(indptr[0], indptr[1])
    assert indices[first].tolist() == [1, 2, 3, 4]
    reversed_indices, reversed_weights = indices.copy(), weights.copy()
    reversed_indices[first] = [3, 2, 1, 4]
    reversed_weights[first] = weights[first][[2, 1, 0, 3]]
    for column, weight in ((indices, weights), (reversed_indices, reversed_weights)):
        labels = _propagation(indptr, column, weight, nodes, 1, identity)
        assert labels.tolist() == [5, 6, 6, 6, 5, 5, 6]


def _edge_lists(nodes: tuple[int, int], weights, max_size: int, *more):
    """(n, [(a, b, weight)...], *more): random edges among n nodes."""
    return st.integers(*nodes).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weights),
                max_size=max_size,
            ),
            *more,
        )
    )


@settings(max_examples=200, deadline=None)
@given(_edge_lists((1, 30), st.floats(0.01, 5.0), 60))
def testsymmetric_adjacency_is_what_scipy_makes_of_both_directions(case):
    """Built in place, the adjacency equals scipy's canonical conversion of every pair in
    both directions, over the accounts in some pair: same rows, column order, weights and
    index type."""
    n, raw = case
    pairs = {(min(a, b), max(a, b)): w for a, b, w in raw if a != b}
    if not pairs:
        return
    edges = [(a, b, w) for (a, b), w in sorted(pairs.items())]
    built = symmetric_adjacency(_graph(edges, n))
    source, target, weight = (np.array(column) for column in zip(*edges, strict=True))
    expected = coo_matrix(
        (np.concatenate([weight, weight]),
         (np.concatenate([source, target]), np.concatenate([target, source]))),
        shape=(n, n),
    ).tocsr()  # fmt: skip
    linked = np.flatnonzero(np.diff(expected.indptr))
    np.testing.assert_array_equal(built.accounts, linked)
    expected, built = expected[linked][:, linked], built.matrix
    assert built.indices.dtype == expected.indices.dtype
    assert built.indptr.dtype == expected.indptr.dtype
    np.testing.assert_array_equal(built.indptr, expected.indptr)
    np.testing.assert_array_equal(built.indices, expected.indices)
    np.testing.assert_array_equal(built.data, expected.data)


@settings(max_examples=150, deadline=None)
@given(_edge_lists((2, 20), st.sampled_from([-1.0, 0.5, 2.25]), 50, st.booleans()))
def testsymmetric_adjacency_sums_each_pairs_positive_rows_in_or_out_of_pair_order(case):
    """A graph's rows (a pair once per kind, some weights not positive) give the adjacency
    of the pairs' positive weights summed in row order, whether the rows come sorted by
    pair (read in place) or not (summed by ``pairs`` first)."""
    n, raw, in_order = case
    rows = [(min(a, b), max(a, b), w) for a, b, w in raw if a != b]
    if in_order:
        rows.sort(key=lambda row: row[:2])  # stable: a pair's rows keep their order
    if not rows:
        return
    summed: dict[tuple[int, int], float] = {}
    for a, b, w in rows:
        if w > 0:
            summed[(a, b)] = summed.get((a, b), 0.0) + w
    graph = _graph(rows, n)
    assert graph.in_pair_order() or not in_order
    built = symmetric_adjacency(graph)
    dense = np.zeros((n, n))
    for (a, b), w in summed.items():
        dense[a, b] = dense[b, a] = w
    np.testing.assert_array_equal(_whole(built).toarray(), dense)
    assert built.matrix.nnz == 2 * len(summed)
    assert built.matrix.has_canonical_format
    np.testing.assert_array_equal(built.accounts, np.flatnonzero(dense.any(axis=1)))


@settings(max_examples=150, deadline=None)
@given(_edge_lists((2, 60), st.sampled_from([0.5, 1.0, 2.0]), 150, st.sampled_from([1, 10**6])))
def test_communities_over_linked_accounts_are_those_over_every_account(case):
    """Leaving the unlinked accounts out of the adjacency changes no community: the
    accounts keep their order, so label propagation's ties (equal weights are common
    here), coarsening and Louvain fall as they do over every account."""
    n, raw, louvain_max_edges = case
    pairs = {(min(a, b), max(a, b)): w for a, b, w in raw if a != b}
    if not pairs:
        return
    adjacency = symmetric_adjacency(_graph([(a, b, w) for (a, b), w in sorted(pairs.items())], n))
    config = ScanConfig(min_cluster_accounts=2, seed=3, louvain_max_edges=louvain_max_edges)
    whole = _whole(adjacency)
    every_account = cluster.linked_communities(whole, np.arange(whole.shape[0]), config)
    np.testing.assert_array_equal(detect_communities(adjacency, config), every_account)


def _scipy_coarsen(adjacency, labels):
    n, k = adjacency.shape[0], int(labels.max()) + 1
    membership = csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))
    return (membership.T @ adjacency @ membership).tocsr()


def _random_labels(rng, n: int) -> np.ndarray:
    raw = [rng.randrange(max(1, n // 2)) for _ in range(n)]
    return np.unique(raw, return_inverse=True)[1].astype(np.int64)


@settings(max_examples=150, deadline=None)
@given(_edge_lists((2, 40), st.floats(0.01, 5.0), 120, st.randoms(use_true_random=False)))
def test_components_are_scipys_and_coarsened_in_place_as_scipy_coarsens_them(case):
    """The depth-first components are scipy's connected components; a component's graph
    of communities, read in place in the whole adjacency, and the next round's, read from
    that graph's columns, are scipy's sparse products to the bit (the floats Louvain then
    sees)."""
    n, raw, rng = case
    pairs = {(min(a, b), max(a, b)): w for a, b, w in raw if a != b}
    if not pairs:
        return
    edges = [(a, b, w) for (a, b), w in sorted(pairs.items())]
    adjacency = symmetric_adjacency(_graph(edges, n)).matrix
    n = adjacency.shape[0]
    component = cluster._components(adjacency.indptr, adjacency.indices)
    _, expected = connected_components(adjacency, directed=False)
    pairs_seen = set(zip(component.tolist(), expected.tolist(), strict=True))
    assert len(pairs_seen) == len(set(component.tolist()))
    assert len(set(component.tolist())) == len(set(expected.tolist()))
    scratch = np.empty(n, adjacency.indices.dtype)
    for label in set(component.tolist()):
        nodes = np.flatnonzero(component == label)
        labels = _random_labels(rng, nodes.size)
        expected = _scipy_coarsen(cluster._component(adjacency, nodes, scratch), labels)
        built = cluster._coarsen(adjacency, nodes, labels, scratch)
        labels = _random_labels(rng, built.shape[0])
        again = cluster._coarsen(built, np.arange(built.shape[0]), labels, scratch)
        for columns, want in ((built, expected), (again, _scipy_coarsen(expected, labels))):
            assert columns.has_canonical_format
            got = columns.tocsr()
            np.testing.assert_array_equal(got.indptr, want.indptr)
            np.testing.assert_array_equal(got.indices, want.indices)
            assert got.data.tobytes() == want.data.tobytes()


def row_tables(values: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[int, list]]:
    """``(k, rows)``: up to 80 rows of 1 to 4 columns drawn from ``values``."""
    return st.integers(1, 4).flatmap(
        lambda k: st.lists(st.tuples(*[values] * k), max_size=80).map(lambda rows: (k, rows))
    )


# Small values pack into one word; a wide one (as a 64-bit key) takes the lexsort instead.
VALUES = st.integers(-2, 3) | st.sampled_from([-(2**62), 2**62 - 1])


@settings(max_examples=200, deadline=None)
@given(row_tables(VALUES))
def test_unique_rows_are_numpys_distinct_rows_with_counts(case):
    k, rows = case
    table = np.array(rows, np.int64).reshape(-1, k)
    distinct, counts = cluster._unique_rows(*table.T)
    expected, expected_counts = np.unique(table, axis=0, return_counts=True)
    np.testing.assert_array_equal(distinct, expected.reshape(-1, k))
    np.testing.assert_array_equal(counts, expected_counts)


# Small values pack into one word; three columns 2**30 wide do not, and are folded two at
# a time; a column 2**63 wide is numbered by itself first.
NUMBERED = st.integers(-2, 3) | st.sampled_from([-(2**29), 2**29, -(2**62), 2**62])


@settings(max_examples=200, deadline=None)
@given(row_tables(NUMBERED))
def test_row_numbers_number_distinct_rows_by_first_appearance(case):
    k, rows = case
    numbers = cluster._row_numbers(*np.array(rows, np.int64).reshape(-1, k).T)
    first_seen = {row: n for n, row in enumerate(dict.fromkeys(rows))}
    assert numbers.tolist() == [first_seen[row] for row in rows]
