"""Quality of one system's predictions against the world's ground truth, at account level.

* precision, recall, F1 of ``flagged`` against "belongs to a campaign";
* recall of each campaign's accounts;
* adjusted Rand index of flagged clusters against true campaigns, over the accounts that
  are in a campaign or in a flagged cluster (all others left out); an authentic account
  is a true singleton and an unflagged account a predicted singleton, so lumping
  authentic accounts together or missing campaign accounts both cost;
* share of each authentic burst's participants (burst set, no campaign) that is flagged.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl
from sklearn.metrics import adjusted_rand_score, precision_recall_fscore_support


def evaluate(predictions: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    """Quality figures of ``predictions`` (account_id, cluster, flagged) against ``truth``
    (account_id, campaign, burst); accounts a system did not report count as unflagged."""
    joined = truth.join(predictions, on="account_id", how="left").with_columns(
        pl.col("flagged").fill_null(False),
        in_campaign=pl.col("campaign").is_not_null(),
    )
    precision, recall, f1, _ = precision_recall_fscore_support(
        joined["in_campaign"].to_numpy(),
        joined["flagged"].to_numpy(),
        average="binary",
        zero_division=0,
    )
    campaigns = (
        joined.filter(pl.col("in_campaign"))
        .group_by("campaign")
        .agg(accounts=pl.len(), recall=pl.col("flagged").mean())
        .sort(["accounts", "campaign"], descending=[True, False])  # ties by name: same order
    )
    bursts = (
        joined.filter(pl.col("burst").is_not_null() & ~pl.col("in_campaign"))
        .group_by("burst")
        .agg(accounts=pl.len(), flagged_share=pl.col("flagged").mean())
        .sort("burst")
    )
    singleton = pl.lit("-") + pl.col("account_id")
    scored = joined.filter(pl.col("in_campaign") | pl.col("flagged")).select(
        true=pl.col("campaign").fill_null(singleton),
        predicted=pl.when(pl.col("flagged"))
        .then(pl.col("cluster").cast(pl.String))
        .otherwise(singleton),
    )
    ari = adjusted_rand_score(scored["true"].to_list(), scored["predicted"].to_list())
    return {
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "f1": round(float(f1), 4),
        "ari": round(float(ari), 4) if scored.height else None,
        "flagged_accounts": int(joined["flagged"].sum()),
        "campaigns": campaigns.to_dicts(),
        "bursts": bursts.to_dicts(),
    }


def scan_world(posts: pl.DataFrame, truth: pl.DataFrame) -> tuple[Any, float, dict[str, Any]]:
    """Scan ``posts`` (written to a temporary Parquet dump) with default options: the
    result, the scan's seconds and its quality against ``truth`` (see :func:`evaluate`)."""
    from detector.pipeline import scan

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.parquet"
        posts.write_parquet(path)
        start = time.perf_counter()
        result = scan(path)
        seconds = time.perf_counter() - start
    predictions = result.accounts.select(
        "account_id", pl.col("cluster_id").alias("cluster"), "flagged"
    )
    return result, seconds, evaluate(predictions, truth)
