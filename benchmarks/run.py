"""Regenerate every figure in ``benchmarks/RESULTS.md`` with one command.

``python -m benchmarks.run --sizes 20k,100k,1m,10m --repeats 3``

For each size a world is generated with :mod:`detector.synth` (cached in ``--scratch``),
then each system runs on the same Parquet dump in its own process, ``--repeats`` times;
RESULTS.md quotes the medians. ``--smoke`` is the quick CI check: 20k posts, one repeat,
results written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks import stage
from benchmarks.measure import run_module
from benchmarks.quality import evaluate
from benchmarks.report import companions, machine, write_plot, write_results
from benchmarks.worker import PRESSURE, SYSTEMS, USAGE
from benchmarks.worlds import World, ensure_world, parse_size, size_label

HERE = Path(__file__).resolve().parent
SMOKE_LIMIT_S = 120.0


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of each figure over repeated runs (stages too; stalls where every run
    counted them)."""
    stalls = [key for key in PRESSURE if all(key in r for r in runs)]
    median = {
        key: round(statistics.median(r[key] for r in runs), 3)
        for key in ("seconds", "wall_s", "peak_rss_mb", *USAGE, *stalls)
    }
    median["stages"] = {
        name: round(statistics.median(r["stages"][name] for r in runs), 3)
        for name in runs[0]["stages"]
    }
    if "work" in runs[0]:  # the same in every run: the scan is deterministic
        median["work"] = runs[0]["work"]
    return median


def run_once(system: str, world: World, out: Path, limit_s: float | None, args) -> dict[str, Any]:
    """One run of ``system`` on ``world`` in its own process, its outputs in ``out``: its
    timing with wall time and peak memory (``status`` ok), or why it stopped."""
    out.mkdir(parents=True, exist_ok=True)
    argv = [system, "--posts", str(world.posts), "--out", str(out), "--threads", str(args.threads)]
    child = run_module(
        "benchmarks.worker", argv, limit_s, out / "log.txt", args.memory_limit_gb * 1024
    )
    print(
        f"  {system:8} {out.name}: {child.wall_s:8.1f} s wall, "
        f"{child.peak_rss_mb:8.0f} MB peak, rc {child.returncode}",
        flush=True,
    )
    if child.out_of_memory:
        note = f"exceeded {args.memory_limit_gb:g} GiB of memory after {child.wall_s:.0f} s"
        return {"status": "oom", "note": note, "stopped_after_s": child.wall_s}
    if child.timed_out:
        return {"status": "dnf", "note": f"did not finish in {limit_s:g} s"}
    if child.returncode != 0:
        tail = (out / "log.txt").read_text()[-1500:]
        return {"status": "error", "note": f"exit {child.returncode}", "log": tail}
    timing = json.loads((out / "timing.json").read_text())
    return {"status": "ok"} | timing | {"wall_s": child.wall_s, "peak_rss_mb": child.peak_rss_mb}


def quality_of(out: Path, world: World) -> dict[str, Any]:
    """Quality of the predictions a run wrote into ``out``, against ``world``'s truth."""
    return evaluate(pl.read_parquet(out / "predictions.parquet"), pl.read_parquet(world.truth))


def measure_system(
    system: str, world: World, runs_dir: Path, repeats: int, limit_s: float | None, args
) -> dict[str, Any]:
    """Run one system ``repeats`` times on one world; its medians and quality."""
    entry: dict[str, Any] = {"system": system, "posts": world.n_posts, "limit_s": limit_s}
    runs = []
    for repeat in range(repeats):
        out = runs_dir / f"{size_label(world.n_posts)}-{world.scenario}-{system}-{repeat}"
        run = run_once(system, world, out, limit_s, args)
        status = run.pop("status")
        if status != "ok":
            return entry | {"status": status} | run
        runs.append(run)
        if repeat == 0:
            entry["quality"] = quality_of(out, world)
        if run["wall_s"] > args.max_repeat_s:
            break
    median = median_of(runs)
    return entry | {
        "status": "ok",
        "runs": runs,
        "median": median,
        "posts_s": round(world.n_posts / median["seconds"]) if median["seconds"] else None,
    }


def run_kernel(world: World, out: Path, args) -> list[dict[str, Any]]:
    """The kernel micro-benchmark in its own process."""
    path = out / "kernel.json"
    argv = [
        "--posts",
        str(world.posts),
        "--out",
        str(path),
        "--n",
        str(args.kernel_n),
        "--repeats",
        str(args.repeats),
    ]
    child = run_module("benchmarks.kernel", argv, None, out / "kernel.log")
    if child.returncode != 0:
        raise RuntimeError((out / "kernel.log").read_text()[-2000:])
    return json.loads(path.read_text())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20k,100k,1m,10m", help="posts per world, e.g. 100k,1m")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="world seed")
    parser.add_argument(
        "--scenarios",
        default="plain,evasion",
        help="plain worlds (timed) and/or evasive ones (generate_world(evasion=True), quality)",
    )
    parser.add_argument(
        "--scratch", type=Path, default=Path("scratch"), help="worlds and run outputs (gitignored)"
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument(
        "--toolkit-limit-s", type=float, default=1800.0, help="wall-clock limit per toolkit run"
    )
    parser.add_argument(
        "--baseline-limit-s", type=float, default=1800.0, help="wall-clock limit per baseline run"
    )
    parser.add_argument(
        "--max-repeat-s", type=float, default=300.0, help="a run slower than this is not repeated"
    )
    parser.add_argument(
        "--memory-limit-gb",
        type=float,
        default=16.0,
        help="a system whose resident memory passes this is stopped",
    )
    parser.add_argument("--threads", type=int, default=2, help="toolkit worker processes")
    parser.add_argument("--kernel-n", type=int, default=200_000, help="posts for the kernel")
    parser.add_argument(
        "--stage-n",
        type=int,
        default=100_000,
        help="posts whose distinct texts the like-for-like stage benchmark uses",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="folder for RESULTS.md")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI check: 20k posts, 1 repeat, 120 s limits, output to a temporary folder",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.repeats, args.kernel_n, args.stage_n = "20k", 1, 20_000, 20_000
        args.toolkit_limit_s = min(args.toolkit_limit_s, SMOKE_LIMIT_S)
        args.baseline_limit_s = min(args.baseline_limit_s, SMOKE_LIMIT_S)
        args.out = Path(tempfile.mkdtemp(prefix="detector-bench-"))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    systems = [s for s in SYSTEMS if s in args.systems.split(",")]
    limits = {"ours": None, "baseline": args.baseline_limit_s, "toolkit": args.toolkit_limit_s}
    runs_dir = args.scratch / "runs"
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    results: dict[str, Any] = {"meta": machine(command, args), "worlds": {}, "entries": []}

    worlds = []
    for n in sizes:
        for scenario in args.scenarios.split(","):
            world = ensure_world(args.scratch, n, args.seed, scenario)
            accounts = pl.scan_parquet(world.truth).select(pl.len()).collect().item()
            results["worlds"][f"{size_label(n)} {scenario}"] = {
                "posts": n,
                "accounts": accounts,
                "generate_s": world.generate_s,
            }
            worlds.append(world)
            print(f"world {size_label(n)} {scenario}: {accounts} accounts", flush=True)

    if "ours" in systems:  # fill the numba cache before anything is timed
        run_module(
            "benchmarks.worker",
            ["ours", "--posts", str(worlds[0].posts), "--out", str(runs_dir / "warmup")],
            None,
            args.scratch / "warmup.log",
        )
    stopped: dict[tuple[str, str], str] = {}
    for world in worlds:
        print(f"{size_label(world.n_posts)} posts, {world.scenario}", flush=True)
        # Speed is measured on the plain worlds; an evasive world is run once, for quality.
        repeats = args.repeats if world.scenario == "plain" else 1
        for system in systems:
            base = {"system": system, "posts": world.n_posts, "scenario": world.scenario}
            if (world.scenario, system) in stopped:
                note = stopped[(world.scenario, system)]
                results["entries"].append(base | {"status": "skipped", "note": note})
                continue
            entry = measure_system(system, world, runs_dir, repeats, limits[system], args)
            results["entries"].append(base | entry)
            if entry["status"] != "ok":
                label = size_label(world.n_posts)
                stopped[(world.scenario, system)] = f"{entry['note']} at {label} posts"

    results["kernel"] = run_kernel(worlds[0], args.scratch, args)
    stage_figures = stage.measure(worlds[0].posts, args.stage_n, args.repeats, args.scratch)
    command = f"python -m benchmarks.stage --posts {worlds[0].posts} --n {args.stage_n}"
    stage_figures |= {"command": command, "date": results["meta"]["date"]}
    (args.out / "stage.json").write_text(json.dumps(stage_figures, indent=2) + "\n")
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_plot(results, args.out / "scaling.png")
    write_results(results, args.out / "RESULTS.md", **companions(args.out))
    print(f"wrote {args.out / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
