"""Like for like: our normalise + MinHash + LSH against datasketch's MinHash + MinHashLSH,
on the same texts, each in its own process.

``python -m benchmarks.stage --posts scratch/worlds/1m-seed7-plain/posts.parquet --n 100k``

The distinct raw texts of the dump's first ``--n`` posts are the input of both:

* **ours**: ``detector.normalise.normalise``, ``detector.minhash.signatures`` (numba,
  128 permutations) and ``detector.lsh.near_duplicate_groups`` (bands for threshold 0.5,
  each candidate verified by signature agreement, union-find), texts under 5 shingles
  left out;
* **datasketch**: the texts normalised by ours beforehand (not timed), then the baseline's
  Python shingles, one ``MinHash(num_perm=128)`` per text (``MinHash.generator``),
  ``MinHashLSH(threshold=0.5)`` insert + query and union-find over the candidates
  (``benchmarks.baseline.near_duplicate_groups``), texts under 5 distinct shingles left out.

Each runs once **cold** (the first call in a fresh process: ours with an empty numba cache,
so compiling is included) and ``--repeats`` times **warm**; figures are the cold time, the
warm median, the process's peak RSS and what each finds: groups of two or more texts, the
texts in them, and the pairs of texts grouped together (by each, and by both), and for a
sample of each one's pairs (and of the pairs only it groups) the share whose exact Jaccard
similarity of shingle sets reaches the threshold. Figures go
to ``stage.json`` beside this file; ``python -m benchmarks.report`` renders them into
RESULTS.md, and ``python -m benchmarks.run`` runs this on its smallest world.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.measure import run_module
from benchmarks.worlds import parse_size, size_label

HERE = Path(__file__).resolve().parent
SYSTEMS = ("ours", "datasketch")
THRESHOLD = 0.5
NUM_PERM = 128
SAMPLE_PAIRS = 2000  # grouped pairs whose exact Jaccard similarity is checked, per system
SAMPLE_SEED = 11
DRAWS = 20  # pairs drawn per pair kept, for the pairs only one system groups


Run = Callable[[Any], tuple[np.ndarray, dict[str, float]]]


def _ours() -> tuple[Callable[[pl.Series], Any], Run]:
    """(its input from the raw texts, untimed; the timed run)."""
    from detector.config import ScanConfig
    from detector.lsh import near_duplicate_groups
    from detector.minhash import signatures
    from detector.normalise import normalise

    min_shingles = ScanConfig().min_shingles

    def run(texts: pl.Series) -> tuple[np.ndarray, dict[str, float]]:
        clock = time.perf_counter()
        normalised = normalise(texts)
        normalise_s = time.perf_counter() - clock
        sigs, n_shingles = signatures(normalised, num_perm=NUM_PERM)
        minhash_s = time.perf_counter() - clock - normalise_s
        groups = near_duplicate_groups(sigs, n_shingles >= min_shingles, THRESHOLD)
        lsh_s = time.perf_counter() - clock - normalise_s - minhash_s
        return groups, {"normalise": normalise_s, "minhash": minhash_s, "lsh": lsh_s}

    return (lambda texts: texts), run


def _datasketch() -> tuple[Callable[[pl.Series], Any], Run]:
    """(our normalisation of the raw texts, untimed; the timed run)."""
    from benchmarks import baseline
    from detector.normalise import normalise

    def run(texts: list[str]) -> tuple[np.ndarray, dict[str, float]]:
        clock = time.perf_counter()
        groups = np.asarray(baseline.near_duplicate_groups(texts), np.int64)
        return groups, {"shingle + minhash + lsh": time.perf_counter() - clock}

    return (lambda texts: normalise(texts).to_list()), run


def work(system: str, texts_path: Path, out: Path, repeats: int) -> None:
    """In a fresh process: run ``system`` once cold and ``repeats`` times warm; write its
    figures (``stage.json``) and its group of each text (``groups.parquet``) into ``out``."""
    prepare, run = _ours() if system == "ours" else _datasketch()
    texts = prepare(pl.read_parquet(texts_path)["text"])
    clock = time.perf_counter()
    groups, _ = run(texts)
    cold = time.perf_counter() - clock
    warm, stages = [], []
    for _ in range(repeats):
        clock = time.perf_counter()
        again, seconds = run(texts)
        warm.append(time.perf_counter() - clock)
        stages.append(seconds)
        if not np.array_equal(again, groups):
            raise AssertionError(f"{system}: a warm run grouped the texts differently")
    figures = {
        "cold_s": round(cold, 3),
        "warm_s": round(statistics.median(warm), 3),
        "warm_runs": [round(s, 3) for s in warm],
        "stages": {
            name: round(statistics.median(s[name] for s in stages), 3) for name in stages[0]
        },
    }
    pl.DataFrame({"group": groups}).write_parquet(out / "groups.parquet")
    (out / "stage.json").write_text(json.dumps(figures, indent=2) + "\n")


def _found(groups: np.ndarray) -> dict[str, int]:
    """Groups of two or more texts, the texts in them and the pairs they make."""
    sizes = np.bincount(groups[groups >= 0])
    sizes = sizes[sizes >= 2]
    return {
        "matched_texts": int((groups >= 0).sum()),
        "groups": int(sizes.size),
        "grouped_texts": int(sizes.sum()),
        "pairs": int((sizes * (sizes - 1) // 2).sum()),
    }


def _pairs_in_both(ours: np.ndarray, theirs: np.ndarray) -> int:
    """Pairs of texts that both groupings put together (from the contingency table)."""
    both = (ours >= 0) & (theirs >= 0)
    cells = (
        pl.DataFrame({"a": ours[both], "b": theirs[both]}).group_by("a", "b").len()["len"]
    ).to_numpy()
    return int((cells * (cells - 1) // 2).sum())


def _sample_pairs(
    groups: np.ndarray, rng: np.random.Generator, size: int, unless: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Up to ``size`` of ``DRAWS * size`` pairs drawn uniformly from the pairs of texts
    ``groups`` puts together, leaving out those that ``unless`` puts together too."""
    grouped = np.flatnonzero(groups >= 0)
    order = grouped[np.argsort(groups[grouped], kind="stable")]
    _, starts, counts = np.unique(groups[order], return_index=True, return_counts=True)
    cumulative = np.cumsum(counts * (counts - 1) / 2.0)
    if not cumulative.size or not cumulative[-1]:
        return []
    draws = DRAWS * size
    g = np.searchsorted(cumulative, rng.random(draws) * cumulative[-1], side="right")
    a = rng.integers(0, counts[g])
    b = rng.integers(0, counts[g] - 1)
    b += b >= a  # a second member, never the first
    i, j = order[starts[g] + a], order[starts[g] + b]
    if unless is not None:
        keep = (unless[i] < 0) | (unless[i] != unless[j])
        i, j = i[keep], j[keep]
    return list(zip(i[:size].tolist(), j[:size].tolist(), strict=True))


def _similar_share(pairs: list[tuple[int, int]], bags: list[set[bytes]]) -> float | None:
    """Share of ``pairs`` whose exact Jaccard similarity of shingle sets is >= THRESHOLD."""
    if not pairs:
        return None
    similar = [len(bags[i] & bags[j]) >= THRESHOLD * len(bags[i] | bags[j]) for i, j in pairs]
    return round(float(np.mean(similar)), 3)


def measure(posts: Path, n: int, repeats: int, scratch: Path) -> dict[str, Any]:
    """Both systems on the distinct texts of the first ``n`` posts of ``posts``."""
    scratch.mkdir(parents=True, exist_ok=True)
    texts = (
        pl.read_parquet(posts, columns=["text"]).head(n).drop_nulls().unique(maintain_order=True)
    )
    texts_path = scratch / "stage-texts.parquet"
    texts.write_parquet(texts_path)
    systems: dict[str, Any] = {}
    groups = {}
    for system in SYSTEMS:
        out = scratch / f"stage-{system}"
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            os.environ["NUMBA_CACHE_DIR"] = cache  # ours compiles from nothing
            try:
                argv = ["worker", system, "--texts", str(texts_path), "--out", str(out)]
                child = run_module(
                    "benchmarks.stage", [*argv, "--repeats", str(repeats)], None, out / "log.txt"
                )
            finally:
                del os.environ["NUMBA_CACHE_DIR"]
        if child.returncode != 0:
            raise RuntimeError((out / "log.txt").read_text()[-2000:])
        groups[system] = pl.read_parquet(out / "groups.parquet")["group"].to_numpy()
        figures = json.loads((out / "stage.json").read_text())
        systems[system] = figures | {"peak_rss_mb": child.peak_rss_mb} | _found(groups[system])
    ours, theirs = systems["ours"], systems["datasketch"]
    # Are the pairs each groups together near-duplicates? A sample, by exact Jaccard.
    from benchmarks.baseline import shingles
    from detector.normalise import normalise

    bags = [set(shingles(text)) for text in normalise(texts["text"]).to_list()]
    rng = np.random.default_rng(SAMPLE_SEED)
    for system, other in (("ours", "datasketch"), ("datasketch", "ours")):
        mine = groups[system]
        sample = _sample_pairs(mine, rng, SAMPLE_PAIRS)
        own = _sample_pairs(mine, rng, SAMPLE_PAIRS, unless=groups[other])
        systems[system] |= {
            "sampled_pairs": len(sample),
            "sampled_pairs_similar": _similar_share(sample, bags),
            "sampled_own_pairs": len(own),
            "sampled_own_pairs_similar": _similar_share(own, bags),
        }
    return {
        "posts": n,
        "texts": texts.height,
        "repeats": repeats,
        "systems": systems,
        "pairs_in_both": _pairs_in_both(groups["ours"], groups["datasketch"]),
        "warm_ratio": round(theirs["warm_s"] / ours["warm_s"], 1),
        "cold_ratio": round(theirs["cold_s"] / ours["cold_s"], 1),
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "worker":
        parser = argparse.ArgumentParser(description="one system, in its own process")
        parser.add_argument("system", choices=SYSTEMS)
        parser.add_argument("--texts", type=Path, required=True)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--repeats", type=int, default=3)
        worker = parser.parse_args(args[1:])
        work(worker.system, worker.texts, worker.out, worker.repeats)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=Path, required=True, help="Parquet dump")
    parser.add_argument("--n", default="100k", help="posts whose distinct texts are used")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs (median)")
    parser.add_argument("--scratch", type=Path, default=Path("scratch"))
    parser.add_argument("--out", type=Path, default=HERE / "stage.json")
    parsed = parser.parse_args(args)
    figures = measure(parsed.posts, parse_size(parsed.n), parsed.repeats, parsed.scratch)
    figures["command"] = "python -m benchmarks.stage " + shlex.join(args)
    figures["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parsed.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {parsed.out} ({size_label(figures['posts'])} posts, {figures['texts']:,} texts)")


if __name__ == "__main__":
    main()
