"""The evasive families of issue 10, measured: what a default scan flags in each.

``python -m benchmarks.evasive --sizes 100k --seeds 1``

Each world (``detector.synth.generate_evasion_world``) is scanned with default options and
scored at account level: per family its accounts and either recall (campaigns: share of
members flagged) or the share flagged (authentic crowds), and overall precision. Figures
go to ``evasive.json`` beside this file.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.quality import scan_world
from benchmarks.worlds import parse_size

HERE = Path(__file__).resolve().parent


def families(n_posts: int, seed: int) -> dict[str, Any]:
    """Scan one evasion world; per-family figures and overall precision."""
    from detector.synth import generate_evasion_world

    result, seconds, quality = scan_world(*generate_evasion_world(n_posts, seed=seed))
    rows = [
        {"family": r["campaign"], "class": "campaign", "accounts": r["accounts"],
         "recall": round(r["recall"], 4)}
        for r in quality["campaigns"]
    ] + [
        {"family": r["burst"], "class": "authentic", "accounts": r["accounts"],
         "flagged_share": round(r["flagged_share"], 4)}
        for r in quality["bursts"]
    ]  # fmt: skip
    return {
        "posts": n_posts,
        "seed": seed,
        "seconds": round(seconds, 2),
        "clusters": result.summary["clusters"],
        "flagged_accounts": quality["flagged_accounts"],
        "precision": quality["precision"],
        "recall": quality["recall"],
        "families": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k", help="world sizes, e.g. 100k,300k")
    parser.add_argument("--seeds", default="1", help="world seeds, e.g. 1,2,3")
    parser.add_argument("--out", type=Path, default=HERE / "evasive.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.evasive " + shlex.join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "worlds": [],
    }
    for size in args.sizes.split(","):
        for seed in args.seeds.split(","):
            print(f"evasion world {size} seed {seed} ...", flush=True)
            results["worlds"].append(families(parse_size(size), int(seed)))
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
