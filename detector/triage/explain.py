"""``detector explain``: one cluster's evidence as terminal text, the same evidence the
report shows (reasons, features, timeline, creation histogram, accounts, templates)."""

from __future__ import annotations

from detector.result import ScanResult
from detector.schema import FEATURE_LEGEND, FEATURES
from detector.triage.evidence import Histogram, collect, when
from detector.triage.notable import flag_threshold, why_not_flagged
from detector.triage.template import Span

BLOCKS = " ▁▂▃▄▅▆▇█"
BAR_WIDTH = 30


def explain_cluster(result: ScanResult, cluster_id: int) -> str:
    """The evidence for ``cluster_id`` as plain text; a usage error if there is no such
    cluster."""
    (ev,) = collect(result, [cluster_id])
    c = ev.cluster
    threshold = flag_threshold(result)
    verdict = "FLAGGED" if c["flagged"] else "not flagged"
    lines = [
        f"Cluster {cluster_id}: {verdict} (score {c['score']:.2f}, threshold {threshold:g})",
        f"{c['n_accounts']:,} accounts, {c['n_posts']:,} posts in {c['n_groups']:,} "
        f"near-duplicate groups, {when(c['first_seen'])} to {when(c['last_seen'])} UTC",
        "",
        "Why:",
        *(f"  - {reason}" for reason in c["reasons"] or []),
    ]
    if not c["flagged"]:
        lines.append(f"  Not flagged: {why_not_flagged(c, threshold)}")
    lines += ["", "Features (0-1):"]
    for name in FEATURES:
        value = c[name]
        shown = "unknown" if value is None else f"{value:.2f}  {bar(value)}"
        lines.append(f"  {name:<24}{shown}")
    lines += ["", "What the features mean:"]
    lines += [f"  {name}: {FEATURE_LEGEND[name]}" for name in FEATURES]
    lines += ["", *histogram_lines("Posts", ev.timeline)]
    if ev.waves:
        more = (
            f" (the {len(ev.waves)} largest of {ev.n_waves:,})"
            if ev.n_waves > len(ev.waves)
            else ""
        )
        lines.append(f"Waves{more}:")
        lines += [f"  {number}. {w.describe()}" for number, w in enumerate(ev.waves, start=1)]
    lines += ["", *histogram_lines("Accounts created", ev.creation)]
    if ev.sign_ups:
        lines.append("Mass sign-up days: " + ", ".join(f"{d} ({n:,})" for d, n in ev.sign_ups.busy))
        lines.append(f"  {ev.sign_ups.describe()}")
    net = ev.network
    lines += ["", f"Network: {net.n_accounts:,} accounts, {net.n_edges:,} links between them"]
    lines.append("Best-connected accounts:")
    lines.append(f"  {'account':<28}{'links':>7}{'posts':>7}  created")
    for a in ev.top_accounts:
        lines.append(
            f"  {a['account_id']:<28}{a['links']:>7,}{a['n_posts']:>7,}  "
            f"{when(a['account_created_at'])}"
        )
    lines += ["", "Example posts ([brackets]: where variants differ; '>' lines are variants):"]
    if not ev.examples:
        lines.append("  (no shared posts)")
    for family in ev.examples:
        lines.append(f"  {marked(family.template)}")
        lines.extend(f"    > {marked(variant)}" for variant in family.variants)
    return "\n".join(lines)


def bar(value: float, width: int = BAR_WIDTH) -> str:
    return "█" * round(value * width)


def sparkline(counts: list[int]) -> str:
    """One block character per bucket, height by count (blank for zero)."""
    peak = max(max(counts), 1)
    return "".join(BLOCKS[0 if c == 0 else max(1, round(8 * c / peak))] for c in counts)


def histogram_lines(what: str, hist: Histogram | None) -> list[str]:
    if hist is None:
        return [f"{what}: dates not in the input"]
    peak = hist.peak()
    return [
        f"{what} per {hist.unit} (peak {hist.counts[peak]:,} at {hist.label(peak)}):",
        f"  |{sparkline(hist.counts)}|",
        f"   {hist.label(0)} to {hist.label(len(hist.counts))}",
    ]


def marked(parts: list[Span]) -> str:
    """Text on one line with differing spans in [brackets]."""
    text = "".join(f"[{s.text}]" if s.differs else s.text for s in parts)
    return " ".join(text.split())
