"""Analyst decisions on a scan: ``OUT_DIR/review.csv``, appended to by ``detector review``
and read back by the report, the enforcement list and calibration.

One row per decision, in the order made (the last row for a target is its decision):
``target`` (``cluster:<cluster_id>`` or ``account:<account_id>``), ``decision`` (``confirm``
or ``reject``), ``note``, ``reviewer``, ``decided_at`` (ISO 8601, UTC), and for a cluster
``n_accounts`` and ``accounts`` (its member account ids as a JSON array) so a later scan,
whose cluster ids differ, can still find it: a cluster of the later scan takes the
decision of the reviewed cluster that held more than half of its accounts.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from detector.errors import DataError, InputError, OutputError, UsageError
from detector.result import load_table

REVIEW_FILE = "review.csv"
COLUMNS = ("target", "decision", "note", "reviewer", "decided_at", "n_accounts", "accounts")
DECISIONS = ("confirm", "reject")
LABELS = {"confirm": 1, "reject": 0}


@dataclass(frozen=True)
class Decision:
    """The latest decision on one cluster or account; ``carried`` when it comes from an
    earlier scan's review file."""

    decision: str
    note: str
    reviewer: str
    decided_at: str
    carried: bool = False


@dataclass(frozen=True)
class Decisions:
    """The decisions that apply to one scan: by cluster id and by account id (an account's
    own decision overrides its cluster's); ``unmatched``: decisions naming nothing in it."""

    clusters: dict[int, Decision]
    accounts: dict[str, Decision]
    unmatched: int = 0

    def of_accounts(self, accounts: pl.DataFrame) -> pl.Series:
        """The decision (``confirm``, ``reject`` or null) for each row of ``accounts``
        (columns account_id, cluster_id): its own, else its cluster's."""
        own = accounts["account_id"].replace_strict(
            {a: d.decision for a, d in self.accounts.items()}, default=None, return_dtype=pl.String
        )
        by_cluster = accounts["cluster_id"].replace_strict(
            {c: d.decision for c, d in self.clusters.items()}, default=None, return_dtype=pl.String
        )
        return own.fill_null(by_cluster).alias("review")


NO_DECISIONS = Decisions(clusters={}, accounts={})


def append(out_dir: Path, target: str, decision: str, note: str, reviewer: str) -> dict[str, str]:
    """Check ``target`` (``cluster:ID`` or ``account:ID``) against the scan in ``out_dir``
    and append the decision to its review file, creating it with a header; returns the
    row written."""
    accounts = load_table(out_dir, "accounts").select("account_id", "cluster_id")
    kind, _, key = target.partition(":")
    row = {
        "target": target,
        "decision": decision,
        "note": note,
        "reviewer": reviewer,
        "decided_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "n_accounts": "",
        "accounts": "",
    }
    if kind == "cluster":
        members = accounts.filter(pl.col("cluster_id") == int(key))["account_id"].sort()
        if members.is_empty():
            n = accounts["cluster_id"].drop_nulls().n_unique()
            raise UsageError(f"no cluster {key} in {out_dir} ({n:,} clusters)")
        row["n_accounts"] = str(members.len())
        row["accounts"] = json.dumps(members.to_list(), ensure_ascii=False)
    elif not (accounts["account_id"] == key).any():
        raise UsageError(f"no account {key!r} in {out_dir}")
    path = Path(out_dir) / REVIEW_FILE
    new = not path.is_file() or path.stat().st_size == 0
    if not new:
        read(path)  # refuse to append to a file that is not a review file
    try:
        with path.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerow(row)
    except OSError as exc:
        raise OutputError(f"cannot write decision: {exc.strerror or exc}", file=str(path)) from None
    return row


def read(path: Path) -> pl.DataFrame:
    """A review file's rows, checked, with every column of :data:`COLUMNS` (missing
    optional ones empty) and ``order`` (0-based row number)."""
    try:
        rows = pl.read_csv(path, infer_schema=False)
    except FileNotFoundError:
        raise InputError("no such review file", file=str(path)) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(f"cannot read review file ({exc})", file=str(path)) from None
    for column in ("target", "decision"):
        if column not in rows.columns:
            raise DataError("not a review file", file=str(path), column=column)
    rows = rows.with_columns(
        pl.lit("").alias(c) for c in COLUMNS if c not in rows.columns
    ).with_columns(pl.col(c).fill_null("") for c in COLUMNS)
    rows = rows.select(*COLUMNS).with_row_index("order")
    checks = (
        ("decision", pl.col("decision").is_in(DECISIONS), "confirm or reject"),
        (
            "target",
            pl.col("target").str.contains(r"^(cluster:-?\d+|account:.+)$"),
            "cluster:<id> or account:<id>",
        ),
    )
    for column, valid, expected in checks:
        bad = rows.filter(~valid)
        if bad.height:
            raise DataError(
                f"{column} must be {expected}, got {bad[column][0]!r}",
                file=str(path),
                row=int(bad["order"][0]) + 1,
                column=column,
            )
    return rows


def for_scan(
    accounts: pl.DataFrame, own: Path | None = None, carried: Path | None = None
) -> Decisions:
    """The decisions of the review file ``own`` (written for this scan: clusters by id) and,
    where it has none, of ``carried`` (an earlier scan's: accounts by id, clusters by the
    majority rule) for the scan whose accounts table is ``accounts``."""
    members = accounts.select("account_id", "cluster_id")
    clusters: dict[int, Decision] = {}
    people: dict[str, Decision] = {}
    unmatched = 0
    for path, is_carried in ((carried, True), (own, False)):  # own decisions win
        if path is None or (not is_carried and not path.is_file()):
            continue
        latest = _latest(read(path))
        found_accounts, found_clusters = _match(latest, members, by_id=not is_carried)
        for key, row in found_accounts.items():
            people[key] = _decision(row, is_carried)
        for key, row in found_clusters.items():
            clusters[key] = _decision(row, is_carried)
        if not is_carried:
            unmatched = latest.height - len(found_accounts) - len(found_clusters)
    return Decisions(clusters=clusters, accounts=people, unmatched=unmatched)


def review_labels(out_dir: str | Path) -> pl.DataFrame:
    """Labels from the scan's own review file: ``account_id`` and ``label`` (1 confirm,
    0 reject) for each decided account and each member of a decided cluster, an account's
    own decision overriding its cluster's; empty without a review file."""
    accounts = load_table(out_dir, "accounts").select("account_id", "cluster_id")
    decisions = for_scan(accounts, own=Path(out_dir) / REVIEW_FILE)
    return (
        accounts.with_columns(decisions.of_accounts(accounts))
        .drop_nulls("review")
        .select("account_id", label=pl.col("review").replace_strict(LABELS, return_dtype=pl.Int8))
        .sort("account_id")
    )


def _latest(rows: pl.DataFrame) -> pl.DataFrame:
    """The last row of each target, in file order."""
    return rows.group_by("target").agg(pl.all().last()).sort("order")


def _match(
    latest: pl.DataFrame, members: pl.DataFrame, *, by_id: bool
) -> tuple[dict[str, dict], dict[int, dict]]:
    """The decided rows that name an account of the scan, and those that apply to one of
    its clusters: by id (``by_id``) or by the majority rule."""
    parts = pl.col("target").str.splitn(":", 2)
    latest = latest.with_columns(
        kind=parts.struct.field("field_0"), key=parts.struct.field("field_1")
    )
    known = set(members["account_id"].to_list())
    people = {r["key"]: r for r in latest.filter(pl.col("kind") == "account").iter_rows(named=True)}
    people = {k: r for k, r in people.items() if k in known}
    decided = latest.filter(pl.col("kind") == "cluster")
    if by_id:
        ids = set(members["cluster_id"].drop_nulls().to_list())
        rows = {int(r["key"]): r for r in decided.iter_rows(named=True)}
        return people, {cid: r for cid, r in rows.items() if cid in ids}
    return people, _by_majority(decided, members)


def _by_majority(decided: pl.DataFrame, members: pl.DataFrame) -> dict[int, dict]:
    """For each cluster of ``members``, the latest decided cluster (with its stored member
    list) that held more than half of its accounts."""
    if decided.is_empty():
        return {}
    old = decided.filter(pl.col("accounts") != "").select(
        "order", account_id=pl.col("accounts").str.json_decode(pl.List(pl.String))
    )
    sizes = members.drop_nulls("cluster_id").group_by("cluster_id").len("size")
    winners = (
        old.explode("account_id")
        .join(members.drop_nulls("cluster_id"), on="account_id")
        .group_by("cluster_id", "order")
        .len("shared")
        .join(sizes, on="cluster_id")
        .filter(pl.col("shared") * 2 > pl.col("size"))
        .group_by("cluster_id")
        .agg(pl.col("order").max())
    )
    rows = {r["order"]: r for r in decided.iter_rows(named=True)}
    return {cid: rows[order] for cid, order in winners.iter_rows()}


def _decision(row: dict, carried: bool) -> Decision:
    return Decision(
        decision=row["decision"],
        note=row["note"],
        reviewer=row["reviewer"],
        decided_at=row["decided_at"],
        carried=carried,
    )
