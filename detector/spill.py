"""The posts a scan keeps between reading and reporting, in memory up to a budget and in
Arrow IPC files on disk past it.

A scan holds each accepted post's compact columns (ids, numbers, time, trace objects, and
the raw text, or for a Parquet file the record number it is read back from:
:mod:`detector.rawtexts`) from the batch that read it until the tables are written.
:class:`BatchStore` keeps them batch by batch; once the batches it holds pass ``limit``
bytes it writes them, and every later batch, to uncompressed Arrow IPC files in a temporary
folder (written by a background thread while the scan goes on, one batch at a time), so what
stays in memory no longer grows with the dump. A batch is written a file per column, and
columns are read back one at a time when a stage needs them: reading one reads that column's
bytes and not, through the system's read-ahead, the raw texts beside it (at 50M posts
reading the compact columns back read 8.2 GB from disk with the texts beside them, 1.2-1.5
GB without). The raw texts are read only at the few rows the tables quote (memory-mapped).
The texts' LSH sketches count against the same budget: once it is passed, the scan moves
them there too, low bytes in one file (:class:`AppendedRows`: read back whole for LSH, which
reads nearly every page, memory-mapped elsewhere) and band keys read back a few bands at a
time (:meth:`BatchStore.spill_rows`), and the posts' columns wait there while the account
graph and clusters are built (:meth:`BatchStore.park`). The account graph's edges, made a
batch of source accounts at a time, go there too once they pass the budget (written behind,
as the batches are), and come back memory-mapped (:func:`join_columns`). Files read for the
last time are deleted behind the scan as it goes (:meth:`BatchStore.discard`). The folder is
made only when something is spilled and is removed when the scan ends, however it ends
(success, error, Ctrl-C). A scan killed outright (out of memory, ``kill -9``) cannot remove
its own; the folder's name carries the host and process, and the next scan spilling to the
same parent removes those of this host whose process is gone.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache, partial
from itertools import pairwise
from pathlib import Path

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from detector.errors import OutputError, writing_to
from detector.sorting import stable_argsort
from detector.threads import in_ranges

MEMORY_FRACTION = 1 / 32  # default --memory-limit: this share of the machine's memory
FALLBACK_MEMORY = 16 << 30  # the machine's memory where the system does not say
READ_BLOCK = 64 << 20  # read_file gives its threads whole blocks of this many bytes
SPARSE_BYTES = 64 << 10  # BatchStore gathers rows this far apart at random, not read ahead


def _done() -> None:
    """Nothing to wait for."""


class RowsOnDisk:
    """A 2-D array in a file, read back a block of rows at a time by plain reads: unlike
    a memory map, no page of it stays resident once the block read is dropped.
    ``written`` waits until the file is written (it may be written behind)."""

    def __init__(
        self,
        path: Path,
        shape: tuple[int, int],
        dtype: np.dtype,
        written: Callable[[], None] = _done,
    ) -> None:
        self.path, self.shape, self.dtype, self.written = path, shape, np.dtype(dtype), written

    def __getitem__(self, rows: slice) -> np.ndarray:
        self.written()
        start, stop, _ = rows.indices(self.shape[0])
        width = self.shape[1]
        count = max(stop - start, 0) * width
        offset = start * width * self.dtype.itemsize
        return np.fromfile(self.path, self.dtype, count, offset=offset).reshape(-1, width)


class AppendedRows:
    """An array built a block of rows at a time: held in memory until :meth:`spill` moves
    it, and every block appended later, to one file in a store's folder. A kernel then
    reads it as one array (:meth:`array`), not as a list of blocks."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.rows = 0
        self.store: BatchStore | None = None
        self.path: Path | None = None
        self._written: Callable[[], None] = _done  # waits for the blocks being written

    def append(self, block: np.ndarray) -> None:
        """Add ``block``'s rows after those appended so far (same row shape and type)."""
        self.blocks.append(block)
        self.rows += block.shape[0]
        if self.store is not None:
            self.spill(self.store)

    def resident_bytes(self) -> int:
        """Bytes held in memory."""
        return sum(block.nbytes for block in self.blocks)

    def spill(self, store: BatchStore) -> None:
        """Move the rows held in memory, and from now on every block appended, to a file in
        ``store``'s folder, written by its background thread while the scan goes on: the
        blocks of one spill at most wait to be written (a scan making 5 GB of graph edges
        waited 7 s for the disk when it wrote them itself)."""
        if self.path is None:
            self.store, self.path = store, store.beside_path("rows", ".bin")
        blocks = self.blocks
        self.blocks = [np.empty((0, *b.shape[1:]), b.dtype) for b in blocks[:1]]  # the type
        store.spilled_bytes += sum(block.nbytes for block in blocks)
        self._written()
        self._written = store._submit(self.path, partial(_append_blocks, blocks))

    def array(self, *, in_memory: bool = False) -> np.ndarray:
        """Every row as one array: from the file mapped copy-on-write (numba's kernels take
        it as an array in memory; the kernel can drop its pages and read them again), or
        the blocks joined in memory, each freed once copied. The map is read ahead in file
        order: kernels probe it at random, and pages evicted since they were written (a
        large scan spills more than the page cache holds) are better read back in order
        now than one random read at a time. ``in_memory`` reads the file into memory
        instead (:func:`read_file`), for a kernel that will read nearly every page at
        random: memory the system can give large pages, where a map's small pages each cost
        a lookup of their own."""
        if not self.blocks:
            return np.zeros((0, 0), np.uint8)
        shape, dtype = self.blocks[0].shape[1:], self.blocks[0].dtype
        self._written()
        if self.path is not None and self.rows and in_memory:
            return read_file(self.path, dtype).reshape(self.rows, *shape)
        if self.path is not None and self.rows:
            with open(self.path, "rb") as file:
                mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
            if hasattr(mmap, "MADV_WILLNEED"):  # not on Windows
                mapped.madvise(mmap.MADV_WILLNEED)
            return np.frombuffer(mapped, dtype).reshape(self.rows, *shape)
        if len(self.blocks) == 1:
            return self.blocks[0]
        whole = np.empty((self.rows, *shape), dtype)
        filled = 0
        while self.blocks:
            block = self.blocks.pop(0)
            whole[filled : filled + block.shape[0]] = block
            filled += block.shape[0]
        self.blocks = [whole]
        return whole


def read_file(path: Path, dtype: np.dtype) -> np.ndarray:
    """The whole file as a 1-D array of ``dtype``, read into memory by
    ``numba.get_num_threads()`` threads, a range of :data:`READ_BLOCK` blocks each.
    Putting fresh pages under an array costs the system more than copying into them (on
    the benchmark machine, a virtual one, 4.6 GB read by one thread took 11.0-12.5 s, by
    two 6.2-6.9 s); the threads share it."""
    array = np.empty(os.path.getsize(path) // np.dtype(dtype).itemsize, dtype)
    into = array.view(np.uint8)

    def read(first: int, stop: int) -> None:
        with open(path, "rb", buffering=0) as file:
            file.seek(first * READ_BLOCK)
            view = memoryview(into[first * READ_BLOCK : stop * READ_BLOCK])
            done = 0
            while done < len(view):
                got = file.readinto(view[done:])
                if not got:
                    raise OSError(f"{path}: ended before its {into.size} bytes")
                done += got

    in_ranges(read, -(-into.size // READ_BLOCK))
    return array


def _append_blocks(blocks: list[np.ndarray], path: Path) -> None:
    with open(path, "ab") as out:
        for block in blocks:
            np.ascontiguousarray(block).tofile(out)


def join_columns(
    parts: Iterable[Sequence[np.ndarray]], store: BatchStore | None = None
) -> list[np.ndarray]:
    """Columns made a block of rows at a time (``parts``: one block of every column each),
    each as one array: joined in memory, or, once the blocks held pass ``store``'s budget,
    spilled to its folder with every later block and mapped back (:meth:`AppendedRows.array`),
    so that a result larger than memory is held by the page cache, not by the scan."""
    columns: list[AppendedRows] = []
    for part in parts:
        columns = columns or [AppendedRows() for _ in part]
        for column, block in zip(columns, part, strict=True):
            column.append(block)
        spilling = store is not None and columns[0].store is None
        if spilling and sum(c.resident_bytes() for c in columns) > store.limit:
            for column in columns:
                column.spill(store)
    return [column.array() for column in columns]


def mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory-mapped file (on disk already)."""
    base = array.base
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base.obj if isinstance(base, memoryview) else base, mmap.mmap)


def machine_memory() -> int:
    """Physical memory of this machine in bytes (:data:`FALLBACK_MEMORY` if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY


def release_freed_memory() -> None:
    """Hand the heap memory freed so far back to the system: glibc's (``malloc_trim``,
    nothing where the C library is another) and pyarrow's pool's. A stage ends by dropping
    arrays of millions of rows, whose pages the allocators would otherwise keep for later
    allocations: the next stage's peak then stood on the last one's (at 10M posts pyarrow's
    pool alone kept 1.2 GiB after the read)."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)
    pa.default_memory_pool().release_unused()


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library's symbols as the running interpreter links them (no search with
    ``ctypes.util.find_library``, which starts subprocesses)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def default_memory_limit() -> int:
    """The budget of a scan given none: :data:`MEMORY_FRACTION` of the machine's memory."""
    return int(machine_memory() * MEMORY_FRACTION)


class BatchStore:
    """Frames appended batch by batch, held in memory until their estimated
    size passes ``limit`` bytes, then written (with every later batch) to Arrow IPC files
    in a folder made under ``parent`` (default: the system's temporary folder). Rows are
    numbered across batches in the order appended."""

    def __init__(self, limit: int, parent: str | Path | None = None) -> None:
        if parent is not None and not Path(parent).is_dir():
            raise OutputError("spill folder does not exist or is not a folder", file=str(parent))
        self.limit = limit
        self.parent = parent
        self.folder: Path | None = None
        self.held: list[pl.DataFrame] = []
        self.files: list[dict[str, Path]] = []  # per spilled batch, each column's file
        self.schemas: list[pl.Schema] = []
        self.held_bytes = 0
        self.spilled_bytes = 0
        self.beside = 0  # files spilled beside the batches: arrays, parked frames
        self._writer: ThreadPoolExecutor | None = None  # writes batches and parked values
        self._writer_name = f"spill-{id(self):x}"  # its thread's name, this store's own
        self._batch_written: Callable[[], None] = _done  # waits for the batch being written
        self.offsets = [0]

    @property
    def rows(self) -> int:
        return self.offsets[-1]

    @property
    def spilled(self) -> bool:
        return bool(self.files)

    def spills(self, frame: pl.DataFrame, elsewhere: int = 0) -> bool:
        """Whether appending ``frame`` writes to disk, ``elsewhere`` bytes of the budget
        being held outside the store (the sketches' low bytes)."""
        return self.spilled or self.held_bytes + frame.estimated_size() + elsewhere > self.limit

    def append(self, frame: pl.DataFrame, elsewhere: int = 0) -> None:
        """Keep one batch; spill everything held once the held batches, with ``elsewhere``
        bytes held outside the store, pass the budget."""
        self.offsets.append(self.offsets[-1] + frame.height)
        self.schemas.append(frame.schema)
        spill = self.spills(frame, elsewhere)
        self.held.append(frame)
        self.held_bytes += frame.estimated_size()
        if spill:
            self._spill()

    def names(self) -> list[str]:
        """The columns of any batch, in the order first seen."""
        return list(dict.fromkeys(name for schema in self.schemas for name in schema))

    def column(self, name: str) -> pl.Series:
        """One column over every batch in row order; null in batches without it."""
        dtype = next(s[name] for s in self.schemas if name in s)
        parts = [
            self._read(b, name)
            if name in schema
            else pl.repeat(None, int(height), dtype=dtype, eager=True)
            for b, (schema, height) in enumerate(
                zip(self.schemas, np.diff(self.offsets), strict=True)
            )
        ]
        return pl.concat(parts, rechunk=False).alias(name) if parts else pl.Series(name, [], dtype)

    def pop(self, names: list[str]) -> pl.DataFrame:
        """The named columns over every batch, each in one chunk, no longer held by the
        store (in memory or on disk). One chunk, because polars' ``select`` and ``drop``
        copy every column of a frame whose columns are chunked unlike (as these and
        columns computed whole would be); a column a thread (:func:`each_in_threads`), so
        that no more columns than threads are ever held twice."""
        columns = []
        for name, column in zip(
            names, each_in_threads(lambda name: self.column(name).rechunk(), names), strict=True
        ):
            columns.append(column)
            self.held = [batch.drop(name, strict=False) for batch in self.held]
            self.discard(files[name] for files in self.files if name in files)
        return pl.DataFrame(columns)

    def settle(self) -> None:
        """Wait until the background thread has written and deleted what it was given."""
        if self._writer is not None:
            self._writer.submit(_done).result()

    def discard(self, paths: Iterable[Path]) -> None:
        """Delete spilled files that will not be read again, in the background thread:
        deleting a file drops its pages from the page cache, which took 3.5 s at the end
        of a 10M-post scan when the whole folder went at once."""
        for path in paths:
            self._submit(path, partial(Path.unlink, missing_ok=True))

    def _read(self, batch: int, name: str) -> pl.Series:
        if self.files:
            self._batches_written()
            return pl.read_ipc(self.files[batch][name])[name]
        return self.held[batch][name]

    def _take(self, batch: int, name: str, rows: np.ndarray) -> pl.Series:
        """Column ``name`` of one batch at ``rows`` (ascending). A spilled batch is
        memory-mapped and each of its record batches taken from on its own, so that only
        the pages holding those rows are read: a take over the file's chunked column joins
        the chunks first, reading all of it. Where the rows are sparse (fewer than one per
        :data:`SPARSE_BYTES` of the file), the map is read at random, not ahead: the
        system's read-ahead (8 MB on the benchmark machine) reads the whole file for a few
        rows (200 rows of a 1M-row batch's texts: 1.8 MB and 0.44 s read, against 164 MB
        and 0.9-1.4 s; at 10,000 rows, 1.7 s at random, against 0.9-1.4 s for the whole file)."""
        if not self.files:
            return self.held[batch][name].gather(rows)
        self._batches_written()
        with open(self.files[batch][name], "rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if rows.size * SPARSE_BYTES < len(mapped) and hasattr(mmap, "MADV_RANDOM"):
            mapped.madvise(mmap.MADV_RANDOM)
        reader = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(mapped)))
        parts, start = [], 0
        for index in range(reader.num_record_batches):
            part = reader.get_batch(index)
            low, high = np.searchsorted(rows, [start, start + part.num_rows])
            if high > low:
                parts.append(part.column(name).take(pa.array(rows[low:high] - start)))
            start += part.num_rows
        return pl.Series(name, pa.chunked_array(parts, reader.schema.field(name).type))

    def gather(self, name: str, rows: np.ndarray) -> pl.Series:
        """Column ``name`` (which every batch has) at ``rows`` (any order, repeats
        allowed), reading from each spilled batch only the rows it holds, memory-mapped,
        batches on a thread a core: past the page cache the rows come from disk, which
        serves two reads at once faster than one (the 50M world's group examples, 6.3 GB
        read: 7.5-8.2 s on one thread, 6.6 s on two)."""
        rows = np.asarray(rows, np.int64)
        order = stable_argsort(rows)
        ordered = rows[order]
        bounds = np.searchsorted(ordered, self.offsets)
        batches = [
            (b, ordered[lo:hi] - self.offsets[b])
            for b, (lo, hi) in enumerate(pairwise(bounds))
            if hi > lo
        ]
        with ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, len(batches)))) as pool:
            parts = list(pool.map(lambda batch: self._take(batch[0], name, batch[1]), batches))
        values = pl.concat(parts) if parts else pl.Series(name, [], self.schemas[0][name])
        back = np.empty_like(order)  # each row's place among the ordered ones
        back[order] = np.arange(order.size)
        return values.gather(back)

    def park(self, frame: pl.DataFrame) -> Callable[[], pl.DataFrame]:
        """Set ``frame`` aside until the returned function is called: on disk once the
        store has spilled (the scan is past its budget), as it is otherwise. Written by a
        background thread while the scan goes on (held until then); read back once, a
        column a thread into one chunk each (as :meth:`pop` gives them), the file then
        deleted."""
        if not self.spilled:
            return lambda: frame
        names = frame.columns
        path, written = self._write_behind(
            "parked",
            ".arrow",
            lambda path: frame.write_ipc(path, compression="uncompressed"),
            frame.estimated_size(),
        )

        def back() -> pl.DataFrame:
            written()
            columns = list(
                each_in_threads(
                    lambda name: pl.read_ipc(path, columns=[name]).to_series().rechunk(), names
                )
            )
            self.discard([path])
            return pl.DataFrame(columns)

        return back

    def park_arrays(self, arrays: dict[str, np.ndarray]) -> Callable[[], dict[str, np.ndarray]]:
        """Set ``arrays`` aside as :meth:`park` sets a frame aside: in ``.npy`` files
        once the store has spilled, read back whole once; arrays mapped from a file already
        (:func:`join_columns`) stay as they are."""
        if not self.spilled:
            return lambda: arrays
        kept = {name: array for name, array in arrays.items() if mapped(array)}
        parked = {
            name: self._write_behind(
                "parked", ".npy", lambda path, a=array: np.save(path, a), array.nbytes
            )
            for name, array in arrays.items()
            if name not in kept
        }

        def back() -> dict[str, np.ndarray]:
            for _, written in parked.values():
                written()
            loaded = {
                name: kept[name] if name in kept else np.load(parked[name][0]) for name in arrays
            }
            self.discard(path for path, _ in parked.values())
            return loaded

        return back

    def spill_rows(self, array: np.ndarray) -> RowsOnDisk:
        """2-D ``array`` written to the spill folder by the store's background thread, to be
        read back a block of rows at a time (:class:`RowsOnDisk`). Held until written:
        the scan writes the band keys of a batch after the batch, so the band keys of two
        batches at most wait (written on the scan's own thread, they were 0.9 s of a 10M
        scan's ingest)."""
        path, written = self._write_behind(
            "rows", ".bin", lambda path: np.ascontiguousarray(array).tofile(path), array.nbytes
        )
        return RowsOnDisk(path, array.shape, array.dtype, written)

    def beside_path(self, stem: str, suffix: str) -> Path:
        """A new file's path beside the batches, numbered in the folder."""
        path = self._folder() / f"{stem}-{self.beside:06d}{suffix}"
        self.beside += 1
        return path

    def _write_behind(
        self, stem: str, suffix: str, write: Callable[[Path], None], nbytes: int
    ) -> tuple[Path, Callable[[], None]]:
        """A file beside the batches, written by ``write`` in the store's background
        thread; and a function that waits until it is written (raising its failure)."""
        path = self.beside_path(stem, suffix)
        self.spilled_bytes += nbytes
        return path, self._submit(path, write)

    def _submit(self, path: Path, write: Callable[[Path], None]) -> Callable[[], None]:
        """``write(path)`` run by the store's background thread, in order; returns a
        function that waits until it is done (raising its failure)."""

        def task() -> None:
            with writing_to(path, "cannot spill to disk"):
                write(path)

        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix=self._writer_name)
        return self._writer.submit(task).result

    def _batches_written(self) -> None:
        """Wait until the batch being written behind is on disk (raising its failure).
        Any thread may wait, as often as it asks: the wait is not handed over, so that a
        thread reading while another waits waits too."""
        self._batch_written()

    def _folder(self) -> Path:
        """The spill folder, made on first use. Its name is kept before it is made: a
        Ctrl-C between the two leaves no folder :meth:`close` does not know of."""
        if self.folder is None:
            parent = Path(self.parent if self.parent is not None else tempfile.gettempdir())
            prefix = f"detector-spill-{socket.gethostname()}@"  # no host name holds "@"
            remove_orphans(parent, prefix)
            self.folder = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(8)}"
            try:
                self.folder.mkdir(mode=0o700)  # 64 random bits: no folder has its name
            except OSError as exc:
                self.folder = None
                raise OutputError(
                    f"cannot make a spill folder: {exc.strerror or exc}", file=str(parent)
                ) from None
        return self.folder

    def _spill(self) -> None:
        """Write the held batches, each in the background thread while the scan goes on
        (one at a time: a batch waits for the one before, so at most one is held beyond
        the scan's own)."""
        for frame in self.held:
            stem = self._folder() / f"batch-{len(self.files):06d}"
            self._batches_written()
            self._batch_written = self._submit(stem, partial(_write_batch, frame))
            self.files.append(_column_files(stem, frame.columns))
            self.spilled_bytes += frame.estimated_size()
        self.held.clear()
        self.held_bytes = 0

    def close(self) -> None:
        """Drop what is held and delete the spill folder, once any file being written
        behind is done. The writer's thread is waited for by name: one that Ctrl-C
        interrupted as it started is not among the pool's own, and would go on writing
        into the folder as it is deleted."""
        self.held.clear()
        if self._writer is not None:
            self._writer.shutdown(cancel_futures=True)
        for thread in threading.enumerate():
            if thread.name.startswith(f"{self._writer_name}_"):
                thread.join()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _column_files(stem: Path, names: Sequence[str]) -> dict[str, Path]:
    """The file of each column of the batch spilled as ``stem``, by column position."""
    return {name: stem.with_name(f"{stem.name}.{i}.arrow") for i, name in enumerate(names)}


def _write_batch(frame: pl.DataFrame, stem: Path) -> None:
    for name, path in _column_files(stem, frame.columns).items():
        # Plain (non-view) Arrow types, which pyarrow can take rows of.
        frame.select(name).write_ipc(
            path, compression="uncompressed", compat_level=pl.CompatLevel.oldest()
        )


def each_in_threads(work: Callable[[str], pl.Series], names: Sequence[str]) -> Iterator[pl.Series]:
    """``work`` of each column name, in order, run by ``numba.get_num_threads()`` threads at
    most at once: a column read back from disk into one chunk is mostly the system putting
    fresh pages under it, which threads share (a 4.6 GB frame of 8 columns: 8.8-11.6 s a
    column at a time, 5.6-6.0 s two at a time)."""
    with ThreadPoolExecutor(max(1, min(nb.get_num_threads(), len(names)))) as pool:
        yield from pool.map(work, names)


def remove_orphans(parent: Path, prefix: str) -> None:
    """Remove the folders ``{prefix}{pid}-*`` in ``parent`` whose process is gone: spill
    folders of scans killed before they could clean up. ``prefix`` names this host, so a
    parent shared between machines keeps the others' folders. POSIX only (``os.kill`` with
    signal 0 asks whether a process exists there; elsewhere it would end it)."""
    if os.name != "posix":
        return
    for folder in parent.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True


@contextmanager
def batch_store(limit: int, parent: str | Path | None = None) -> Iterator[BatchStore]:
    """A :class:`BatchStore` whose spill folder is removed when the block ends, however."""
    store = BatchStore(limit, parent)
    try:
        yield store
    finally:
        store.close()
