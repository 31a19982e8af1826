"""Run one command in its own process group and measure its wall time and peak memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Child:
    """Outcome of one measured subprocess."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    timed_out: bool
    out_of_memory: bool = False


def _high_water_mb(pid: int) -> float:
    """Peak resident memory of one process's current image so far (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


def _rss_mb(pid: int) -> float:
    """Resident memory of one process now (0 if it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_module(
    module: str,
    args: list[str],
    limit_s: float | None,
    log: Path,
    memory_limit_mb: float | None = None,
) -> Child:
    """Run ``python -m module args`` from the repository root, killing it (and everything it
    started) after ``limit_s`` seconds or once its resident memory passes
    ``memory_limit_mb``. Peak RSS is that of the largest single process in the tree
    (``ru_maxrss`` of the child as reported by ``wait4``). A child starts inside this
    process's memory (fork, then exec), which ``ru_maxrss`` counts: where it is no more
    than this process's own peak at the start, the child's high-water mark polled while
    it ran (``VmHWM``, its own image only, every ``POLL_SECONDS``) is taken instead."""
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", module, *args]
    inherited = _high_water_mb(os.getpid())
    own = 0.0
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        timed_out = out_of_memory = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            timed_out = limit_s is not None and time.perf_counter() - start > limit_s
            own = max(own, _high_water_mb(proc.pid))
            out_of_memory = memory_limit_mb is not None and _rss_mb(proc.pid) > memory_limit_mb
            if timed_out or out_of_memory:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024
    peak = round(peak if peak > inherited else own, 1)
    return Child(proc.returncode, round(wall, 3), peak, timed_out, out_of_memory)
