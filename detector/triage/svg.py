"""Inline SVG charts for the report: bar charts over time, a score histogram, a network
picture and sparklines. Plain strings, so the report needs no script or network to draw."""

from __future__ import annotations

from html import escape

import numpy as np

from detector.triage.evidence import Histogram, Network

INK, MUTED, ACCENT, ALARM, CALM = "#1f2933", "#7b8794", "#2f6fab", "#c0392b", "#5b8c5a"


def _frame(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "axis") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )


def time_bars(hist: Histogram, label: str, colour: str = ACCENT) -> str:
    """Bars per time bucket, the count axis to the peak, the time span below."""
    width, height, left, bottom, top = 640, 150, 40, 22, 12
    n, peak = len(hist.counts), max(hist.counts)
    bar = (width - left - 8) / n
    plot = height - bottom - top
    parts = [
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


def network(net: Network, colour: str = ALARM) -> str:
    """Sampled accounts as dots sized by their links, strongest links as lines; links are
    drawn as three paths (by weight tercile) to keep the file small."""
    size, pad = 320, 12
    if not net.nodes:
        return _frame(size, 40, _text(4, 24, "no links in this cluster"), "empty network")
    xy = pad + net.xy * (size - 2 * pad)
    parts = []
    if net.edges:
        weights = np.array([w for _, _, w in net.edges])
        cuts = np.quantile(weights, [1 / 3, 2 / 3])
        tier = np.searchsorted(cuts, weights, side="right")
        for level, opacity in ((0, 0.15), (1, 0.3), (2, 0.55)):
            path = "".join(
                f"M{xy[a, 0]:.0f} {xy[a, 1]:.0f}L{xy[b, 0]:.0f} {xy[b, 1]:.0f}"
                for (a, b, _), t in zip(net.edges, tier, strict=True)
                if t == level
            )
            if path:
                parts.append(
                    f'<path d="{path}" stroke="{INK}" stroke-opacity="{opacity}" fill="none"/>'
                )
    most = max(max(net.degree), 1)
    for i, account in enumerate(net.nodes):
        r = 2.5 + 4.5 * np.sqrt(net.degree[i] / most)
        parts.append(
            f'<circle cx="{xy[i, 0]:.0f}" cy="{xy[i, 1]:.0f}" r="{r:.1f}" fill="{colour}" '
            f'fill-opacity="0.85"><title>{escape(account)}: {net.degree[i]} links</title></circle>'
        )
    label = f"network of {len(net.nodes)} of {net.n_accounts} accounts"
    return _frame(size, size, "".join(parts), label)


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
