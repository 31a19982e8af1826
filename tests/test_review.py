"""The review loop: `detector review` records decisions, the report and enforcement.csv
show them, a later scan's report carries them over, and review_labels reads them as labels."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner
from triage_fixture import make_result

from detector.cli import main
from detector.errors import EXIT_DATA, EXIT_INPUT, EXIT_OK, EXIT_USAGE
from detector.result import ScanResult
from detector.review import review_labels


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_error(result, code: int, needle: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("detector: error:") and needle in lines[0]


@pytest.fixture
def scan(tmp_path):
    out = tmp_path / "scan"
    make_result(filler=4).save(out)
    return out


def members(out, cid: int) -> list[str]:
    accounts = ScanResult.load(out).accounts
    return sorted(accounts.filter(pl.col("cluster_id") == cid)["account_id"])


def test_review_appends_rows_with_the_cluster_members(scan):
    result = run(
        "review", scan, "--cluster", 1, "--confirm", "--note", "batch, spun", "--reviewer", "ann"
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "confirm cluster:1 (60 accounts)" in result.output
    assert run("review", scan, "--account", "ring<b>0</b>", "--reject").exit_code == EXIT_OK
    rows = pl.read_csv(scan / "review.csv", infer_schema=False)
    assert rows.columns == [
        "target",
        "decision",
        "note",
        "reviewer",
        "decided_at",
        "n_accounts",
        "accounts",
    ]
    assert rows["target"].to_list() == ["cluster:1", "account:ring<b>0</b>"]
    assert rows["decision"].to_list() == ["confirm", "reject"]
    first = rows.row(0, named=True)
    assert first["note"] == "batch, spun" and first["reviewer"] == "ann"
    assert first["decided_at"].endswith("Z") and first["n_accounts"] == "60"
    assert json.loads(first["accounts"]) == members(scan, 1)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--cluster", "999", "--confirm"], EXIT_USAGE, "no cluster 999"),
        (["--account", "nobody", "--reject"], EXIT_USAGE, "no account 'nobody'"),
        (["--cluster", "1"], EXIT_USAGE, "--confirm or --reject"),
        (["--confirm"], EXIT_USAGE, "--cluster ID or --account ID"),
        (["--cluster", "1", "--account", "user_001", "--confirm"], EXIT_USAGE, "one of"),
    ],
)
def test_review_validates_its_target(scan, args, code, needle):
    assert_error(run("review", scan, *args), code, needle)
    assert not (scan / "review.csv").exists()


def test_review_of_a_folder_that_is_no_scan(tmp_path):
    assert_error(run("review", tmp_path, "--cluster", 1, "--confirm"), EXIT_INPUT, "summary.json")


def test_review_refuses_a_broken_review_file(scan):
    (scan / "review.csv").write_text("target,decision\ncluster:1,maybe\n")
    assert_error(run("review", scan, "--cluster", 1, "--confirm"), EXIT_DATA, "confirm or reject")


def test_report_and_enforcement_show_the_latest_decision(scan):
    run("review", scan, "--cluster", 2, "--confirm")
    run("review", scan, "--cluster", 1, "--reject", "--note", "first look")
    run("review", scan, "--cluster", 1, "--confirm", "--note", "on second look")
    run("review", scan, "--account", "xm_fan_003", "--reject")
    assert run("report", scan).exit_code == EXIT_OK
    html = (scan / "report.html").read_text(encoding="utf-8")
    card = html[
        html.index('id="cluster-1"') : html.index("</summary>", html.index('id="cluster-1"'))
    ]
    assert 'data-review="confirm"' in card and 'class="review confirm"' in card
    assert "on second look" in card
    assert "Decisions recorded: 2 clusters, 1 accounts." in html
    assert 'id="review-filter"' in html and 'id="search-box"' in html
    table = pl.read_csv(scan / "enforcement.csv")
    review = dict(table.select("account_id", "review").iter_rows())
    assert review["xm_fan_003"] == "reject"  # the account's own decision wins
    assert review["xm_fan_004"] == "confirm" and review["ring<b>1</b>"] == "confirm"
    assert table.filter(pl.col("cluster_id") > 3)["review"].to_list() == [""] * 10


def test_review_labels_account_decisions_override_cluster_ones(scan):
    assert review_labels(scan).is_empty()
    run("review", scan, "--cluster", 1, "--confirm")
    run("review", scan, "--cluster", 3, "--reject")
    run("review", scan, "--account", "xm_fan_007", "--reject")
    run("review", scan, "--account", "hk_citizen_001", "--confirm")
    run("review", scan, "--account", "user_005", "--confirm")  # in no cluster
    labels = review_labels(scan)
    assert labels.schema == pl.Schema({"account_id": pl.String, "label": pl.Int8})
    label = dict(labels.iter_rows())
    assert len(label) == 60 + 80 + 1
    assert label["xm_fan_000"] == 1 and label["xm_fan_007"] == 0
    assert label["hk_citizen_000"] == 0 and label["hk_citizen_001"] == 1
    assert label["user_005"] == 1 and "ring<b>0</b>" not in label


def regrouped(old: ScanResult, moves: dict[str, int | None], renumber: dict[int, int]):
    """``old`` as a later scan might find it: clusters renumbered, accounts moved."""
    cluster = pl.col("cluster_id").replace(renumber)
    moved = pl.col("account_id").replace_strict(moves, default=None, return_dtype=pl.Int64)
    clusters = old.clusters.with_columns(cluster).sort("cluster_id")
    accounts = (
        old.accounts.with_columns(
            cluster_id=pl.when(pl.col("account_id").is_in(list(moves)))
            .then(moved)
            .otherwise(cluster)
        )
        .drop("score", "flagged")
        .join(clusters.select("cluster_id", "score", "flagged"), on="cluster_id", how="left")
        .with_columns(pl.col("score").fill_null(0.0), pl.col("flagged").fill_null(False))
        .select(old.accounts.columns)
    )
    home = accounts.select("account_id", "cluster_id")
    posts = old.posts.drop("cluster_id").join(home, on="account_id").select(old.posts.columns)
    ends = home.rename({"account_id": "source", "cluster_id": "a"})
    edges = (
        old.edges.drop("cluster_id")
        .join(ends, on="source")
        .join(ends.rename({"source": "target", "a": "b"}), on="target")
        .filter(pl.col("a") == pl.col("b"))
        .rename({"a": "cluster_id"})
        .select(old.edges.columns)
    )
    return ScanResult(
        accounts=accounts,
        clusters=clusters,
        posts=posts,
        groups=old.groups,
        edges=edges,
        rejects=old.rejects,
        summary=old.summary,
    )


def test_a_later_scan_carries_decisions_over_by_majority(scan, tmp_path):
    run("review", scan, "--cluster", 1, "--confirm", "--note", "campaign")
    run("review", scan, "--cluster", 3, "--reject")
    run("review", scan, "--account", "ring<b>0</b>", "--confirm")
    # The later scan swaps ids 1 and 3. Its cluster 3 keeps 30 of the campaign's accounts
    # and gains 10 filler ones; its cluster 1 keeps 30 of the burst's 80 accounts and gains
    # 40 others, so the burst's decision (30 of 70) does not carry over.
    moves: dict[str, int | None] = {f"xm_fan_{i:03d}": None for i in range(30, 60)}
    moves |= {f"hk_citizen_{i:03d}": None for i in range(30, 80)}
    moves |= {f"filler_{c}_{i}": 3 for c in (4, 5) for i in range(5)}
    moves |= {f"user_{i:03d}": 1 for i in range(40)}
    later = tmp_path / "later"
    regrouped(ScanResult.load(scan), moves, {1: 3, 3: 1}).save(later)
    assert run("report", later, "--review", scan / "review.csv").exit_code == EXIT_OK
    table = pl.read_csv(later / "enforcement.csv")
    review = dict(table.select("account_id", "review").iter_rows())
    assert review["xm_fan_000"] == "confirm" and review["filler_4_0"] == "confirm"
    assert review["ring<b>0</b>"] == "confirm" and review["ring<b>1</b>"] == ""
    html = (later / "report.html").read_text(encoding="utf-8")
    assert "carried over from an earlier scan" in html
    assert 'id="cluster-1" data-review=""' in html


def test_report_with_a_missing_review_file(scan, tmp_path):
    assert_error(run("report", scan, "--review", tmp_path / "nope.csv"), EXIT_INPUT, "review")
