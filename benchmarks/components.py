"""How much of a dump's account graph community detection must take at once.

``python -m benchmarks.components --dump ../shared/data/weibo_checked_covid.parquet``

Scans the dump with the whole graph written (``write_graph``) and prints the connected
components of its account pairs of positive weight (the pairs chance does not explain,
those community detection reads): how many, and the largest's accounts and pairs. A
component is the most an engine can split the communities' work by without a community
detection of its own that crosses tasks (``docs/spark.md``).
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from detector.pipeline import scan


def graph_components(edges: pl.DataFrame) -> dict[str, int]:
    """Components of the pairs of ``edges`` (the edges table) with a positive weight as
    written (four decimals)."""
    pairs = edges.filter(pl.col("weight") > 0).select("source", "target").unique()
    if pairs.is_empty():
        return dict.fromkeys(
            ("accounts", "pairs", "components", "largest_accounts", "largest_pairs"), 0
        )
    ids = pl.concat([pairs["source"], pairs["target"]]).unique(maintain_order=True)
    number = pl.DataFrame({"id": ids, "n": np.arange(ids.len())})

    def numbered(column: str) -> np.ndarray:
        frame = pairs.select(pl.col(column).alias("id")).join(number, on="id", how="left")
        return frame["n"].to_numpy()

    n = ids.len()
    source, target = numbered("source"), numbered("target")
    matrix = coo_matrix((np.ones(source.size), (source, target)), shape=(n, n))
    count, label = connected_components(matrix, directed=False)
    sizes = np.bincount(label)
    largest = int(np.argmax(sizes))
    return {
        "accounts": n,
        "pairs": int(source.size),
        "components": int(count),
        "largest_accounts": int(sizes[largest]),
        "largest_pairs": int((label[source] == largest).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dump", required=True, help="a post dump the scan reads")
    args = parser.parse_args()
    result = scan(args.dump, write_graph=True)
    found = graph_components(result.edges)
    print(
        f"{args.dump}: {found['accounts']:,} linked accounts, {found['pairs']:,} pairs of "
        f"positive weight, {found['components']:,} components; the largest "
        f"{found['largest_accounts']:,} accounts and {found['largest_pairs']:,} pairs"
    )


if __name__ == "__main__":
    main()
