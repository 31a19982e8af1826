"""Tests of detector.ingest: formats, columns, timestamps, rejects and broken files."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from detector.config import ScanConfig
from detector.errors import DataError, InputError
from detector.ingest import Batch, expand_inputs, iter_batches
from detector.schema import REJECTS, TIME

DATA = Path(__file__).parent / "data"
HEADER = "post_id,account_id,created_at,text\n"


def scan(*inputs: str | Path, **options: object) -> tuple[pl.DataFrame, pl.DataFrame, list[Batch]]:
    batches = list(iter_batches(inputs, ScanConfig.from_options(**options)))
    for batch in batches:
        assert batch.rows_read == batch.posts.height + batch.rejects.height
        assert batch.rejects.schema == REJECTS
    posts = pl.concat([b.posts for b in batches]) if batches else pl.DataFrame()
    rejects = pl.concat([b.rejects for b in batches]) if batches else pl.DataFrame(schema=REJECTS)
    return posts, rejects, batches


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def when(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_messy_csv_splits_every_record_into_posts_or_rejects() -> None:
    posts, rejects, _ = scan(DATA / "messy.csv")
    assert posts.columns == ["post_id", "account_id", "created_at", "text", "urls", "hashtags"]
    assert posts.schema["created_at"] == TIME
    assert posts["post_id"].to_list() == ["0001", "0002", "0008"]
    assert posts["text"].to_list() == ["hello", "multi\nline text", ""]
    assert posts["urls"].to_list()[:2] == [
        ["https://a.example/x"],
        ["https://b.example", "https://c.example"],
    ]
    assert posts["hashtags"].to_list()[0] == ["elections", "vote"]
    assert posts["created_at"].to_list()[:2] == [when(2024, 1, 2, 3, 4, 5)] * 2
    got = {(r["row"], r["column"], r["reason"]) for r in rejects.iter_rows(named=True)}
    assert got == {
        (3, None, "malformed CSV record (expected 6 fields)"),
        (4, "created_at", "unparseable created_at"),
        (5, "text", "invalid UTF-8"),
        (6, "post_id", "duplicate post_id"),
        (7, "post_id", "missing post_id"),
    }
    raw = dict(zip(rejects["row"], rejects["raw"], strict=True))
    assert raw[3] == "0003,u3"
    assert raw[4] == "not a date"
    assert raw[5] == "\\xff\\xfebad bytes"
    assert set(rejects["file"]) == {str(DATA / "messy.csv")}


def test_messy_jsonl() -> None:
    posts, rejects, _ = scan(DATA / "messy.jsonl")
    assert posts["post_id"].to_list() == ["0001", "1234567890123456789012"]
    assert posts["account_id"].to_list() == ["u1", "7"]
    assert posts["created_at"].to_list() == [when(2024, 1, 2, 1, 4, 5), when(2024, 1, 2, 3, 4, 5)]
    assert posts["hashtags"].to_list() == [["a", "b"], []]
    got = {(r["row"], r["column"], r["reason"]) for r in rejects.iter_rows(named=True)}
    assert got == {
        (3, None, "invalid JSON"),
        (4, None, "not a JSON object"),
        (5, "created_at", "missing created_at"),
    }


@pytest.mark.parametrize("rows", [3, 1000])
def test_batches_respect_batch_rows(tmp_path: Path, rows: int) -> None:
    body = "".join(f"{i:05d},a{i % 3},2024-01-01T00:00:{i:02d},t{i}\n" for i in range(10))
    path = write(tmp_path / "p.csv", HEADER + body)
    posts, rejects, batches = scan(path, batch_rows=rows)
    assert posts.height == 10 and rejects.height == 0
    assert all(b.rows_read <= rows for b in batches)
    assert len(batches) == (4 if rows == 3 else 1)


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "post_id": ["007", "1234567890123456789"],
            "account_id": ["0a", "0b"],
            "created_at": ["2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"],
            "text": ["x", "y"],
        }
    )


@pytest.mark.parametrize("name", ["p.csv", "p.tsv", "p.csv.gz", "p.jsonl", "p.ndjson.gz", "p.json"])
def test_text_formats(tmp_path: Path, name: str) -> None:
    df = frame()
    if ".csv" in name or ".tsv" in name:
        data = df.write_csv(separator="\t" if ".tsv" in name else ",").encode()
    else:
        data = df.write_ndjson().encode()
    write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data)
    posts, rejects, _ = scan(tmp_path / name)
    assert rejects.height == 0
    assert posts["post_id"].to_list() == ["007", "1234567890123456789"]
    assert posts["created_at"].to_list() == [when(2024, 1, 2, 3, 4, 5), when(2024, 1, 2, 3, 4, 6)]


def test_parquet_with_native_types(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "post_id": [1, 2],
            "account_id": ["a", "b"],
            "created_at": [datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 3, 4, 6)],
            "text": ["x", None],
            "hashtags": [["#Tag"], None],
            "account_created_at": pl.Series([datetime(2020, 1, 1, 1)] * 2).dt.replace_time_zone(
                "Europe/Paris"
            ),
        }
    )
    df.write_parquet(tmp_path / "p.parquet")
    posts, rejects, _ = scan(tmp_path / "p.parquet")
    assert posts.columns == [
        "post_id",
        "account_id",
        "created_at",
        "text",
        "hashtags",
        "account_created_at",
    ]
    assert posts.row(0) == ("1", "a", when(2024, 1, 2, 3, 4, 5), "x", ["tag"], when(2020, 1, 1))
    assert rejects.select("row", "column", "reason").row(0) == (2, "text", "missing text")


def test_timestamp_forms(tmp_path: Path) -> None:
    stamps = {
        "2024-01-02T03:04:05Z": when(2024, 1, 2, 3, 4, 5),
        "2024-01-02 03:04:05": when(2024, 1, 2, 3, 4, 5),
        "2024-01-02T05:04:05.250+02:00": when(2024, 1, 2, 3, 4, 5, 250000),
        "2024-01-02 03:04:05.5": when(2024, 1, 2, 3, 4, 5, 500000),
        "2024-01-02": when(2024, 1, 2),
        "Tue Jan 02 03:04:05 +0000 2024": when(2024, 1, 2, 3, 4, 5),
        "1704164645": when(2024, 1, 2, 3, 4, 5),
        "1704164645123": when(2024, 1, 2, 3, 4, 5, 123000),
        "1704164645.5": when(2024, 1, 2, 3, 4, 5, 500000),
    }
    body = "".join(f"{i},a,{stamp},t\n" for i, stamp in enumerate(stamps))
    posts, rejects, _ = scan(write(tmp_path / "t.csv", HEADER + body))
    assert rejects.height == 0
    assert posts["created_at"].to_list() == list(stamps.values())


def test_epoch_numbers_in_json_and_bad_account_created_at_kept(tmp_path: Path) -> None:
    lines = [
        {"post_id": "1", "account_id": "a", "created_at": 1704164645, "text": "t",
         "account_created_at": "yesterday"},
        {"post_id": "2", "account_id": "a", "created_at": 1704164645000, "text": "t",
         "account_created_at": "2020-01-01"},
    ]  # fmt: skip
    path = write(tmp_path / "e.jsonl", "\n".join(json.dumps(x) for x in lines))
    posts, rejects, _ = scan(path)
    assert rejects.height == 0
    assert posts["created_at"].to_list() == [when(2024, 1, 2, 3, 4, 5)] * 2
    assert posts["account_created_at"].to_list() == [None, when(2020, 1, 1)]


def test_column_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "id,user,time,content,tags\n01,u,2024-01-01,hi,#X\n")
    mapping = {"post_id": "id", "account_id": "user", "created_at": "time", "text": "content"}
    posts, _, _ = scan(path, columns={**mapping, "hashtags": "tags"})
    assert posts.row(0) == ("01", "u", when(2024, 1, 1), "hi", ["x"])
    with pytest.raises(DataError, match=r"column 'user_name' \(mapped from 'account_id'\)") as err:
        scan(path, columns={**mapping, "account_id": "user_name"})
    assert err.value.column == "account_id" and err.value.file == str(path)
    assert "columns found: 'id', 'user'" in str(err.value)


def test_missing_column_and_missing_header(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", "1,a,2024-01-01,text\n2,b,2024-01-01,text\n")
    with pytest.raises(DataError, match="header row") as err:
        scan(path)
    assert str(path) in str(err.value) and err.value.exit_code == 4


def test_duplicates_across_files_and_batches(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", HEADER + "1,a,2024-01-01,x\n2,a,2024-01-01,y\n")
    write(tmp_path / "b.csv", HEADER + "2,b,2024-01-01,z\n3,b,2024-01-01,w\n3,c,2024-01-01,v\n")
    posts, rejects, _ = scan(tmp_path, batch_rows=1)
    assert posts["post_id"].to_list() == ["1", "2", "3"]
    assert rejects.select("file", "row", "reason").rows() == [
        (str(tmp_path / "b.csv"), 1, "duplicate post_id"),
        (str(tmp_path / "b.csv"), 3, "duplicate post_id"),
    ]


def test_expand_inputs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ["a.csv", "sub/b.jsonl.gz", "sub/c.parquet", "notes.txt"]:
        write(tmp_path / name, "x")
    found = expand_inputs([tmp_path, tmp_path / "a.csv", str(tmp_path / "*.csv")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.csv",
        "sub/b.jsonl.gz",
        "sub/c.parquet",
    ]
    assert expand_inputs([str(tmp_path / "**" / "*.parquet")]) == [tmp_path / "sub" / "c.parquet"]
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([tmp_path / "missing.csv"])
    with pytest.raises(InputError, match="no supported file matches"):
        expand_inputs([str(tmp_path / "*.tsv")])
    with pytest.raises(InputError, match="unsupported file type"):
        expand_inputs([tmp_path / "notes.txt"])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("empty.jsonl", b"\n\n", "file is empty"),
        ("binary.csv", bytes(range(256)) * 4, "binary"),
        ("trunc.csv.gz", gzip.compress((HEADER + "1,a,2024-01-01,x\n" * 500).encode())[:-30],
         "gzip-compressed CSV"),
        ("notgz.csv.gz", b"plain text, not gzip\n", "gzip-compressed CSV"),
        ("bad.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("array.json", b'[{"post_id": 1}]', "jq"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_broken_files_raise_one_line_data_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(DataError, match=message) as err:
        scan(path)
    assert err.value.file == str(path)
    assert "\n" not in str(err.value)


def test_header_only_file_yields_nothing(tmp_path: Path) -> None:
    _, rejects, batches = scan(write(tmp_path / "h.csv", HEADER))
    assert batches == [] and rejects.height == 0


def test_record_numbers_count_multiline_records_once_and_skip_blank_lines(tmp_path: Path) -> None:
    body = '1,a,2024-01-01,x\n2,a\n3,a,2024-01-01,"m\nl"\n4,a\n\n5,a,2024-01-01,y\n6,a\n'
    posts, rejects, _ = scan(write(tmp_path / "n.csv", HEADER + body), batch_rows=2)
    assert posts["post_id"].to_list() == ["1", "3", "5"]
    assert rejects["row"].to_list() == [2, 4, 6]
    assert rejects["raw"].to_list() == ["2,a", "4,a", "6,a"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # pyarrow's own
def test_malformed_record_that_is_not_utf8_stops_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "u.csv", HEADER.encode() + b"1,a,2024-01-01,x\n2,\xff\n")
    with pytest.raises(DataError, match="Expected 4 columns") as err:
        scan(path)
    assert err.value.file == str(path)
