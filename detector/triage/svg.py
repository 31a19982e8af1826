"""Inline SVG charts for the report: bar charts over time with the waves marked, mass
sign-up days, a score histogram, a network picture by sub-community and sparklines. Plain
strings, so the report needs no script or network to draw."""

from __future__ import annotations

from html import escape

import numpy as np

from detector.triage.evidence import Histogram, Network, SignUps, Wave, when

INK, MUTED, ACCENT, ALARM, CALM = "#1f2933", "#7b8794", "#2f6fab", "#c0392b", "#5b8c5a"
WAVE = "#f0b429"
OTHERS = "#9aa5b1"  # sub-communities beyond the coloured ones
# Colour-blind-safe categorical palette (Okabe-Ito, then Tableau), one per sub-community.
PALETTE = (
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b", "#7f7f7f",
    "#bcbd22", "#17becf",
)  # fmt: skip


def community_colour(community: int, coloured: int) -> str:
    """The colour of sub-community ``community`` (0 = largest) when ``coloured`` get one."""
    return PALETTE[community % len(PALETTE)] if community < coloured else OTHERS


def _frame(width: int, height: int, body: str, label: str, cls: str = "chart") -> str:
    return (
        f'<svg class="{cls}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "axis") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )


def time_bars(
    hist: Histogram,
    label: str,
    colour: str = ACCENT,
    waves: list[Wave] | None = None,
    height: int = 150,
) -> str:
    """Bars per time bucket, the count axis to the peak, the time span below; ``waves``
    shaded behind the bars and numbered in time order."""
    width, left, bottom, top = 640, 52, 22, 14
    n, peak = len(hist.counts), max(max(hist.counts), 1)
    bar = (width - left - 8) / n
    plot = height - bottom - top
    step = hist.step.total_seconds()
    parts = []
    for number, wave in enumerate(waves or [], start=1):
        x0 = left + bar * (wave.start - hist.start).total_seconds() / step
        x1 = max(left + bar * (wave.end - hist.start).total_seconds() / step, x0 + 2)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot}" fill="{WAVE}" '
            f'fill-opacity="0.3"><title>wave {number}: {when(wave.start)} to {when(wave.end)}, '
            f"{wave.n_posts:,} posts by {wave.n_accounts:,} accounts</title></rect>"
            + _text((x0 + x1) / 2, top - 3, str(number), "middle", "axis wave")
        )
    parts += [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" '
        f'stroke="{MUTED}"/>',
        _text(left - 4, top + 8, f"{peak:,}", "end"),
        _text(left - 4, height - bottom, "0", "end"),
    ]
    for i, count in enumerate(hist.counts):
        if count == 0:
            continue
        h = max(1.0, plot * count / peak)
        x, y = left + i * bar, height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(hist.label(i))}: {count:,}</title></rect>'
        )
    parts.append(_text(left, height - 6, hist.label(0)))
    if n > 1:
        parts.append(_text(width - 8, height - 6, hist.label(n), "end"))
    return _frame(width, height, "".join(parts), label)


def sign_up_days(sign_ups: SignUps) -> str:
    """One bar per mass sign-up day (the busiest, in date order; a gap mark where days are
    not consecutive), each labelled with its date and count."""
    width, height, left, bottom, top = 640, 150, 12, 34, 16
    n = len(sign_ups.busy)
    slot = (width - left - 8) / max(n, 1)
    bar = min(slot - 4, 48)
    peak = max(count for _, count in sign_ups.busy)
    plot = height - bottom - top
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" '
        f'stroke="{MUTED}"/>'
    ]
    previous = None
    for i, (day, count) in enumerate(sign_ups.busy):
        x = left + i * slot + (slot - bar) / 2
        h = max(1.0, plot * count / peak)
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" fill="{ALARM}"><title>{day.isoformat()}: {count:,} accounts '
            "created</title></rect>"
            + _text(x + bar / 2, height - bottom - h - 3, f"{count:,}", "middle")
            + _text(x + bar / 2, height - bottom + 12, day.strftime("%m-%d"), "middle")
        )
        if previous is None or day.year != previous.year:
            parts.append(_text(x + bar / 2, height - bottom + 25, str(day.year), "middle"))
        if previous is not None and (day - previous).days > 1:
            gap_x = left + i * slot
            parts.append(
                f'<line x1="{gap_x:.1f}" y1="{height - bottom - 6}" x2="{gap_x:.1f}" '
                f'y2="{height - bottom + 6}" stroke="{MUTED}" stroke-dasharray="2 2">'
                f"<title>{(day - previous).days - 1:,} days between</title></line>"
            )
        previous = day
    return _frame(width, height, "".join(parts), "accounts created on mass sign-up days")


def score_histogram(scores: np.ndarray, threshold: float, bins: int = 20) -> str:
    """Clusters per score bin over [0, 1]; bins at or above the flag threshold in red."""
    width, height, left, bottom, top = 640, 180, 48, 34, 22
    counts, edges = np.histogram(scores, bins=bins, range=(0.0, 1.0))
    peak = max(int(counts.max()) if counts.size else 0, 1)
    bar, plot = (width - left - 8) / bins, height - bottom - top
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" '
        f'stroke="{MUTED}"/>',
        _text(left - 4, top + 8, f"{peak:,}", "end"),
        _text(left - 4, height - bottom, "0", "end"),
    ]
    for i, count in enumerate(counts):
        lo = edges[i]
        colour = ALARM if lo >= threshold - 1e-9 else CALM
        h = plot * count / peak
        x = left + i * bar
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar - 2:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>score {lo:.2f}–{edges[i + 1]:.2f}: '
            f"{int(count):,} clusters</title></rect>"
        )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(_text(left + tick * (width - left - 8), height - bottom + 14, f"{tick:g}"))
    tx = left + threshold * (width - left - 8)
    parts.append(
        f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{height - bottom}" stroke="{INK}" '
        f'stroke-dasharray="4 3"/>'
    )
    parts.append(_text(tx + 4, top - 8, f"flag threshold {threshold:g}"))
    parts.append(_text(width - 8, height - 4, "cluster score →", "end"))
    return _frame(width, height, "".join(parts), "histogram of cluster scores")


def network(net: Network, coloured: int) -> str:
    """Members as dots coloured by sub-community (the ``coloured`` largest get a colour,
    the rest grey) and sized by their links; inside a group its strongest links, between
    groups one curved bundle per pair (width by number of links). Hovering a link says
    what the two accounts shared and when; a dot opens its account (data-account)."""
    size, pad = 340, 10
    if not net.links and not net.bundles:
        return _frame(size, 40, _text(4, 24, "no links in this cluster"), "empty network")
    xy = pad + net.xy * (size - 2 * pad)
    colours = [community_colour(c, coloured) for c in net.community]
    parts = []
    centres = {
        c: xy[[i for i, k in enumerate(net.community) if k == c]].mean(axis=0)
        for c in sorted(set(net.community))
    }
    for bundle in net.bundles:
        (ax, ay), (bx, by) = centres[bundle.a], centres[bundle.b]
        mx, my = (ax + bx) / 2, (ay + by) / 2
        cx, cy = mx + (size / 2 - mx) * 0.35, my + (size / 2 - my) * 0.35
        stroke = 1 + 1.5 * np.log2(bundle.links)
        parts.append(
            f'<path class="bundle" d="M{ax:.0f} {ay:.0f}Q{cx:.0f} {cy:.0f} {bx:.0f} {by:.0f}" '
            f'stroke="{INK}" stroke-opacity="0.18" stroke-width="{stroke:.1f}" '
            f'fill="none"><title>{bundle.links:,} links between group {bundle.a + 1} and group '
            f"{bundle.b + 1} (weight {bundle.weight:,.1f})</title></path>"
        )
    for link in net.links:
        (ax, ay), (bx, by) = xy[link.a], xy[link.b]
        parts.append(
            f'<line class="link" x1="{ax:.0f}" y1="{ay:.0f}" x2="{bx:.0f}" y2="{by:.0f}" '
            f'stroke="{colours[link.a]}"><title>{escape(link.about)}</title></line>'
        )
    most = max(max(net.degree), 1)
    for i, account in enumerate(net.nodes):
        r = 2.5 + 4.5 * np.sqrt(net.degree[i] / most)
        parts.append(
            f'<circle cx="{xy[i, 0]:.0f}" cy="{xy[i, 1]:.0f}" r="{r:.1f}" fill="{colours[i]}" '
            f'data-account="{escape(account)}"><title>{escape(account)} · group '
            f"{net.community[i] + 1} · {net.degree[i]:,} links</title></circle>"
        )
    label = f"network of {len(net.nodes)} of {net.n_accounts} accounts by sub-community"
    return _frame(size, size, "".join(parts), label, "chart net")


def sparkline(hist: Histogram, colour: str = ACCENT) -> str:
    """A tiny bar chart for table cells."""
    width, height = 120, 24
    peak = max(max(hist.counts), 1)
    bar = width / len(hist.counts)
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - height * c / peak:.1f}" '
        f'width="{max(bar - 0.5, 0.5):.1f}" height="{height * c / peak:.1f}"/>'
        for i, c in enumerate(hist.counts)
        if c
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" fill="{colour}" aria-hidden="true">{rects}</svg>'
    )
