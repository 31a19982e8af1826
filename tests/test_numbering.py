"""KeyNumbers numbers keys as a dict filled in order of first appearance would, batch after
batch, through its table's growth; first_appearances marks each key's first position."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.numbering import (
    KeyNumbers,
    dense_numbers,
    first_appearances,
    sorted_firsts,
    sorted_numbers,
)

KEYS = st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**63, 2**64 - 1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(KEYS, max_size=300), max_size=6))
def test_numbers_match_a_dict_of_first_appearances(batches):
    numbers, reference = KeyNumbers(), {}
    for batch in batches:
        got, first = numbers.number(np.array(batch, np.uint64))
        expected, expected_first = [], []
        for key in batch:
            expected_first.append(key not in reference)
            expected.append(reference.setdefault(key, len(reference)))
        assert got.tolist() == expected
        assert first.tolist() == expected_first
        assert numbers.count == len(reference)


def test_many_colliding_low_bits_and_growth():
    keys = (np.arange(50_000, dtype=np.uint64) << np.uint64(40)) | np.uint64(7)
    numbers = KeyNumbers()
    first_half, _ = numbers.number(keys[:25_000])
    both, first = numbers.number(keys)
    assert first_half.tolist() == list(range(25_000))
    assert both.tolist() == list(range(50_000))
    assert first.sum() == 25_000 and first[25_000:].all()


@settings(max_examples=100, deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=300), st.randoms(use_true_random=False))
def test_known_keys_get_their_numbers_in_any_order(keys, random):
    numbers = KeyNumbers()
    expected, _ = numbers.number(np.array(keys, np.uint64))
    size, count = numbers._keys.shape[0], numbers.count
    shuffled = list(range(len(keys)))
    random.shuffle(shuffled)
    got = numbers.known(np.array(keys, np.uint64)[shuffled])
    assert got.tolist() == expected[shuffled].tolist()
    assert (numbers._keys.shape[0], numbers.count) == (size, count)  # nothing grown or added
    fresh = next(k for k in range(len(keys) + 1) if k not in set(keys))
    with pytest.raises(ValueError):
        numbers.known(np.array([fresh], np.uint64))


def test_release_keeps_the_count_and_refuses_more_numbering():
    numbers = KeyNumbers()
    numbers.number(np.array([5, 6, 5], np.uint64))
    numbers.release()
    assert numbers.count == 2
    with pytest.raises(RuntimeError):
        numbers.number(np.array([7], np.uint64))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=3000))
def test_first_appearances_mark_each_value_once_where_it_first_occurs(keys):
    """Many keys (several partitions) with repeats, negative ones included."""
    seen: set[int] = set()
    expected = [not (key in seen or seen.add(key)) for key in keys]
    assert first_appearances(np.array(keys, np.int64)).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 5), max_size=200))
def test_dense_numbers_are_first_appearance_numbers(keys):
    numbers: dict[int, int] = {}
    expected = [numbers.setdefault(k, len(numbers)) for k in keys]
    got = dense_numbers(np.array(keys, np.int64))
    assert got.dtype == np.int64
    assert got.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=300))
def test_sorted_numbers_and_firsts_are_np_unique(keys):
    """The distinct keys sorted, each key's place among them and where each first
    appears, as np.unique gives them (negative keys, 64-bit extremes, repeats)."""
    array = np.array(keys, np.int64)
    distinct, inverse = sorted_numbers(array)
    want, want_inverse = np.unique(array, return_inverse=True)
    assert distinct.tolist() == want.tolist() and inverse.tolist() == want_inverse.tolist()
    distinct, first = sorted_firsts(array)
    want, want_first = np.unique(array, return_index=True)
    assert distinct.tolist() == want.tolist() and first.tolist() == want_first.tolist()
