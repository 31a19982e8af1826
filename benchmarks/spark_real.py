"""The Spark engine on a real dump: the same answer as the local engine, and how its
account components fall into buckets (the largest is one task).

    python -m benchmarks.spark_real --dump ../shared/data/weibo_checked_covid.parquet

Both engines scan the dump as it is (one file); the local engine in a process of its own
(``detector scan``), as :mod:`benchmarks.spark` runs it; each engine first scans the demo
dump (kernels compiled or loaded, Spark's Python workers started). Results
go to ``--out`` (``benchmarks/spark_real.json``: ``python -m benchmarks.report`` then
writes its part of RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import head_commit
from benchmarks.spark import answer, local_scan, session

WARM_UP = Path(__file__).resolve().parent.parent / "fixtures" / "demo.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, required=True)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--scratch", type=Path, default=Path("scratch"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/spark_real.json"))
    args = parser.parse_args()

    from detector.spark import scan as spark_scan

    folder = args.scratch / "spark" / f"real-{args.dump.stem}"
    local_scan([WARM_UP], folder)
    child, expected = local_scan([args.dump], folder)
    spark = session(args.master, args.driver_memory)
    spark_scan(spark, WARM_UP, partitions=args.partitions)
    started = time.perf_counter()
    result = spark_scan(spark, args.dump, partitions=args.partitions)
    seconds = time.perf_counter() - started
    summary, engine = result.summary, result.summary["engine"]
    run = {
        "dump": args.dump.name,
        "partitions": args.partitions,
        "local_seconds": round(child.wall_s, 1),
        "spark_seconds": round(seconds, 1),
        "same_answer": answer(result.accounts) == expected,
        **{
            name: summary[name]
            for name in (
                "rows_read",
                "rows_scanned",
                "rows_rejected",
                "accounts",
                "clusters",
                "flagged_accounts",
            )
        },
        **{
            name: engine[name]
            for name in (
                "driver_posts",
                "driver_texts",
                "evidence_buckets",
                "bucket_traces",
                "largest_bucket_traces",
                "bucket_edges",
                "largest_bucket_edges",
                "propagated_components",
                "propagated_pairs",
                "propagation_rounds",
            )
        },
    }
    print(json.dumps(run), flush=True)
    meta = {
        "command": "python -m benchmarks.spark_real " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": head_commit(),
        "cores": os.cpu_count(),
        "master": args.master,
    }
    args.out.write_text(json.dumps({**meta, "runs": [run]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
