"""Communities of the account graph: the candidate coordinated groups.

Connected components come from a depth-first walk over the CSR adjacency (numba). A
component small enough for networkx is split with Louvain (seeded, so deterministic); a
larger one is first coarsened by weighted label propagation in a numba kernel over the
CSR adjacency (linear per sweep; in colour rounds, on weights whose sums are exact, so
that the Spark engine splits it across tasks with the same answer), then Louvain splits
the graph of those communities. The largest components are read in place in the
adjacency, never copied out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numba as nb
import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from detector.config import ScanConfig
from detector.graph import AccountGraph, index_type
from detector.numbering import dense_numbers
from detector.sorting import lexsort, stable_argsort
from detector.threads import in_ranges

# Scratch tables of :func:`_sum_by_label`: each label's slot, its summed weight, the
# slots filled, in the order filled, and the labels of a node's neighbours.
LabelSums = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Runs of nodes or communities a thread takes at a time (see _propagate and _coarsen): a
# few a thread, so that one run of dense ones does not leave the other threads waiting.
RUNS_PER_THREAD = 4
# Label propagation and coarsening read edge weights rounded to multiples of this: their
# sums are then exact, the same in any order of addition, on any number of threads or
# Spark tasks.
WEIGHT_QUANTUM = 2.0**-16


@dataclass(frozen=True)
class Adjacency:
    """The account graph's symmetric adjacency over its linked accounts only: row and
    column ``i`` are account ``accounts[i]``. The accounts keep their order, so every tie
    broken by the smaller number falls as it would over all accounts, while the
    communities' arrays span the linked accounts alone (at 50M posts 5.3M of 14.8M
    accounts: label propagation a seventh faster, as more of them stay in cache)."""

    matrix: csr_matrix
    accounts: np.ndarray
    n_accounts: int


def symmetric_adjacency(graph: AccountGraph) -> Adjacency:
    """Pair weights summed over kinds, both directions; pairs whose co-shares chance
    explains are left out, and with them the accounts left with none. Read from the
    graph's rows where they come in pair order (as :func:`~detector.graph.build_graph`
    writes them), with no copy of them."""
    source, target, weight = (
        (graph.source, graph.target, graph.weight) if graph.in_pair_order() else graph.pairs()
    )
    return pair_adjacency(source, target, weight, graph.n_accounts)


def pair_adjacency(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n_accounts: int
) -> Adjacency:
    """:func:`symmetric_adjacency` of rows in pair order (``source`` < ``target``, sorted by
    both; a pair's positive weights summed in row order) among ``n_accounts`` accounts."""
    n = n_accounts
    count = index_type(source.size)  # no node has more neighbours than the graph rows
    lower, upper = np.zeros(n, count), np.zeros(n, count)
    _count_pairs(source, target, weight, lower, upper)
    degree = lower + upper
    accounts = np.flatnonzero(degree)
    indptr = np.zeros(accounts.size + 1, np.int64)
    np.cumsum(degree[accounts], out=indptr[1:])
    index = np.int32 if max(accounts.size, indptr[-1]) < np.iinfo(np.int32).max else np.int64
    position = np.full(n, -1, index)
    position[accounts] = np.arange(accounts.size)
    indices, data = np.empty(indptr[-1], index), np.empty(indptr[-1], np.float64)
    # Each row's next smaller and larger neighbour's slot: a row holds its smaller
    # neighbours, then its larger ones.
    smaller, larger = indptr[:-1].copy(), indptr[:-1] + lower[accounts]
    # Rows cut into a run of about equal entries a thread; each run's first account (n
    # past the last) and the graph rows before the next run's first source.
    cuts = np.searchsorted(indptr, np.linspace(0, indptr[-1], nb.get_num_threads() + 1))
    bound = np.append(accounts, n)[np.unique(cuts)]
    stop = np.searchsorted(source, bound)
    in_ranges(
        lambda first, last: [
            _fill_symmetric(
                source, target, weight, position, smaller, larger, bound[k], bound[k + 1],
                stop[k + 1], indices, data,
            )
            for k in range(first, last)
        ],
        bound.size - 1,
    )  # fmt: skip
    shape = (accounts.size, accounts.size)
    return Adjacency(csr_matrix((data, indices, indptr.astype(index)), shape=shape), accounts, n)


@nb.njit(cache=True)
def _count_pairs(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> None:
    """Per node, its smaller (``lower``) and larger (``upper``) neighbours: the distinct
    pairs among the rows of positive weight (rows in pair order)."""
    last_s, last_t = -1, -1
    for e in range(source.shape[0]):
        s, t = source[e], target[e]
        if weight[e] > 0 and (s != last_s or t != last_t):
            upper[s] += 1
            lower[t] += 1
            last_s, last_t = s, t


@nb.njit(cache=True, nogil=True)
def _fill_symmetric(
    source: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    position: np.ndarray,
    smaller: np.ndarray,
    larger: np.ndarray,
    low: int,
    high: int,
    stop: int,
    indices: np.ndarray,
    data: np.ndarray,
) -> None:
    """The rows of accounts ``low`` to ``high`` (exclusive) of the canonical CSR, in both
    directions, of graph rows in pair order (``source`` < ``target``, sorted by both; a
    pair's positive weights summed in row order, as ``np.bincount`` sums them), accounts
    numbered by ``position`` (ascending), without a COO copy to sort. Their larger
    neighbours come from the rows whose source is one of them, their smaller ones from
    the rows before ``stop`` (the first whose source is ``high`` or above) whose target
    is one; either way in ascending order, as the pairs go by source. ``smaller`` and
    ``larger``: each row's next slot for a smaller and a larger neighbour. Threads given
    runs of accounts apart write rows apart (the graph rows' scattered half, a random
    write each, took 1.6 s of a 10M-post scan on one core)."""
    e = 0
    while e < stop:
        s, t = source[e], target[e]
        total = 0.0
        found = False
        while e < stop and source[e] == s and target[e] == t:
            if weight[e] > 0:
                total += weight[e]
                found = True
            e += 1
        if not found:
            continue
        if s >= low:
            row, column = position[s], position[t]
            indices[larger[row]], data[larger[row]] = column, total
            larger[row] += 1
        if low <= t < high:
            row, column = position[t], position[s]
            indices[smaller[row]], data[smaller[row]] = column, total
            smaller[row] += 1


@nb.njit(cache=True)
def _sum_by_label(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    node: int,
    label_of: np.ndarray,
    sums: LabelSums,
) -> int:
    """Add the weights of ``node``'s edges into ``sums`` by each neighbour's label, in edge
    order (the floats a dense array indexed by label would hold); the slots of the labels
    met, in the order first met, are listed in its ``touched``. Returns how many. The
    slots are a table twice the node's degree, open addressing by label: a dense array
    as long as the graph's labels was a second miss of the cache per edge (label
    propagation over a 5.3M-account component: 30.2 s before, 26.9 s with the table).
    The neighbours' labels are all read first, loads that do not wait on one another,
    then summed (the same component: 12.1 -> 11.1 s, median of 5)."""
    slot_label, slot_sum, touched, neighbour_label = sums
    start, end = indptr[node], indptr[node + 1]
    for e in range(start, end):
        neighbour_label[e - start] = label_of[indices[e]]
    mask = _table_size(end - start) - 1
    n_touched = 0
    for e in range(start, end):
        label = neighbour_label[e - start]
        slot = np.int64((np.uint64(label) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & mask
        while slot_label[slot] != label and slot_label[slot] != -1:
            slot = (slot + 1) & mask
        if slot_label[slot] == -1:
            slot_label[slot] = label
            touched[n_touched] = slot
            n_touched += 1
        slot_sum[slot] += weights[e]
    return n_touched


@nb.njit(cache=True)
def _table_size(degree: int) -> int:
    """Slots of a node's label table: the smallest power of two at least twice its degree."""
    size = 1
    while size < 2 * degree:
        size *= 2
    return size


@nb.njit(cache=True)
def _label_sums(indptr: np.ndarray, nodes: np.ndarray) -> LabelSums:
    """Empty tables for :func:`_sum_by_label` over ``nodes``: as many slots as the node of
    most edges needs."""
    max_degree = 0
    for node in nodes:
        max_degree = max(max_degree, indptr[node + 1] - indptr[node])
    size = _table_size(max_degree)
    return (
        np.full(size, -1, np.int64),
        np.zeros(size, np.float64),
        np.empty(size, np.int64),
        np.empty(max_degree, np.int64),
    )


@nb.njit(cache=True)
def _take_sum(sums: LabelSums, t: int) -> tuple[int, float]:
    """The label and weight of the ``t``-th label :func:`_sum_by_label` met, its slot
    emptied for the next node."""
    slot_label, slot_sum, touched, _ = sums
    slot = touched[t]
    label, weight = slot_label[slot], slot_sum[slot]
    slot_label[slot], slot_sum[slot] = -1, 0.0
    return label, weight


@nb.njit(cache=True)
def _colour(identity: int, sweep: int) -> int:
    """The colour (0 or 1) of the node ``identity`` in ``sweep``: a hash of both, so that
    every sweep splits the nodes anew, and one the Spark engine computes alike."""
    h = np.uint64(identity) * np.uint64(0x9E3779B97F4A7C15)
    h += np.uint64(sweep) * np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(31)
    return np.int64(h & np.uint64(1))


@nb.njit(cache=True)
def node_colours(identity: np.ndarray, sweeps: int) -> np.ndarray:
    """Each node's colour (:func:`_colour` of its ``identity``) in each of ``sweeps``
    sweeps, as a (nodes, sweeps) array: what the Spark engine's rounds read."""
    colours = np.empty((identity.shape[0], sweeps), np.int8)
    for i in range(identity.shape[0]):
        for sweep in range(sweeps):
            colours[i, sweep] = _colour(identity[i], sweep)
    return colours


def _label_propagation(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    identity: np.ndarray,
    nodes: np.ndarray,
    sweeps: int,
    bounds: np.ndarray,
) -> np.ndarray:
    """Weighted label propagation over ``nodes`` (whole components) in colour rounds: each
    sweep, the nodes of colour 0 (:func:`_colour` of their ``identity``), then those of
    colour 1, each take at once the label with the largest summed edge weight among their
    neighbours' labels of the round before (ties: the smallest label). Returns the label
    of every node of the graph (-1 outside ``nodes``). No node's choice waits on another's
    of its round, so the rounds split across threads (``bounds``: runs of ``nodes``) or
    tasks with the same answer; with weights that are multiples of
    :data:`WEIGHT_QUANTUM` the sums are exact in any order. A sweep is linear in the
    edges (:func:`_sum_by_label`); a node none of whose neighbours changed label since
    it last chose would choose the same again, so it is skipped."""
    labels = np.full(indptr.shape[0] - 1, -1, np.int32)
    labels[nodes] = nodes.astype(np.int32)
    stale = np.ones(labels.shape[0], np.bool_)  # a neighbour's label changed since it chose
    choice = np.empty(nodes.shape[0], np.int32)
    moved = np.zeros(nodes.shape[0], np.bool_)
    for sweep in range(sweeps):
        changed = 0
        for colour in range(2):
            in_ranges(
                lambda first, stop, sweep=sweep, colour=colour: _choose_labels(
                    indptr, indices, weights, identity, nodes, bounds, first, stop, sweep,
                    colour, labels, stale, choice, moved,
                ),
                bounds.shape[0] - 1,
            )  # fmt: skip
            changed += _take_choices(indptr, indices, nodes, choice, moved, labels, stale)
        if changed == 0:
            break
    return labels


@nb.njit(cache=True, nogil=True)
def _choose_labels(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    identity: np.ndarray,
    nodes: np.ndarray,
    bounds: np.ndarray,
    first_run: int,
    stop_run: int,
    sweep: int,
    colour: int,
    labels: np.ndarray,
    stale: np.ndarray,
    choice: np.ndarray,
    moved: np.ndarray,
) -> None:
    """The round's choice of each stale node of ``colour`` in runs ``first_run`` to
    ``stop_run`` of ``nodes``, into ``choice``; ``moved``: whether it differs from the
    node's label."""
    for run in range(first_run, stop_run):
        sums = _label_sums(indptr, nodes[bounds[run] : bounds[run + 1]])
        for p in range(bounds[run], bounds[run + 1]):
            node = nodes[p]
            if not stale[node] or _colour(identity[node], sweep) != colour:
                continue
            stale[node] = False
            n_touched = _sum_by_label(indptr, indices, weights, node, labels, sums)
            best_label, best_weight = labels[node], -1.0
            for t in range(n_touched):
                label, weight = _take_sum(sums, t)
                if weight > best_weight or (weight == best_weight and label < best_label):
                    best_label, best_weight = label, weight
            choice[p] = best_label
            moved[p] = best_label != labels[node]


@nb.njit(cache=True, nogil=True)
def _take_choices(
    indptr: np.ndarray,
    indices: np.ndarray,
    nodes: np.ndarray,
    choice: np.ndarray,
    moved: np.ndarray,
    labels: np.ndarray,
    stale: np.ndarray,
) -> int:
    """The round's choices taken together: each moved node's new label, its neighbours
    marked stale. Returns how many nodes moved."""
    changed = 0
    for p in range(nodes.shape[0]):
        if moved[p]:
            node = nodes[p]
            labels[node] = choice[p]
            moved[p] = False
            changed += 1
            for k in range(indptr[node], indptr[node + 1]):
                stale[indices[k]] = True
    return changed


@nb.njit(cache=True)
def _quantise(indptr: np.ndarray, weights: np.ndarray, nodes: np.ndarray) -> None:
    """The edge weights of ``nodes`` rounded in place to multiples of
    :data:`WEIGHT_QUANTUM`, at least one (a positive weight stays positive)."""
    for node in nodes:
        for e in range(indptr[node], indptr[node + 1]):
            weights[e] = max(np.rint(weights[e] / WEIGHT_QUANTUM), 1.0) * WEIGHT_QUANTUM


def _louvain(adjacency: csr_matrix, config: ScanConfig) -> np.ndarray:
    """Louvain community (0..k-1) of each node of the symmetric ``adjacency`` (seeded by
    ``config.seed``, at ``config.louvain_resolution``); a self-loop holds a coarsened
    node's internal weight twice over, as :func:`_coarsen` leaves it."""
    coo = adjacency.tocoo()
    upper = coo.row <= coo.col
    weight = np.where(coo.row == coo.col, coo.data / 2, coo.data)
    g = nx.Graph()
    g.add_nodes_from(range(adjacency.shape[0]))
    g.add_weighted_edges_from(
        zip(coo.row[upper].tolist(), coo.col[upper].tolist(), weight[upper].tolist(), strict=True)
    )
    communities = nx.community.louvain_communities(
        g, weight="weight", resolution=config.louvain_resolution, seed=config.seed
    )
    labels = np.empty(adjacency.shape[0], np.int64)
    for label, members in enumerate(communities):
        labels[np.fromiter(members, np.int64, len(members))] = label
    return labels


def _propagate(
    adjacency: csr_matrix, nodes: np.ndarray, identity: np.ndarray, sweeps: int
) -> np.ndarray:
    """Label propagation community (0..k-1) of each of ``nodes`` (whole components of
    ``adjacency``, ascending; ``identity``: each node's number for its colour), after at
    most ``sweeps`` sweeps. The nodes are cut into runs of about equal edges, a few a
    thread."""
    degree = adjacency.indptr[nodes + 1] - adjacency.indptr[nodes]
    reach = np.cumsum(degree)
    runs = nb.get_num_threads() * RUNS_PER_THREAD
    cuts = np.searchsorted(reach, np.linspace(0, reach[-1], runs + 1)[1:-1])
    bounds = np.unique(np.concatenate([[0], cuts, [nodes.size]]))
    labels = _label_propagation(
        adjacency.indptr, adjacency.indices, adjacency.data, identity, nodes, sweeps, bounds
    )
    return np.unique(labels[nodes], return_inverse=True)[1].astype(np.int64)


def _coarsen(
    columns: csr_matrix | csc_matrix, nodes: np.ndarray, labels: np.ndarray, community: np.ndarray
) -> csc_matrix:
    """The graph of the communities ``labels`` of the component ``nodes``, as columns:
    edge weights between communities summed, each community's internal weight on its
    self-loop (as Louvain's own aggregation step). Read in place from the graph's columns
    (a canonical CSC matrix, or the CSR of a symmetric graph, whose rows are its columns):
    no copy of the component's edges and no sparse products the size of them. The same
    floats as scipy's ``membership.T @ adjacency @ membership`` (``community``: scratch
    space, one entry per node). The communities are cut into runs of about equal edges,
    summed in parallel, each column as one thread sums it alone."""
    k = int(labels.max()) + 1
    community[nodes] = labels
    order = stable_argsort(labels)
    by_community, starts = nodes[order], np.searchsorted(labels[order], np.arange(k + 1))
    degree = columns.indptr[by_community + 1] - columns.indptr[by_community]
    reach = np.zeros(by_community.size + 1, np.int64)  # edges before each member
    np.cumsum(degree, out=reach[1:])
    runs = nb.get_num_threads() * RUNS_PER_THREAD
    cuts = np.searchsorted(reach[starts], np.linspace(0, reach[-1], runs + 1)[1:-1])
    run_starts = np.unique(np.concatenate([[0], cuts, [k]]))
    indptr, indices, data = _coarse_columns(
        columns, by_community, starts, community, run_starts, reach[starts[run_starts]]
    )
    coarse = csc_matrix((data, indices, indptr), shape=(k, k))
    coarse.sort_indices()
    return coarse


def _coarse_columns(
    columns: csr_matrix | csc_matrix,
    by_community: np.ndarray,
    starts: np.ndarray,
    community: np.ndarray,
    run_starts: np.ndarray,
    run_reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns of the community graph of the graph's ``columns`` (as :func:`_coarsen`
    reads them): entry (c, d) sums, over the members j of d in ascending order, the
    weights in column j from rows in c, in row order: the order in which scipy's
    ``membership.T @ adjacency @ membership`` sums them. Each run of communities
    (``run_starts``) is written from ``run_reach`` (the edges of the members before the
    run: a column has no more entries than its members' edges), the runs spread over the
    threads, and the runs are then moved together. Output arrays start at the component's
    edges, of which only the pages written ever become resident."""
    k = starts.shape[0] - 1
    indptr, indices, weights = columns.indptr, columns.indices, columns.data
    out_indices = np.empty(run_reach[-1], indices.dtype)
    out_data = np.empty(run_reach[-1], np.float64)
    column_entries = np.zeros(k, np.int64)
    in_ranges(
        lambda first, stop: _coarse_runs(
            indptr, indices, weights, by_community, starts, community, run_starts, run_reach,
            first, stop, out_indices, out_data, column_entries,
        ),
        run_starts.shape[0] - 1,
    )  # fmt: skip
    out_indptr = np.zeros(k + 1, np.int64)
    np.cumsum(column_entries, out=out_indptr[1:])
    # Each run moved down, in order: never over one not yet moved (numpy copies a slice
    # that overlaps its destination as a whole).
    for r in range(run_starts.shape[0] - 1):
        begin, end = out_indptr[run_starts[r]], out_indptr[run_starts[r + 1]]
        offset = run_reach[r] - begin
        out_indices[begin:end] = out_indices[begin + offset : end + offset]
        out_data[begin:end] = out_data[begin + offset : end + offset]
    nnz = out_indptr[k]
    return out_indptr, out_indices[:nnz], out_data[:nnz]


@nb.njit(cache=True, nogil=True)
def _coarse_runs(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    by_community: np.ndarray,
    starts: np.ndarray,
    community: np.ndarray,
    run_starts: np.ndarray,
    run_reach: np.ndarray,
    first_run: int,
    stop_run: int,
    out_indices: np.ndarray,
    out_data: np.ndarray,
    column_entries: np.ndarray,
) -> None:
    """The columns of runs ``first_run`` to ``stop_run`` of :func:`_coarse_columns`,
    each run's from its ``run_reach``; ``column_entries``: each column's count."""
    k = starts.shape[0] - 1
    for r in range(first_run, stop_run):
        members = by_community[starts[run_starts[r]] : starts[run_starts[r + 1]]]
        partial, total = _label_sums(indptr, members), np.zeros(k, np.float64)
        in_total = np.empty(k, np.int64)
        nnz = run_reach[r]
        for d in range(run_starts[r], run_starts[r + 1]):
            n_total = 0
            for m in range(starts[d], starts[d + 1]):
                j = by_community[m]
                n_partial = _sum_by_label(indptr, indices, weights, j, community, partial)
                for t in range(n_partial):
                    c, weight = _take_sum(partial, t)
                    if total[c] == 0.0:
                        in_total[n_total] = c
                        n_total += 1
                    total[c] += weight
            for t in range(n_total):
                c = in_total[t]
                out_indices[nnz], out_data[nnz] = c, total[c]
                total[c] = 0.0
                nnz += 1
            column_entries[d] = n_total


def _split_component(
    adjacency: csr_matrix,
    nodes: np.ndarray,
    identity: np.ndarray,
    config: ScanConfig,
    scratch: np.ndarray,
) -> np.ndarray:
    """Communities of the connected component ``nodes`` (ascending) of ``adjacency``.
    Louvain when it has at most ``config.louvain_max_edges`` edges (networkx's Louvain
    is Python); otherwise label propagation in colour rounds (``identity``: each node's
    number for its colour) first coarsens it (linear per sweep) and Louvain runs on the
    graph of those communities (:func:`coarse_communities`). Label propagation alone
    leaves a dense network cut into its squads, each owning too little of the network's
    content; coarsening and Louvain joins them as Louvain on the whole graph would. The
    component is read in place in ``adjacency`` (``scratch``: one entry per node), never
    copied unless Louvain takes it whole; its weights are rounded there to multiples of
    :data:`WEIGHT_QUANTUM` first."""
    edges = int((adjacency.indptr[nodes + 1] - adjacency.indptr[nodes]).sum()) // 2
    if edges <= config.louvain_max_edges:
        return _louvain(_component(adjacency, nodes, scratch), config)
    _quantise(adjacency.indptr, adjacency.data, nodes)
    labels = _propagate(adjacency, nodes, identity, config.propagation_sweeps)
    if labels.max() + 1 == nodes.size:
        return labels  # nothing to coarsen: the propagation communities stand
    return coarse_communities(_coarsen(adjacency, nodes, labels, scratch), labels, config)


def coarse_communities(columns: csc_matrix, member: np.ndarray, config: ScanConfig) -> np.ndarray:
    """Communities of a component's nodes from the graph of its label propagation
    communities (``columns``, as :func:`_coarsen` makes it) and each node's community
    (``member``): Louvain on that graph once it has at most ``config.louvain_max_edges``
    edges, label propagation and coarsening again until then (each coarse node's colour
    numbered by its position). The Spark engine calls it on the coarse graph it built."""
    scratch = np.empty(columns.shape[0], columns.indices.dtype)
    while True:
        rows, nodes = columns.tocsr(), np.arange(columns.shape[0])
        if rows.nnz // 2 <= config.louvain_max_edges:
            return _louvain(rows, config)[member]
        labels = _propagate(rows, nodes, nodes, config.propagation_sweeps)
        if labels.max() + 1 == nodes.size:
            return member  # nothing left to coarsen: these communities stand
        del rows  # not held while the next graph is built
        columns, member = _coarsen(columns, nodes, labels, scratch), labels[member]


def detect_communities(adjacency: Adjacency, config: ScanConfig) -> np.ndarray:
    """Cluster label of every account (``-1`` for none) of the graph whose
    :func:`symmetric_adjacency` is ``adjacency`` (the graph itself need not be held
    meanwhile), numbered 0.. by decreasing size, ties by smallest member index; communities
    of fewer than ``config.min_cluster_accounts`` accounts are left out."""
    labels = np.full(adjacency.n_accounts, -1, dtype=np.int64)
    labels[adjacency.accounts] = linked_communities(adjacency.matrix, adjacency.accounts, config)
    return labels


def linked_communities(
    adjacency: csr_matrix, accounts: np.ndarray, config: ScanConfig
) -> np.ndarray:
    """:func:`detect_communities` over the linked accounts of ``adjacency`` (row ``i``:
    account number ``accounts[i]``, which colours it in label propagation): the Spark
    engine calls it on a bucket of components, numbered in the bucket, with their
    accounts' numbers in the scan."""
    labels = np.full(adjacency.shape[0], -1, dtype=np.int64)
    if adjacency.nnz == 0:
        return labels
    component = _components(adjacency.indptr, adjacency.indices)
    min_size = config.min_cluster_accounts
    candidates = np.flatnonzero(np.bincount(component)[component] >= min_size)
    candidates = candidates[stable_argsort(component[candidates])]
    cuts = np.flatnonzero(np.diff(component[candidates])) + 1
    next_label = 0
    scratch = np.empty(adjacency.shape[0], adjacency.indices.dtype)
    for nodes in np.split(candidates, cuts) if candidates.size else []:
        parts = _split_component(adjacency, nodes, accounts, config, scratch)
        labels[nodes] = parts + next_label
        next_label += int(parts.max()) + 1
    return _renumber(labels, min_size)


@nb.njit(cache=True)
def _components(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Connected component of each node of a symmetric CSR graph, numbered by smallest
    node: a depth-first walk from each unlabelled node, with no transposed copy of the
    graph (which scipy's ``connected_components`` makes)."""
    n = indptr.shape[0] - 1
    component = np.full(n, -1, indices.dtype)  # node numbers' type: half the cache misses
    stack = np.empty(n, indices.dtype)
    label = 0
    for start in range(n):
        if component[start] >= 0:
            continue
        component[start] = label
        stack[0] = start
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            for e in range(indptr[node], indptr[node + 1]):
                neighbour = indices[e]
                if component[neighbour] < 0:
                    component[neighbour] = label
                    stack[top] = neighbour
                    top += 1
        label += 1
    return component


def _component(adjacency: csr_matrix, nodes: np.ndarray, position: np.ndarray) -> csr_matrix:
    """The adjacency of one whole component (``nodes`` ascending): its rows, with column
    numbers mapped to positions in ``nodes`` (every neighbour is inside, so no column
    needs selecting; ``position`` is scratch space, one entry per node of the graph)."""
    rows = adjacency[nodes]
    position[nodes] = np.arange(nodes.size, dtype=position.dtype)
    shape = (nodes.size, nodes.size)
    return csr_matrix((rows.data, position[rows.indices], rows.indptr), shape=shape)


def join_spinners(
    labels: np.ndarray,
    trace_account: np.ndarray,
    trace_key: np.ndarray,
    trace_rewording: np.ndarray,
    *,
    min_size: int,
) -> np.ndarray:
    """Communities joined when their members wrote rewordings of one spun group
    (``trace_rewording`` > 0): one copywriting run made those texts, so its accounts are
    one operation however Louvain cut the group's chain of co-shares (ten thousand
    accounts posting once each over a day link only to their neighbours in time).
    Labels are renumbered as :func:`detect_communities` numbers them."""
    own = trace_rewording > 0
    community, key = labels[trace_account[own]], trace_key[own]
    member = community >= 0
    if not member.any():
        return labels
    n_labels = int(labels.max()) + 1
    _, key_index = np.unique(key[member], return_inverse=True)
    n = n_labels + int(key_index.max()) + 1
    links = coo_matrix(
        (np.ones(key_index.size), (community[member], n_labels + key_index)), shape=(n, n)
    )
    _, joined = connected_components(links, directed=False)
    return _renumber(np.where(labels >= 0, joined[labels], -1), min_size)


def keep_core_members(
    labels: np.ndarray,
    trace_account: np.ndarray,
    trace_key: np.ndarray,
    trace_variant: np.ndarray,
    trace_rewording: np.ndarray,
    *,
    min_contents: int,
    min_size: int,
) -> np.ndarray:
    """Keep in each community only the accounts that co-shared at least ``min_contents``
    distinct contents (objects of any trace; each rewording of a near-duplicate group
    counts), or one own rewording in a spun group (``trace_rewording`` > 0), *owned* by
    that community: more than half of the accounts that co-shared the object within its
    window are members. An ordinary account drawn in because a few bots used its everyday
    phrases as camouflage, a fan who reposted the campaign once, or a user who copied a
    spun post (``trace_rewording`` < 0: no content) does not qualify; communities left
    below ``min_size`` are dissolved. Labels are renumbered by decreasing size, ties by
    smallest member. Pass the in-window traces only."""
    counted = trace_rewording >= 0
    key, account = dense_numbers(trace_key[counted]), trace_account[counted]
    rewording = trace_rewording[counted]
    # Each distinct content (object, variant, rewording mark) numbered in linear time, so
    # that (content, account) rows pack into one word and sort as values however many
    # objects, texts and accounts the scan has.
    content = _row_numbers(key, trace_variant[counted], rewording)
    content_key = np.empty(int(content.max()) + 1 if content.size else 0, np.int64)
    content_key[content] = key  # every row of a content has its object
    content_rewords = np.zeros(content_key.size, bool)
    content_rewords[content] = rewording > 0
    rows, _ = _unique_rows(content, account)
    row_key, row_account = content_key[rows[:, 0]], rows[:, 1]
    row_rewords = content_rewords[rows[:, 0]]
    pairs, _ = _unique_rows(row_key, row_account)
    group, account = pairs[:, 0], pairs[:, 1]
    community = labels[account]
    # Owner of each group: the community holding strictly more than half of its accounts.
    group_size = np.bincount(group)
    member = community >= 0
    owned, counts = _unique_rows(group[member], community[member])
    owner = np.full(group_size.size, -1, np.int64)
    majority = counts * 2 > group_size[owned[:, 0]]
    owner[owned[majority, 0]] = owned[majority, 1]
    row_community = labels[row_account]
    core = (row_community >= 0) & (owner[row_key] == row_community)
    core_contents = np.bincount(row_account[core], minlength=labels.size)
    reworded = np.bincount(row_account[core & row_rewords], minlength=labels.size) > 0
    qualified = (core_contents >= min_contents) | reworded
    return _renumber(np.where((labels >= 0) & qualified, labels, -1), min_size)


def _row_numbers(*columns: np.ndarray) -> np.ndarray:
    """A number for each distinct row of the stacked integer ``columns`` (0, 1, 2... by
    first appearance): equal rows, and only they, share one. Linear in the rows: each is
    packed into one word and hashed (:func:`dense_numbers`); columns too wide to share a
    word are numbered two at a time first, and a column spanning 2**31 or more by
    itself."""
    columns = tuple(np.asarray(c, np.int64) for c in columns)
    if columns[0].size == 0:
        return np.zeros(0, np.int64)
    columns = tuple(c if int(c.max()) - int(c.min()) < 2**31 else dense_numbers(c) for c in columns)
    while (packed := _packed(columns)) is None:
        columns = (dense_numbers(_packed(columns[:2])[0]), *columns[2:])
    return dense_numbers(packed[0])


def _packed(columns: tuple[np.ndarray, ...]) -> tuple[np.ndarray, list[int], list[int]] | None:
    """The rows of ``columns`` (int64, not empty) packed into one word each, lexicographic
    order kept, with each column's lowest value and bit width; None when they need more
    than 63 bits."""
    low = [int(c.min()) for c in columns]
    bits = [(int(c.max()) - lo).bit_length() for c, lo in zip(columns, low, strict=True)]
    if sum(bits) > 63:
        return None
    packed = np.zeros(columns[0].size, np.int64)
    for column, lo, width in zip(columns, low, bits, strict=True):
        packed <<= np.int64(width)
        packed |= column - np.int64(lo)
    return packed, low, bits


def _unique_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the stacked int64 ``columns``, in lexicographic order, with their
    counts: ``np.unique(axis=0)`` without its slow sort of opaque row bytes. Where the
    columns' ranges fit in one 63-bit word together, the rows are packed into it and sorted
    as values (at 50M posts, 22M trace rows: 6 s by a sort of row numbers and gathers of
    each column, 0.8 s packed); else only the distinct rows are gathered after a lexsort."""
    columns = tuple(np.asarray(c, np.int64) for c in columns)
    if columns[0].size == 0:
        return np.zeros((0, len(columns)), np.int64), np.zeros(0, np.int64)
    if (fitted := _packed(columns)) is not None:
        packed, low, bits = fitted
        values, counts = np.unique(packed, return_counts=True)
        rows = np.empty((values.size, len(columns)), np.int64)
        for k in range(len(columns) - 1, -1, -1):
            rows[:, k] = (values & np.int64((1 << bits[k]) - 1)) + np.int64(low[k])
            values >>= np.int64(bits[k])
        return rows, counts
    order = lexsort(columns[::-1])
    starts = run_starts(columns, order)
    rows = np.stack([c[order[starts]] for c in columns], axis=1)
    return rows, np.diff(np.append(starts, order.size))


@nb.njit(cache=True)
def run_starts(columns: tuple[np.ndarray, ...], order: np.ndarray) -> np.ndarray:
    """Positions in ``order`` where the row (one value per column) differs from the one
    before: where each run of equal rows starts."""
    first = np.zeros(order.shape[0], np.bool_)
    for p in range(order.shape[0]):
        if p == 0:
            first[p] = True
            continue
        a, b = order[p], order[p - 1]
        for column in columns:
            if column[a] != column[b]:
                first[p] = True
                break
    return np.flatnonzero(first)


def _renumber(labels: np.ndarray, min_size: int) -> np.ndarray:
    members = np.flatnonzero(labels >= 0)
    out = np.full(labels.size, -1, np.int64)
    if members.size == 0:
        return out
    ids, inverse, sizes = np.unique(labels[members], return_inverse=True, return_counts=True)
    first = np.full(ids.size, labels.size, np.int64)
    np.minimum.at(first, inverse, members)
    order = np.lexsort((first, -sizes))
    rank = np.empty(ids.size, np.int64)
    rank[order] = np.arange(ids.size)
    big = sizes[inverse] >= min_size
    # Ranks over the kept communities only, so labels stay 0..k-1.
    kept_rank = np.cumsum(sizes[order] >= min_size) - 1
    out[members[big]] = kept_rank[rank[inverse[big]]]
    return out
