"""Refit the scoring model from labelled accounts: an analyst's review decisions or the
ground truth of synthetic worlds.

A scan's clusters become training rows: a cluster's label is the majority label of its
labelled members (a tie counts as coordinated), clusters with no labelled member are left
out. The fit is scikit-learn's LogisticRegression with balanced class weights, so a handful
of networks among many authentic clusters weigh as much as those; it is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from detector.errors import DataError, InputError
from detector.model import ScoreModel, check_terms, term_matrix
from detector.schema import FEATURES

COEFFICIENT_DIGITS = 4
MAX_REFITS = 5  # rounds of "fill unknowns with their least suspicious value, refit"


def read_labels(path: str | Path) -> pl.DataFrame:
    """An analyst's review file: CSV with ``account_id`` and ``label`` (1 coordinated,
    0 authentic); other columns are ignored."""
    try:
        labels = pl.read_csv(path, schema_overrides={"account_id": pl.String, "label": pl.String})
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(f"cannot read labels ({error})", file=str(path)) from None
    missing = {"account_id", "label"} - set(labels.columns)
    if missing:
        raise DataError("labels need account_id and label columns", file=str(path))
    bad = labels.filter(~pl.col("label").str.strip_chars().is_in(["0", "1"]))
    if bad.height:
        raise DataError(
            f"label must be 0 or 1, got {bad['label'][0]!r}", file=str(path), column="label"
        )
    return labels.select("account_id", label=pl.col("label").str.strip_chars().cast(pl.Int8))


def training_set(
    clusters: pl.DataFrame, accounts: pl.DataFrame, labels: pl.DataFrame
) -> pl.DataFrame:
    """One row per cluster with a labelled member: cluster_id, the FEATURES columns and
    ``label`` (majority of its labelled members)."""
    votes = (
        accounts.select("account_id", "cluster_id")
        .drop_nulls("cluster_id")
        .join(labels.select("account_id", "label"), on="account_id", how="inner")
        .group_by("cluster_id")
        .agg(label=(pl.col("label").mean() >= 0.5).cast(pl.Int8))
    )
    return (
        clusters.select("cluster_id", *FEATURES)
        .join(votes, on="cluster_id", how="inner")
        .sort("cluster_id")
    )


def feature_columns(table: pl.DataFrame) -> dict[str, np.ndarray]:
    """The FEATURES columns of a clusters or training table as arrays, NaN where null."""
    return {name: table[name].cast(pl.Float64).fill_null(np.nan).to_numpy() for name in FEATURES}


def fit(training: pl.DataFrame, base: ScoreModel, trained_on: str) -> ScoreModel:
    """A model over ``base``'s terms, threshold and regularisation, fitted to ``training``.

    Unknown term values are filled as the scorer fills them (the least suspicious value
    under the model's coefficient signs): start from 0, refit while a sign flips."""
    check_terms(base.features)
    labels = training["label"].to_numpy()
    if np.unique(labels).size < 2:
        raise DataError("labels need both coordinated (1) and authentic (0) clusters")
    values = term_matrix(feature_columns(training), base.features)
    fill = np.zeros(values.shape[1])
    for _ in range(MAX_REFITS):
        regression = LogisticRegression(
            C=base.regularisation, class_weight="balanced", max_iter=10_000, random_state=0
        ).fit(np.where(np.isnan(values), fill, values), labels)
        coefficients = regression.coef_[0]
        signs = (coefficients < 0).astype(np.float64)
        if np.array_equal(signs, fill):
            break
        fill = signs
    return ScoreModel(
        features=base.features,
        coefficients=tuple(round(float(c), COEFFICIENT_DIGITS) for c in coefficients),
        intercept=round(float(regression.intercept_[0]), COEFFICIENT_DIGITS),
        threshold=base.threshold,
        regularisation=base.regularisation,
        trained_on=trained_on,
    )
