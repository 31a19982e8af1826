"""Load and check the scenario definitions (``seeds/*.toml``) the generator is driven by.

Every figure the generator uses (dates, account counts, volumes, text pools) lives in those
files, so a scenario can be tuned without touching code.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "seeds"

# Top-level tables or keys each scenario must define.
REQUIRED: dict[str, tuple[str, ...]] = {
    "black_manuscript": ("scale", "accounts", "spin", "waves", "slots", "tactics", "text"),
    "support_wave": ("scale", "timing", "accounts", "text"),
    "fan_backlash": ("scale", "timing", "accounts", "text"),
    "official_repost": ("scale", "timing", "accounts", "text"),
    "review_ring": ("scale", "accounts", "timing", "text"),
    "english_amplification": ("scale", "accounts", "timing", "text"),
    "organic_background": ("scale", "timing", "accounts", "zh", "en", "mixed", "extras"),
    "evasion": ("obfuscated_share", "homoglyphs", "zero_width", "jitter_hours"),
}

Scenario = dict[str, Any]


class ScenarioError(ValueError):
    """A scenario file is missing or lacks a required table."""


def load_scenarios(seeds_dir: Path | None = None) -> dict[str, Scenario]:
    """Every scenario in ``seeds_dir`` (default: the repository's ``seeds/``) by name."""
    folder = Path(seeds_dir) if seeds_dir is not None else DEFAULT_DIR
    scenarios: dict[str, Scenario] = {}
    for name, keys in REQUIRED.items():
        path = folder / f"{name}.toml"
        if not path.is_file():
            raise ScenarioError(f"scenario file missing: {path}")
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        missing = [key for key in keys if key not in data]
        if missing:
            raise ScenarioError(f"{path.name} lacks {', '.join(missing)}")
        scenarios[name] = data
    return scenarios


def epoch(text: str) -> int:
    """Seconds since 1970 of an ISO 8601 UTC time such as ``2025-03-29T14:00:00Z``."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def words(pool: str | list[str]) -> list[str]:
    """A word pool as a list: a whitespace-separated string where a lone ``_`` is the empty
    string and ``_`` inside a word a space, or a list taken as is."""
    if isinstance(pool, list):
        return pool
    return ["" if w == "_" else w.replace("_", " ") for w in pool.split()]
