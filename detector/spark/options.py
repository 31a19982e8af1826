"""Tunables of the Spark engine, apart from the scan's own :class:`~detector.config.ScanConfig`
(which both engines share, so the answers do not depend on the engine)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from detector.errors import UsageError


@dataclass(frozen=True)
class SparkOptions:
    """How the Spark engine spreads the work; none of these changes the answer except
    ``max_bucket``."""

    # Partitions of the shuffles (band buckets, edges, components); None: the session's
    # spark.sql.shuffle.partitions.
    partitions: int | None = None
    # Band buckets with more texts than this are sampled (about ``max_bucket`` members kept,
    # always the head): bounds the edges a boilerplate text makes. None: no cap, the exact
    # grouping of the local engine.
    max_bucket: int | None = None
    # Edges (near-duplicate pairs, account-object links) left after each partition's are
    # contracted: up to this many get their components on the driver (16 bytes an edge),
    # more run large-star/small-star rounds in Spark. 0: always in Spark.
    driver_components_max: int = 5_000_000
    # Components of the account graph with more pairs than this (and than the scan's
    # louvain_max_edges) find their communities by label propagation in Spark rounds (a
    # union, a window and three aggregations a round, each a few jobs); smaller ones each
    # in one task, as the local engine finds them (a task holds its pairs: 24 bytes each).
    propagation_task_max: int = 5_000_000
    # Large-star/small-star rounds before giving up (each round halves the depth of a tree
    # at least; 2 * log2(texts) is plenty).
    max_rounds: int = 64
    # Where component iterations are checkpointed (a reliable folder on a cluster: HDFS or
    # an object store); None: local checkpoints on the executors.
    checkpoint_dir: str | None = None
    # Where a DataFrame input is written as Parquet parts before it is read (a folder every
    # executor sees at the same path); None: the driver's temporary folder (local mode).
    staging_dir: str | None = None

    def __post_init__(self) -> None:
        checks = {
            "partitions": self.partitions is None or self.partitions >= 1,
            "max_bucket": self.max_bucket is None or self.max_bucket >= 2,
            "max_rounds": self.max_rounds >= 1,
            "driver_components_max": self.driver_components_max >= 0,
            "propagation_task_max": self.propagation_task_max >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise UsageError(f"option {name}={getattr(self, name)!r} is out of range")

    @classmethod
    def split(cls, options: dict[str, Any]) -> tuple[SparkOptions, dict[str, Any]]:
        """This engine's options out of ``options``, and the rest (the scan's own)."""
        names = {f.name for f in fields(cls)}
        mine = {k: v for k, v in options.items() if k in names}
        return replace(cls(), **mine), {k: v for k, v in options.items() if k not in names}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
