"""LSH banding: parameters as datasketch picks them, recall at the threshold, precision below."""

from itertools import pairwise

import numba
import numpy as np
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.lsh import (
    group_sketches,
    min_agreeing,
    near_duplicate_groups,
    optimal_bands,
    sketch,
)
from detector.minhash import minhash_values


@settings(max_examples=20, deadline=None)
@given(threshold=st.floats(min_value=0.1, max_value=0.9), num_perm=st.sampled_from([32, 64, 128]))
def test_band_parameters_match_datasketch(threshold, num_perm):
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def pairs_with_jaccard(jaccard: float, n_pairs: int, size: int, rng) -> np.ndarray:
    """Signatures of ``n_pairs`` set pairs whose exact Jaccard similarity is ``jaccard``."""
    shared = round(2 * size * jaccard / (1 + jaccard))
    sigs = []
    for _ in range(n_pairs):
        values = rng.choice(2**32 - 1, size=2 * size - shared, replace=False).astype(np.uint32)
        a, b = values[:size], np.concatenate([values[:shared], values[size:]])
        sigs += [minhash_values(a), minhash_values(b)]
    return np.stack(sigs)


def grouped_share(sigs: np.ndarray, threshold: float) -> float:
    labels = near_duplicate_groups(sigs, np.ones(len(sigs), bool), threshold)
    return float(np.mean(labels[0::2] == labels[1::2]))


def test_recall_above_threshold():
    rng = np.random.default_rng(1)
    assert grouped_share(pairs_with_jaccard(0.8, 300, 100, rng), 0.5) >= 0.99
    assert grouped_share(pairs_with_jaccard(0.65, 300, 100, rng), 0.5) >= 0.9


def test_dissimilar_pairs_are_not_grouped():
    rng = np.random.default_rng(2)
    assert grouped_share(pairs_with_jaccard(0.2, 300, 100, rng), 0.5) == 0.0
    assert grouped_share(pairs_with_jaccard(0.35, 300, 100, rng), 0.5) <= 0.05


def test_groups_are_transitive_and_labelled_by_smallest_member():
    rng = np.random.default_rng(3)
    base = rng.choice(2**32 - 1, size=200, replace=False).astype(np.uint32)
    chain = [base[i * 10 : i * 10 + 100] for i in range(5)]  # neighbours share 90%
    unrelated = rng.choice(2**32 - 1, size=100, replace=False).astype(np.uint32) ^ 1
    sigs = np.stack([minhash_values(s) for s in [*chain, unrelated]])
    labels = near_duplicate_groups(sigs, np.ones(6, bool), 0.5)
    assert labels[:5].tolist() == [0, 0, 0, 0, 0]
    assert labels[5] == 5


def test_inactive_texts_never_join():
    sigs = np.stack([minhash_values(np.arange(50, dtype=np.uint32))] * 3)
    labels = near_duplicate_groups(sigs, np.array([True, False, True]), 0.5)
    assert labels.tolist() == [0, -1, 0]


def test_groups_do_not_depend_on_parts_or_threads():
    """A scan sketches batch by batch and buckets bands on every thread: neither the cut into
    parts nor the thread count may change a group."""
    rng = np.random.default_rng(4)
    sigs = np.concatenate([pairs_with_jaccard(j, 40, 60, rng) for j in (0.3, 0.5, 0.7, 0.9)])[
        rng.permutation(320)
    ]
    whole = sketch(sigs, 0.5)
    whole_groups = group_sketches([whole.keys], whole.low_bytes, 0.5)
    cuts = [0, 1, 97, 98, 250, 320]
    parts = [sketch(sigs[lo:hi], 0.5).keys for lo, hi in pairwise(cuts)]
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = group_sketches(parts, whole.low_bytes, 0.5)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(group_sketches(parts, whole.low_bytes, 0.5), whole_groups)
    assert np.array_equal(single, whole_groups)
    assert len(np.unique(whole_groups)) < len(whole_groups)


def union_with_bucket_heads(keys: np.ndarray, low: np.ndarray, threshold: float) -> list[int]:
    """The grouping :func:`group_sketches` defines, one pair at a time: band by band, each
    text is unioned with its band bucket's first text where their low bytes verify."""
    parent = list(range(low.shape[0]))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    need = min_agreeing(threshold, low.shape[1])
    for band in keys:
        first: dict[int, int] = {}
        for i, key in enumerate(band.tolist()):
            head = first.setdefault(key, i)
            a, b = find(head), find(i)
            if a != b and int((low[head] == low[i]).sum()) >= need:
                parent[max(a, b)] = min(a, b)
    return [find(i) for i in range(low.shape[0])]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 300),
    bands=st.integers(1, 7),
    distinct_keys=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 300), max_size=4),
)
def test_groups_are_the_band_by_band_unions_with_verified_bucket_heads(
    n, bands, distinct_keys, seed, cuts
):
    """Bucketing (partitioned by the keys' top bits), verification (in parallel, ahead of
    the unions) and union-find give the groups of the plain definition, on keys that
    collide often and low bytes that agree near the threshold."""
    rng = np.random.default_rng(seed)
    alphabet = rng.integers(0, 2**32, distinct_keys, dtype=np.uint64).astype(np.uint32)
    keys = alphabet[rng.integers(0, distinct_keys, (bands, n))]
    low = rng.integers(0, 2, (n, 16), dtype=np.uint8)  # two texts agree on 8 of 16 bytes
    bounds = [0, *sorted(c for c in cuts if c < n), n]
    parts = [np.ascontiguousarray(keys[:, lo:hi]) for lo, hi in pairwise(bounds)]
    got = group_sketches(parts, low, 0.5)
    assert got.tolist() == union_with_bucket_heads(keys, low, 0.5)
