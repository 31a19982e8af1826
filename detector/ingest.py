"""Read post dumps (CSV, TSV, JSONL, Parquet, gzip) into validated, typed batches.

Every input record ends up either in ``Batch.posts`` or in ``Batch.rejects`` with a
reason, so ``rows_read == posts.height + rejects.height`` always holds and nothing is
lost without a trace. Decisions an analyst should know about:

* Files are streamed: CSV through pyarrow's streaming reader, JSONL in byte blocks, Parquet
  by record batch; gzip is decompressed on the fly. Memory is bounded by
  ``config.batch_rows`` plus one read block (16 MiB), whatever the size of the dump.
* ``row`` is the 1-based record number in its file, header excluded. Blank lines are not
  records: they are skipped and not counted.
* Columns: ``post_id``, ``account_id`` and ``created_at`` are required. ``text`` is
  required only when the file has none of the other trace columns (``repost_of``,
  ``reply_to``, ``urls``, ``hashtags``, ``mentions``): a dump of reposts alone (CooRTweet's)
  is a valid input. Without a text column every post gets the text ``""``; the posts frame
  always has a non-null String ``text``. A row of such a file must carry an object (below).
* A row is rejected only when a *required* field is bad: missing/empty ``post_id`` or
  ``account_id``, missing or unparseable ``created_at``, a null or absent ``text`` on a row
  that carries no object (no ``repost_of``/``reply_to`` id, empty ``urls``/``hashtags``/
  ``mentions`` lists), or when the record itself is broken (wrong CSV field count, invalid
  JSON, not a JSON object). A null text on a row that reposts, replies to or shares
  something is kept as ``""``, since the row is still a co-sharing trace; an empty text is
  always kept. An unparseable ``account_created_at`` becomes null and the row is kept.
* Later rows repeating an accepted ``post_id`` anywhere in the scan are rejected; the
  first one wins. The reason is ``duplicate post_id``, or ``duplicate post_id with
  different content`` when the repeat is in the same batch as the kept row and differs
  from it in ``text``, ``repost_of`` or ``reply_to`` (an id reused for another post, or a
  post listed once per object it shares). Across batches only a hash of the kept ids is
  kept, so a repeat there is plainly ``duplicate post_id``.
* Bytes that are not valid UTF-8 in a column the scan uses are never replaced: the row is
  rejected with reason ``invalid UTF-8`` and ``raw`` shows the bytes escaped (``\\xff``).
  Bad bytes in columns the scan ignores do not matter. (A CSV record that is both
  malformed *and* not UTF-8 stops the file with a DataError, a pyarrow limit.)
* Ids are always read as text, so leading zeros and 20-digit ids survive.
* Timestamps: ISO 8601 with ``T`` or space, optional fraction and zone (naive means UTC),
  a bare date, Twitter's ``Wed Oct 10 20:19:24 +0000 2018``, and epoch numbers, whose unit
  is read from the magnitude (below 1e11 seconds, then ms, µs, ns). ``config.time_format``
  (strftime fields, e.g. ``%d/%m/%Y %H:%M``) is tried first on ``created_at`` and
  ``account_created_at`` text, then the forms above; what none of them reads is
  unreadable as before (a reject for ``created_at``, null for ``account_created_at``).
* ``repost_of`` and ``reply_to`` are ids, typed like ``post_id`` (null when empty).
* ``urls``/``hashtags``/``mentions`` become lists of strings: native lists, JSON or
  Python-style list strings, or text split on spaces, commas and ``|``; hashtags lose the
  ``#``, mentions the ``@``, and both are lower-cased; a null becomes an empty list. URLs
  are normalised by :func:`detector.urls.normalise_urls` (scheme, ``www.``, fragment and
  tracking parameters dropped) so that co-URL traces see one page as one object; short
  links are not expanded.
* Without a ``mentions`` column, mentions are the ``@name`` tokens of the text (a name is
  letters of any script, digits, ``_`` and ``-``, up to a space or punctuation such as
  ``:``, ``：`` or ``,``), lower-cased, distinct within a post, in order. An ``@`` right
  after an ASCII letter, digit or one of ``_.+-`` starts no mention (``me@mail.com``), one
  after a CJK character does (``传@人民网@新华网`` has two). Weibo's repost-chain quotations
  ``//@name:`` (who the post was reposted through, added by the platform) and the reply
  prefix ``回复@name:`` are not mentions, nor is any ``@`` right after ``/`` (chains, and
  URLs such as ``site.com/@name``); names the quoted chain text itself mentions are kept.
  The regexes run only on texts holding an ``@``. The posts frame has ``mentions``
  whenever the file has text or a mentions column.
* Duplicate detection across batches keeps 8 bytes (a 64-bit hash) per accepted post; a
  hash collision, about 3e-4 likely at 100M posts, would reject one post as a duplicate.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from detector.config import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ScanConfig
from detector.errors import DataError, DetectorError, InputError
from detector.schema import REJECTS, TIME
from detector.urls import normalise_urls

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}
COMPRESSED = {".csv", ".tsv", ".jsonl", ".ndjson", ".json"}  # may also end in .gz
NO_SUPPORTED_FILE = "no .csv, .tsv, .jsonl, .json or .parquet file"  # where a folder has none
RAW_MAX = 500  # characters of an offending value or record kept in rejects
BLOCK = 16 << 20  # bytes read at a time
ROW = "__row"

# Tried in turn, each on the values the earlier ones could not read (most common first).
_TIME_FORMATS = (
    *(
        f"%Y-%m-%d{sep}{time}"
        for time in ("%H:%M:%S%.fZ", "%H:%M:%S%.f%#z", "%H:%M:%S%.f", "%H:%M%#z", "%H:%M")
        for sep in ("T", " ")
    ),
    "%Y-%m-%d",
    "%a %b %d %H:%M:%S %z %Y",
)
_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))
# Columns whose objects are co-sharing traces besides the text: with one of them a file needs
# no text column, and a row with a null text is kept when it carries one of their objects.
OBJECT_COLUMNS = ("repost_of", "reply_to", "urls", "hashtags", "mentions")
_IDS = ("repost_of", "reply_to")
_LISTS = ("urls", "hashtags", "mentions")
# @names in a text: a name is letters (any script), digits, marks, ``_`` and ``-``. The ``@``
# may follow a CJK character or name (``还在传@人民网@新华网``) but not an ASCII letter, digit or
# one of ``_.+-`` (an e-mail address: ``me@mail.com`` is no mention), nor a ``/``: Weibo's
# repost-chain quotations ``//@name:`` (who the post was reposted through) and URLs
# (``site.com/@name``) hold none. Such ``@`` are blanked in one pass, with the reply prefix
# ``回复@name:`` and chain quotations spaced ``// @name``; what is left is ``@name``.
_NAME = r"[\p{L}\p{N}\p{M}_-]+"
_NOT_MENTION = r"(回复\s*@" + _NAME + r"\s*[:：]|//\s+@)|([A-Za-z0-9_.+/-])@"
_MENTION = "@" + _NAME
_EARLY = pl.Schema({k: v for k, v in REJECTS.items() if k != "file"})  # rejects before the file
_READ_ERRORS = (pa.ArrowException, OSError, EOFError)
T = TypeVar("T")


@dataclass
class Batch:
    """Up to ``config.batch_rows`` records of one file, split into accepted posts and rejects."""

    posts: pl.DataFrame
    rejects: pl.DataFrame
    rows_read: int
    file: str
    post_rows: np.ndarray  # the record number (``row``) of each post


# --------------------------------------------------------------------------- inputs


def file_format(path: Path) -> str | None:
    """Format name of a supported file ('csv', 'tsv', 'jsonl', 'parquet'), else None."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
        if not suffixes or suffixes[-1] not in COMPRESSED:
            return None
    return FORMATS.get(suffixes[-1]) if suffixes else None


def supported(name: str | Path) -> bool:
    """Whether a file of this name is one the readers read (by its extension)."""
    return file_format(Path(name)) is not None


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """The files named by paths, directories (searched recursively) and globs, sorted and
    deduplicated; raise InputError for a missing path or a pattern that matches nothing."""
    found: dict[Path, Path] = {}
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            matches = [p for p in path.rglob("*") if p.is_file() and file_format(p)]
            if not matches:
                raise InputError(f"directory holds {NO_SUPPORTED_FILE}")
        elif path.is_file():
            if not file_format(path):
                raise InputError(
                    "unsupported file type (use .csv, .tsv, .jsonl, .ndjson, .json, "
                    ".parquet, or .gz of a text format)",
                    file=str(path),
                )
            matches = [path]
        elif glob.has_magic(str(item)):
            matches = [
                p
                for p in map(Path, glob.glob(str(item), recursive=True))
                if p.is_file() and file_format(p)
            ]
            if not matches:
                raise InputError(f"no supported file matches {str(item)!r}")
        else:
            raise InputError("no such file or directory", file=str(path))
        for match in matches:
            found.setdefault(match.resolve(), match)
    return sorted(found.values())


def parquet_rows(files: Sequence[str | Path]) -> int | None:
    """Rows in ``files`` when all are Parquet, from their metadata (no data is read);
    None otherwise, or when a footer cannot be read (the reader then reports why)."""
    if not files or any(file_format(Path(f)) != "parquet" for f in files):
        return None
    try:
        return sum(pq.read_metadata(f).num_rows for f in files)
    except _READ_ERRORS:
        return None


# --------------------------------------------------------------------------- batches


def iter_batches(inputs: Sequence[str | Path], config: ScanConfig) -> Iterator[Batch]:
    """Stream every input record as typed posts or rejects, file by file, in batches of
    about ``config.batch_rows`` records; duplicates of a post_id are rejected across the
    whole scan."""
    seen = _SeenIds()
    for path in expand_inputs(inputs):
        yield from file_batches(path, config, seen)


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items`` (the input's batches), each made in a background thread while the caller
    works on the one before: Arrow's and polars' reading and validation release the GIL,
    so they overlap the caller's normalising and MinHashing. At most one item is made
    ahead; a failure in the thread is raised here, at that item's turn."""
    done = object()
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as thread:
        ahead = thread.submit(next, items, done)
        while (item := ahead.result()) is not done:
            ahead = thread.submit(next, items, done)
            yield cast(T, item)


def file_batches(path: Path, config: ScanConfig, seen: _SeenIds | None = None) -> Iterator[Batch]:
    """The batches of one file; ``seen``: the post ids accepted before it (a fresh set when
    None: the Spark engine reads each file in its own task and rejects repeats of earlier
    files' ids afterwards)."""
    seen = _SeenIds() if seen is None else seen
    fmt = file_format(path)
    readers = {"csv": _read_csv, "tsv": _read_csv, "jsonl": _read_jsonl}
    reader = readers.get(fmt, _read_parquet)  # type: ignore[arg-type]
    with _reading(path, fmt or ""):
        for raw, pre in _rebatch(reader(path, config), config.batch_rows):
            yield _validate(raw, pre, str(path), seen, config.time_format)


@contextmanager
def _reading(path: Path, fmt: str) -> Iterator[None]:
    """Turn the readers' low-level failures into one-line DataErrors naming the file."""
    try:
        yield
    except DetectorError:
        raise
    except _READ_ERRORS as exc:
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        packed = "gzip-compressed " if path.suffix.lower() == ".gz" else ""
        raise DataError(f"cannot read {packed}{fmt.upper()} data: {first}", file=str(path)) from exc


def _rebatch(
    parts: Iterable[tuple[pl.DataFrame, pl.DataFrame]], size: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Regroup a reader's (records, early rejects) pieces into pieces of ``size`` records."""
    raws: list[pl.DataFrame] = []
    pres: list[pl.DataFrame] = []
    held = 0
    for raw, pre in parts:
        raws.append(raw)
        pres.append(pre)
        held += raw.height
        while held >= size:
            whole = pl.concat(raws)
            yield whole.head(size), pl.concat(pres)
            raws, pres, held = [whole.slice(size)], [pre.clear()], held - size
    if held or any(p.height for p in pres):
        yield pl.concat(raws), pl.concat(pres)


def _rejects(
    rows: Iterable[int], column: str | None, reason: str, raws: Iterable[str | bytes | None]
) -> pl.DataFrame:
    """Early rejects (without the file column) from Python values, for the few odd rows."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "row": rows,
            "column": [column] * len(rows),
            "reason": [reason] * len(rows),
            "raw": [_clip(r) for r in raws],
        },
        schema=_EARLY,
    )


def _clip(value: str | bytes | None) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    return None if value is None else value[:RAW_MAX]


def _resolve(found: Sequence[str], config: ScanConfig, path: Path, hint: str = "") -> dict:
    """Logical column -> column name in the file; DataError if a required one is absent
    (``text`` is required only when no other trace column is there)."""
    present = set(found)
    has_object = any(config.column(c) in present for c in OBJECT_COLUMNS)
    for logical in (*REQUIRED_COLUMNS, *(() if has_object else ("text",))):
        name = config.column(logical)
        if name not in present:
            mapped = f" (mapped from '{logical}')" if name != logical else ""
            alone = f" (or one of {', '.join(OBJECT_COLUMNS)})" if logical == "text" else ""
            shown = ", ".join(repr(c) for c in list(found)[:30])
            raise DataError(
                f"missing required column '{name}'{mapped}{alone}; columns found: {shown}{hint}",
                file=str(path),
                column=logical,
            )
    return {
        logical: config.column(logical)
        for logical in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if config.column(logical) in present
    }


def _decode(
    frame: pl.DataFrame, arrays: dict[str, pa.Array], rows: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add binary columns to ``frame`` as text; rows with invalid UTF-8 become rejects."""
    bad_rows = np.zeros(len(rows), dtype=bool)
    pres = []
    for logical, array in arrays.items():
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        try:
            array.view(
                pa.large_string() if pa.types.is_large_binary(array.type) else pa.string()
            ).validate(full=True)
            bad = np.zeros(len(array), dtype=bool)
        except pa.ArrowInvalid:
            bad = np.array([_invalid_utf8(v) for v in array.to_pylist()], dtype=bool)
        fresh = bad & ~bad_rows
        if fresh.any():
            values = array.filter(pa.array(fresh)).to_pylist()
            pres.append(_rejects(rows[fresh], logical, "invalid UTF-8", values))
        bad_rows |= bad
        text = pc.if_else(pa.array(bad), pa.nulls(len(array), array.type), array)
        frame = frame.with_columns(pl.Series(logical, text.cast(pa.large_string())))
    return frame.filter(pl.Series(~bad_rows)), pl.concat(pres) if pres else _rejects(
        [], None, "", []
    )


def _invalid_utf8(value: bytes | None) -> bool:
    try:
        value is None or value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _open(path: Path) -> pa.NativeFile:
    return pa.input_stream(str(path), compression="gzip" if path.suffix.lower() == ".gz" else None)


def _sniff(path: Path, kind: str) -> bytes:
    """The first block of the (decompressed) file, after refusing empty and binary files."""
    with _open(path) as stream:
        head = stream.read(1 << 20)
    if not head.strip():
        raise DataError("file is empty", file=str(path))
    if b"\x00" in head:
        raise DataError(f"file is binary, not {kind} text", file=str(path))
    return head


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, config: ScanConfig) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """CSV/TSV through pyarrow's streaming parser, every column read as bytes."""
    sep = "\t" if file_format(path) == "tsv" else ","
    head = _sniff(path, "CSV")
    try:
        header = next(
            csv.reader(io.StringIO(head.decode("utf-8", "strict").lstrip("\ufeff")), delimiter=sep)
        )
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        if isinstance(exc, UnicodeDecodeError) and exc.start > head.find(b"\n") >= 0:
            header = next(csv.reader(io.StringIO(head[: head.find(b"\n")].decode()), delimiter=sep))
        else:
            raise DataError(
                "cannot read the header row as UTF-8 CSV", file=str(path), row=0
            ) from exc
    columns = _resolve(header, config, path, " (does the file lack a header row?)")
    index = {name: i for i, name in reversed(list(enumerate(header)))}
    names = [f"f{i}" for i in range(len(header))]
    malformed: deque[tuple[int, str]] = deque()

    def on_invalid(row: pacsv.InvalidRow) -> str:
        malformed.append((row.number, row.text))
        return "skip"

    reader = pacsv.open_csv(
        _open(path),
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=BLOCK, skip_rows=1, column_names=names
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=sep,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.binary())),
    )
    line = 2  # pyarrow's number of the next row: the header is row 1
    record = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            batch = None
        rows, filled, pre, line, record = _number_rows(batch, malformed, line, record, len(header))
        if batch is not None and not filled.all():
            batch = batch.filter(pa.array(filled))
        if batch is not None or pre.height:
            arrays = (
                {}
                if batch is None
                else {logical: batch.column(index[name]) for logical, name in columns.items()}
            )
            frame = pl.DataFrame({ROW: rows}, schema={ROW: pl.Int64})
            if batch is None:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in columns)
            frame, bad = _decode(frame, arrays, rows)
            yield frame, pl.concat([pre, bad]) if bad.height else pre
        if batch is None:
            return


def _number_rows(
    batch: pa.RecordBatch | None,
    malformed: deque[tuple[int, str]],
    line: int,
    record: int,
    n_fields: int,
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame, int, int]:
    """Record numbers of a batch's rows and which rows are records (a blank line comes out
    of pyarrow as a row of empty fields). pyarrow only tells the position of the
    malformed records it skipped (counting the header and blank lines, one per record
    even when values span lines), so this also returns the rejects for the malformed
    records before the batch's last row (all of them at the end of the file)."""
    n = 0 if batch is None else batch.num_rows
    filled = np.zeros(n, dtype=bool)
    for column in [] if batch is None else batch.columns:
        filled |= pc.binary_length(column).fill_null(0).to_numpy() > 0
    starts = line + np.arange(n)
    before_row = np.cumsum(filled) - filled  # records among the batch's earlier rows
    extra = np.zeros(n, dtype=np.int64)
    shift = skipped = done = 0
    bad_rows, bad_texts = [], []
    while malformed and (not n or malformed[0][0] - shift <= starts[-1]):
        at, text = malformed.popleft()
        before = int(np.searchsorted(starts, at - shift))
        extra[done:before] = skipped
        done = before
        if text.strip():
            skipped += 1
            bad_rows.append(
                record + (int(before_row[before]) if before < n else int(filled.sum())) + skipped
            )
            bad_texts.append(text)
        shift += 1
    extra[done:] = skipped
    numbers = record + 1 + before_row + extra
    pre = _rejects(bad_rows, None, f"malformed CSV record (expected {n_fields} fields)", bad_texts)
    line += n + shift
    return numbers[filled], filled, pre, line, record + int(filled.sum()) + skipped


# --------------------------------------------------------------------------- JSONL


def _read_jsonl(path: Path, config: ScanConfig) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Newline-delimited JSON in byte blocks; polars parses each block, and a block that
    fails is bisected to find the bad lines without slowing the clean ones down."""
    if _sniff(path, "JSON").lstrip().startswith(b"["):
        raise DataError(
            "is one JSON array, not newline-delimited JSON (one object per line); "
            "convert it with: jq -c '.[]'",
            file=str(path),
        )
    columns: dict[str, str] | None = None
    record = 0
    with _open(path) as stream:
        for lines in _line_blocks(stream):
            lines = [line for line in lines if line.strip()]
            rows = np.arange(record + 1, record + 1 + len(lines), dtype=np.int64)
            record += len(lines)
            pres = []
            try:
                b"\n".join(lines).decode("utf-8")
            except UnicodeDecodeError:
                bad = np.array([_invalid_utf8(line) for line in lines], dtype=bool)
                pres.append(
                    _rejects(rows[bad], None, "invalid UTF-8", np.array(lines, object)[bad])
                )
                lines = [line for line, b in zip(lines, bad, strict=True) if not b]
                rows = rows[~bad]
            if columns is None:
                keys = _sample_keys(lines)
                hint = "" if keys else " (no JSON object found in the first lines)"
                columns = _resolve(keys, config, path, hint)
            schema = {name: pl.String for name in dict.fromkeys(columns.values())}
            frame, good, problems = _parse_json(lines, schema)
            if problems:
                for reason in sorted({r for _, r in problems}):
                    at = [i for i, r in problems if r == reason]
                    pres.append(_rejects(rows[at], None, reason, [lines[i] for i in at]))
            frame = frame.select(
                pl.Series(ROW, rows[good], pl.Int64),
                *(pl.col(name).alias(logical) for logical, name in columns.items()),
            )
            yield frame, pl.concat(pres) if pres else _rejects([], None, "", [])


def _line_blocks(stream: pa.NativeFile) -> Iterator[list[bytes]]:
    """Lines of a stream, a block at a time (a line is never split between blocks)."""
    carry = b""
    while chunk := stream.read(BLOCK):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            yield data[:cut].split(b"\n")
    if carry:
        yield [carry]


def _sample_keys(lines: list[bytes], limit: int = 1000) -> list[str]:
    """Keys of the JSON objects among the first lines, in order of first appearance."""
    keys: dict[str, None] = {}
    for line in lines[:limit]:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            keys.update(dict.fromkeys(value))
    return list(keys)


def _json_problem(line: bytes) -> str | None:
    try:
        value = json.loads(line)
    except ValueError:
        return "invalid JSON"
    return None if isinstance(value, dict) else "not a JSON object"


def _parse_json(
    lines: list[bytes], schema: dict[str, type[pl.String]]
) -> tuple[pl.DataFrame, list[int], list[tuple[int, str]]]:
    """Parse lines with polars, every field as text (JSON numbers and arrays keep their
    literal text); return the frame, the indices it covers and the (index, reason) of
    the lines that could not be read."""
    frames: list[pl.DataFrame] = [pl.DataFrame(schema=schema)]
    good: list[int] = []
    problems: list[tuple[int, str]] = []
    stack = [list(range(len(lines)))] if lines else []
    while stack:
        part = stack.pop()
        try:
            frames.append(_ndjson([lines[i] for i in part], schema))
            good.extend(part)
            continue
        except pl.exceptions.PolarsError:
            pass
        if len(part) > 256:
            half = len(part) // 2
            stack += [part[half:], part[:half]]
            continue
        checked = [(i, _json_problem(lines[i])) for i in part]
        problems += [(i, p) for i, p in checked if p]
        for i in (i for i, p in checked if not p):
            try:
                frames.append(_ndjson([lines[i]], schema))
                good.append(i)
            except pl.exceptions.PolarsError:
                problems.append((i, "unreadable JSON record"))
    return pl.concat(frames), good, problems


def _ndjson(lines: list[bytes], schema: dict[str, type[pl.String]]) -> pl.DataFrame:
    return pl.read_ndjson(io.BytesIO(b"\n".join(lines)), schema=schema)


# --------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, config: ScanConfig) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Parquet by record batch, reading only the columns the scan uses."""
    try:
        parquet = pq.ParquetFile(str(path))
    except _READ_ERRORS as exc:
        raise DataError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    columns = _resolve(parquet.schema_arrow.names, config, path)
    record = 0
    wanted = list(dict.fromkeys(columns.values()))
    for batch in parquet.iter_batches(batch_size=config.batch_rows, columns=wanted):
        rows = np.arange(record + 1, record + 1 + batch.num_rows, dtype=np.int64)
        record += batch.num_rows
        frame = pl.DataFrame({ROW: rows}, schema={ROW: pl.Int64})
        arrays = {}
        for logical, name in columns.items():
            array = batch.column(name)
            if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
                arrays[logical] = array
            else:
                frame = frame.with_columns(pl.Series(logical, array))
        yield _decode(frame, arrays, rows)


# --------------------------------------------------------------------------- validation


def _validate(
    raw: pl.DataFrame, pre: pl.DataFrame, file: str, seen: _SeenIds, time_format: str | None
) -> Batch:
    """Type the records and split them into posts and rejects (first problem wins);
    ``time_format`` is tried first on text timestamps."""
    raw = raw.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
    schema = raw.schema
    has_text = "text" in schema
    text = pl.col("text").cast(pl.String) if has_text else pl.lit(None, pl.String)
    typed: dict[str, pl.Expr | pl.Series] = {
        "post_id": _id(pl.col("post_id"), schema["post_id"]),
        "account_id": _id(pl.col("account_id"), schema["account_id"]),
        "created_at": _times(raw["created_at"], time_format),
        "text": text,
    }
    for name in _LISTS:
        if name in schema:
            typed[name] = _list(pl.col(name), schema[name], kind=name)
        elif name == "mentions" and has_text:
            typed[name] = _mentions(raw["text"].cast(pl.String))
    for name in _IDS:
        if name in schema:
            typed[name] = _id(pl.col(name), schema[name])
    if "account_created_at" in schema:
        typed["account_created_at"] = _times(raw["account_created_at"], time_format)
    typed_ok = raw.with_columns(
        _missing(pl.col("created_at"), schema["created_at"]).alias("__no_time"),
        **{f"__{name}": expr for name, expr in typed.items()},
    )
    checks = [
        ("post_id", pl.col("__post_id").is_null(), "missing post_id"),
        ("account_id", pl.col("__account_id").is_null(), "missing account_id"),
        ("created_at", pl.col("__no_time"), "missing created_at"),
        ("created_at", pl.col("__created_at").is_null(), "unparseable created_at"),
    ]
    # A row without text (null, or no text column) must carry an object to be kept.
    objects = [pl.col(f"__{c}").is_not_null() for c in _IDS if c in schema] + [
        pl.col(f"__{c}").list.len() > 0 for c in _LISTS if c in schema
    ]
    no_object = ~pl.any_horizontal(objects) if objects else pl.lit(True)
    checks.append(("text", pl.col("__text").is_null() & no_object, "missing text"))
    checked = typed_ok.with_columns(__reason=_first(checks, lambda name, why: pl.lit(why)))
    # The input values of the failed rows alone are written out as text: formatting every
    # row's timestamps took seconds a 10M-row dump.
    failed = checked.filter(pl.col("__reason").is_not_null()).with_columns(
        __column=_first(checks, lambda name, why: pl.lit(name)),
        __raw=_first(checks, lambda name, why: _raw(name, schema)).str.slice(0, RAW_MAX),
    )
    passed = checked.filter(pl.col("__reason").is_null()).select(
        ROW,
        *(pl.col(f"__{n}").alias(n) for n in typed if n != "text"),
        pl.col("__text").fill_null("").alias("text"),
    )

    hashes = passed["post_id"].hash(seed=0).to_numpy()
    ordered = np.sort(hashes)  # several times faster than an arg-sort of 64-bit hashes
    earlier = seen.contains(hashes, ordered)
    first, changed = _repeats(passed, hashes, ordered, earlier)
    duplicate = ~first | earlier
    seen.add(hashes[~duplicate])
    # Reasons for the duplicates alone: an object array of one per row, made into
    # strings, took 1.4 s of reading a 10M-row dump.
    is_changed = np.zeros(len(hashes), dtype=bool)
    is_changed[changed] = True
    duplicates = passed.filter(pl.Series(duplicate)).with_columns(
        __reason=pl.when(pl.Series(is_changed[duplicate]))
        .then(pl.lit("duplicate post_id with different content"))
        .otherwise(pl.lit("duplicate post_id"))
    )
    rejects = pl.concat(
        [
            pre,
            failed.select(
                pl.col(ROW).alias("row"),
                pl.col("__column").alias("column"),
                pl.col("__reason").alias("reason"),
                pl.col("__raw").alias("raw"),
            ),
            duplicates.select(
                pl.col(ROW).alias("row"),
                pl.lit("post_id").alias("column"),
                pl.col("__reason").alias("reason"),
                pl.col("post_id").alias("raw"),
            ),
        ]
    ).sort("row")
    kept = passed.filter(pl.Series(~duplicate))
    return Batch(
        posts=kept.select(list(typed)),
        rejects=rejects.select(pl.lit(file, pl.String).alias("file"), pl.all()).cast(REJECTS),
        rows_read=raw.height + pre.height,
        file=file,
        post_rows=kept[ROW].to_numpy(),
    )


def _repeats(
    passed: pl.DataFrame, hashes: np.ndarray, ordered: np.ndarray, earlier: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows hold the first occurrence of their post_id in the batch, and the indices of
    the later rows whose text, repost_of or reply_to differ from that first row's (when it
    is kept, i.e. not ``earlier``); ``ordered``: the hashes sorted. Only rows sharing an id
    hash with another row are compared, by their ids themselves: a few of a batch, and no
    string hashing of them all."""
    first = np.ones(len(hashes), dtype=bool)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return first, np.zeros(0, dtype=np.int64)
    clash = _members(hashes, np.unique(ordered[1:][same]))
    rows = np.flatnonzero(clash)  # ascending: the first row of an id comes first
    content = [c for c in ("text", *_IDS) if c in passed.columns]
    group = passed.select("post_id", *content)[rows]
    later = ~group["post_id"].is_first_distinct().to_numpy()
    first[rows[later]] = False
    differs = group.select(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).first().over("post_id")) for c in content)
    ).to_series()
    changed = later & differs.to_numpy() & ~earlier[rows]
    return first, rows[changed]


def _raw(name: str, schema: pl.Schema) -> pl.Expr:
    """The input value of a column as text, for a reject's ``raw`` (null if no such column)."""
    return pl.col(name).cast(pl.String) if name in schema else pl.lit(None, pl.String)


def _missing(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Whether a value is not given: null, or blank text."""
    return col.is_null() | (col.str.strip_chars() == "") if dtype == pl.String else col.is_null()


def _first(checks: list[tuple[str, pl.Expr, str]], pick) -> pl.Expr:
    """``pick(column, reason)`` of the first failed check of each row (null if none)."""
    (name, failed, why), *rest = checks
    chain = pl.when(failed).then(pick(name, why))
    for name, failed, why in rest:
        chain = chain.when(failed).then(pick(name, why))
    return chain


def _id(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Ids as trimmed text (null when empty); integer ids are written out in full."""
    if dtype.is_float():
        col = col.cast(pl.Int64, strict=False)
    text = col.cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def _times(values: pl.Series, time_format: str | None) -> pl.Series:
    """Any supported timestamp form as Datetime('us', 'UTC'); null where unreadable. Text
    in ``time_format`` (strftime fields, naive means UTC) is read that way first, before
    any epoch number or built-in form."""
    dtype = values.dtype
    col = pl.col(values.name)
    if isinstance(dtype, pl.Datetime):
        zoned = (
            col.dt.convert_time_zone("UTC") if dtype.time_zone else col.dt.replace_time_zone("UTC")
        )
        expr = zoned.dt.cast_time_unit("us")
    elif dtype == pl.Date:
        expr = col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif dtype.is_numeric():
        expr = _epoch(col.cast(pl.Float64))
    elif dtype == pl.String:
        text = col.str.strip_chars()
        numeric = text.str.contains(r"^[+-]?\d+(?:\.\d*)?$")
        expr = pl.when(numeric).then(_epoch(text.cast(pl.Float64, strict=False)))
    else:
        expr = pl.lit(None, TIME)
    out = values.to_frame().select(expr.cast(TIME)).to_series()
    if dtype != pl.String:
        return out
    text = values.str.strip_chars()
    if time_format:
        given = text.str.to_datetime(time_format, time_unit="us", time_zone="UTC", strict=False)
        out = given.fill_null(out)
    for fmt in _TIME_FORMATS:
        todo = (out.is_null() & text.is_not_null()).arg_true()
        if not len(todo):
            break
        parsed = text.gather(todo).str.to_datetime(
            fmt, time_unit="us", time_zone="UTC", strict=False
        )
        out = out.scatter(todo, parsed)
    return out


def _epoch(value: pl.Expr) -> pl.Expr:
    """Epoch seconds, ms, µs or ns (told apart by magnitude) as Datetime('us', 'UTC')."""
    size = value.abs()
    micros = (
        pl.when(size < 1e11)
        .then(value * 1e6)
        .when(size < 1e14)
        .then(value * 1e3)
        .when(size < 1e17)
        .then(value)
        .otherwise(value / 1e3)
    )
    return (
        micros.round()
        .cast(pl.Int64, strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )


def _list(col: pl.Expr, dtype: pl.DataType, *, kind: str) -> pl.Expr:
    """urls/hashtags/mentions as List(String) from native lists or from list-like text."""
    if isinstance(dtype, pl.List):
        items = col.cast(pl.List(pl.String), strict=False)
    else:
        text = col.cast(pl.String).str.strip_chars()
        quoted = text.str.extract_all(r'"(?:[^"\\]|\\.)*"|' + r"'(?:[^'\\]|\\.)*'")
        items = (
            pl.when(text.str.starts_with("["))
            .then(quoted)
            .otherwise(text.str.extract_all(r"[^\s,|]+"))
        )
    item = pl.element().str.strip_chars().str.strip_chars("\"'").str.replace_all(r"\\/", "/")
    if kind != "urls":
        item = item.str.strip_chars_start("#" if kind == "hashtags" else "@").str.to_lowercase()
    cleaned = items.list.eval(item.filter(item.str.len_bytes() > 0))
    if kind == "urls":
        cleaned = normalise_urls(cleaned)
    return cleaned.fill_null(_EMPTY_LIST)


def _mentions(text: pl.Series) -> pl.Series:
    """The distinct @names of each text, lower-cased, in order of first appearance, leaving
    out repost-chain quotations, reply prefixes and URLs. The regexes run only on the texts
    holding an ``@`` (a few percent of a dump); the others get an empty list."""
    at = text.str.contains("@", literal=True).fill_null(False).arg_true()
    found = (
        text.gather(at)
        .str.replace_all(_NOT_MENTION, "${2} ")
        .str.extract_all(_MENTION)
        .list.eval(pl.element().str.slice(1).str.to_lowercase())
        .list.unique(maintain_order=True)
    )
    place = np.full(len(text), len(found), dtype=np.int64)
    place[at.to_numpy()] = np.arange(len(found))
    empty = pl.Series([[]], dtype=pl.List(pl.String))
    return found.append(empty).gather(place).fill_null([]).alias("mentions")


class _SeenIds:
    """64-bit hashes of the post ids accepted so far in the scan, kept as sorted runs that
    merge like a binary counter: 8 bytes per post and O(log n) runs to search."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def contains(self, hashes: np.ndarray, ordered: np.ndarray | None = None) -> np.ndarray:
        """Which hashes were added before; ``ordered`` is ``np.sort(hashes)`` if known."""
        # Searching in sorted order walks each run forwards: several times faster than
        # random probes into runs of millions. The hashes found, few, are then looked up.
        ordered = np.sort(hashes) if ordered is None else ordered
        found = [ordered[_members(ordered, run)] for run in self._runs]
        return _members(hashes, np.unique(np.concatenate([ordered[:0], *found])))

    def add(self, hashes: np.ndarray) -> None:
        # numpy's hash-based unique is several times slower on 64-bit hashes than a sort.
        run = _distinct(np.sort(hashes))
        while self._runs and len(self._runs[-1]) <= 2 * len(run):
            # Two sorted runs: a stable sort (timsort) merges them in linear time.
            run = _distinct(np.sort(np.concatenate([self._runs.pop(), run]), kind="stable"))
        if len(run):
            self._runs.append(run)


def _members(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_set`` (sorted, distinct)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of the sorted ``ordered``."""
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]
