"""The signature kernel alone: ``detector.minhash.signatures`` (shingling + 128-permutation
MinHash) on normalised posts of 50-300 characters, in posts/s per core with 1 and 2 numba
threads, against datasketch ``MinHash`` per post (``update_batch``) and
``MinHash.generator`` (datasketch's bulk path), both with the baseline's Python shingles.

``python -m benchmarks.kernel --posts dump.parquet --out kernel.json``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import polars as pl
from datasketch import MinHash

from benchmarks.baseline import NUM_PERM, shingles
from detector.minhash import signatures
from detector.normalise import normalise

MIN_CHARS, MAX_CHARS = 50, 300


def sample_texts(path: Path, n: int) -> pl.Series:
    """``n`` normalised texts of 50-300 characters from a dump (cycled if it has fewer)."""
    return sample_of(pl.read_parquet(path, columns=["text"])["text"], n, str(path))


def sample_of(raw: pl.Series, n: int, source: str) -> pl.Series:
    """``n`` of the ``raw`` texts, normalised, of 50-300 characters (cycled if fewer)."""
    texts = normalise(raw)
    texts = texts.filter(texts.str.len_chars().is_between(MIN_CHARS, MAX_CHARS))
    if texts.is_empty():
        raise ValueError(f"no post of {MIN_CHARS}-{MAX_CHARS} characters in {source}")
    return pl.concat([texts] * (n // texts.len() + 1)).head(n)


def median_rate(work: Callable[[], object], n: int, repeats: int) -> float:
    """Median posts per second of ``work`` over ``repeats`` timed runs."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return n / statistics.median(seconds)


def _update_batch(texts: list[str]) -> None:
    for text in texts:
        MinHash(num_perm=NUM_PERM).update_batch(shingles(text))


def _generator(texts: list[str]) -> None:
    for _ in MinHash.generator((shingles(t) for t in texts), num_perm=NUM_PERM):
        pass


def measure(texts: pl.Series, reference_n: int, repeats: int) -> list[dict[str, Any]]:
    """Rows of (system, threads, posts/s, posts/s per core)."""
    rows = []
    signatures(texts.head(100))  # compile / load the numba cache outside the timing
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        rate = median_rate(lambda: signatures(texts), texts.len(), repeats)
        rows.append(
            {"system": "ours: detector.minhash.signatures", "threads": threads, "posts_s": rate}
        )
    sample = texts.head(reference_n).to_list()
    for name, work in (
        ("datasketch MinHash.update_batch per post", _update_batch),
        ("datasketch MinHash.generator (bulk)", _generator),
    ):
        rate = median_rate(lambda work=work: work(sample), len(sample), repeats)
        rows.append({"system": name, "threads": 1, "posts_s": rate})
    for row in rows:
        row["posts_s"] = round(row["posts_s"])
        row["posts_s_per_core"] = round(row["posts_s"] / row["threads"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=Path, required=True, help="Parquet dump to sample")
    parser.add_argument("--n", type=int, default=200_000, help="posts for our kernel")
    parser.add_argument("--reference-n", type=int, default=10_000, help="posts for datasketch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = sample_texts(args.posts, args.n)
    rows = measure(texts, min(args.reference_n, args.n), args.repeats)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
