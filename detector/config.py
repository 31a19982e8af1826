"""Every tunable of a scan in one frozen dataclass, recorded verbatim in ``summary.json``."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from detector.errors import UsageError

REQUIRED_COLUMNS = ("account_id", "post_id", "created_at")
OPTIONAL_COLUMNS = (
    "text",
    "urls",
    "hashtags",
    "mentions",
    "repost_of",
    "reply_to",
    "account_created_at",
)

# Kinds of co-sharing trace, each with the input column its objects come from. ``text`` is
# the near-duplicate group of the post's text; ``mention`` falls back to @names in the text
# when the input has no ``mentions`` column.
TRACE_COLUMNS = {
    "text": "text",
    "repost": "repost_of",
    "reply": "reply_to",
    "url": "urls",
    "hashtag": "hashtags",
    "mention": "mentions",
}
TRACES = tuple(TRACE_COLUMNS)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNIT_BYTES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


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


def parse_size(value: str | int) -> int:
    """Bytes in a size such as ``500M``, ``4G``, ``1.5GiB`` or ``1048576`` (binary units)."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if not match:
            raise UsageError(f"cannot read memory size {value!r}: use e.g. 500M, 4G or 1.5G")
        size = int(float(match.group(1)) * _UNIT_BYTES[match.group(2).lower()])
    if size <= 0:
        raise UsageError(f"memory size {value!r} must be positive")
    return size


@dataclass(frozen=True)
class ScanConfig:
    """Options of :func:`detector.scan`; defaults are what a new user gets."""

    # Input: logical column -> name in the file (only the names that differ need mapping).
    columns: dict[str, str] = field(default_factory=dict)
    batch_rows: int = 1_000_000
    # Bytes of posts held in memory between reading and reporting, and of the account
    # graph's edges as they are built, before they are spilled to a temporary folder made
    # in spill_dir (see detector.spill).
    # None: a thirty-second of the machine's memory; spill_dir None: the system's temp folder.
    memory_limit: int | None = None
    spill_dir: str | None = None
    # strftime format of created_at/account_created_at text, tried before the built-in forms.
    time_format: str | None = None

    # Normalisation.
    mask_urls: bool = True
    mask_mentions: bool = True
    mask_digits: bool = True
    min_digit_run: int = 4
    fold_homoglyphs: bool = True
    strip_padding: bool = True  # leading/trailing @mentions and digit runs of min_digit_run
    strip_symbols: bool = True  # emoji, symbols, variation selectors
    collapse_punctuation: bool = True  # "!!!" -> "!"
    join_cjk: bool = True  # spaces/punctuation between two CJK characters removed
    # Until the normalisation kernel is compiled (see detector.kernels), batches of fewer
    # distinct texts than this are normalised by the polars reference instead: compiling
    # takes about as long as the reference takes for this many texts.
    compile_normaliser_texts: int = 500_000

    # Shingling: character n-grams over CJK runs, word n-grams elsewhere.
    cjk_ngram: int = 2
    word_ngram: int = 2
    min_shingles: int = 5
    # Texts with 1 to min_shingles - 1 shingles are grouped by exact normalised text with
    # letter/digit codes masked, instead of by MinHash. Such a group enters the account
    # graph only with this many distinct texts (a template with changing codes): identical
    # short phrases ("打卡", "转发微博") are shared by whole fandoms without coordination.
    group_short_texts: bool = True
    short_text_min_variants: int = 2

    # MinHash / LSH.
    num_perm: int = 128
    seed: int = 1
    threshold: float = 0.5

    # Spun groups (detector.rewording): near-duplicate groups of at least spun_min_texts
    # distinct texts, making up spun_min_variant_share of the group's posts, of a median
    # length of spun_min_shingles shingles, reworded to a mean estimated similarity of at
    # most spun_max_similarity to the group's first text. An account's own rewording there
    # enters the account graph even when it is the account's only co-share. Copies
    # (similarity >= copy_similarity) of earlier posts by other accounts, at most
    # pickup_max_copies of them, by an account with no own rewording in spun groups, are
    # picked up, not written: they count as no content. Copies are found by LSH banded for
    # copy_candidate_similarity (lower, so each copy meets its source in some band) and
    # verified at copy_similarity.
    spun_min_texts: int = 30  # copywriting runs write hundreds; on real Weibo data ten
    # people quoting one viral claim with words of their own make a group of 10
    spun_min_variant_share: float = 0.5
    spun_min_shingles: int = 60
    spun_max_similarity: float = 0.8
    copy_candidate_similarity: float = 0.75
    copy_similarity: float = 0.85
    pickup_max_copies: int = 2

    # Account graph. Each trace has its own co-sharing window: reposts by a network land
    # seconds apart, a spun article is pushed over hours.
    traces: tuple[str, ...] = TRACES
    windows: dict[str, int] = field(
        default_factory=lambda: {
            "text": 12 * 3600,
            "repost": 60,
            "reply": 10 * 60,
            "url": 3600,
            "hashtag": 10 * 60,
            "mention": 10 * 60,
        }
    )
    # How much one co-shared object of each kind counts, relative to a near-duplicate text.
    trace_weights: dict[str, float] = field(
        default_factory=lambda: {
            "text": 1.0,
            "repost": 0.5,
            "reply": 0.5,
            "url": 1.0,
            "hashtag": 0.3,
            "mention": 0.3,
        }
    )
    neighbours: int = 5
    min_repeat: int = 2  # distinct objects co-shared in window to enter the graph / a cluster
    min_co_shares: int = 1  # distinct objects a pair co-shared in window for an edge
    min_participation: int = 1  # CooRTweet: co-share posts of one end for an edge
    write_graph: bool = False  # edges of the whole graph, not only those inside clusters
    # Co-share links aggregated into the graph at once: bounds the graph stage's working
    # memory (about 200 bytes a link) without changing the graph.
    graph_batch_edges: int = 1_000_000

    # Clusters and scores.
    min_cluster_accounts: int = 5
    # Communities: a connected component of at most louvain_max_edges edges is split by
    # networkx's Louvain (Python), a larger one first coarsened by label propagation. Below
    # resolution 1 Louvain prefers fewer, larger communities: a bot network's co-posting
    # graph is close to random inside, and at resolution 1 (or even 0.5) Louvain cuts it
    # into arbitrary pieces that then each own too little of the network's content to be
    # recognised. Label propagation on a million-account everyday-chatter component does
    # not settle, but after a few sweeps it only reshuffles ordinary accounts, which
    # core-member pruning drops: on the 10M benchmark worlds 10 sweeps and 30 flag the same
    # accounts, in a third of the time.
    louvain_max_edges: int = 200_000
    louvain_resolution: float = 0.2
    propagation_sweeps: int = 10
    model: str | None = None  # path of a scoring model file (JSON); None: the shipped default
    flag_threshold: float | None = None  # None: the model's threshold

    # Exports: the GraphML/GEXF files hold the top flagged clusters by score up to this
    # many accounts and the heaviest links among them up to this many, what Gephi can lay
    # out (the files say what was left out).
    export_max_nodes: int = 50_000
    export_max_edges: int = 200_000

    def __post_init__(self) -> None:
        checks = {
            "batch_rows": self.batch_rows >= 1,
            "memory_limit": self.memory_limit is None or self.memory_limit >= 1,
            "min_digit_run": self.min_digit_run >= 1,
            "compile_normaliser_texts": self.compile_normaliser_texts >= 0,
            "cjk_ngram": self.cjk_ngram >= 1,
            "word_ngram": self.word_ngram >= 1,
            "min_shingles": self.min_shingles >= 1,
            "short_text_min_variants": self.short_text_min_variants >= 1,
            "num_perm": 2 <= self.num_perm <= 1024,
            "threshold": 0.0 < self.threshold < 1.0,
            "spun_min_texts": self.spun_min_texts >= 2,
            "spun_min_variant_share": 0.0 <= self.spun_min_variant_share <= 1.0,
            "spun_min_shingles": self.spun_min_shingles >= 1,
            "spun_max_similarity": 0.0 <= self.spun_max_similarity <= 1.0,
            "copy_candidate_similarity": self.threshold
            < self.copy_candidate_similarity
            <= self.copy_similarity,
            "copy_similarity": self.threshold < self.copy_similarity < 1.0,
            "pickup_max_copies": self.pickup_max_copies >= 0,
            "neighbours": self.neighbours >= 1,
            "graph_batch_edges": self.graph_batch_edges >= 1,
            "min_repeat": self.min_repeat >= 1,
            "min_co_shares": self.min_co_shares >= 1,
            "min_participation": self.min_participation >= 1,
            "min_cluster_accounts": self.min_cluster_accounts >= 2,
            "louvain_max_edges": self.louvain_max_edges >= 1,
            "louvain_resolution": self.louvain_resolution > 0.0,
            "propagation_sweeps": self.propagation_sweeps >= 1,
            "flag_threshold": self.flag_threshold is None or 0.0 <= self.flag_threshold <= 1.0,
            "export_max_nodes": self.export_max_nodes >= 1,
            "export_max_edges": self.export_max_edges >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise UsageError(f"option {name}={getattr(self, name)!r} is out of range")
        if self.time_format is not None and "%" not in self.time_format:
            raise UsageError(
                f"time format {self.time_format!r} has no strftime field such as %d or %H"
            )
        unknown = set(self.columns) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS)
        if unknown:
            raise UsageError(f"cannot map unknown column(s) {sorted(unknown)}")
        bad = set(self.traces) - set(TRACES)
        if bad or not self.traces:
            raise UsageError(
                f"unknown trace(s) {sorted(bad)}: choose from {', '.join(TRACES)}"
                if bad
                else "at least one trace must be switched on"
            )
        for table in ("windows", "trace_weights"):
            values = getattr(self, table)
            if set(values) != set(TRACES) or min(values.values()) <= 0:
                raise UsageError(
                    f"option {table} needs a positive value for each of {', '.join(TRACES)}"
                )

    @classmethod
    def from_options(cls, **options: Any) -> ScanConfig:
        """Build a config from keyword options, rejecting names it does not know."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
        defaults = cls()
        if isinstance(options.get("memory_limit"), str):
            options["memory_limit"] = parse_size(options["memory_limit"])
        if "windows" in options:
            given = {k: parse_duration(v) for k, v in options["windows"].items()}
            unknown_traces = set(given) - set(TRACES)
            if unknown_traces:
                raise UsageError(f"no window for unknown trace(s) {sorted(unknown_traces)}")
            options["windows"] = {**defaults.windows, **given}
        if "trace_weights" in options:
            options["trace_weights"] = {**defaults.trace_weights, **options["trace_weights"]}
        if "traces" in options:
            traces = options["traces"]
            if isinstance(traces, str):
                traces = [t.strip() for t in traces.split(",") if t.strip()]
            options["traces"] = tuple(t for t in TRACES if t in set(traces)) + tuple(
                sorted(set(traces) - set(TRACES))
            )
        return replace(defaults, **options)

    def window(self, trace: str) -> int:
        """Co-sharing window of a trace, in seconds."""
        return self.windows[trace]

    def column(self, logical: str) -> str:
        """Name of a logical column in the input files."""
        return self.columns.get(logical, logical)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
