"""Every trace, measured: the co-sharing scenario families and the real data sets.

``python -m benchmarks.traces --sizes 100k,300k``

* **Families.** ``detector.synth.generate_trace_world`` (repost network, link network,
  hashtag hijack; idol fans, viral post, trending hashtag, default share texts): each
  world is scanned with default options and scored at account level.
* **Weibo** (``../shared/data/weibo_checked_covid.parquet``, authentic): the share of its
  accounts flagged with every trace on.
* **CooRTweet** (``../shared/data/coortweet_russian_coord_tweets.parquet``): the co-retweet
  graph at 60 s against coordination-network-toolkit's figures, and what a default scan
  reports.

Figures go to ``traces.json`` beside this file; ``python -m benchmarks.report`` renders
them into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.quality import scan_world
from benchmarks.worlds import parse_size, size_label

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
WEIBO = DATA / "weibo_checked_covid.parquet"
COORTWEET = DATA / "coortweet_russian_coord_tweets.parquet"
# coordination-network-toolkit 1.5.2 co_retweet at 60 s (shared/data/README.md).
TOOLKIT = {1: {"edges": 6_206, "accounts": 3_954}, 2: {"edges": 63, "accounts": 97}}


def families(n_posts: int, seed: int) -> dict[str, Any]:
    """Scan one trace world; quality at account level."""
    from detector.synth import generate_trace_world

    result, seconds, quality = scan_world(*generate_trace_world(n_posts, seed=seed))
    return {
        "posts": n_posts,
        "seed": seed,
        "seconds": round(seconds, 2),
        "clusters": result.summary["clusters"],
        "edges_by_trace": result.summary["graph_edges_by_trace"],
        **quality,
    }


def weibo() -> dict[str, Any]:
    """Authentic Weibo activity with every trace on: accounts flagged."""
    from detector.pipeline import scan

    start = time.perf_counter()
    result = scan(WEIBO)
    s = result.summary
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "rows_scanned": s["rows_scanned"],
        "rows_rejected": s["rows_rejected"],
        "accounts": s["accounts"],
        "clusters": s["clusters"],
        "flagged_accounts": s["flagged_accounts"],
        "flagged_share": s["flagged_accounts"] / max(s["accounts"], 1),
        "edges_by_trace": s["graph_edges_by_trace"],
        "top_scores": result.clusters.sort("score", descending=True)
        .head(3)
        .select("n_accounts", "score", "traces")
        .to_dicts(),
    }


def coortweet() -> dict[str, Any]:
    """The co-retweet graph at 60 s against the toolkit, and a default scan."""
    from detector.pipeline import scan

    out: dict[str, Any] = {"graph": []}
    for weight, expected in TOOLKIT.items():
        edges = scan(
            COORTWEET,
            traces="repost",
            windows={"repost": 60},
            min_repeat=1,
            min_co_shares=weight,
            neighbours=1000,
            write_graph=True,
        ).edges
        accounts = pl.concat([edges["source"], edges["target"]]).n_unique()
        out["graph"].append(
            {"min_weight": weight, "edges": edges.height, "accounts": accounts, **
             {f"toolkit_{k}": v for k, v in expected.items()}}
        )  # fmt: skip
    default = scan(COORTWEET).summary
    out["default_scan"] = {
        key: default[key] for key in ("accounts", "clusters", "flagged_accounts", "graph_edges")
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k", help="trace-world sizes, e.g. 100k,300k")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "traces.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.traces " + shlex.join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "families": [],
    }
    for size in args.sizes.split(","):
        n = parse_size(size)
        print(f"trace world {size_label(n)} ...", flush=True)
        results["families"].append(families(n, args.seed))
    for name, measure, path in (("weibo", weibo, WEIBO), ("coortweet", coortweet, COORTWEET)):
        if path.is_file():
            print(f"{name} ...", flush=True)
            results[name] = measure()
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
