"""``detector diff``: what changed between two scans. Cluster ids are not stable between
scans, so clusters are matched by their members: the pairs of an old and a new cluster
that share accounts are taken one to one, highest Jaccard similarity of the member sets
first, down to :data:`MIN_JACCARD`. A new cluster left unmatched is new, an old one gone;
a matched pair is grown or shrunk by its member count and may have been flagged or
unflagged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from detector.result import load_table

MIN_JACCARD = 0.1  # below this, two clusters sharing a few accounts are not the same one
ORDER = ("new", "gone", "flagged", "unflagged", "grown", "shrunk")
WORDS = {"flagged": "now flagged", "unflagged": "no longer flagged"}
SHOWN_ACCOUNTS = 20  # flagged accounts listed per direction in the table


@dataclass(frozen=True)
class ClusterChange:
    """One changed cluster: ``changes`` among new, gone, grown, shrunk, flagged (now
    flagged), unflagged (no longer flagged); ids and sizes of either side, None if absent."""

    changes: list[str]
    old_cluster: int | None
    new_cluster: int | None
    old_accounts: int
    new_accounts: int
    shared_accounts: int
    jaccard: float
    old_flagged: bool | None
    new_flagged: bool | None
    old_score: float | None
    new_score: float | None


@dataclass(frozen=True)
class ScanDiff:
    clusters: list[ClusterChange]
    unchanged: int  # matched clusters with the same size and flag
    flagged_added: list[str] = field(default_factory=list)
    flagged_removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_scans(old_dir: str | Path, new_dir: str | Path) -> ScanDiff:
    """Compare the scan folders ``old_dir`` and ``new_dir``."""
    old = _side(old_dir)
    new = _side(new_dir)
    return compare(old["accounts"], old["clusters"], new["accounts"], new["clusters"])


def _side(out_dir: str | Path) -> dict[str, pl.DataFrame]:
    return {
        "accounts": load_table(out_dir, "accounts").select("account_id", "cluster_id", "flagged"),
        "clusters": load_table(out_dir, "clusters").select(
            "cluster_id", "n_accounts", "flagged", "score"
        ),
    }


def compare(
    old_accounts: pl.DataFrame,
    old_clusters: pl.DataFrame,
    new_accounts: pl.DataFrame,
    new_clusters: pl.DataFrame,
) -> ScanDiff:
    """The diff of two scans given their accounts and clusters tables."""
    pairs = _matches(old_accounts, old_clusters, new_accounts, new_clusters)
    old_rows = {r["cluster_id"]: r for r in old_clusters.iter_rows(named=True)}
    new_rows = {r["cluster_id"]: r for r in new_clusters.iter_rows(named=True)}
    changes = []
    matched_old = {o for o, _, _, _ in pairs}
    matched_new = {n for _, n, _, _ in pairs}
    for cid, row in new_rows.items():
        if cid not in matched_new:
            changes.append(_change(["new"], None, row, 0, 0.0))
    for cid, row in old_rows.items():
        if cid not in matched_old:
            changes.append(_change(["gone"], row, None, 0, 0.0))
    unchanged = 0
    for o, n, shared, jaccard in pairs:
        before, after = old_rows[o], new_rows[n]
        kinds = []
        if before["flagged"] != after["flagged"]:
            kinds.append("flagged" if after["flagged"] else "unflagged")
        if after["n_accounts"] != before["n_accounts"]:
            kinds.append("grown" if after["n_accounts"] > before["n_accounts"] else "shrunk")
        if kinds:
            changes.append(_change(kinds, before, after, shared, jaccard))
        else:
            unchanged += 1
    changes.sort(
        key=lambda c: (
            ORDER.index(c.changes[0]),
            -max(c.old_accounts, c.new_accounts),
            c.new_cluster if c.new_cluster is not None else c.old_cluster,
        )
    )
    was = set(old_accounts.filter(pl.col("flagged"))["account_id"].to_list())
    now = set(new_accounts.filter(pl.col("flagged"))["account_id"].to_list())
    return ScanDiff(
        clusters=changes,
        unchanged=unchanged,
        flagged_added=sorted(now - was),
        flagged_removed=sorted(was - now),
    )


def _matches(
    old_accounts: pl.DataFrame,
    old_clusters: pl.DataFrame,
    new_accounts: pl.DataFrame,
    new_clusters: pl.DataFrame,
) -> list[tuple[int, int, int, float]]:
    """(old id, new id, shared accounts, Jaccard) of the one-to-one matches, greedily by
    Jaccard (ties: more shared accounts, then lower ids)."""
    old = old_accounts.drop_nulls("cluster_id").select("account_id", old="cluster_id")
    new = new_accounts.drop_nulls("cluster_id").select("account_id", new="cluster_id")
    candidates = (
        old.join(new, on="account_id")
        .group_by("old", "new")
        .len("shared")
        .join(old_clusters.select(old="cluster_id", n_old="n_accounts"), on="old")
        .join(new_clusters.select(new="cluster_id", n_new="n_accounts"), on="new")
        .with_columns(
            jaccard=pl.col("shared") / (pl.col("n_old") + pl.col("n_new") - pl.col("shared"))
        )
        .filter(pl.col("jaccard") >= MIN_JACCARD)
        .sort(["jaccard", "shared", "old", "new"], descending=[True, True, False, False])
    )
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    pairs = []
    for o, n, shared, jaccard in candidates.select("old", "new", "shared", "jaccard").iter_rows():
        if o not in taken_old and n not in taken_new:
            taken_old.add(o)
            taken_new.add(n)
            pairs.append((o, n, shared, round(jaccard, 4)))
    return pairs


def _change(
    kinds: list[str], old: dict | None, new: dict | None, shared: int, jaccard: float
) -> ClusterChange:
    return ClusterChange(
        changes=kinds,
        old_cluster=old["cluster_id"] if old else None,
        new_cluster=new["cluster_id"] if new else None,
        old_accounts=old["n_accounts"] if old else 0,
        new_accounts=new["n_accounts"] if new else 0,
        shared_accounts=shared,
        jaccard=jaccard,
        old_flagged=old["flagged"] if old else None,
        new_flagged=new["flagged"] if new else None,
        old_score=round(old["score"], 4) if old else None,
        new_score=round(new["score"], 4) if new else None,
    )


def as_text(diff: ScanDiff) -> str:
    """The diff as a table for the terminal."""
    header = ("change", "old", "new", "accounts", "shared", "jaccard", "score", "flagged")
    rows = [header]
    for c in diff.clusters:
        rows.append(
            (
                ", ".join(WORDS.get(k, k) for k in c.changes),
                _id(c.old_cluster),
                _id(c.new_cluster),
                f"{c.old_accounts:,} -> {c.new_accounts:,}",
                f"{c.shared_accounts:,}",
                f"{c.jaccard:.2f}"
                if c.old_cluster is not None and c.new_cluster is not None
                else "-",
                f"{_num(c.old_score)} -> {_num(c.new_score)}",
                f"{_yes(c.old_flagged)} -> {_yes(c.new_flagged)}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{len(diff.clusters):,} clusters changed, {diff.unchanged:,} unchanged "
        f"(matched by shared accounts, Jaccard >= {MIN_JACCARD:g})."
    ]
    if diff.clusters:
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
    for label, ids in (("added", diff.flagged_added), ("removed", diff.flagged_removed)):
        shown = ", ".join(ids[:SHOWN_ACCOUNTS])
        more = f", ... {len(ids) - SHOWN_ACCOUNTS:,} more" if len(ids) > SHOWN_ACCOUNTS else ""
        lines.append(f"Flagged accounts {label}: {len(ids):,}{': ' + shown + more if ids else ''}")
    return "\n".join(lines)


def _id(cid: int | None) -> str:
    return "-" if cid is None else f"#{cid}"


def _num(score: float | None) -> str:
    return "-" if score is None else f"{score:.2f}"


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else ("yes" if flag else "no")
