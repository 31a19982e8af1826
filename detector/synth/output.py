"""Write a world to disk in the formats the detector reads, byte-identically for the same
frames (gzip without timestamp, fixed column order and time format)."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path
from typing import BinaryIO

import polars as pl

FORMATS = ("csv", "csv.gz", "jsonl", "jsonl.gz", "parquet")
ISO = "%Y-%m-%dT%H:%M:%SZ"
CHUNK = 500_000  # rows converted and written at a time


def _text_columns(posts: pl.DataFrame, flat_lists: bool) -> pl.DataFrame:
    """Times as ISO 8601 UTC strings; lists space-separated when ``flat_lists``."""
    out = posts.with_columns(pl.col("created_at", "account_created_at").dt.strftime(ISO))
    if flat_lists:
        out = out.with_columns(pl.col("urls", "hashtags").list.join(" "))
    return out


def _write_text(posts: pl.DataFrame, path: Path, csv: bool, compress: bool) -> None:
    """CSV or JSON lines, written CHUNK rows at a time so memory stays bounded."""
    with contextlib.ExitStack() as stack:
        handle: BinaryIO = stack.enter_context(path.open("wb"))
        if compress:
            handle = stack.enter_context(
                gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=6)
            )
        for start in range(0, max(posts.height, 1), CHUNK):
            chunk = _text_columns(posts.slice(start, CHUNK), flat_lists=csv)
            if csv:
                chunk.write_csv(handle, include_header=start == 0)
            else:
                chunk.write_ndjson(handle)


def write_world(
    posts: pl.DataFrame, truth: pl.DataFrame, out_dir: Path, fmt: str = "csv.gz"
) -> dict[str, Path]:
    """Write ``posts.<fmt>`` and ``truth.csv`` into ``out_dir``; returns their paths by
    name ("posts", "truth"). In CSV, urls and hashtags are space-separated."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    posts_path = out_dir / f"posts.{fmt}"
    if fmt == "parquet":
        posts.write_parquet(posts_path, compression="zstd")
    else:
        _write_text(posts, posts_path, fmt.startswith("csv"), fmt.endswith(".gz"))
    truth_path = out_dir / "truth.csv"
    truth.write_csv(truth_path)
    return {"posts": posts_path, "truth": truth_path}
