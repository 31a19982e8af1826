"""Seconds of the steps inside one scan's stages, to tell which grow faster than the posts.

``python -m benchmarks.steps DUMP [DUMP ...]`` scans each dump in turn (in this process,
kernels compiled by a first scan of the demo) with the steps below timed, wall and CPU
seconds of the whole process, and prints a row per dump and step. The stage totals of
``summary.json`` say which stage grows; these say which step inside it does: the numba
kernels (LSH grouping), or the polars frame steps over every post (written texts, spun
copy sets, traces, the groups table). Run it on two worlds of the same work per post (the
tiles' one and five copies) and divide.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import detector.pipeline
import detector.posts
from detector.pipeline import scan

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo.csv.gz"
# (module, function): the steps timed, in the order a scan meets them.
STEPS = (
    (detector.pipeline, "group_sketches"),
    (detector.posts, "_index_posts"),
    (detector.posts, "written_texts"),
    (detector.posts, "spun_copy_sets"),
    (detector.posts, "mark_rewordings"),
    (detector.posts, "_traces"),
    (detector.posts, "_examples"),
    (detector.posts, "groups_table"),
    (detector.posts, "posts_table"),
)


def _timed(function: Callable[..., Any], seconds: dict[str, list[float]]) -> Callable[..., Any]:
    """``function``, adding its wall and CPU seconds to ``seconds[its name]`` each call."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = seconds.setdefault(function.__name__, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    return timed


def step_seconds(dump: str | Path) -> dict[str, list[float]]:
    """Wall and CPU seconds of each step of :data:`STEPS`, and of the whole scan
    (``scan``), in one scan of ``dump``."""
    seconds: dict[str, list[float]] = {}
    originals = [(module, name, getattr(module, name)) for module, name in STEPS]
    for module, name, function in originals:
        setattr(module, name, _timed(function, seconds))
    try:
        _timed(scan, seconds)(dump)
    finally:
        for module, name, function in originals:
            setattr(module, name, function)
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dumps", nargs="+", type=Path, help="post dumps, scanned in turn")
    args = parser.parse_args(argv)
    scan(DEMO)  # kernels compiled before any step is timed
    print("| dump | step | wall s | CPU s |\n|---|---|---:|---:|")
    for dump in args.dumps:
        for name, (wall, cpu) in step_seconds(dump).items():
            print(f"| {dump} | {name} | {wall:.2f} | {cpu:.2f} |", flush=True)


if __name__ == "__main__":
    main()
