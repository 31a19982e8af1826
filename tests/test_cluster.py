"""Label propagation, the community detection used on components too large for Louvain."""

import numpy as np

from detector.cluster import _label_propagation, _symmetric_csr
from detector.graph import MAX_OBJECTS, AccountGraph


def _csr(edges: list[tuple[int, int, float]], n: int):
    source, target, weight = (np.array(column) for column in zip(*edges, strict=True))
    m = len(edges)
    ones, zeros = np.ones(m, np.int64), np.zeros(m, np.int64)
    graph = AccountGraph(
        source, target, zeros, ones, weight, zeros, zeros.astype(float),
        np.full((m, MAX_OBJECTS), -1), ones, n, np.zeros(0, bool), np.ones(n, np.int64),
        np.ones(n, np.int64), np.zeros(0, np.int64),
    )  # fmt: skip
    m = _symmetric_csr(graph)
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data


def test_two_dense_groups_joined_by_a_light_edge_stay_apart():
    clique = [(a, b) for a in range(6) for b in range(a + 1, 6)]
    edges = [(a, b, 1.0) for a, b in clique] + [(a + 6, b + 6, 1.0) for a, b in clique]
    edges.append((5, 6, 0.1))
    indptr, indices, weights = _csr(edges, 13)  # node 12 is isolated and not propagated
    labels = _label_propagation(indptr, indices, weights, np.arange(12), 30)
    assert len(set(labels[:6])) == 1 and len(set(labels[6:12])) == 1
    assert labels[0] != labels[6]
    assert labels[12] == -1


def test_heavier_neighbour_label_wins():
    # Node 0 is pulled by one heavy edge to 1 rather than two light edges to 2 and 3.
    edges = [(0, 1, 5.0), (0, 2, 1.0), (0, 3, 1.0), (2, 3, 0.5)]
    indptr, indices, weights = _csr(edges, 4)
    labels = _label_propagation(indptr, indices, weights, np.arange(4), 1)
    # Sweep order 0..3: 0 takes 1's label, 1 keeps it (its only neighbour is 0).
    assert labels[0] == labels[1] == 1
