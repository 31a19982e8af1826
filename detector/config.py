"""Every tunable of a scan in one frozen dataclass, recorded verbatim in ``summary.json``."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from detector.errors import UsageError

REQUIRED_COLUMNS = ("account_id", "post_id", "created_at", "text")
OPTIONAL_COLUMNS = ("urls", "hashtags", "repost_of", "account_created_at")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float) -> int:
    """Seconds in a duration such as ``90``, ``30m``, ``6h`` or ``2d``."""
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise UsageError(f"cannot read duration {value!r}: use e.g. 90s, 30m, 6h or 2d")
        seconds = int(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if seconds <= 0:
        raise UsageError(f"duration {value!r} must be positive")
    return seconds


@dataclass(frozen=True)
class ScanConfig:
    """Options of :func:`detector.scan`; defaults are what a new user gets."""

    # Input: logical column -> name in the file (only the names that differ need mapping).
    columns: dict[str, str] = field(default_factory=dict)
    batch_rows: int = 1_000_000

    # Normalisation.
    mask_urls: bool = True
    mask_mentions: bool = True
    mask_digits: bool = True
    min_digit_run: int = 4
    fold_homoglyphs: bool = True

    # Shingling: character n-grams over CJK runs, word n-grams elsewhere.
    cjk_ngram: int = 2
    word_ngram: int = 2
    min_shingles: int = 5

    # MinHash / LSH.
    num_perm: int = 128
    seed: int = 1
    threshold: float = 0.5

    # Account graph.
    window_seconds: int = 12 * 3600
    neighbours: int = 5
    min_repeat: int = 2
    use_urls: bool = True
    use_hashtags: bool = True
    use_reposts: bool = True

    # Clusters and scores.
    min_cluster_accounts: int = 5
    flag_threshold: float = 0.5

    def __post_init__(self) -> None:
        checks = {
            "batch_rows": self.batch_rows >= 1,
            "min_digit_run": self.min_digit_run >= 1,
            "cjk_ngram": self.cjk_ngram >= 1,
            "word_ngram": self.word_ngram >= 1,
            "min_shingles": self.min_shingles >= 1,
            "num_perm": 2 <= self.num_perm <= 1024,
            "threshold": 0.0 < self.threshold < 1.0,
            "window_seconds": self.window_seconds >= 1,
            "neighbours": self.neighbours >= 1,
            "min_repeat": self.min_repeat >= 1,
            "min_cluster_accounts": self.min_cluster_accounts >= 2,
            "flag_threshold": 0.0 <= self.flag_threshold <= 1.0,
        }
        for name, ok in checks.items():
            if not ok:
                raise UsageError(f"option {name}={getattr(self, name)!r} is out of range")
        unknown = set(self.columns) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS)
        if unknown:
            raise UsageError(f"cannot map unknown column(s) {sorted(unknown)}")

    @classmethod
    def from_options(cls, **options: Any) -> ScanConfig:
        """Build a config from keyword options, rejecting names it does not know."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
        if "window_seconds" in options:
            options["window_seconds"] = parse_duration(options["window_seconds"])
        return replace(cls(), **options)

    def column(self, logical: str) -> str:
        """Name of a logical column in the input files."""
        return self.columns.get(logical, logical)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
