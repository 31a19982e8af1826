"""Spun groups' building blocks: similarity to a group's first text from the sketches'
low bytes, copies found among low bytes (group by group), and communities joined by one
spun group."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.cluster import join_spinners
from detector.config import ScanConfig
from detector.lsh import CHANCE_AGREEMENT, copy_groups, root_similarity
from detector.rewording import TextGroups, copy_sets, large_group_texts, positions_in


@st.composite
def grouped_low_bytes(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 4, (n, 32), dtype=np.uint8)  # few values: many agreements
    roots: list[int] = []  # each text's group's first text, as group_sketches gives them
    for i in range(n):
        firsts = [j for j in range(i) if roots[j] == j]
        roots.append(draw(st.sampled_from([*firsts, i])))
    return low, np.array(roots, np.int64)


@settings(max_examples=60, deadline=None)
@given(grouped_low_bytes())
def test_root_similarity_is_the_corrected_share_of_agreeing_bytes(case):
    low, roots = case
    got = root_similarity(low, roots)
    agree = (low == low[roots]).mean(axis=1)
    expected = np.clip((agree - CHANCE_AGREEMENT) / (1 - CHANCE_AGREEMENT), 0.0, 1.0)
    first = roots == np.arange(roots.size)
    assert np.isnan(got[first]).all()
    np.testing.assert_allclose(got[~first], expected[~first])


@given(st.sets(st.integers(0, 10**6), max_size=200) | st.sets(st.integers(0, 300)), st.data())
def test_positions_in_finds_each_value_where_a_binary_search_does(values, data):
    ascending = np.array(sorted(values), np.int64)
    queries = np.array(data.draw(st.lists(st.sampled_from(sorted(values)))) if values else [])
    found = positions_in(ascending)(queries.astype(np.int64))
    np.testing.assert_array_equal(found, np.searchsorted(ascending, queries))


def test_copies_are_grouped_and_rewordings_are_not():
    rng = np.random.default_rng(3)
    source = rng.integers(0, 256, 128, dtype=np.uint8)
    copy = source.copy()
    copy[rng.choice(128, 6, replace=False)] ^= 1  # about 0.95 similar: a comment added
    reworded = source.copy()
    reworded[rng.choice(128, 50, replace=False)] ^= 1  # about 0.6 similar
    other = rng.integers(0, 256, 128, dtype=np.uint8)
    groups = copy_groups(np.stack([source, copy, reworded, other]), 0.75, 0.85)
    assert groups[0] == groups[1]
    assert len({groups[0], groups[2], groups[3]}) == 3


def test_copy_sets_are_found_within_each_spun_group():
    # Texts 10 and 11 (group 10) and text 20 (group 20) are copies of one text; text 12 is
    # a rewording. A copy set never spans two groups, so an engine holding each group's
    # texts apart finds the same sets.
    rng = np.random.default_rng(5)
    source = rng.integers(0, 256, 128, dtype=np.uint8)
    copies = np.stack([source, source, source])
    for copy in copies[1:]:
        copy[rng.choice(128, 4, replace=False)] ^= 1
    reworded = source.copy()
    reworded[rng.choice(128, 60, replace=False)] ^= 1
    groups = TextGroups(
        large=np.array([10, 11, 12, 20]),
        label=np.array([10, 10, 10, 20]),
        low=np.stack([copies[0], copies[1], reworded, copies[2]]),
    )
    texts = pl.DataFrame({"shared_group": [20, 10, 10, 10], "text_id": [20, 12, 11, 10]})
    found = copy_sets(texts, groups, ScanConfig())
    assert found.rows() == [(10, 10, 10), (10, 11, 10), (10, 12, 12), (20, 20, 20)]


def test_large_groups_are_near_duplicate_groups_of_enough_texts():
    # texts 0-3 in group 0, texts 4-5 in group 4, text 6 alone, text 7 in a short-text group
    label = np.array([0, 0, 0, 0, 4, 4, -1, 9])
    assert large_group_texts(label, 3).tolist() == [0, 1, 2, 3]
    assert large_group_texts(label, 2).tolist() == [0, 1, 2, 3, 4, 5]


def test_released_groups_hold_no_memory():
    """release() leaves empty arrays that own their data: an empty view of an array keeps
    the whole of it (at 50M posts the large groups' sketches are about a gigabyte)."""
    label = np.array([0, 0, 0, 0, 4, 4, -1, 9])
    low = np.arange(8 * 16, dtype=np.uint8).reshape(8, 16)
    groups = TextGroups.of(label, lambda texts: low[texts], 2)
    groups.release()
    for array in (groups.large, groups.label, groups.low):
        assert array.size == 0 and array.base is None


def test_communities_that_wrote_one_spun_group_are_joined():
    # Louvain cut one blast (key 7) into communities 0 and 1; community 2 is another matter.
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, -1])
    account = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3])
    key = np.array([7, 7, 7, 7, 7, 7, 8, 8, 8, 7, 9])
    rewording = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
    joined = join_spinners(labels, account, key, rewording, min_size=3)
    assert len(set(joined[:6])) == 1
    assert joined[6] == joined[7] == joined[8] != joined[0]
    assert joined[9] == -1
