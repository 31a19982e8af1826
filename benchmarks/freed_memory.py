"""What fresh memory costs this machine, by how long it had been free.

``python -m benchmarks.freed_memory --gib 1.5 --pauses 0,1,3,10 --rounds 3``

A scan allocates and frees arrays of hundreds of MB stage after stage, and the system puts
fresh pages under each new one. On a virtual machine whose host takes back the memory its
guest leaves free (a virtio balloon with free page reporting), memory freed a while ago
costs far more to touch again than memory freed a moment ago: the host must find and clear
it anew. A larger scan's stages last longer, so more of its memory has been free long
enough to be taken back, and its time grows faster than its posts with nothing in it
quadratic (:mod:`benchmarks.tiles`). Each round, for each pause: fill an array of
``--gib`` GiB, free it, wait the pause, then time filling a new one of the same size (one
thread). Figures go to ``freed_memory.json`` beside this file; ``python -m
benchmarks.report`` renders them into RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import head_commit
from benchmarks.host_reclaim import reports_free_memory

HERE = Path(__file__).resolve().parent


def fill_seconds(n_bytes: int, pause: float) -> float:
    """Seconds to fill a new array of ``n_bytes`` when an array as large was freed
    ``pause`` seconds before."""
    np.ones(n_bytes // 8)  # filled, then freed at once
    time.sleep(pause)
    start = time.perf_counter()
    np.ones(n_bytes // 8)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gib", type=float, default=1.5, help="size of each array")
    parser.add_argument("--pauses", default="0,1,3,10", help="seconds between free and fill")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE, help="folder for freed_memory.json")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)  # before the minutes of measuring
    pauses = [float(p) for p in args.pauses.split(",")]
    n_bytes = int(args.gib * 2**30)
    seconds: dict[float, list[float]] = {pause: [] for pause in pauses}
    for round_ in range(args.rounds):
        for pause in pauses:
            seconds[pause].append(fill_seconds(n_bytes, pause))
            print(f"round {round_ + 1}, pause {pause:g} s: {seconds[pause][-1]:.2f} s", flush=True)
    figures = {
        "command": "python -m benchmarks.freed_memory "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": head_commit(),
        "bytes": n_bytes,
        "page_reporting": reports_free_memory(),
        "fills": [
            {
                "pause_s": pause,
                "seconds": round(statistics.median(runs), 3),
                "lowest": round(min(runs), 3),
                "highest": round(max(runs), 3),
            }
            for pause, runs in seconds.items()
        ],
    }
    (args.out / "freed_memory.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out / 'freed_memory.json'}")


if __name__ == "__main__":
    main()
