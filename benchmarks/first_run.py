"""The first run after an install: the README's demo scan with no compiled kernels, then
again with them.

``python -m benchmarks.first_run --rounds 3``

Each round runs ``detector scan fixtures/demo.csv.gz`` in a process of its own twice:
**cold**, with numba's cache in a new empty folder (``NUMBA_CACHE_DIR``), so that every
kernel is compiled as on a fresh install (the scan says "compiling kernels, first run
only" on a terminal and starts its helper process, as there), then **warm**, with the
cache that run filled. Each run's *printed* time is the one the CLI prints ("Finished in
... s": the whole scan, writing every output included; the target is 15 s cold), *wall*
the whole process, interpreter start-up and imports included. The machine's speed drifts
between days, so the same run also times the MinHash signature kernel alone on one thread
over the demo's normalised texts (the figure RESULTS.md's kernel table gives for a dump).
Figures go to ``first_run.json`` beside this file; ``python -m benchmarks.report``
renders them into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import polars as pl

from benchmarks.common import head_commit
from benchmarks.kernel import median_rate, sample_of
from benchmarks.measure import run_module
from detector.config import ScanConfig
from detector.ingest import iter_batches
from detector.minhash import signatures

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "fixtures" / "demo.csv.gz"
PRINTED = re.compile(r"Finished in ([0-9.]+) s")
KERNEL_TEXTS = 200_000


def scan_demo(cache: Path, folder: Path) -> dict[str, float]:
    """One ``detector scan`` of the demo with numba's cache in ``cache``: printed and wall
    seconds."""
    log = folder / "log.txt"
    args = ["scan", str(DEMO), "--out", str(folder / "out")]
    child = run_module("detector.cli", args, None, log, env={"NUMBA_CACHE_DIR": str(cache)})
    output = log.read_text()
    printed = PRINTED.search(output)
    if child.returncode or printed is None:
        raise RuntimeError(f"the demo scan failed (exit {child.returncode}):\n{output[-2000:]}")
    return {"printed_s": float(printed.group(1)), "wall_s": round(child.wall_s, 2)}


def kernel_rate(repeats: int = 3) -> int:
    """Posts/s of the signature kernel on one thread over the demo's normalised texts of
    50-300 characters, cycled to :data:`KERNEL_TEXTS`: this machine's speed today."""
    raw = pl.concat([b.posts["text"] for b in iter_batches([DEMO], ScanConfig())])
    texts = sample_of(raw, KERNEL_TEXTS, str(DEMO))
    signatures(texts.head(100))  # compile / load the numba cache outside the timing
    numba.set_num_threads(1)
    return round(median_rate(lambda: signatures(texts), texts.len(), repeats))


def measure(rounds: int) -> dict[str, Any]:
    """``rounds`` of a cold scan then a warm one, each cold one in a new cache folder."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        for k in range(rounds):
            cache = Path(tmp) / f"cache-{k}"
            cache.mkdir()
            cold = scan_demo(cache, Path(tmp))
            warm = scan_demo(cache, Path(tmp))
            runs.append({"cold": cold, "warm": warm})
    return {
        "runs": runs,
        "cold_printed_s": statistics.median(r["cold"]["printed_s"] for r in runs),
        "warm_printed_s": statistics.median(r["warm"]["printed_s"] for r in runs),
        "kernel_posts_s": kernel_rate(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "first_run.json")
    args = parser.parse_args()
    figures = measure(args.rounds)
    figures |= {
        "command": "python -m benchmarks.first_run " + shlex.join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": head_commit(),
    }
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
