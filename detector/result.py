"""The outcome of a scan: its tables as polars DataFrames, written to and read from a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from detector.errors import InputError, OutputError
from detector.schema import TABLES

FORMATS = ("parquet", "csv")


@dataclass
class ScanResult:
    """Tables of one scan (see :mod:`detector.schema`) and its ``summary`` dictionary."""

    accounts: pl.DataFrame
    clusters: pl.DataFrame
    posts: pl.DataFrame
    groups: pl.DataFrame
    edges: pl.DataFrame
    rejects: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged_accounts(self) -> pl.DataFrame:
        return self.accounts.filter(pl.col("flagged"))

    def pair_links(self, edges: pl.DataFrame | None = None) -> pl.DataFrame:
        """``edges`` (default: all written) with one row per account pair: weight and
        shared objects summed over traces, ``traces`` the traces that link the pair."""
        edges = self.edges if edges is None else edges
        return (
            edges.sort("source", "target", "trace")
            .group_by("source", "target", "cluster_id", maintain_order=True)
            .agg(
                pl.col("weight").sum(),
                pl.col("shared").sum(),
                traces=pl.col("trace").str.join(","),
            )
        )

    def save(self, out_dir: str | Path, fmt: str = "parquet") -> dict[str, Path]:
        """Write every table and ``summary.json`` into ``out_dir``; returns the paths."""
        if fmt not in FORMATS:
            raise OutputError(f"unknown output format {fmt!r}; choose one of {FORMATS}")
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            paths: dict[str, Path] = {}
            for name in TABLES:
                frame: pl.DataFrame = getattr(self, name)
                path = out / f"{name}.{fmt}"
                if fmt == "parquet":
                    frame.write_parquet(path, statistics=False)
                else:
                    _lists_as_json(frame).write_csv(path)
                paths[name] = path
            paths["summary"] = out / "summary.json"
            paths["summary"].write_text(
                json.dumps(self.summary, indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8",
            )
        except OSError as exc:
            raise OutputError(
                f"cannot write results: {exc.strerror or exc}", file=str(out)
            ) from None
        return paths

    @classmethod
    def load(cls, out_dir: str | Path) -> ScanResult:
        """Read a folder written by :meth:`save` (Parquet or CSV)."""
        out = Path(out_dir)
        summary_path = out / "summary.json"
        if not summary_path.is_file():
            raise InputError("not a scan output folder (no summary.json)", file=str(out))
        tables: dict[str, pl.DataFrame] = {}
        for name, schema in TABLES.items():
            parquet, csv = out / f"{name}.parquet", out / f"{name}.csv"
            if parquet.is_file():
                tables[name] = pl.read_parquet(parquet)
            elif csv.is_file():
                tables[name] = _json_as_lists(pl.read_csv(csv, infer_schema=False), schema)
            else:
                raise InputError(f"missing table {name}", file=str(out))
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        return cls(**tables, summary=summary)


def _lists_as_json(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV cannot hold lists: write them as JSON arrays."""
    return frame.with_columns(
        pl.col(name).map_elements(
            lambda items: json.dumps(list(items), ensure_ascii=False), return_dtype=pl.String
        )
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    )


def _json_as_lists(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Undo :func:`_lists_as_json` and restore the schema's types."""
    columns = []
    for name, dtype in schema.items():
        if isinstance(dtype, pl.List):
            columns.append(pl.col(name).str.json_decode(dtype))
        elif dtype == pl.Boolean:
            columns.append((pl.col(name) == "true").alias(name))
        elif isinstance(dtype, pl.Datetime):
            columns.append(pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC"))
        else:
            columns.append(pl.col(name).cast(dtype))
    return frame.select(columns)
