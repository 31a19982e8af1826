"""The numba MinHash kernels are bit-compatible with datasketch."""

import numpy as np
import polars as pl
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.minhash import SCHEMES, minhash_values, permutations, signatures
from detector.shingle import shingle_hashes

hash_sets = st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=300)


def reference(hashes: list[int], num_perm: int, seed: int, scheme: str) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda h: h, scheme=scheme)
    m.update_batch(hashes)
    return m.hashvalues.astype(np.uint64)


@settings(max_examples=50, deadline=None)
@given(
    num_perm=st.integers(min_value=1, max_value=512),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    scheme=st.sampled_from(SCHEMES),
)
def test_permutations_are_datasketchs(num_perm, seed, scheme):
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    ours = permutations(num_perm, seed, scheme)
    assert np.array_equal(ours[0], a) and np.array_equal(ours[1], b)


@settings(max_examples=200, deadline=None)
@given(
    hashes=hash_sets,
    num_perm=st.integers(min_value=2, max_value=256),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_affine32_equals_datasketch(hashes, num_perm, seed):
    ours = minhash_values(np.array(hashes, dtype=np.uint32), num_perm=num_perm, seed=seed)
    assert np.array_equal(ours.astype(np.uint64), reference(hashes, num_perm, seed, "affine32"))


@settings(max_examples=100, deadline=None)
@given(
    hashes=hash_sets,
    num_perm=st.integers(min_value=2, max_value=256),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_legacy_scheme_equals_datasketch(hashes, num_perm, seed):
    ours = minhash_values(
        np.array(hashes, dtype=np.uint32), num_perm=num_perm, seed=seed, scheme="legacy"
    )
    assert np.array_equal(ours.astype(np.uint64), reference(hashes, num_perm, seed, "legacy"))


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(st.text(max_size=200), min_size=1, max_size=20))
def test_fused_text_kernel_equals_datasketch_on_the_same_shingles(texts):
    series = pl.Series(texts, dtype=pl.String)
    sigs, n_shingles = signatures(series, num_perm=64, seed=7)
    for row, shingles in enumerate(shingle_hashes(series)):
        assert n_shingles[row] == len(shingles)
        expected = reference(shingles.tolist(), 64, 7, "affine32")
        assert np.array_equal(sigs[row].astype(np.uint64), expected)


def test_signatures_are_deterministic_and_parallel_safe():
    texts = pl.Series([f"小米汽车 质量 问题 {i} 第{i % 7}次" for i in range(5000)])
    a, _ = signatures(texts)
    b, _ = signatures(texts)
    assert np.array_equal(a, b)
    c, _ = signatures(texts[::-1])
    assert np.array_equal(a, c[::-1])


def test_signatures_written_over_a_reused_buffer_are_the_same():
    texts = pl.Series([f"小米汽车 质量 问题 {i} 第{i % 7}次" for i in range(3000)])
    fresh, counts = signatures(texts)
    buffer = np.full((4000, 128), 7, np.uint32)
    for first, stop in ((0, 1000), (1000, 3000)):
        sigs, block_counts = signatures(texts.slice(first, stop - first), out=buffer)
        assert np.shares_memory(sigs, buffer)
        assert np.array_equal(sigs, fresh[first:stop])
        assert np.array_equal(block_counts, counts[first:stop])


@pytest.mark.parametrize(
    "out",
    [np.empty((10, 128), np.uint32), np.empty((100, 64), np.uint32),
     np.empty((100, 128), np.uint64), np.empty((128, 100), np.uint32).T],
)  # fmt: skip
def test_signatures_refuse_a_buffer_that_does_not_fit(out):
    with pytest.raises(ValueError, match="out must be"):
        signatures(pl.Series(["a b c"] * 50), out=out)
