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


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of one process now and its current image's peak so far (``VmRSS``,
    ``VmHWM``; zeros if it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in lines
                  if line.startswith(("VmRSS:", "VmHWM:"))}  # fmt: skip
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def run_module(
    module: str,
    args: list[str],
    limit_s: float | None,
    log: Path,
    memory_limit_mb: float | None = None,
    env: dict[str, str] | None = None,
) -> Child:
    """Run ``python -m module args`` from the repository root (``env``: variables set for
    it), killing it (and everything it started) after ``limit_s`` seconds or once its
    resident memory passes ``memory_limit_mb``. Peak RSS is that of the largest single
    process in the tree (``ru_maxrss`` of the child as reported by ``wait4``). A child
    starts inside this process's memory (fork, then exec), which ``ru_maxrss`` counts:
    where it is no more than this process's own peak at the start, the child's high-water
    mark polled while it ran (``VmHWM``, its own image only, every ``POLL_SECONDS``) is
    taken instead."""
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", module, *args]
    inherited = _memory_mb(os.getpid())[1]
    own = 0.0
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        timed_out = out_of_memory = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            timed_out = limit_s is not None and time.perf_counter() - start > limit_s
            now, high = _memory_mb(proc.pid)
            own = max(own, high)
            out_of_memory = memory_limit_mb is not None and now > memory_limit_mb
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
