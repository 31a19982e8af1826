"""The packed sorts give numpy's stable orders exactly: ties by position, any range of keys
(narrow ones packed with the positions, wide ones ranked first)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.sorting import lexsort, stable_argsort

INT64 = st.integers(-(2**63), 2**63 - 1)
NARROW = st.integers(-3, 3)  # many ties


def keys(values: st.SearchStrategy[int]) -> st.SearchStrategy[np.ndarray]:
    return st.lists(values, max_size=200).map(lambda v: np.array(v, np.int64))


@settings(max_examples=300, deadline=None)
@given(keys(NARROW) | keys(INT64) | keys(st.integers(0, 2**40)))
def test_stable_argsort_is_numpys(values):
    assert stable_argsort(values).tolist() == np.argsort(values, kind="stable").tolist()


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3).flatmap(lambda k: st.lists(st.tuples(*[NARROW | INT64] * k), min_size=1)))
def test_lexsort_is_numpys(rows):
    columns = [np.array(c, np.int64) for c in zip(*rows, strict=True)]
    assert lexsort(columns).tolist() == np.lexsort(columns).tolist()


def test_unsigned_and_narrow_types():
    values = np.array([5, 3, 5, 0, 3], np.uint32)
    assert stable_argsort(values).tolist() == [3, 1, 4, 0, 2]
    high = np.array([2**64 - 1, 2**63, 2**64 - 1, 2**63 + 5], np.uint64)
    assert stable_argsort(high).tolist() == [1, 3, 0, 2]
    top = np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], np.uint64)
    assert stable_argsort(top).tolist() == [1, 0, 2]
    edges = np.array([127, -128, 0, -128], np.int8)
    assert stable_argsort(edges).tolist() == [1, 3, 2, 0]
    assert lexsort([values, np.zeros(5, np.int8)]).tolist() == [3, 1, 4, 0, 2]


def test_lexsort_needs_a_column():
    with pytest.raises(TypeError):
        lexsort([])
