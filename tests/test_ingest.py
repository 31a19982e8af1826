"""Tests of detector.ingest: formats, columns, timestamps, rejects and broken files."""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from detector.config import ScanConfig
from detector.errors import DataError, InputError
from detector.ingest import Batch, _SeenIds, expand_inputs, iter_batches, read_ahead
from detector.schema import REJECTS, TIME
from detector.urls import normalise_urls

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
    assert posts.columns == [
        "post_id",
        "account_id",
        "created_at",
        "text",
        "urls",
        "hashtags",
        "mentions",
    ]
    assert posts.schema["created_at"] == TIME
    assert posts["post_id"].to_list() == ["0001", "0002", "0008"]
    assert posts["text"].to_list() == ["hello", "multi\nline text", ""]
    assert posts["urls"].to_list()[:2] == [
        ["a.example/x"],
        ["b.example", "c.example"],
    ]
    assert posts["hashtags"].to_list()[0] == ["elections", "vote"]
    assert posts["created_at"].to_list()[:2] == [when(2024, 1, 2, 3, 4, 5)] * 2
    got = {(r["row"], r["column"], r["reason"]) for r in rejects.iter_rows(named=True)}
    assert got == {
        (3, None, "malformed CSV record (expected 6 fields)"),
        (4, "created_at", "unparseable created_at"),
        (5, "text", "invalid UTF-8"),
        (6, "post_id", "duplicate post_id with different content"),
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
        "mentions",
        "account_created_at",
    ]
    assert posts.row(0) == ("1", "a", when(2024, 1, 2, 3, 4, 5), "x", ["tag"], [], when(2020, 1, 1))
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
    assert posts.row(0) == ("01", "u", when(2024, 1, 1), "hi", ["x"], [])
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


@given(st.lists(st.lists(st.integers(0, 40), max_size=30), max_size=6))
def test_seen_ids_answer_as_a_set(batches: list[list[int]]) -> None:
    seen, reference = _SeenIds(), set()
    for batch in batches:
        hashes = np.array(batch, np.uint64)
        assert seen.contains(hashes).tolist() == [h in reference for h in batch]
        seen.add(hashes)
        reference.update(batch)


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


# --------------------------------------------------------------------------- traces


def test_file_without_text_but_with_repost_of(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "post_id,account_id,created_at,repost_of\n1,a,2024-01-01,9\n2,b,2024-01-01,\n",
    )
    posts, rejects, _ = scan(path)
    assert posts.columns == ["post_id", "account_id", "created_at", "text", "repost_of"]
    assert posts.schema["text"] == pl.String
    assert posts.rows() == [("1", "a", when(2024, 1, 1), "", "9")]
    # Without text, a row must carry an object.
    assert rejects.select("row", "column", "reason", "raw").rows() == [
        (2, "text", "missing text", None)
    ]


def test_file_without_text_or_trace_column_names_text(tmp_path: Path) -> None:
    path = write(tmp_path / "n.csv", "post_id,account_id,created_at,lang\n1,a,2024-01-01,en\n")
    with pytest.raises(DataError, match="missing required column 'text'") as err:
        scan(path)
    assert err.value.column == "text"
    assert "columns found: 'post_id', 'account_id', 'created_at', 'lang'" in str(err.value)
    assert "\n" not in str(err.value)


def test_null_text_kept_only_with_an_object(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "post_id": ["1", "2", "3", "4", "5"],
            "account_id": ["a"] * 5,
            "created_at": ["2024-01-01"] * 5,
            "text": [None, None, None, None, "t"],
            "repost_of": ["9", None, " ", None, None],
            "reply_to": [None, 7, None, None, None],
            "urls": [None, None, None, ["https://x.example/"], None],
        },
        schema_overrides={"reply_to": pl.Int64},
    )
    df.write_parquet(tmp_path / "p.parquet")
    posts, rejects, _ = scan(tmp_path / "p.parquet")
    assert posts["post_id"].to_list() == ["1", "2", "4", "5"]
    assert posts["text"].to_list() == ["", "", "", "t"]
    assert posts["reply_to"].to_list() == [None, "7", None, None]
    assert posts.schema["reply_to"] == pl.String
    assert posts["urls"].to_list() == [[], [], ["x.example"], []]
    assert rejects.select("row", "column", "reason").rows() == [(3, "text", "missing text")]


def test_mentions_from_text_skip_repost_chains_and_reply_prefix(tmp_path: Path) -> None:
    texts = [
        "讲真的话//@王海:不说真话。//@瓦良格号归来：@王海，需要打假吗？",
        "回复@张三:谢谢 @李四，@Bob_1 and @bob_1 and @-李志永-: hi",
        "mail me@example.com or see https://medium.com/@writer/x @End.",
        "//@A: //@B:转发微博",
        "假的，还在传@中国长安网@人民网 早日康复@易建联 // @C: 回复 @D：@@E",
    ]
    path = write(
        tmp_path / "m.jsonl",
        "\n".join(
            json.dumps({"post_id": i, "account_id": "a", "created_at": "2024-01-01", "text": t})
            for i, t in enumerate(texts)
        ),
    )
    posts, _, _ = scan(path)
    assert posts["mentions"].to_list() == [
        ["王海"],
        ["李四", "bob_1", "-李志永-"],
        ["end"],
        [],
        ["中国长安网", "人民网", "易建联", "e"],
    ]


def test_mentions_column_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.csv",
        "post_id,account_id,created_at,text,mentions\n"
        '1,a,2024-01-01,hi @x,"[""@Alice"", ""bob""]"\n'
        "2,a,2024-01-01,hi,@Carol|@Dan\n"
        "3,a,2024-01-01,hi,\n",
    )
    posts, _, _ = scan(path)
    assert posts["mentions"].to_list() == [["alice", "bob"], ["carol", "dan"], []]


def test_no_mentions_column_without_text_or_mentions(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "post_id,account_id,created_at,reply_to\n1,a,2024-01-01,5\n")
    posts, _, _ = scan(path)
    assert "mentions" not in posts.columns
    assert posts["reply_to"].to_list() == ["5"]


def normalise(*urls: str) -> list[str]:
    frame = pl.DataFrame({"u": [list(urls)]}, schema={"u": pl.List(pl.String)})
    return frame.select(normalise_urls(pl.col("u")))["u"][0].to_list()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.site.com/a?utm_source=x", "site.com/a"),
        ("site.com/a", "site.com/a"),
        ("HTTP://WWW.Site.COM/Path/To#section", "site.com/Path/To"),
        ("http://site.com/a/", "site.com/a"),
        ("https://site.com/", "site.com"),
        ("https://site.com/a/?utm_medium=m&utm_campaign=c", "site.com/a"),
        ("https://s.com/p?id=3&fbclid=abc&Page=2&gclid=x&si=1", "s.com/p?id=3&Page=2"),
        ("https://s.com/p?igshid=1&spm=2&share_source=3&_hsenc=4&yclid=5&q=A", "s.com/p?q=A"),
        ("https://s.com/p?sid=1&utm=2", "s.com/p?sid=1&utm=2"),
        ("https://t.co/AbCdE", "t.co/AbCdE"),
        ("http://t.cn/A6xYz", "t.cn/A6xYz"),
        ("HTTPS://WWW.Bit.ly/AbC/?utm_source=x#f", "bit.ly/AbC/?utm_source=x"),
        ("https://t.co/AbC?", "t.co/AbC"),
        ("bit.ly/x \t?", "bit.ly/x"),
        ("https://twitter.com/u/status/1?s=20&t=A", "twitter.com/u/status/1?t=A"),
        ("https://mobile.twitter.com/u?S=09", "mobile.twitter.com/u"),
        ("https://x.com/u?s=1&ref_src=twsrc", "x.com/u"),
        ("https://shop.com/find?s=Cats&utm_term=x", "shop.com/find?s=Cats"),
        ("https://box.com/a?s=1", "box.com/a?s=1"),
        ("ftp://Files.Example/Doc", "ftp://files.example/Doc"),
        ("https://site.com/a//", "site.com/a//"),
        ("x.com\t?s=1", "x.com"),
        ("https://site.com/?fbclid\t&", "site.com"),
        ("https://x.com/u?s \u3000&q=A", "x.com/u?q=A"),
    ],
)
def test_normalise_urls(url: str, expected: str) -> None:
    assert normalise(url) == [expected]


def test_normalise_urls_drops_empty_results() -> None:
    assert normalise("https://", " ", "#top", "www.site.com") == ["site.com"]


_URL_PARTS = st.sampled_from(
    ["https://", "HTTP://", "www.", "WWW.", "Site.COM", "t.co", "/", "//", "/Path", "?", "&",
     "=", "#", "#frag", " ", "utm_source=x", "fbclid", "si=1", "SI", "q=A", "a", "%20", ":",
     "@", "回复", "\t", "\u3000", "x.com", "bit.ly", "s=1", "S"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_URL_PARTS, max_size=12).map("".join), max_size=4))
@example(["?fbclid\t&"])  # once kept as "?fbclid", removed on a second pass
def test_normalise_urls_is_idempotent_and_drops_schemes(urls: list[str]) -> None:
    once = normalise(*urls)
    assert normalise(*once) == once
    for url in once:
        assert url and url == url.strip() and "#" not in url
        assert not url.lower().startswith(("http://", "https://", "www."))


def test_duplicate_post_id_with_different_content(tmp_path: Path) -> None:
    body = (
        "1,a,2024-01-01,x,\n"
        "1,a,2024-01-01,x,\n"
        "1,b,2024-01-02,y,\n"
        "2,a,2024-01-01,z,\n"
        "2,a,2024-01-01,z,5\n"
    )
    path = write(tmp_path / "d.csv", "post_id,account_id,created_at,text,repost_of\n" + body)
    posts, rejects, _ = scan(path)
    assert posts["post_id"].to_list() == ["1", "2"]
    assert rejects.select("row", "reason").rows() == [
        (2, "duplicate post_id"),
        (3, "duplicate post_id with different content"),
        (5, "duplicate post_id with different content"),
    ]
    _, rejects, _ = scan(path, batch_rows=1)  # across batches only a hash is kept
    assert set(rejects["reason"]) == {"duplicate post_id"}


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_coortweet_dump_without_text() -> None:
    path = SHARED / "coortweet_russian_coord_tweets.parquet"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    batches = list(iter_batches([path], ScanConfig()))
    assert sum(b.rows_read for b in batches) == 35_125
    rejects = pl.concat([b.rejects for b in batches])
    # The dump repeats 40 post_ids (same account and time): 1 exact repeat, 39 with another
    # repost_of; the first row of each wins.
    assert rejects.height == 40
    assert set(rejects["reason"]) == {
        "duplicate post_id",
        "duplicate post_id with different content",
    }
    assert sum(b.posts.height for b in batches) == 35_085
    posts = batches[0].posts
    assert posts["text"].null_count() == 0 and set(posts["text"]) == {""}


def test_qut_coretweet_fixture_with_bom_and_mapped_columns() -> None:
    path = SHARED / "qut_coretweet_test_input.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    mapping = {
        "post_id": "message_id",
        "account_id": "user_id",
        "repost_of": "repost_id",
        "reply_to": "reply_id",
        "text": "message",
        "created_at": "timestamp",
    }
    posts, rejects, _ = scan(path, columns=mapping)
    assert rejects.height == 0 and posts.height == 15
    assert posts.columns == [
        "post_id",
        "account_id",
        "created_at",
        "text",
        "urls",
        "mentions",
        "repost_of",
        "reply_to",
    ]
    assert posts.row(0) == (
        "0",
        "uid0",
        when(1970, 1, 1),
        "Example tweet from uid0",
        [],
        [],
        "rtid0",
        None,
    )
    assert posts["created_at"][13] == when(1970, 1, 1, 0, 5)
    assert posts.schema["reply_to"] == pl.String and posts["reply_to"].null_count() == 15


def test_read_ahead_gives_every_item_in_order() -> None:
    assert list(read_ahead(iter([None, 0, "a", None]))) == [None, 0, "a", None]
    assert list(read_ahead(iter([]))) == []


def test_read_ahead_raises_a_failure_at_its_turn() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise DataError("broken row", file="f.csv", row=3)

    got = []
    with pytest.raises(DataError, match="broken row"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_read_ahead_makes_one_item_ahead_and_stops_when_closed() -> None:
    made = []

    def items() -> Iterator[int]:
        for i in itertools.count():
            made.append(i)
            yield i

    ahead = read_ahead(items())
    assert next(ahead) == 0
    time.sleep(0.2)
    assert made == [0, 1]  # the one taken and the one made ahead, no more
    ahead.close()
    assert not any(t.name.startswith("read-ahead") for t in threading.enumerate())
