"""The command line: documented exit codes, one-line errors, nothing lost."""

import gzip
import json
import re
import time

import polars as pl
import pytest
from click.testing import CliRunner

import detector.cli
import detector.pipeline
import detector.triage
from detector.cli import main
from detector.errors import (
    EXIT_DATA,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    OutputError,
)

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
        ["--time-format", "dd/mm/yyyy"],
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


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def siblings(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name))


def test_ctrl_c_during_the_scan_exits_130_and_writes_nothing(dump, tmp_path, monkeypatch):
    monkeypatch.setattr(detector.pipeline, "scan", interrupt)
    out = tmp_path / "out"
    result = run("scan", str(dump), "--out", str(out))
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert result.output.splitlines() == ["detector: interrupted (Ctrl-C)"]
    assert siblings(out) == []


def test_ctrl_c_while_writing_keeps_the_previous_results(dump, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run("scan", str(dump), "--out", str(out), "--quiet").exit_code == EXIT_OK
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def half_written_report(result, folder):
        (folder / "report.html").touch()
        raise KeyboardInterrupt

    monkeypatch.setattr(detector.triage, "write_report", half_written_report)
    result = run("scan", str(dump), "--out", str(out), "--threshold", "0.7")
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert siblings(out) == ["out"]


def test_failed_write_leaves_no_folder(dump, tmp_path, monkeypatch):
    def disk_full(result, folder, **kwargs):
        (folder / "enforcement.csv").touch()
        raise OutputError("no space left on device", file=str(folder))

    monkeypatch.setattr(detector.triage, "write_exports", disk_full)
    out = tmp_path / "out"
    assert_one_line_error(run("scan", str(dump), "--out", str(out)), EXIT_OUTPUT, "no space")
    assert siblings(out) == []


def test_rescan_replaces_earlier_results_whole(dump, tmp_path):
    out = tmp_path / "out"
    assert run("scan", str(dump), "--out", str(out), "--quiet").exit_code == EXIT_OK
    (out / ".DS_Store").touch()  # a file browser's: no reason to refuse the folder
    assert run("scan", str(dump), "--out", str(out), "--quiet", "--format", "csv").exit_code == 0
    assert not list(out.glob("*.parquet")) and (out / "accounts.csv").is_file()
    assert siblings(out) == ["out"]


def test_folder_with_other_files_is_not_replaced(dump, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("scan", str(dump), "--out", str(out))
    assert_one_line_error(result, EXIT_OUTPUT, "notes.txt")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_all_rows_rejected_exits_4_with_the_rejects_written(tmp_path):
    path = tmp_path / "undated.csv"
    rows = ["a1,p1,yesterday,hi", "a2,p2,today,hello", "a3,p3,01/03/2025,", "a3,p4,,x"]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("scan", str(path), "--out", str(out))
    assert_one_line_error(
        result, EXIT_DATA, "all 4 rows", "unparseable created_at (3 rows)", "--time-format"
    )
    assert pl.read_parquet(out / "rejects.parquet").height == 4
    assert (out / "report.html").stat().st_size > 0


def test_summary_on_screen_counts_rejects_short_posts_and_the_whole_run(
    dump, tmp_path, monkeypatch
):
    write_exports = detector.triage.write_exports

    def slow_exports(*args, **kwargs):
        time.sleep(1)
        return write_exports(*args, **kwargs)

    monkeypatch.setattr(detector.triage, "write_exports", slow_exports)
    out = tmp_path / "out"
    result = run("scan", str(dump), "--out", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert "Read 4 rows: 3 scanned, 1 rejected (unparseable created_at: 1)." in result.output
    assert "2 of the 3 posts are too short for text matching" in result.output
    assert "0 clusters among 3 accounts; 0 flagged, holding 0 accounts." in result.output
    seconds = float(re.search(r"Finished in ([\d.]+) s", result.output).group(1))
    # Printed to a tenth of a second: the whole run, the second of exports included.
    assert seconds + 0.05 >= json.loads((out / "summary.json").read_text())["seconds"] + 1


def test_time_format_reads_day_first_dates(tmp_path):
    path = tmp_path / "day_first.csv"
    rows = [
        "a1,p1,01/03/2025 10:00,hello there,15/06/2020 00:00",
        "a2,p2,31/12/2024 23:59,hello again,",
        "a3,p3,2025-03-02T08:00:00Z,iso still reads,",
        "a4,p4,12/31/2024 10:00,month first,",
    ]
    path.write_text(
        "account_id,post_id,created_at,text,account_created_at\n" + "\n".join(rows) + "\n"
    )
    out = tmp_path / "out"
    args = ("scan", str(path), "--out", str(out), "--quiet", "--time-format", "%d/%m/%Y %H:%M")
    assert run(*args).exit_code == EXIT_OK
    posts = pl.read_parquet(out / "posts.parquet").sort("post_id")
    assert [t.isoformat() for t in posts["created_at"]] == [
        "2025-03-01T10:00:00+00:00",
        "2024-12-31T23:59:00+00:00",
        "2025-03-02T08:00:00+00:00",
    ]
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert rejects.select("row", "reason").rows() == [(4, "unparseable created_at")]
    accounts = pl.read_parquet(out / "accounts.parquet").sort("account_id")
    assert accounts["account_created_at"][0].isoformat() == "2020-06-15T00:00:00+00:00"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["time_format"] == "%d/%m/%Y %H:%M"


def test_progress_names_every_stage_and_counts_parquet_rows(tmp_path, monkeypatch):
    path = tmp_path / "posts.parquet"
    pl.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(6)],
            "post_id": [f"p{i}" for i in range(6)],
            "created_at": [f"2025-03-01T10:00:0{i}Z" for i in range(6)],
            "text": ["the same slogan pasted by every account today"] * 6,
        }
    ).write_parquet(path)
    for module in (detector.cli, detector.pipeline):
        monkeypatch.setattr(module, "on_terminal", lambda wanted: wanted)
    result = run("scan", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == EXIT_OK, result.output
    assert "read + minhash:   0%" in result.stderr  # a total, so a percentage and an ETA
    for stage in ("lsh", "graph", "cluster", "score", "tables"):
        assert f"scan: {stage} ..." in result.stderr
    files = (
        "tables",
        "report.html",
        "flagged_graph.graphml",
        "flagged_graph.gexf",
        "enforcement.csv",
    )
    for name in files:
        assert f"write {name} ..." in result.stderr
