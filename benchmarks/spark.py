"""The local engine and the Spark engine side by side on the same files, and the Spark
engine's shuffle volume, task count and time as its shuffle partitions grow.

    pip install -e '.[spark]'
    python -m benchmarks.spark --sizes 1m,10m --partitions 2,8,32,64 --large-partitions 8

The partition sweep runs at the first size; every larger size runs once, at
``--large-partitions`` (at 10M a Spark run in ``local[2]`` takes about as long as the
sweep at 1M).

Each world (cached in ``--scratch`` like the other benchmarks) is cut into ``--files``
Parquet parts, the unit a Spark reading task takes; both engines scan the same parts, the
local engine in a process of its own (``detector scan``), so each peak memory is its own.
Shuffle bytes and tasks are read from the Spark UI's REST API (so the UI is on). Results
go to ``--out`` as JSON (``benchmarks/spark.json``: ``python -m benchmarks.report`` then
writes its section of RESULTS.md) and are printed one line a run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from benchmarks.common import head_commit
from benchmarks.measure import Child, run_module
from benchmarks.worlds import ensure_world, parse_size, size_label

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _parts(posts: Path, folder: Path, files: int) -> list[Path]:
    """``posts`` cut into ``files`` Parquet parts in order (cached), in a process of its
    own: read whole here, the world would count in this process's peak memory, which is
    the Spark driver's figure (the 10M world's first cut raised it to 3.1 GB at 7c6344c)."""
    paths = [folder / f"part-{i:03d}.parquet" for i in range(files)]
    if not all(p.is_file() for p in paths):
        folder.mkdir(parents=True, exist_ok=True)
        cutter = multiprocessing.get_context("spawn").Process(target=_cut, args=(posts, paths))
        cutter.start()
        cutter.join()
        if cutter.exitcode != 0:
            raise RuntimeError(f"cutting {posts} into parts failed (exit {cutter.exitcode})")
    return paths


def _cut(posts: Path, paths: list[Path]) -> None:
    frame = pl.read_parquet(posts)
    step = -(-frame.height // len(paths))
    for i, path in enumerate(paths):
        frame.slice(i * step, step).write_parquet(path)


def _stage_totals(spark, after: int) -> tuple[dict[str, int], int]:
    """Tasks, shuffle bytes written and read, and input bytes of the completed stages
    with ids above ``after``; and the largest stage id seen."""
    base = spark.sparkContext.uiWebUrl
    app = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{base}/api/v1/applications/{app}/stages?status=complete") as r:
        stages = json.load(r)
    mine = [s for s in stages if s["stageId"] > after]
    totals = {
        "stages": len(mine),
        "tasks": sum(s["numTasks"] for s in mine),
        "shuffle_write_bytes": sum(s["shuffleWriteBytes"] for s in mine),
        "shuffle_read_bytes": sum(s["shuffleReadBytes"] for s in mine),
        "input_bytes": sum(s["inputBytes"] for s in mine),
    }
    return totals, max([after, *(s["stageId"] for s in stages)])


def answer(accounts: pl.DataFrame) -> tuple[set[str], set[frozenset[str]]]:
    """Flagged accounts and clusters (as member sets) of a scan's accounts table."""
    members = accounts.filter(pl.col("cluster_id").is_not_null())
    clusters = {frozenset(g["account_id"]) for _, g in members.group_by("cluster_id")}
    return set(accounts.filter("flagged")["account_id"]), clusters


def local_scan(
    parts: list[Path], folder: Path
) -> tuple[Child, tuple[set[str], set[frozenset[str]]]]:
    """The local engine's scan of ``parts`` in a process of its own (its peak memory its
    own, not the Spark driver's), and its answer."""
    folder.mkdir(parents=True, exist_ok=True)
    args = ["scan", *map(str, parts), "--out", str(folder / "out"), "--quiet"]
    child = run_module("detector.cli", args, None, folder / "scan.log")
    if child.returncode not in (0, 4):  # 4: clusters flagged
        raise RuntimeError(f"local scan failed, see {folder / 'scan.log'}")
    return child, answer(pl.read_parquet(folder / "out" / "accounts.parquet"))


def _jvm_peak_mb(spark) -> float:
    """Peak resident memory of the JVM (in local mode the driver and its executors)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def session(master: str, driver_memory: str) -> SparkSession:
    """The benchmarks' Spark session: the UI on (its REST API counts the shuffles), no
    console progress, 10,000 rows an Arrow batch."""
    from detector.spark import build_session

    spark = build_session(
        master,
        {
            "spark.driver.memory": driver_memory,
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.execution.arrow.maxRecordsPerBatch": "10000",
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--partitions", default="2,8,32,64")
    parser.add_argument("--large-partitions", type=int, default=8)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--scratch", type=Path, default=Path("scratch"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/spark.json"))
    args = parser.parse_args()

    from detector.spark import scan as spark_scan

    spark = session(args.master, args.driver_memory)
    loads = os.getloadavg()
    _, last = _stage_totals(spark, -1)
    rows: list[dict[str, Any]] = []
    sizes = list(map(parse_size, args.sizes.split(",")))
    for n_posts in sizes:
        world = ensure_world(args.scratch, n_posts, args.seed, "plain")
        parts = _parts(world.posts, args.scratch / "spark" / size_label(n_posts), args.files)
        local = args.scratch / "spark" / f"{size_label(n_posts)}-local"
        local_scan(parts[:1], local)  # warm-up: numba kernels compiled or loaded, as for Spark
        child, expected = local_scan(parts, local)
        spark_scan(spark, parts[:1])  # warm-up: workers start, numba kernels load
        _, last = _stage_totals(spark, last)
        rows.append(
            {
                "posts": n_posts,
                "engine": "local",
                "seconds": round(child.wall_s, 1),
                "peak_rss_mb": child.peak_rss_mb,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        sweep = args.partitions.split(",") if n_posts == sizes[0] else [args.large_partitions]
        for partitions in map(int, sweep):
            started = time.perf_counter()
            result = spark_scan(spark, parts, partitions=partitions)
            seconds = time.perf_counter() - started
            totals, last = _stage_totals(spark, last)
            rows.append(
                {
                    "posts": n_posts,
                    "engine": f"spark {args.master}",
                    "partitions": partitions,
                    "seconds": round(seconds, 1),
                    "same_answer": answer(result.accounts) == expected,
                    "flagged_accounts": result.summary["flagged_accounts"],
                    "unique_texts": result.summary["unique_texts"],
                    "driver_posts": result.summary["engine"]["driver_posts"],
                    "driver_texts": result.summary["engine"]["driver_texts"],
                    "driver_peak_rss_mb": max(
                        v["peak_rss_mb"] for v in result.summary["stages"].values()
                    ),
                    "jvm_peak_rss_mb": _jvm_peak_mb(spark),
                    "largest_cluster": int(result.clusters["n_accounts"].max() or 0),
                    **{
                        name: result.summary["engine"][name]
                        for name in (
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
                    "stages_s": {k: v["seconds"] for k, v in result.summary["stages"].items()},
                    **totals,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    meta = {
        "command": "python -m benchmarks.spark " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": head_commit(),
        "cores": os.cpu_count(),
        "load_average": f"{loads[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
    }
    args.out.write_text(json.dumps({**meta, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
