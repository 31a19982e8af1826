"""One system on one dump, in its own process: ``python -m benchmarks.worker SYSTEM``.

Writes ``predictions.parquet`` (account_id, cluster, flagged) and ``timing.json`` (seconds
end to end inside the process, per stage, posts read; over the same span, the CPU seconds
of all its threads, in the kernel among them, and the bytes it made the disk read and
write) into ``--out``; ours also writes every output of a scan there (``scan/``), inside
its time.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from benchmarks.common import PREDICTIONS, Stages

SYSTEMS = ("ours", "baseline", "toolkit")


WORK = ("unique_texts", "accounts", "graph_edges")  # what the scan's work grows with
USAGE = ("cpu_s", "sys_s", "disk_read_mb", "disk_written_mb")  # by _used_since
# Linux's pressure stall information: its "full" line totals the microseconds in which
# every running task of the machine waited, on the disk or on memory (reclaim, compaction).
PRESSURE = {
    "disk_stall_s": Path("/proc/pressure/io"),
    "memory_stall_s": Path("/proc/pressure/memory"),
}


def _ours(path: str, stages: Stages, out: Path) -> pl.DataFrame:
    """The scan and every output the command line writes (tables, report, exports)."""
    from detector.cli import write_outputs
    from detector.config import ScanConfig
    from detector.pipeline import scan

    config = ScanConfig()
    result = scan(path, config=config)
    stages.seconds.update({n: s["seconds"] for n, s in result.summary["stages"].items()})
    stages.work.update({name: result.summary[name] for name in WORK})
    with stages.stage("write"):
        write_outputs(result, out / "scan", "parquet", config, show=False)
    return result.accounts.select("account_id", pl.col("cluster_id").alias("cluster"), "flagged")


def _detector(system: str) -> Callable[[str, Stages, Path, int], pl.DataFrame]:
    """The system's entry point, imported before the clock starts."""
    if system == "ours":
        import detector.pipeline  # noqa: F401  (numba kernels load here, not in the timing)

        return lambda path, stages, out, _threads: _ours(path, stages, out)
    if system == "baseline":
        from benchmarks import baseline

        return lambda path, stages, _out, _threads: baseline.detect(path, stages)
    from benchmarks import toolkit

    return toolkit.detect


def run(system: str, path: str, out: Path, threads: int) -> None:
    """Run ``system`` on the Parquet dump at ``path``; write its outputs into ``out``."""
    detect = _detector(system)
    stages = Stages()
    before, stalled = resource.getrusage(resource.RUSAGE_SELF), _stalled()
    start = time.perf_counter()
    predictions = detect(path, stages, out, threads)
    total = time.perf_counter() - start
    used = _used_since(before, stalled)
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    predictions.cast(PREDICTIONS).write_parquet(out / "predictions.parquet")
    timing = {"seconds": round(total, 3), "stages": stages.seconds, "rows": rows, **used}
    if stages.work:
        timing["work"] = stages.work
    (out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")


def _stalled() -> dict[str, float]:
    """Seconds so far in which the whole machine stood waiting on the disk, and on memory
    (:data:`PRESSURE`); none where the system does not keep these."""
    stalled = {}
    for name, path in PRESSURE.items():
        try:
            full = path.read_text().splitlines()[1]
        except (OSError, IndexError):
            continue
        stalled[name] = int(full.rsplit("total=", 1)[1]) / 1e6
    return stalled


def _used_since(before: resource.struct_rusage, stalled: dict[str, float]) -> dict[str, float]:
    """CPU seconds (all threads; ``sys_s`` in the kernel: page faults, reads, writes) and
    disk traffic in MB since ``before``: ``ru_inblock``, 512-byte blocks the disk had to
    read (what the page cache served is not counted); ``ru_oublock``, blocks written to
    files (counted as they are written, before the kernel flushes them). Where the system
    keeps them, the seconds since ``stalled`` in which the machine (the scan, on a machine
    doing nothing else) stood waiting on the disk and on memory: the wall time in which no
    core worked."""
    after = resource.getrusage(resource.RUSAGE_SELF)
    user = after.ru_utime - before.ru_utime
    kernel = after.ru_stime - before.ru_stime
    now = _stalled()
    return {
        **{name: round(now[name] - stalled[name], 3) for name in now if name in stalled},
        "cpu_s": round(user + kernel, 3),
        "sys_s": round(kernel, 3),
        "disk_read_mb": round((after.ru_inblock - before.ru_inblock) * 512 / 2**20, 1),
        "disk_written_mb": round((after.ru_oublock - before.ru_oublock) * 512 / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("--posts", required=True, help="Parquet dump")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2, help="toolkit worker processes")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run(args.system, args.posts, args.out, args.threads)


if __name__ == "__main__":
    main()
