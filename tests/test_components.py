"""The account graph's components as benchmarks.components counts them from the edges."""

import polars as pl

from benchmarks.components import graph_components


def test_components_join_pairs_of_positive_weight_only_and_count_each_pair_once():
    edges = pl.DataFrame(
        {
            "source": ["a", "a", "b", "d", "f"],
            "target": ["b", "b", "c", "e", "g"],
            "trace": ["text", "repost", "text", "url", "text"],
            "weight": [1.0, 0.5, 2.0, 0.7, 0.0],  # f-g: explained by chance
        }
    )
    assert graph_components(edges) == {
        "accounts": 5,
        "pairs": 3,
        "components": 2,
        "largest_accounts": 3,
        "largest_pairs": 2,
    }


def test_no_pair_of_positive_weight_is_no_component():
    edges = pl.DataFrame({"source": ["a"], "target": ["b"], "weight": [0.0]})
    assert graph_components(edges)["components"] == 0
