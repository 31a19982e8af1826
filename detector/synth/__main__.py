"""``python -m detector.synth --posts N --seed S --out DIR [--format csv.gz] [--traces]``:
generate a world (with ``--traces`` the co-sharing trace world) and write
``posts.<format>`` and ``truth.csv`` into DIR."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from detector.synth.output import FORMATS, write_world
from detector.synth.traces import generate_trace_world
from detector.synth.world import generate_world


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, generate, write, and print a one-line summary."""
    parser = argparse.ArgumentParser(prog="python -m detector.synth", description=__doc__)
    parser.add_argument("--posts", type=int, required=True, help="number of posts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="csv.gz")
    parser.add_argument("--seeds-dir", type=Path, default=None, help="scenario TOML folder")
    parser.add_argument("--no-evasion", action="store_true", help="leave out evasion tricks")
    parser.add_argument(
        "--traces",
        action="store_true",
        help="the trace world (repost/link/hashtag networks beside fandoms, viral posts, "
        "trending hashtags and default texts) instead of the Xiaomi scenarios",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.traces:
        posts, truth = generate_trace_world(args.posts, args.seed, args.seeds_dir)
    else:
        posts, truth = generate_world(args.posts, args.seed, args.seeds_dir, not args.no_evasion)
    generated = time.perf_counter() - start
    paths = write_world(posts, truth, args.out, args.format)
    print(
        f"{posts.height} posts, {truth.height} accounts: generated in {generated:.1f}s, "
        f"written in {time.perf_counter() - start - generated:.1f}s to {paths['posts']}"
    )


if __name__ == "__main__":
    main()
