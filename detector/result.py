"""The outcome of a scan: its tables as polars DataFrames (or, for those with a row per
input row, posts and rejects, as Parquet parts on disk), written to and read from a folder."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from detector.errors import InputError, OutputError, writing_to
from detector.schema import TABLES

FORMATS = ("parquet", "csv")
TRIAGE_FILES = ("report.html", "flagged_graph.graphml", "flagged_graph.gexf", "enforcement.csv")
# Every file a scan folder may hold: the tables, the summary and what detector.triage adds.
SCAN_FILES = frozenset(
    {f"{name}.{fmt}" for name in TABLES for fmt in FORMATS} | {"summary.json", *TRIAGE_FILES}
)


@dataclass(frozen=True)
class TableParts:
    """Table ``name`` (see :mod:`detector.schema`) kept as Parquet parts in ``folder``
    (``*.parquet``, whose names sort in row order) rather than in memory: the posts and
    rejects of a scan on Spark, as its executors wrote them."""

    folder: Path
    name: str

    @classmethod
    def temporary(cls, name: str, within: str | None = None) -> TableParts:
        """Where to write table ``name``'s parts: a folder not made yet, in a new
        temporary folder (in ``within``, else the system's) deleted with this object."""
        folder = Path(tempfile.mkdtemp(prefix=f"detector-{name}-", dir=within))
        table = cls(folder / name, name)
        weakref.finalize(table, shutil.rmtree, folder, True)
        return table

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.parquet"))

    def lazy(self) -> pl.LazyFrame:
        files = self.files()
        return pl.scan_parquet(files) if files else pl.LazyFrame(schema=TABLES[self.name])

    def collect(self) -> pl.DataFrame:
        """The whole table in memory."""
        return self.lazy().collect()


@dataclass
class ScanResult:
    """Tables of one scan (see :mod:`detector.schema`) and its ``summary`` dictionary.
    ``posts`` and ``rejects`` are frames, or :class:`TableParts` where a Spark scan's
    executors wrote them: read them through :meth:`lazy`."""

    accounts: pl.DataFrame
    clusters: pl.DataFrame
    posts: pl.DataFrame | TableParts
    groups: pl.DataFrame
    edges: pl.DataFrame
    rejects: pl.DataFrame | TableParts
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged_accounts(self) -> pl.DataFrame:
        return self.accounts.filter(pl.col("flagged"))

    def lazy(self, name: str) -> pl.LazyFrame:
        """Table ``name`` as a lazy frame: filter before collecting, so a table held as
        parts is read only for the rows and columns wanted."""
        table: pl.DataFrame | TableParts = getattr(self, name)
        return table.lazy()

    def save(self, out_dir: str | Path, fmt: str = "parquet") -> dict[str, Path]:
        """Write every table and ``summary.json`` as the folder ``out_dir``, which appears
        (or replaces an earlier scan folder) only once all are written; returns the paths."""
        with replacing(out_dir) as partial:
            written = self.write(partial, fmt)
        return {name: Path(out_dir) / path.name for name, path in written.items()}

    def write(self, out_dir: str | Path, fmt: str = "parquet") -> dict[str, Path]:
        """Write every table and ``summary.json`` into the folder ``out_dir`` as it is (see
        :meth:`save` for a folder that is complete or absent); returns the paths."""
        if fmt not in FORMATS:
            raise OutputError(f"unknown output format {fmt!r}; choose one of {FORMATS}")
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            paths: dict[str, Path] = {}
            for name in TABLES:
                paths[name] = _write_table(getattr(self, name), out / f"{name}.{fmt}", fmt)
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
        tables = {name: _table_of(out, name) for name in TABLES}
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        return cls(**tables, summary=summary)


def _table_of(out: Path, name: str) -> pl.DataFrame | TableParts:
    """Table ``name`` of a scan folder; a folder of Parquet parts is left on disk."""
    parts = out / f"{name}.parquet"
    return TableParts(parts, name) if parts.is_dir() else load_table(out, name)


def load_table(out_dir: str | Path, name: str) -> pl.DataFrame:
    """One table of a folder written by :meth:`ScanResult.save` (Parquet, a file or a
    folder of parts, or CSV)."""
    out = Path(out_dir)
    if not (out / "summary.json").is_file():
        raise InputError("not a scan output folder (no summary.json)", file=str(out))
    parquet, csv = out / f"{name}.parquet", out / f"{name}.csv"
    if parquet.is_file():
        return pl.read_parquet(parquet)
    if parquet.is_dir():
        return TableParts(parquet, name).collect()
    if csv.is_file():
        return _json_as_lists(pl.read_csv(csv, infer_schema=False), TABLES[name])
    raise InputError(f"missing table {name}", file=str(out))


@contextmanager
def replacing(out_dir: str | Path) -> Iterator[Path]:
    """An empty temporary sibling folder to write results into, renamed to ``out_dir`` when
    the block ends, so ``out_dir`` is never half-written: an earlier scan folder there is
    renamed aside and deleted, a folder holding anything else is refused (OutputError, at
    the start and again before the swap). On an error or Ctrl-C the temporary folder is
    deleted and ``out_dir`` left as it was."""
    out = Path(os.path.abspath(out_dir))
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")
    try:
        with writing_to(out, "cannot write results"):
            _check_replaceable(out)
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
        yield partial
        with writing_to(out, "cannot write results"):
            _check_replaceable(out)
            _swap(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
    """Refuse an ``out`` that is a file, or a folder holding files a scan does not write
    (hidden files such as a file browser's ``.DS_Store`` do not count)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError("exists and is not a folder", file=str(out))
    foreign = sorted(
        p.name for p in out.iterdir() if p.name not in SCAN_FILES and not p.name.startswith(".")
    )
    if foreign:
        raise OutputError(
            f"holds {foreign[0]!r}, which a scan does not write: use a new or empty folder, "
            "or one an earlier scan wrote",
            file=str(out),
        )


def _swap(partial: Path, out: Path) -> None:
    """Rename ``partial`` to ``out``; an existing ``out`` is renamed aside first (and back
    if the swap fails), then deleted."""
    if not out.exists():
        partial.rename(out)
        return
    old = out.with_name(f"{out.name}.old-{os.getpid()}")
    out.rename(old)
    try:
        partial.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_table(table: pl.DataFrame | TableParts, path: Path, fmt: str) -> Path:
    """``table`` as ``path``: a frame as one file; parts as a folder of the same Parquet
    parts, or streamed into one CSV file."""
    if isinstance(table, TableParts):
        if fmt == "parquet":
            path.mkdir()
            for part in table.files():
                shutil.copyfile(part, path / part.name)
        else:
            table.lazy().sink_csv(path)
    elif fmt == "parquet":
        # zstd's fastest level: the 10M-post posts table in 1.55 s against 2.2 s at the
        # default level, 103 MB against 104. Tables with lists go through pyarrow's writer:
        # polars' grows faster than the rows there (edges of 669k rows in 0.4 s, of 3.3M
        # rows in 13 s), and pyarrow's dictionary-encodes the repeated objects (22 MB
        # against 151); polars' is the faster on the other tables (posts 1.8 s against 2.9).
        has_lists = any(isinstance(dtype, pl.List) for dtype in table.schema.values())
        table.write_parquet(
            path,
            statistics=False,
            compression="zstd",
            compression_level=1,
            use_pyarrow=has_lists,
        )
    else:
        _lists_as_json(table).write_csv(path)
    return path


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
