"""Linear everywhere: degenerate dumps that would be quadratic in one account's or one
object's posts, scanned at doubling sizes.

``python -m benchmarks.linearity --sizes 250k,500k,1m``

* **one account, one hashtag**: one account posts the same hashtags every second, and
  1% of the posts are other accounts using them at the same time (so the spammer's posts
  are in window of others and enter the graph);
* **one text, every account**: each post is a different account posting the same text
  within one day;
* **one URL, every post**: one link in every post, by a fifth as many accounts, over a
  week, each post with its own text.

Every post also carries a second object (a hashtag), so the accounts co-share two
distinct objects and enter the graph (``min_repeat`` 2): the degenerate object is linked,
not filtered out before the graph is built.

Each dump is written as Parquet and scanned ``--repeats`` times (medians) by ``detector
scan`` with default options in a process of its own (every output written; its peak
memory measured) after a small warm-up scan of the same case (kernels compiled and
cached). ``seconds`` is the scan's own (``summary.json``: reading to report, no
interpreter start, no writing), ``wall_s`` the whole process, writing included. The time
ratio between consecutive sizes should stay near the size ratio (2 for doubling). Figures
go to ``linearity.json`` beside this file; ``python -m benchmarks.report`` renders them
into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.common import head_commit
from benchmarks.measure import run_module
from benchmarks.worlds import parse_size, size_label

HERE = Path(__file__).resolve().parent
START = 1_735_689_600  # 2025-01-01T00:00:00Z


def _frame(account: np.ndarray, time_s: np.ndarray, text: list[str] | pl.Series, **extra):
    n = account.size
    return pl.DataFrame(
        {
            "post_id": pl.Series(np.arange(n)).cast(pl.String),
            "account_id": pl.Series(account).cast(pl.String),
            "created_at": pl.Series(START + time_s).cast(pl.Int64),
            "text": text,
            **extra,
        }
    )


def _repeat(value: str | list[str], n: int) -> pl.Series:
    """``value`` n times, made by polars (a Python list of n lists takes 5 GB a million)."""
    dtype = pl.List(pl.String) if isinstance(value, list) else pl.String
    return pl.repeat(pl.lit(value, dtype=dtype), n, eager=True)


def one_account_one_hashtag(n: int, rng: np.random.Generator) -> pl.DataFrame:
    others = n // 100
    account = np.r_[np.zeros(n - others, np.int64), 1 + np.arange(others)]
    seconds = np.r_[np.arange(n - others), rng.integers(0, n - others, others)]
    text = _repeat("#spam #more 又来了", n)
    return _frame(account, seconds, text, hashtags=_repeat(["spam", "more"], n))


def one_text_every_account(n: int, rng: np.random.Generator) -> pl.DataFrame:
    seconds = np.sort(rng.integers(0, 86_400, n))
    text = _repeat("支持国货，支持小米汽车，大家一起加油，中国制造越来越好 #国货", n)
    return _frame(np.arange(n), seconds, text, hashtags=_repeat(["国货"], n))


def one_url_every_post(n: int, rng: np.random.Generator) -> pl.DataFrame:
    account = rng.integers(0, max(n // 5, 1), n)
    seconds = np.sort(rng.integers(0, 7 * 86_400, n))
    text = "post " + pl.Series(np.arange(n)).cast(pl.String) + " about this link"
    return _frame(
        account,
        seconds,
        text,
        urls=_repeat(["https://example.com/a"], n),
        hashtags=_repeat(["deal"], n),
    )


CASES: dict[str, Callable[[int, np.random.Generator], pl.DataFrame]] = {
    "one account, one hashtag": one_account_one_hashtag,
    "one text, every account": one_text_every_account,
    "one URL, every post": one_url_every_post,
}


def measure(
    case: str, n: int, folder: Path, memory_limit_gb: float, repeats: int
) -> dict[str, Any]:
    """One case at one size: the dump written as Parquet, then ``detector scan`` in a
    process of its own (every output written), stopped past ``memory_limit_gb``,
    ``repeats`` times: the median of each time, the largest peak."""
    path = folder / "posts.parquet"
    CASES[case](n, np.random.default_rng(7)).write_parquet(path)
    scans = []
    for _ in range(repeats):
        scans.append(_scan(path, folder, memory_limit_gb))
        if "failed" in scans[-1]:
            return {"case": case, "posts": n, "runs": len(scans)} | scans[-1]
    stages = {
        name: statistics.median(s["stages"][name] for s in scans) for name in scans[0]["stages"]
    }
    return {
        "case": case,
        "posts": n,
        "runs": repeats,
        "wall_s": statistics.median(s["wall_s"] for s in scans),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in scans),
        "seconds": statistics.median(s["seconds"] for s in scans),
        "graph_edges": scans[0]["graph_edges"],
        "stages": stages,
    }


def _scan(path: Path, folder: Path, memory_limit_gb: float) -> dict[str, Any]:
    """``detector scan`` of ``path`` in a process of its own: its figures, or why it failed."""
    out = folder / "scan"
    shutil.rmtree(out, ignore_errors=True)
    args = ["scan", str(path), "--out", str(out), "--quiet"]
    child = run_module("detector.cli", args, None, folder / "log.txt", memory_limit_gb * 1024)
    run = {"wall_s": child.wall_s, "peak_rss_mb": child.peak_rss_mb}
    if child.returncode != 0:
        why = f"past {memory_limit_gb:g} GiB" if child.out_of_memory else f"exit {child.returncode}"
        return run | {"failed": why, "log": (folder / "log.txt").read_text()[-1500:]}
    summary = json.loads((out / "summary.json").read_text())
    return run | {
        "seconds": summary["seconds"],
        "graph_edges": summary["graph_edges"],
        "stages": {k: v["seconds"] for k, v in summary["stages"].items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="250k,500k,1m", help="posts per dump, e.g. 250k,500k")
    parser.add_argument("--out", type=Path, default=HERE / "linearity.json")
    parser.add_argument(
        "--memory-limit-gb", type=float, default=20.0, help="stop a scan past this resident size"
    )
    parser.add_argument("--repeats", type=int, default=3, help="scans of each dump (medians)")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in CASES:
            measure(case, 2_000, folder, args.memory_limit_gb, 1)  # compiles what the case uses
            for n in sizes:
                print(f"{case}: {size_label(n)} ...", flush=True)
                runs.append(measure(case, n, folder, args.memory_limit_gb, args.repeats))
                print(f"  {runs[-1].get('seconds', runs[-1].get('failed'))}", flush=True)
    for previous, run in pairwise(runs):
        if previous["case"] == run["case"] and "seconds" in previous and "seconds" in run:
            run["ratio"] = round(run["seconds"] / max(previous["seconds"], 1e-9), 2)
            run["size_ratio"] = round(run["posts"] / previous["posts"], 2)
    results = {
        "command": "python -m benchmarks.linearity " + shlex.join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "commit": head_commit(),
        "runs": runs,
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
