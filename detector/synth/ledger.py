"""Bookkeeping shared by the scenario builders while a world is assembled: internal account
numbers, borrowing of background accounts by authentic bursts, repost anchors, and the
uniform shape of the post and account pieces every builder returns."""

from __future__ import annotations

import numpy as np
import polars as pl

# A builder's posts; ``anchor`` marks a post others repost, ``repost`` names that anchor.
PART = pl.Schema(
    {
        "acct": pl.Int64,
        "ts": pl.Int64,
        "text": pl.String,
        "urls": pl.List(pl.String),
        "hashtags": pl.List(pl.String),
        "anchor": pl.Int64,
        "repost": pl.Int64,
    }
)
# A builder's accounts and their ground truth.
ACCOUNTS = pl.Schema(
    {"acct": pl.Int64, "created": pl.Int64, "campaign": pl.String, "burst": pl.String}
)


class Ledger:
    """Hands out account numbers and anchors. Background (organic) accounts come first;
    bursts may borrow some of them, each at most once, so the ground truth stays simple."""

    def __init__(self, rng: np.random.Generator, organic_accounts: int) -> None:
        self.organic_accounts = organic_accounts
        self._queue = rng.permutation(organic_accounts)
        self._lent = 0
        self._next = organic_accounts
        self._anchors = 0

    def new(self, n: int) -> np.ndarray:
        """``n`` fresh account numbers."""
        out = np.arange(self._next, self._next + n, dtype=np.int64)
        self._next += n
        return out

    def borrow(self, n: int) -> np.ndarray:
        """Up to ``n`` background accounts not lent before."""
        out = self._queue[self._lent : self._lent + n].astype(np.int64)
        self._lent += len(out)
        return out

    def anchor(self) -> int:
        """A fresh anchor number for a post that will be reposted."""
        self._anchors += 1
        return self._anchors - 1


def part(
    acct: np.ndarray,
    ts: np.ndarray,
    text: pl.Series,
    urls: pl.Series | None = None,
    hashtags: pl.Series | None = None,
    anchor: np.ndarray | None = None,
    repost: np.ndarray | None = None,
) -> pl.DataFrame:
    """Posts in the ``PART`` shape; missing lists are empty and missing anchors null."""
    empty = pl.lit([], dtype=pl.List(pl.String))
    frame = pl.DataFrame({"acct": acct, "ts": ts, "text": text.alias("text")}).with_columns(
        urls=urls.alias("urls") if urls is not None else empty,
        hashtags=hashtags.alias("hashtags") if hashtags is not None else empty,
        anchor=pl.Series(anchor, dtype=pl.Int64) if anchor is not None else pl.lit(None),
        repost=pl.Series(repost, dtype=pl.Int64) if repost is not None else pl.lit(None),
    )
    return frame.cast(PART)  # type: ignore[arg-type]


def accounts(
    acct: np.ndarray, created: np.ndarray, campaign: str | None = None, burst: str | None = None
) -> pl.DataFrame:
    """Accounts in the ``ACCOUNTS`` shape, all with the same truth labels."""
    frame = pl.DataFrame({"acct": acct, "created": created}).with_columns(
        campaign=pl.lit(campaign, dtype=pl.String), burst=pl.lit(burst, dtype=pl.String)
    )
    return frame.cast(ACCOUNTS)  # type: ignore[arg-type]
