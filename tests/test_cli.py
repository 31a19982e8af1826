"""The command line: documented exit codes, one-line errors, nothing lost."""

import gzip
import json

import polars as pl
import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.errors import EXIT_DATA, EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE

HEADER = "account_id,post_id,created_at,text\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("detector: error:"), result.output
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def dump(tmp_path):
    path = tmp_path / "posts.csv"
    rows = [
        "a1,p1,2025-03-01T10:00:00Z,小米汽车的刹车系统有严重问题千万不要买",
        "a2,p2,not a time,text",
        "a3,p3,1740823200,hello world",
        "a4,p4,2025-03-01 10:00:00,",
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_help_explains_every_option():
    result = run("scan", "--help")
    assert result.exit_code == EXIT_OK
    for option in ("--out", "--format", "--column", "--threshold", "--window", "--quiet"):
        assert option in result.output


def test_scan_writes_tables_and_counts_add_up(dump, tmp_path):
    out = tmp_path / "out"
    result = run("scan", str(dump), "--out", str(out), "--quiet")
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_read"] == 4
    assert summary["rows_read"] == summary["rows_rejected"] + summary["rows_scanned"]
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert rejects["row"].to_list() == [2]
    assert rejects["column"].to_list() == ["created_at"]
    accounts = pl.read_parquet(out / "accounts.parquet")
    assert sorted(accounts["account_id"]) == ["a1", "a3", "a4"]
    for name in ("clusters", "posts", "groups", "edges"):
        assert (out / f"{name}.parquet").is_file()
    assert summary["config"]["threshold"] == 0.5


def test_csv_output_format(dump, tmp_path):
    out = tmp_path / "out"
    assert run("scan", str(dump), "--out", str(out), "--format", "csv", "--quiet").exit_code == 0
    assert pl.read_csv(out / "accounts.csv").height == 3


def test_column_mapping(tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_text("user,id,ts,content\nu1,1,2025-01-01T00:00:00Z,hello\n", encoding="utf-8")
    args = ["--column", "account_id=user", "--column", "post_id=id", "--column", "created_at=ts"]
    result = run("scan", str(path), "--out", str(tmp_path / "o"), "--quiet", *args,
                 "--column", "text=content")  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output


def test_missing_file_exit_code(tmp_path):
    missing = tmp_path / "nope.csv"
    assert_one_line_error(
        run("scan", str(missing), "--out", str(tmp_path / "o")), EXIT_INPUT, "nope.csv"
    )


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("account_id,post_id,text\na,1,hi\n", encoding="utf-8")
    result = run("scan", str(path), "--out", str(tmp_path / "o"))
    assert_one_line_error(result, EXIT_DATA, "bad.csv", "created_at")


def test_broken_gzip(tmp_path):
    path = tmp_path / "broken.csv.gz"
    data = gzip.compress((HEADER + "a,1,2025-01-01T00:00:00Z,hello\n" * 2000).encode())
    path.write_bytes(data[: len(data) // 2])
    assert_one_line_error(run("scan", str(path), "--out", str(tmp_path / "o")), EXIT_DATA, "broken")


def test_non_utf8_row_is_rejected_not_lost(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        HEADER.encode() + b"a,1,2025-01-01T00:00:00Z,caf\xe9\nb,2,2025-01-01T00:00:00Z,ok\n"
    )
    out = tmp_path / "o"
    assert run("scan", str(path), "--out", str(out), "--quiet").exit_code == EXIT_OK
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert rejects.select("row", "column", "reason").rows() == [(1, "text", "invalid UTF-8")]


@pytest.mark.parametrize(
    "args",
    [
        ["--threshold", "1.5"],
        ["--window", "soon"],
        ["--window", "teleport=5s"],
        ["--traces", "text,smoke"],
        ["--traces", ""],
        ["--min-co-shares", "0"],
        ["--column", "nonsense"],
        ["--column", "colour=text"],
        ["--num-perm", "0"],
    ],
)
def test_bad_options_exit_2(dump, tmp_path, args):
    result = run("scan", str(dump), "--out", str(tmp_path / "o"), *args)
    assert_one_line_error(result, EXIT_USAGE)


def test_traces_and_windows_reach_the_scan(tmp_path):
    path = tmp_path / "reposts.csv"
    rows = [f"a{i},p{i},2025-03-01T10:00:{i:02d}Z,,root{i % 2}" for i in range(6)]
    path.write_text("account_id,post_id,created_at,text,repost_of\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run(
        "scan", str(path), "--out", str(out), "--quiet", "--traces", "repost",
        "--window", "repost=30s", "--window", "2h", "--min-repeat", "1", "--write-graph",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["traces"] == ["repost"]
    assert summary["config"]["windows"]["repost"] == 30
    assert summary["config"]["windows"]["text"] == 7200
    assert summary["rows_scanned"] == 6
    # Accounts 0, 2, 4 repost root0 and 1, 3, 5 root1, 2 s apart: chains inside 30 s.
    edges = pl.read_parquet(out / "edges.parquet")
    assert set(edges["trace"]) == {"repost"} and summary["graph_edges_by_trace"]["repost"] > 0


def test_unwritable_output(dump, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_one_line_error(run("scan", str(dump), "--out", str(blocker / "sub")), EXIT_OUTPUT)


def test_explain_unknown_folder(tmp_path):
    assert_one_line_error(run("explain", str(tmp_path), "1"), EXIT_INPUT, "summary.json")
