"""Each kept post's raw text, for the rows the tables quote (examples, groups, edges).

The stages read only the normalised texts' sketches, so the raw texts wait from reading to
the tables. A CSV or JSONL dump's wait in the scan's store (on disk past its memory
budget). A Parquet file holds them already: its posts keep their record number instead,
and the quoted rows' texts are read back from the file's text column at the report, the
row groups holding them a thread a core. At 50M posts the raw texts were 10.6 GB of the
25 GB a scan spilled; without them the scan read 2.3 GiB of its spill back from the disk
instead of 12.1 (the rest stayed in the page cache), and at 10M it took 55.8-59.0 s
against 64.6-70.5 s (benchmarks/README.md). Reading the quoted texts back costs a decode
of the row groups holding them: at 10M the groups' examples lie in every row group, and
the whole text column decodes in about 1.5 s on one thread.

A file is checked to be unchanged (size and modification time) before its texts are read
back, so a file rewritten during the scan is an error, not wrong examples.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from detector.config import ScanConfig
from detector.errors import DataError
from detector.ingest import Batch, file_format
from detector.sorting import stable_argsort
from detector.spill import BatchStore

READ_ROWS = 1 << 16  # a text column is read back this many rows at a time


@dataclass(frozen=True)
class ParquetTexts:
    """The text column ``column`` of one Parquet file, as it was when the scan read it
    (``stamp``: size and modification time), with its row groups' first rows."""

    path: str
    column: str
    stamp: tuple[int, int]
    metadata: pq.FileMetaData
    starts: np.ndarray  # each row group's first row, then the number of rows

    @classmethod
    def of(cls, path: str, config: ScanConfig) -> ParquetTexts | None:
        """The file's text column; None when ``path`` is no Parquet file or has none."""
        if file_format(Path(path)) != "parquet":
            return None
        stamp = _stamp(path)
        metadata = pq.read_metadata(path)
        column = config.column("text")
        if column not in metadata.schema.to_arrow_schema().names:
            return None
        sizes = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
        return cls(path, column, stamp, metadata, np.concatenate([[0], np.cumsum(sizes)]))

    def read(self, records: np.ndarray) -> pl.Series:
        """The texts of ``records`` (1-based record numbers, ascending), as the scan read
        them: a null is ``""``, binary is UTF-8 (the scan rejected what was not)."""
        if _stamp(self.path) != self.stamp:
            raise DataError(
                "changed while the scan ran; its posts' texts cannot be read back",
                file=self.path,
            )
        rows = records - 1
        runs = _runs(np.searchsorted(self.starts, rows, side="right") - 1, rows)
        with ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, len(runs)))) as pool:
            parts = list(pool.map(lambda run: self._read_group(*run), runs))
        return pl.concat(parts) if parts else pl.Series("text", [], pl.String)

    def _read_group(self, group: int, rows: np.ndarray) -> pl.Series:
        """Row group ``group``'s texts at ``rows`` (file rows, ascending), read
        :data:`READ_ROWS` at a time, so that a large group is never held whole."""
        file = pq.ParquetFile(self.path, metadata=self.metadata)
        start, parts = int(self.starts[group]), []
        for batch in file.iter_batches(
            READ_ROWS, row_groups=[group], columns=[self.column], use_threads=False
        ):
            low, high = np.searchsorted(rows, [start, start + batch.num_rows])
            if high > low:
                parts.append(_as_text(batch.column(0).take(pa.array(rows[low:high] - start))))
            start += batch.num_rows
            if high == rows.size:
                break
        return pl.concat(parts)


class RawTexts:
    """Where each post of ``store`` finds its raw text, batch by batch: in the store's
    ``text`` column, or in its Parquet file at the store's ``record`` column. Called with
    rows of the store (any order, repeats allowed), gives their texts."""

    def __init__(self, store: BatchStore, config: ScanConfig) -> None:
        self.store, self.config = store, config
        self.files: dict[str, int] = {}  # each file's place in ``readers``, -1 for none
        self.readers: list[ParquetTexts] = []
        self.reader_of_batch: list[int] = []  # per batch of the store

    def keep(self, batch: Batch, kept: pl.DataFrame) -> pl.DataFrame:
        """``kept`` (``batch``'s posts as the store is to hold them), the text replaced by
        the record number where the file can give the text back."""
        if batch.file not in self.files:
            reader = ParquetTexts.of(batch.file, self.config)
            self.files[batch.file] = -1 if reader is None else len(self.readers)
            self.readers += [reader] if reader else []
        self.reader_of_batch.append(self.files[batch.file])
        if self.files[batch.file] < 0:
            return kept
        return kept.drop("text").with_columns(record=pl.Series(batch.post_rows, dtype=pl.Int64))

    def __call__(self, rows: np.ndarray) -> pl.Series:
        rows = np.asarray(rows, np.int64)
        batch = np.searchsorted(self.store.offsets, rows, side="right") - 1
        reader = np.array(self.reader_of_batch, np.int64)[batch]
        parts, places = [], []
        for number, place in _runs(reader, np.arange(rows.size)):
            if number < 0:
                parts.append(self.store.gather("text", rows[place]))
            else:
                records = self.store.gather("record", rows[place]).to_numpy()
                order = stable_argsort(records)
                parts.append(self.readers[number].read(records[order]))
                place = place[order]
            places.append(place)
        if not parts:
            return pl.Series("text", [], pl.String)
        back = np.empty(rows.size, np.int64)  # each row's place among the parts' values
        back[np.concatenate(places)] = np.arange(rows.size)
        return pl.concat(parts).gather(back).alias("text")


def _runs(keys: np.ndarray, values: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``values`` split by their ``keys`` (ascending keys; each part in its first order)."""
    if not keys.size:
        return []
    order = stable_argsort(keys)
    ordered = keys[order]
    bounds = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1), ordered.size]
    return [(int(ordered[lo]), values[order[lo:hi]]) for lo, hi in pairwise(bounds)]


def _as_text(values: pa.Array) -> pl.Series:
    """A text column's values as the scan typed them (binary read as UTF-8), null ``""``."""
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        values = values.cast(pa.large_string())
    return pl.Series("text", values).cast(pl.String).fill_null("")


def _stamp(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns
