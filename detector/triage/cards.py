"""HTML for one cluster's evidence: a collapsible card with reasons, features, timeline with
its waves, mass sign-up days, network picture by sub-community, example templates, busiest
accounts and the member list (accounts open in the page's account panel)."""

from __future__ import annotations

from html import escape

from detector.review import NO_DECISIONS, Decision, Decisions
from detector.schema import FEATURE_LEGEND, FEATURES
from detector.triage import svg
from detector.triage.evidence import Evidence, Network, Wave, duration, when
from detector.triage.settings import DEFAULT, ReportSettings
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


def account_link(account: str) -> str:
    """The account id as a link that opens its panel (its posts, clusters, timeline)."""
    return f'<a href="#" data-account="{escape(account)}">{escape(account)}</a>'


def accounts_table(evidence: Evidence, decisions: Decisions = NO_DECISIONS) -> str:
    rows = "".join(
        f"<tr><td>{account_link(a['account_id'])}"
        f"{review_badge(decisions.accounts.get(a['account_id']))}</td>"
        f"<td class='num'>{a['links']:,}</td>"
        f"<td class='num'>{a['n_posts']:,}</td><td>{when(a['account_created_at'])}</td></tr>"
        for a in evidence.top_accounts
    )
    return (
        "<table><thead><tr><th>account</th><th class='num'>links in cluster</th>"
        f"<th class='num'>posts</th><th>created</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def timeline_block(evidence: Evidence, colour: str, settings: ReportSettings) -> str:
    """Posts over time with the waves shaded and listed, or why there is nothing to show."""
    if not evidence.timeline:
        return "<h3>Posts over time</h3><p class='muted'>No posts.</p>"
    chart = svg.time_bars(evidence.timeline, "posting timeline", colour, evidence.waves)
    head = f"<h3>Posts per {evidence.timeline.unit}</h3>{chart}"
    if not evidence.waves:
        return (
            f"{head}<p class='muted'>No distinct waves: no quiet spell of "
            f"{duration(settings.wave_gap_s)} splits the posts into runs.</p>"
        )
    more = (
        f"<p class='muted'>The {len(evidence.waves)} largest of {evidence.n_waves:,} waves.</p>"
        if evidence.n_waves > len(evidence.waves)
        else ""
    )
    return head + more + waves_list(evidence.waves)


def waves_list(waves: list[Wave]) -> str:
    items = "".join(f"<li>{w.describe()}</li>" for w in waves)
    return f'<ol class="waves" title="shaded and numbered in the chart">{items}</ol>'


def creation_block(evidence: Evidence) -> str:
    """The mass sign-up days as bars with the rest summarised, then every creation date on
    its whole span; or why there is nothing to show."""
    if not evidence.creation:
        return '<h3>Account creation</h3><p class="muted">Creation dates are not in the input.</p>'
    span = svg.time_bars(evidence.creation, "account creation histogram", svg.ACCENT, height=90)
    whole = f"<p class='muted'>All creation dates, per {evidence.creation.unit}:</p>{span}"
    if evidence.sign_ups is None:
        return (
            "<h3>Account creation</h3><p class='muted'>No day of mass sign-ups: creation dates"
            f" are spread out.</p>{whole}"
        )
    return (
        f"<h3>Accounts created on mass sign-up days</h3>{svg.sign_up_days(evidence.sign_ups)}"
        f"<p class='muted'>{evidence.sign_ups.describe()}</p>{whole}"
    )


def network_block(net: Network, settings: ReportSettings) -> str:
    """The picture, a legend of its sub-communities and what was left out."""
    if not net.links and not net.bundles:
        return f"<h3>Network</h3>{svg.network(net, settings.network_colours)}"
    shown = (
        f"the {len(net.nodes):,} best-connected of {net.n_accounts:,} accounts"
        if len(net.nodes) < net.n_accounts
        else f"all {net.n_accounts:,} accounts"
    )
    sizes = [net.community.count(c) for c in range(max(net.community, default=-1) + 1)]
    coloured = settings.network_colours
    keys = "".join(
        f'<span class="key"><i style="background:{svg.community_colour(c, coloured)}"></i>'
        f"group {c + 1}: {n:,}</span>"
        for c, n in enumerate(sizes[:coloured])
    )
    if len(sizes) > coloured:
        rest = sum(sizes[coloured:])
        keys += (
            f'<span class="key"><i style="background:{svg.OTHERS}"></i>'
            f"{len(sizes) - coloured:,} smaller groups: {rest:,}</span>"
        )
    return (
        f"<h3>Network</h3>{svg.network(net, coloured)}<p class='muted'>{shown}, coloured "
        f"by sub-community; dot size: links; lines: each account's "
        f"{settings.network_links_per_node} strongest links in its group; grey curves: links "
        "between groups. Hover a line for what was shared and when; click a dot for the "
        f"account.</p><p class='keys'>{keys}</p>"
    )


def members_block(cluster_id: int, n_accounts: int, listed: bool, limit: int) -> str:
    """A member list the page's script fills when opened, or where to find the members."""
    if not listed:
        return (
            f"<p class='muted'>Members: the accounts table, cluster_id {cluster_id} "
            "(this cluster's data is not in the page).</p>"
        )
    cap = f", the first {limit:,} by id; search finds the others" if n_accounts > limit else ""
    return (
        f'<details class="members" data-members="{cluster_id}"><summary>All {n_accounts:,} '
        f"members{cap} (click one for its posts, clusters and timeline)</summary></details>"
    )


def card(
    evidence: Evidence,
    *,
    open_: bool,
    note: str = "",
    decisions: Decisions = NO_DECISIONS,
    bundled: bool = False,
    listed: bool = False,
    settings: ReportSettings = DEFAULT,
) -> str:
    """The <details id="cluster-N"> card of one cluster. ``note`` (e.g. why it was not
    flagged) heads the card and its summary line; otherwise the strongest reason does.
    ``decisions``: the analyst's, shown as badges; ``bundled``: its evidence bundle (posts
    and edges) is in the page; ``listed``: its members and their posts are."""
    c = evidence.cluster
    decision = decisions.clusters.get(c["cluster_id"])
    reasons = c["reasons"] or []
    colour = svg.ALARM if c["flagged"] else svg.CALM
    net = evidence.network
    note_html = f'<p class="why"><b>{escape(note)}</b></p>' if note else ""
    lead = note or (reasons[0] if reasons else "")
    review = decision.decision if decision else ""
    members = members_block(c["cluster_id"], c["n_accounts"], listed, settings.members_listed)
    return (
        f'<details class="cluster{"" if c["flagged"] else " calm"}" id="cluster-{c["cluster_id"]}"'
        f' data-review="{review}"{" open" if open_ else ""}>'
        f"<summary>{summary_line(c, lead, decision)}"
        f'</summary><div class="body"><p class="bundle">Evidence bundle: '
        f'{bundle_links(c["cluster_id"], bundled)}</p><div class="cols"><div>{note_html}'
        f'<h3>Why</h3><ul class="reasons">{"".join(f"<li>{escape(r)}</li>" for r in reasons)}'
        f"</ul><p class='muted'>{c['n_groups']:,} near-duplicate groups · "
        f"{net.n_edges:,} links between members</p><h3>Features</h3>{features(c)}</div>"
        f"<div>{network_block(net, settings)}</div></div>"
        f'<div class="charts"><div>{timeline_block(evidence, colour, settings)}</div>'
        f"<div>{creation_block(evidence)}</div></div>"
        f'<h3>Example posts</h3><p class="muted">First line of each block: the template; '
        f"indented: variants. <mark>Highlighted</mark>: where variants differ.</p>"
        f'<div class="examples">{examples(evidence.examples)}</div>'
        f"<h3>Best-connected accounts</h3>{accounts_table(evidence, decisions)}{members}"
        "</div></details>"
    )
