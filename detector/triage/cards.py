"""HTML for one cluster's evidence: a collapsible card with reasons, features, timeline,
account-creation histogram, network picture, example templates and busiest accounts."""

from __future__ import annotations

from html import escape

from detector.review import NO_DECISIONS, Decision, Decisions
from detector.schema import FEATURE_LEGEND, FEATURES
from detector.triage import svg
from detector.triage.evidence import Evidence, when
from detector.triage.template import Family, Span


def spans(parts: list[Span]) -> str:
    """Escaped text with the differing spans in <mark>."""
    return "".join(f"<mark>{escape(s.text)}</mark>" if s.differs else escape(s.text) for s in parts)


def review_badge(decision: Decision | None) -> str:
    """The decision as a badge whose tooltip says who, when, why and whether it was
    carried over from an earlier scan; empty when undecided."""
    if decision is None:
        return ""
    word = "confirmed" if decision.decision == "confirm" else "rejected"
    carried = "carried over from an earlier scan's review" if decision.carried else ""
    title = " · ".join(
        v for v in (decision.reviewer, decision.decided_at, decision.note, carried) if v
    )
    return (
        f'<span class="review {decision.decision}" title="{escape(title)}">'
        f"{word}{' (carried)' if decision.carried else ''}</span>"
    )


def bundle_links(cluster_id: int, bundled: bool) -> str:
    """Links that download the cluster's posts and edges as CSV, built in the page from
    the embedded data; a pointer to the tables where they did not fit in the page."""
    if not bundled:
        return f"in the posts and edges tables (cluster_id {cluster_id})"
    return " · ".join(
        f'<a href="#" data-download="{kind}" data-cluster="{cluster_id}">{kind}.csv</a>'
        for kind in ("posts", "edges")
    )


def summary_line(cluster: dict, lead: str, decision: Decision | None = None) -> str:
    flagged = " flagged" if cluster["flagged"] else ""
    return (
        f'<span class="cid">#{cluster["cluster_id"]}</span> '
        f'<span class="score{flagged}">{cluster["score"]:.2f}</span>{review_badge(decision)} '
        f"{cluster['n_accounts']:,} accounts · {cluster['n_posts']:,} posts · "
        f"{when(cluster['first_seen'])} → {when(cluster['last_seen'])} "
        f'<span class="lead">— {escape(lead)}</span>'
    )


def features(cluster: dict) -> str:
    rows = []
    for name in FEATURES:
        value = cluster[name]
        if value is None:
            rows.append(
                f'<div class="feat unknown" title="{escape(FEATURE_LEGEND[name])}">'
                f'<span>{name}</span><span class="bar"></span>'
                '<span class="val">unknown</span></div>'
            )
        else:
            rows.append(
                f'<div class="feat" title="{escape(FEATURE_LEGEND[name])}">'
                f'<span>{name}</span><span class="bar">'
                f'<i style="width:{100 * value:.0f}%"></i></span>'
                f'<span class="val">{value:.2f}</span></div>'
            )
    return "".join(rows)


def examples(families: list[Family]) -> str:
    if not families:
        return '<p class="muted">No shared posts recorded for this cluster.</p>'
    out = []
    for family in families:
        out.append(f'<div class="text">{spans(family.template)}</div>')
        out.extend(f'<div class="text variant">{spans(v)}</div>' for v in family.variants)
    return "".join(out)


def accounts_table(evidence: Evidence, decisions: Decisions = NO_DECISIONS) -> str:
    rows = "".join(
        f"<tr><td>{escape(a['account_id'])}"
        f"{review_badge(decisions.accounts.get(a['account_id']))}</td>"
        f"<td class='num'>{a['links']:,}</td>"
        f"<td class='num'>{a['n_posts']:,}</td><td>{when(a['account_created_at'])}</td></tr>"
        for a in evidence.top_accounts
    )
    return (
        "<table><thead><tr><th>account</th><th class='num'>links in cluster</th>"
        f"<th class='num'>posts</th><th>created</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def card(
    evidence: Evidence,
    *,
    open_: bool,
    note: str = "",
    decisions: Decisions = NO_DECISIONS,
    bundled: bool = False,
) -> str:
    """The <details id="cluster-N"> card of one cluster. ``note`` (e.g. why it was not
    flagged) heads the card and its summary line; otherwise the strongest reason does.
    ``decisions``: the analyst's, shown as badges; ``bundled``: its evidence bundle is in
    the page."""
    c = evidence.cluster
    decision = decisions.clusters.get(c["cluster_id"])
    reasons = c["reasons"] or []
    colour = svg.ALARM if c["flagged"] else svg.CALM
    timeline = (
        svg.time_bars(evidence.timeline, "posting timeline", colour)
        if evidence.timeline
        else '<p class="muted">No posts.</p>'
    )
    if evidence.creation:
        creation = f"<h3>Accounts created per {evidence.creation.unit}</h3>" + svg.time_bars(
            evidence.creation, "account creation histogram", svg.ACCENT
        )
    else:
        creation = (
            '<h3>Account creation</h3><p class="muted">Creation dates are not in the input.</p>'
        )
    net = evidence.network
    shown = (
        f"{len(net.nodes)} best-connected of {net.n_accounts:,} accounts"
        if len(net.nodes) < net.n_accounts
        else f"all {net.n_accounts:,} accounts"
    )
    posts_per = evidence.timeline.unit if evidence.timeline else "bucket"
    note_html = f'<p class="why"><b>{escape(note)}</b></p>' if note else ""
    lead = note or (reasons[0] if reasons else "")
    review = decision.decision if decision else ""
    return (
        f'<details class="cluster{"" if c["flagged"] else " calm"}" id="cluster-{c["cluster_id"]}"'
        f' data-review="{review}"{" open" if open_ else ""}>'
        f"<summary>{summary_line(c, lead, decision)}"
        f'</summary><div class="body"><p class="bundle">Evidence bundle: '
        f'{bundle_links(c["cluster_id"], bundled)}</p><div class="cols"><div>{note_html}'
        f'<h3>Why</h3><ul class="reasons">{"".join(f"<li>{escape(r)}</li>" for r in reasons)}'
        f"</ul><p class='muted'>{c['n_groups']:,} near-duplicate groups · "
        f"{net.n_edges:,} links between members</p><h3>Features</h3>{features(c)}</div>"
        f"<div><h3>Network</h3>{svg.network(net, colour)}<p class='muted'>{shown}; "
        f"dot size: links</p></div></div>"
        f'<div class="charts"><div><h3>Posts per {posts_per}</h3>{timeline}</div>'
        f"<div>{creation}</div></div>"
        f'<h3>Example posts</h3><p class="muted">First line of each block: the template; '
        f"indented: variants. <mark>Highlighted</mark>: where variants differ.</p>"
        f'<div class="examples">{examples(evidence.examples)}</div>'
        f"<h3>Best-connected accounts</h3>{accounts_table(evidence, decisions)}</div></details>"
    )
