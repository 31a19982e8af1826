"""Linear in posts: one world's scan at several times its size, with the same work per post.

``python -m benchmarks.tiles --tile 10m --copies 1,5``

A larger plain world is not only more posts: it keeps its time span and its everyday
hashtags and phrases, so each post meets more near-duplicates and more co-shares (from 10M
to 50M posts the graph edges grow 6.35-fold and the LSH candidate pairs 8.1-fold), and a
scan linear in its work is then slower than linear in posts. Here the larger world is
``copies`` copies of the plain world of ``--tile`` posts, each in an alphabet of its own
(letters, digits and CJK ideographs rotated by an amount of its own, in texts, hashtags and
URLs) with post and account ids of its own (as long as the tile's), so no copy's texts,
objects or accounts meet another's: every post has the tile's work, and a scan linear in
posts takes ``copies`` times the tile's time. The copies are written one after the other
(as shards of a dump are) in one Parquet file, in row groups of the tile's size and with
its codec.

Each world is scanned ``--repeats`` times by :mod:`benchmarks.worker` (medians; warm
kernels; its input read into the page cache first), as :mod:`benchmarks.run` scans the
plain worlds, in rounds (every world once a round, in turn), and its quality is scored
against the copies' ground truth. A ratio is taken within a round, against that round's
one-copy scan, and its median over the rounds is quoted: the machine's speed drifts more
between hours than a run takes. So is what each copy past the world above adds to a
round's time: the same from world to world where time grows linearly from one copy on,
even if not in proportion to posts. Beside the time, each scan's CPU seconds (all
threads, the kernel's share apart) and the bytes it read from and wrote to the disk tell
work from waiting: where the CPU ratio is near the copies' number and the time ratio is
not, the scan waited (on the disk, once its spilled batches no longer fit the page
cache). Figures go to ``tiles.json`` beside this file; ``python -m benchmarks.report``
renders them into RESULTS.md.
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
from typing import Any

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.common import head_commit
from benchmarks.host_reclaim import (
    SETTINGS,
    host_reclaim,
    paged_out_bytes,
    paging_out,
    reported_bytes,
    reports_free_memory,
)
from benchmarks.measure import run_module
from benchmarks.run import median_of, quality_of, run_once
from benchmarks.worker import PRESSURE
from benchmarks.worlds import World, ensure_world, parse_size, size_label

HERE = Path(__file__).resolve().parent
HTTP, HTTPS = np.frombuffer(b"http://", np.uint8), np.frombuffer(b"https://", np.uint8)
CJK_FIRST, CJK_COUNT = 0x4E00, 0x9FFF - 0x4E00 + 1  # the unified ideographs, 3 UTF-8 bytes
READ_THROUGH_BYTES = 64 << 20  # _read_through reads the input this much at a time


@nb.njit(cache=True)
def _rotate_utf8(data: np.ndarray, copy: int) -> np.ndarray:
    """UTF-8 text with letters, digits and CJK unified ideographs rotated by amounts that
    depend on ``copy`` (0 leaves it as it is); every other character kept, and the
    ``http://`` or ``https://`` of a URL. Each character keeps its length in bytes, so
    the strings keep their offsets."""
    out = data.copy()
    i = 0
    while i < data.size:
        b = data[i]
        scheme = _scheme_length(data, i)
        if scheme:  # a URL stays a URL
            i += scheme
        elif b < 0x80:
            if 0x61 <= b <= 0x7A:
                out[i] = 0x61 + (b - 0x61 + 7 * copy) % 26
            elif 0x41 <= b <= 0x5A:
                out[i] = 0x41 + (b - 0x41 + 7 * copy) % 26
            elif 0x30 <= b <= 0x39:
                out[i] = 0x30 + (b - 0x30 + 3 * copy) % 10
            i += 1
        elif b >= 0xF0:
            i += 4
        elif b >= 0xE0:
            code = ((b & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)
            if CJK_FIRST <= code < CJK_FIRST + CJK_COUNT:
                code = CJK_FIRST + (code - CJK_FIRST + 4099 * copy) % CJK_COUNT
                out[i] = 0xE0 | (code >> 12)
                out[i + 1] = 0x80 | ((code >> 6) & 0x3F)
                out[i + 2] = 0x80 | (code & 0x3F)
            i += 3
        elif b >= 0xC0:
            i += 2
        else:  # a continuation byte: not where a character starts
            i += 1
    return out


@nb.njit(cache=True)
def _scheme_length(data: np.ndarray, i: int) -> int:
    """The length of ``http://`` or ``https://`` starting at ``i``, else 0."""
    for scheme in (HTTP, HTTPS):
        n = scheme.size
        if i + n <= data.size and np.all(data[i : i + n] == scheme):
            return n
    return 0


def _rotated(strings: pa.Array, copy: int) -> pa.Array:
    """A large_string array with :func:`_rotate_utf8` applied."""
    strings = strings.cast(pa.large_string())
    validity, offsets, data = strings.buffers()
    text = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return pa.Array.from_buffers(
        pa.large_string(),
        len(strings),
        [validity, offsets, pa.py_buffer(_rotate_utf8(text, copy))],
        strings.null_count,
        strings.offset,
    )


def _rotated_lists(lists: pa.Array, copy: int) -> pa.Array:
    """A list-of-strings array with each string rotated."""
    lists = lists.cast(pa.large_list(pa.large_string()))
    return pa.LargeListArray.from_arrays(
        lists.offsets, _rotated(lists.values, copy), mask=lists.is_null()
    )


def _id_step(ids: pa.ChunkedArray, copies: int) -> int:
    """What copy k adds k times to numeric ``ids``: a power of ten past their spread that
    keeps every copy's ids as long as the tile's (longer ids would cost more memory a
    post: polars keeps strings of up to 12 bytes inline)."""
    low, high = (int(v.as_py()) for v in pc.min_max(ids.cast(pa.int64())).values())
    digits = len(str(high))
    step = 10 ** (digits - 1)
    if high - low >= step or high + (copies - 1) * step >= 10**digits:
        raise ValueError(f"{copies} copies of ids {low}..{high} do not keep their length")
    return step


def _copy(posts: pa.Table, copy: int, steps: dict[str, int]) -> pa.Table:
    """Copy ``copy`` of the tile's posts: texts, hashtags and URLs rotated, the ids in
    ``steps`` moved by ``copy`` steps."""
    columns = {}
    for name in posts.column_names:
        column = posts.column(name).combine_chunks()
        if name in steps:
            moved = pc.add(column.cast(pa.int64()), copy * steps[name])
            column = moved.cast(column.type)
        elif name == "text":
            column = _rotated(column, copy)
        elif name in ("hashtags", "urls", "mentions"):
            column = _rotated_lists(column, copy)
        columns[name] = column
    return pa.table(columns)


def ensure_tiled(scratch: Path, tile: World, copies: int) -> World:
    """The world of ``copies`` copies of ``tile``, written unless already cached."""
    if copies == 1:
        return World(tile.n_posts, tile.seed, "tiled", tile.posts, tile.truth, None)
    folder = scratch / "worlds" / f"{size_label(tile.n_posts)}x{copies}-seed{tile.seed}-tiled"
    posts, truth, done = folder / "posts.parquet", folder / "truth.parquet", folder / "done"
    n_posts = tile.n_posts * copies
    if done.is_file():
        return World(n_posts, tile.seed, "tiled", posts, truth, None)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tile_file = pq.ParquetFile(tile.posts)
    rows = tile_file.metadata.row_group(0).num_rows  # row groups and codec as the tile's
    codec = tile_file.metadata.row_group(0).column(0).compression.lower()
    source = tile_file.read()
    post_step = _id_step(source.column("post_id"), copies)
    account_step = _id_step(source.column("account_id"), copies)
    posts_named = ("post_id", "repost_of", "reply_to")  # ids of posts, moved alike
    steps = {name: post_step for name in posts_named if name in source.column_names}
    steps["account_id"] = account_step
    schema = _copy(source.slice(0, 0), 0, steps).schema
    with pq.ParquetWriter(posts, schema, compression=codec) as writer:
        for copy in range(copies):
            writer.write_table(_copy(source, copy, steps), row_group_size=rows)
    del source
    tile_truth = pl.read_parquet(tile.truth)
    pl.concat(
        tile_truth.with_columns(
            account_id=(pl.col("account_id").cast(pl.Int64) + copy * account_step).cast(pl.String)
        )
        for copy in range(copies)
    ).write_parquet(truth)
    seconds = round(time.perf_counter() - start, 1)
    done.write_text(f"{seconds}\n")
    return World(n_posts, tile.seed, "tiled", posts, truth, seconds)


def _rounds(
    worlds: list[tuple[int, World]], settings: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Each world scanned once a round under each host reclaim setting, in turn,
    ``--repeats`` rounds: a drift in the machine's speed (the same 10M-post scan took 86 s,
    then 74 s, ten minutes apart) weighs on every world and setting alike, and each round's
    ratios compare scans made minutes apart. Per setting and world: its medians, its
    quality (first round) and the medians over the rounds of its time and stage ratios to
    that round's one-copy scan under the same setting."""
    runs = {s: {copies: {} for copies, _ in worlds} for s in settings}  # by round
    failed: dict[str, dict[int, str]] = {s: {} for s in settings}
    quality: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in settings}
    for round_ in range(args.repeats):
        print(f"round {round_ + 1} of {args.repeats}", flush=True)
        for setting in settings:
            with host_reclaim(setting):
                for copies, world in worlds:
                    if copies in failed[setting]:
                        continue
                    label = f"{size_label(world.n_posts)}-tiled-{setting}-{round_}"
                    out = args.scratch / "runs" / label
                    _read_through(world.posts)
                    reported, paged_out = reported_bytes(), paged_out_bytes()
                    run = run_once("ours", world, out, None, args)
                    if run.pop("status") != "ok":
                        failed[setting][copies] = run["note"]
                        continue
                    if reported is not None:  # the memory handed to the host meanwhile
                        run["reported_mb"] = (reported_bytes() - reported) / 2**20
                    if paged_out is not None:  # the page cache DAMON dropped meanwhile
                        run["paged_out_mb"] = (paged_out_bytes() - paged_out) / 2**20
                    runs[setting][copies][round_] = run
                    if round_ == 0:
                        quality[setting][copies] = quality_of(out, world)
    return [
        entry
        for setting in settings
        for entry in _entries(worlds, runs[setting], failed[setting], quality[setting], setting)
    ]


def _entries(
    worlds: list[tuple[int, World]],
    runs: dict[int, dict[int, dict[str, Any]]],
    failed: dict[int, str],
    quality: dict[int, dict[str, Any]],
    setting: str,
) -> list[dict[str, Any]]:
    """One setting's rows: each world's medians, quality and ratios within the rounds."""
    one = runs[1]
    stages = next(iter(one.values()))["stages"] if one else {}  # the ratios' stages: one copy's
    entries, above = [], None
    for copies, world in worlds:
        head = {"host_reclaim": setting, "copies": copies, "posts": world.n_posts}
        if copies in failed:
            entries.append(head | {"failed": failed[copies]})
            continue
        paired = _paired(runs[copies], one)
        ratios = [run["seconds"] / base["seconds"] for run, base in paired]
        entry = head | {
            **median_of(list(runs[copies].values())),
            "runs": len(runs[copies]),
            "precision": quality[copies]["precision"],
            "recall": quality[copies]["recall"],
            "flagged_accounts": quality[copies]["flagged_accounts"],
            "round_ratios": [round(ratio, 3) for ratio in ratios],
            "time_ratio": _median(ratios),
            "cpu_ratio": _median([run["cpu_s"] / base["cpu_s"] for run, base in paired]),
            "unstalled_ratio": _median(
                [
                    _unstalled(run) / _unstalled(base)
                    for run, base in paired
                    if all(key in r for key in PRESSURE for r in (run, base))
                ]
            ),
            "stage_ratios": {
                name: _median(
                    [r["stages"].get(name, 0.0) / max(b["stages"][name], 1e-3) for r, b in paired]
                )
                for name in stages
            },
        }
        for key in ("reported_mb", "paged_out_mb"):
            values = [run.get(key) for run in runs[copies].values()]
            if values and None not in values:
                entry[key] = round(statistics.median(values), 1)
        if above is not None:
            entry["above_ratio"] = _median(
                [
                    run["seconds"] / base["seconds"]
                    for run, base in _paired(runs[copies], runs[above])
                ]
            )
            # Seconds each copy past the row above's adds, and their ratio to that round's
            # one-copy time: the same down the rows where time grows linearly from one copy
            # on, and 1 where it grows in proportion to posts.
            steps = _paired(runs[copies], runs[above], one)
            added = [
                (run["seconds"] - base["seconds"]) / (copies - above) for run, base, _ in steps
            ]
            entry["added_seconds"] = _median(added)
            entry["added_ratio"] = _median(
                [
                    seconds / first["seconds"]
                    for seconds, (*_, first) in zip(added, steps, strict=True)
                ]
            )
        entries.append(entry)
        above = copies
    return entries


def _read_through(path: Path) -> None:
    """Read the file once, before a scan's clock starts, so that every scan reads its input
    from the page cache: otherwise a one-copy scan after a five-copy one read its input
    back from the disk (the larger scan's spill had evicted it) and an earlier one did not
    (ingest 19.4 and 7.0 s against 3.8 s at 10M posts, at ``bcd7daa``)."""
    with path.open("rb", buffering=0) as file:
        while file.read(READ_THROUGH_BYTES):
            pass


def _paired(
    runs: dict[int, dict[str, Any]], *bases: dict[int, dict[str, Any]]
) -> list[tuple[dict[str, Any], ...]]:
    """Each run with the base runs of its round, in round order, where the round has them
    all."""
    return [
        (run, *(base[round_] for base in bases))
        for round_, run in runs.items()
        if all(round_ in base for base in bases)
    ]


def _unstalled(run: dict[str, Any]) -> float:
    """A scan's seconds less those in which the machine stood waiting on the disk or on
    memory (:data:`benchmarks.worker.PRESSURE`)."""
    return run["seconds"] - sum(run[key] for key in PRESSURE)


def _lines(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per setting with three worlds or more, the least-squares line through each world's
    median seconds against its copies: the seconds a copy adds, the line's seconds at no
    copy, and the largest gap between a world's time and the line, as a share of that
    time. Time grows linearly where the gaps are within the runs' spread."""
    lines = {}
    for setting in dict.fromkeys(r["host_reclaim"] for r in runs):
        points = [(r["copies"], r.get("seconds")) for r in runs if r["host_reclaim"] == setting]
        points = [(c, t) for c, t in points if t is not None]
        if len(points) < 3:
            continue
        copies, seconds = (np.array(p, float) for p in zip(*points, strict=True))
        slope, intercept = np.polyfit(copies, seconds, 1)
        gaps = np.abs(seconds - (intercept + slope * copies)) / seconds
        lines[setting] = {
            "seconds_per_copy": round(float(slope), 2),
            "seconds_at_none": round(float(intercept), 2),
            "largest_gap_share": round(float(gaps.max()), 4),
        }
    return lines


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tile", default="10m", help="posts of the plain world copied")
    parser.add_argument("--copies", default="1,5", help="copies in each world scanned")
    parser.add_argument("--seed", type=int, default=7, help="the tile world's seed")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the worlds")
    parser.add_argument(
        "--host-reclaim",
        default="as-is",
        help="comma-separated: as-is (the machine's free page reporting and DAMON reclaim) "
        "and/or off (neither; needs root; put back after each round's scans)",
    )
    parser.add_argument("--memory-limit-gb", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scratch", type=Path, default=Path("scratch"))
    parser.add_argument("--out", type=Path, default=HERE, help="folder for tiles.json")
    args = parser.parse_args(argv)
    copies = [int(c) for c in args.copies.split(",")]
    if 1 not in copies:
        parser.error("--copies must include 1: the ratios are taken against one copy")
    settings = args.host_reclaim.split(",")
    if not set(settings) <= set(SETTINGS):
        parser.error(f"--host-reclaim: {', '.join(SETTINGS)}")
    command = "python -m benchmarks.tiles " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)  # before the scans, not after them

    tile = ensure_world(args.scratch, parse_size(args.tile), args.seed, "plain")
    worlds = [(c, ensure_tiled(args.scratch, tile, c)) for c in copies]
    run_module(  # fill the numba cache before anything is timed
        "benchmarks.worker",
        ["ours", "--posts", str(tile.posts), "--out", str(args.scratch / "runs" / "warmup")],
        None,
        args.scratch / "warmup.log",
    )
    runs = _rounds(worlds, settings, args)
    figures = {
        "command": command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": head_commit(),
        "tile_posts": tile.n_posts,
        "host_reclaim": {
            "page_reporting": reports_free_memory(),
            "damon_pageout": bool(paging_out()),
        },
        "runs": runs,
        "lines": _lines(runs),
    }
    (args.out / "tiles.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out / 'tiles.json'}")


if __name__ == "__main__":
    main()
