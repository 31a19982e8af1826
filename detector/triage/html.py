"""report.html: one self-contained page an analyst can act on. Overview, search and review
decisions, flagged clusters ranked by score with their evidence, unflagged but notable
activity with why it was not flagged, and a paged table of every cluster. Charts are inline
SVG; all posts are escaped; the data behind search and the evidence downloads is embedded
as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from detector.errors import OutputError
from detector.result import ScanResult
from detector.review import NO_DECISIONS, Decisions
from detector.schema import FEATURE_LEGEND, FEATURES
from detector.triage import svg
from detector.triage.assets import CSS, JS
from detector.triage.atomic import write_atomic
from detector.triage.bundle import as_script, page_data
from detector.triage.cards import bundle_links, card, review_badge
from detector.triage.evidence import collect, when
from detector.triage.notable import (
    flag_threshold,
    unflagged_clusters,
    unflagged_groups,
    why_not_flagged,
)
from detector.triage.settings import DEFAULT, ReportSettings

# Nothing may be fetched: the page must work offline and posts must not phone home.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def write_report(
    result: ScanResult,
    out_dir: Path,
    decisions: Decisions = NO_DECISIONS,
    settings: ReportSettings = DEFAULT,
) -> Path:
    """Write ``out_dir/report.html``, showing ``decisions``, and return its path."""
    path = Path(out_dir) / "report.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page = render(result, decisions, settings)
        write_atomic(path, lambda temp: temp.write_text(page, encoding="utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write report: {exc.strerror or exc}", file=str(path)) from None
    return path


def render(
    result: ScanResult, decisions: Decisions = NO_DECISIONS, settings: ReportSettings = DEFAULT
) -> str:
    """The whole page as a string (the same bytes for the same scan and decisions)."""
    ranked = result.clusters.sort(["score", "cluster_id"], descending=[True, False])
    flagged_ids = ranked.filter(pl.col("flagged"))["cluster_id"].to_list()
    carded = set(flagged_ids[: settings.expanded]) | set(unflagged_clusters(result))
    data = page_data(result, ranked["cluster_id"].to_list(), decisions, settings)
    page = _Page(
        decisions,
        {int(cid) for cid, c in data["clusters"].items() if c["bundle"] is not None},
        set(data["listed"]),
        settings,
    )
    s = result.summary
    n_flagged = len(flagged_ids)
    title = "detector report"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Coordinated behaviour report</h1><p>detector "
        f"{escape(str(s.get('version', '')))} · {_span(s)}</p><nav>"
        '<a href="#overview">Overview</a><a href="#search">Search and review</a>'
        f'<a href="#flagged">Flagged clusters ({n_flagged:,})</a>'
        '<a href="#notable">Unflagged but notable</a>'
        f'<a href="#all">All clusters ({result.clusters.height:,})</a></nav></header><main>'
        f"{_overview(result)}{_search(decisions)}{_flagged(result, flagged_ids, page)}"
        f"{_notable(result, page)}{_all_clusters(ranked, carded, page)}{_legend()}"
        f'{_footer(s)}</main><aside id="account-panel" hidden></aside>'
        f'<script type="application/json" id="report-data">{as_script(data)}</script>'
        f"<script>{JS}</script></body></html>\n"
    )


def _span(summary: dict[str, Any]) -> str:
    first, last = summary.get("first_seen"), summary.get("last_seen")
    if not first or not last:
        return "no posts"
    return f"posts from {escape(_day(first))} to {escape(_day(last))}"


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


def _stat(value: Any, label: str, alarm: bool = False) -> str:
    shown = f"{value:,}" if isinstance(value, int) else escape(str(value))
    return f'<div class="stat{" alarm" if alarm else ""}"><b>{shown}</b><span>{label}</span></div>'


def _overview(result: ScanResult) -> str:
    s = result.summary
    threshold = flag_threshold(result)
    scores = result.clusters["score"].to_numpy()
    flagged = int(result.clusters["flagged"].sum())
    stats = "".join(
        [
            _stat(s.get("rows_read", 0), "rows read"),
            _stat(s.get("rows_rejected", 0), "rows rejected"),
            _stat(s.get("rows_scanned", 0), "posts scanned"),
            _stat(s.get("posts_too_short", 0), "posts too short to match"),
            _stat(s.get("accounts", result.accounts.height), "accounts"),
            _stat(result.clusters.height, "clusters"),
            _stat(flagged, "clusters flagged", alarm=flagged > 0),
            _stat(result.flagged_accounts.height, "accounts flagged", alarm=flagged > 0),
        ]
    )
    return (
        f'<section id="overview"><h2>Overview</h2><p>Scanned {_span(s)}.</p>'
        f'<div class="stats">{stats}</div>'
        f'<div class="panel"><h3>Cluster scores</h3>{svg.score_histogram(scores, threshold)}'
        f'<p class="muted">A cluster is flagged when its score reaches {threshold:g}. The '
        "score needs both coordination (members co-posting many distinct contents) and signs "
        "of inauthenticity (batch-created accounts, spun variants, synchrony).</p></div>"
        f"{_rejects(s)}{_inputs(s)}</section>"
    )


def _rejects(summary: dict[str, Any]) -> str:
    """The rejected rows by reason, as the scan's summary counted them (most first): the
    rejects table, which may be parts on disk, is not read again."""
    by_reason = summary.get("rejects_by_reason") or {}
    if not by_reason:
        return ""
    rows = "".join(
        f"<tr><td>{escape(reason)}</td><td class='num'>{n:,}</td></tr>"
        for reason, n in list(by_reason.items())[:10]
    )
    return (
        f'<details class="panel"><summary>Rejected rows by reason ({sum(by_reason.values()):,}; '
        "all in rejects table)</summary><table><thead><tr><th>reason</th><th class='num'>rows"
        f"</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _inputs(summary: dict[str, Any]) -> str:
    inputs = summary.get("inputs") or []
    if not inputs:
        return ""
    items = "".join(f"<li><code>{escape(str(p))}</code></li>" for p in inputs)
    return (
        f'<details class="panel"><summary>Input files ({len(inputs):,})</summary>'
        f"<ul>{items}</ul></details>"
    )


@dataclass(frozen=True)
class _Page:
    """What every part of the page needs to know: the decisions, which clusters have
    their evidence bundle in the page, whose members are in it, and the report's settings."""

    decisions: Decisions
    bundled: set[int]
    listed: set[int]
    settings: ReportSettings


def _search(decisions: Decisions) -> str:
    n_clusters, n_accounts = len(decisions.clusters), len(decisions.accounts)
    carried = sum(d.carried for d in [*decisions.clusters.values(), *decisions.accounts.values()])
    told = (
        f"Decisions recorded: {n_clusters:,} clusters, {n_accounts:,} accounts"
        + (f" ({carried:,} carried over from an earlier scan's review)" if carried else "")
        + (f"; {decisions.unmatched:,} name nothing in this scan" if decisions.unmatched else "")
        + "."
        if n_clusters or n_accounts or decisions.unmatched
        else "No decisions recorded yet."
    )
    return (
        '<section id="search"><h2>Search and review</h2><p class="muted">Search account ids '
        "and the clusters' example posts and reasons; the filter also applies to the cluster "
        f"cards and the table of all clusters. {told} Record one with <code>detector review "
        "OUT_DIR --cluster ID --confirm</code> (or <code>--account ID</code>, "
        '<code>--reject</code>).</p><div class="searchbar"><input id="search-box" '
        'type="search" placeholder="account id or text" aria-label="search">'
        '<select id="review-filter" aria-label="decision"><option value="">any decision'
        '</option><option value="confirm">confirmed</option><option value="reject">rejected'
        '</option><option value="none">undecided</option></select></div>'
        '<div id="search-results"></div></section>'
    )


def _flagged(result: ScanResult, flagged_ids: list[int], page: _Page) -> str:
    head = '<section id="flagged"><h2>Flagged clusters, most suspicious first</h2>'
    if not flagged_ids:
        return head + "<p>No cluster reached the flag threshold.</p></section>"
    shown = flagged_ids[: page.settings.expanded]
    cards = "".join(
        card(
            ev,
            open_=i < page.settings.open_on_load,
            decisions=page.decisions,
            bundled=ev.cluster["cluster_id"] in page.bundled,
            listed=ev.cluster["cluster_id"] in page.listed,
            settings=page.settings,
        )
        for i, ev in enumerate(collect(result, shown, page.settings))
    )
    rest = len(flagged_ids) - len(shown)
    more = (
        f"<p>{rest:,} more flagged clusters are listed in the "
        '<a href="#all">table of all clusters</a>.</p>'
        if rest
        else ""
    )
    return (
        f"{head}<p class='muted'>{len(flagged_ids):,} clusters, "
        f"{result.flagged_accounts.height:,} accounts. "
        '<button data-expand="open">expand all</button> '
        '<button data-expand="close">collapse all</button></p>'
        f"{cards}{more}</section>"
    )


def _notable(result: ScanResult, page: _Page) -> str:
    threshold = flag_threshold(result)
    ids = unflagged_clusters(result)
    cards = "".join(
        card(
            ev,
            open_=False,
            note="Not flagged: " + why_not_flagged(ev.cluster, threshold),
            decisions=page.decisions,
            bundled=ev.cluster["cluster_id"] in page.bundled,
            listed=ev.cluster["cluster_id"] in page.listed,
            settings=page.settings,
        )
        for ev in collect(result, ids, page.settings)
    )
    if not cards:
        cards = "<p>No unflagged clusters.</p>"
    return (
        '<section id="notable"><h2>Unflagged but notable</h2><p>Large activity that was '
        "<em>not</em> flagged, and why: authentic bursts (many people posting one slogan "
        "once) look coordinated at a glance but lack repeated co-posting or signs of "
        "inauthenticity.</p><h3>Largest unflagged clusters</h3>"
        f"{cards}<h3>Largest near-duplicate groups outside flagged clusters</h3>"
        f"{_groups_table(result)}</section>"
    )


def _groups_table(result: ScanResult) -> str:
    groups = unflagged_groups(result)
    if not groups:
        return "<p>None.</p>"
    rows = []
    for g in groups:
        row = g.group
        cid = row["cluster_id"]
        cluster = f'<a href="#cluster-{cid}">#{cid}</a>' if cid is not None else "none"
        spark = svg.sparkline(g.timeline, svg.CALM) if g.timeline else ""
        rows.append(
            f'<tr id="group-{row["group_id"]}"><td class="num">{row["group_id"]}</td>'
            f"<td class='num'>{row['n_accounts']:,}</td><td class='num'>{row['n_posts']:,}</td>"
            f"<td class='num'>{row['n_texts']:,}</td><td>{cluster}</td>"
            f"<td class='when'>{when(row['first_seen'])}<br>{when(row['last_seen'])}<br>"
            f"{spark}</td>"
            f"<td class='text'>{escape(row['example_text'] or '')}</td>"
            f"<td>{escape(g.why)}</td></tr>"
        )
    return (
        "<table><thead><tr><th class='num'>group</th><th class='num'>accounts</th>"
        "<th class='num'>posts</th><th class='num'>texts</th><th>cluster</th>"
        "<th>first / last post</th><th>example</th><th>why not flagged</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _all_clusters(ranked: pl.DataFrame, carded: set[int], page: _Page) -> str:
    """Every cluster, one row each; clusters without a card get their anchor here."""
    rows = []
    for rank, c in enumerate(
        ranked.select(
            "cluster_id", "flagged", "reasons", "score", "n_accounts", "n_posts", "first_seen"
        ).iter_rows(named=True),
        start=1,
    ):
        cid = c["cluster_id"]
        anchor = f'<a href="#cluster-{cid}">#{cid}</a>' if cid in carded else f"#{cid}"
        row_id = "" if cid in carded else f' id="cluster-{cid}"'
        verdict = '<span class="score flagged">flagged</span>' if c["flagged"] else "–"
        reason = escape(c["reasons"][0]) if c["reasons"] else ""
        decision = page.decisions.clusters.get(cid)
        evidence = bundle_links(cid, True) if cid in page.bundled else ""
        rows.append(
            f'<tr{row_id} data-review="{decision.decision if decision else ""}">'
            f"<td class='num'>{rank:,}</td><td>{anchor}</td><td>{verdict}</td>"
            f"<td>{review_badge(decision)}</td>"
            f"<td class='num'>{c['score']:.2f}</td><td class='num'>{c['n_accounts']:,}</td>"
            f"<td class='num'>{c['n_posts']:,}</td><td class='when'>{when(c['first_seen'])}</td>"
            f"<td>{reason}</td><td class='when'>{evidence}</td></tr>"
        )
    pager = (
        '<div class="pager"><button data-page="-1">‹ previous</button>'
        '<span class="page-label"></span><button data-page="1">next ›</button></div>'
    )
    return (
        f'<section id="all"><h2>All clusters</h2><p class="muted">Ranked by score. Clusters '
        "without a link have no card in this report: <code>detector explain OUT_DIR ID</code> "
        f'prints their evidence.</p>{pager}<table id="all-table"><thead><tr>'
        "<th class='num'>rank</th><th>cluster</th><th>verdict</th><th>review</th>"
        "<th class='num'>score</th><th class='num'>accounts</th><th class='num'>posts</th>"
        "<th>first post</th><th>strongest reason</th><th>evidence (CSV)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"{pager}</section>"
    )


def _legend() -> str:
    items = "".join(f"<dt>{name}</dt><dd>{escape(FEATURE_LEGEND[name])}</dd>" for name in FEATURES)
    return f'<section id="legend"><h2>What the features mean</h2><dl>{items}</dl></section>'


def _footer(summary: dict[str, Any]) -> str:
    stages = summary.get("stages") or {}
    timing = " · ".join(
        f"{escape(str(name))} {float(v.get('seconds', 0)):.1f} s" for name, v in stages.items()
    )
    config = summary.get("config") or {}
    settings = ", ".join(f"{escape(str(k))}={escape(str(v))}" for k, v in config.items())
    return (
        f'<footer class="panel muted"><p>Stages: {timing or "–"}</p>'
        f"<p>Settings: {settings or '–'}</p></footer>"
    )
