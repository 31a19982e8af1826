"""Posting and account-creation times (int64 seconds since 1970, UTC).

Human activity follows the day in China (UTC+8): few posts at 3 a.m., most in the evening.
Times are drawn by rejection against that daily curve, fully vectorised.
"""

from __future__ import annotations

import numpy as np

HOUR = 3600
DAY = 24 * HOUR
# Relative activity per local hour (UTC+8), 0h..23h.
ACTIVITY = np.array(
    [0.45, 0.3, 0.18, 0.1, 0.07, 0.07, 0.12, 0.3, 0.55, 0.7, 0.8, 0.85,
     0.95, 0.9, 0.8, 0.8, 0.82, 0.85, 0.9, 0.95, 1.0, 1.0, 0.9, 0.7]
)  # fmt: skip


def _diurnal(rng: np.random.Generator, n: int, draw) -> np.ndarray:
    """``n`` times from ``draw(rng, m)`` thinned by the daily activity curve."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        m = int((n - len(out)) * 2.2) + 16
        t = draw(rng, m)
        keep = rng.random(len(t)) < ACTIVITY[((t // HOUR) + 8) % 24]
        out = np.concatenate([out, t[keep]])
    return out[:n]


def spread(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """``n`` human posting times between ``start`` and ``end``."""
    return _diurnal(rng, n, lambda g, m: g.integers(start, end, m))


def burst(rng: np.random.Generator, n: int, start: int, hours: float, decay_hours: float):
    """``n`` human posting times in ``hours`` after ``start``, fading with ``decay_hours``."""
    limit = hours * HOUR

    def draw(g: np.random.Generator, m: int) -> np.ndarray:
        t = g.exponential(decay_hours * HOUR, m)
        t = t[t < limit]
        return (start + t).astype(np.int64)

    return _diurnal(rng, n, draw)


def between(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """``n`` uniform times (any hour: sign-ups and bots keep no daily rhythm)."""
    return rng.integers(start, end, n)


def in_batches(rng: np.random.Generator, n: int, batches: list[tuple[int, int]]) -> np.ndarray:
    """``n`` creation times, each in one of the ``(start, days)`` batches, chosen evenly."""
    which = rng.integers(0, len(batches), n)
    starts = np.array([b[0] for b in batches], dtype=np.int64)[which]
    lengths = np.array([b[1] * DAY for b in batches], dtype=np.int64)[which]
    return starts + (rng.random(n) * lengths).astype(np.int64)
