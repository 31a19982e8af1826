"""`detector diff`: clusters matched across scans by their shared accounts."""

from __future__ import annotations

import json

import polars as pl
from click.testing import CliRunner
from test_review import regrouped
from triage_fixture import make_result

from detector.cli import main
from detector.diff import compare
from detector.errors import EXIT_INPUT, EXIT_OK


def later_scan():
    """The fixture rescanned: ids 1 and 3 swapped; the campaign (now 3) absorbs filler
    clusters 4 and 5, the burst (now 1) loses 50 of its 80 accounts and is flagged, the
    ring (2) is gone and 40 unclustered users form a new flagged cluster 99."""
    old = make_result(filler=4)
    moves: dict[str, int | None] = {f"filler_{c}_{i}": 3 for c in (4, 5) for i in range(5)}
    moves |= {f"hk_citizen_{i:03d}": None for i in range(30, 80)}
    moves |= {f"ring<b>{i}</b>": None for i in range(6)}
    moves |= {f"user_{i:03d}": 99 for i in range(40)}
    new = regrouped(old, moves, {1: 3, 3: 1})
    clusters = pl.concat(
        [
            new.clusters.filter(~pl.col("cluster_id").is_in([2, 4, 5])),
            new.clusters.filter(pl.col("cluster_id") == 6).with_columns(
                cluster_id=pl.lit(99, pl.Int64), flagged=pl.lit(True)
            ),
        ]
    )
    sizes = new.accounts.drop_nulls("cluster_id").group_by("cluster_id").len("n")
    clusters = (
        clusters.join(sizes, on="cluster_id")
        .with_columns(n_accounts=pl.col("n").cast(pl.Int64))
        .drop("n")
        .with_columns(
            flagged=pl.when(pl.col("cluster_id") == 1).then(True).otherwise(pl.col("flagged"))
        )
    )
    accounts = new.accounts.with_columns(
        flagged=pl.col("cluster_id").is_in(clusters.filter("flagged")["cluster_id"].implode())
    )
    return old, accounts, clusters


def test_diff_finds_new_gone_grown_shrunk_and_flag_changes():
    old, accounts, clusters = later_scan()
    diff = compare(old.accounts, old.clusters, accounts, clusters)
    by_new = {c.new_cluster: c for c in diff.clusters if c.new_cluster is not None}
    gone = sorted(c.old_cluster for c in diff.clusters if c.changes == ["gone"])
    assert gone == [2, 4, 5]
    assert by_new[99].changes == ["new"] and by_new[99].new_accounts == 40
    campaign = by_new[3]
    assert campaign.old_cluster == 1 and campaign.changes == ["grown"]
    assert (campaign.old_accounts, campaign.new_accounts, campaign.shared_accounts) == (60, 70, 60)
    assert campaign.jaccard == round(60 / 70, 4)
    burst = by_new[1]
    assert burst.old_cluster == 3 and burst.changes == ["flagged", "shrunk"]
    assert diff.unchanged == 2  # filler clusters 6 and 7
    assert diff.clusters[0].changes == ["new"]  # new first, then gone, then the rest
    assert diff.flagged_removed == [f"ring<b>{i}</b>" for i in range(6)]
    assert "hk_citizen_000" in diff.flagged_added and "user_000" in diff.flagged_added


def test_diff_command_prints_a_table_and_json(tmp_path):
    old, accounts, clusters = later_scan()
    old.save(tmp_path / "old")
    new = make_result(filler=4)
    new.accounts, new.clusters = accounts, clusters
    new.save(tmp_path / "new")
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "old"), str(tmp_path / "new")])
    assert result.exit_code == EXIT_OK, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("6 clusters changed, 2 unchanged")
    assert lines[1].split()[:3] == ["change", "old", "new"]
    assert any(line.split()[:3] == ["new", "-", "#99"] for line in lines)
    assert any(line.startswith("now flagged, shrunk  #3") for line in lines)
    assert "Flagged accounts removed: 6: ring<b>0</b>, ring<b>1</b>" in result.output
    as_json = CliRunner().invoke(
        main, ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--json"]
    )
    data = json.loads(as_json.output)
    assert {c["new_cluster"] for c in data["clusters"] if c["changes"] == ["new"]} == {99}
    assert len(data["flagged_removed"]) == 6 and data["unchanged"] == 2


def test_diff_of_a_folder_that_is_no_scan(tmp_path):
    result = CliRunner().invoke(main, ["diff", str(tmp_path), str(tmp_path)])
    assert result.exit_code == EXIT_INPUT and "summary.json" in result.output
