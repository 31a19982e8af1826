"""Fit the shipped scoring model on the labelled scenario families, and measure it with
each family left out.

``python -m benchmarks.calibrate --sizes 60k,100k,150k --seeds 1,2,3``

Worlds: ``generate_world`` plain and evasive, ``generate_trace_world`` and
``generate_evasion_world`` (issue 10's families: one-shot blasts, pickup, news outlets, ...;
measured, never fitted on, see FITTED), at each size and seed (the end-to-end tests use
other seeds). Each is scanned with default options; an account's label is "in a campaign"
(truth ``campaign`` set), its family the campaign or burst it belongs to (``organic`` when
none), a cluster's family the one most of its members belong to.

* **Leave one family out**: for each family, a model is fitted without that family's
  clusters and scores every cluster; the family's accounts flagged are its recall (a
  campaign) or its false alarms (an authentic family). Overall precision and recall count
  each cluster under the model that did not see its family.
* **Shipped model**: fitted on every cluster of the FITTED worlds, written to
  ``detector/models/default.json``.

Figures go to ``calibration.json`` beside this file; ``python -m benchmarks.report`` renders
them into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.worlds import parse_size, size_label
from detector.calibrate import feature_columns, fit, training_set
from detector.model import ScoreModel

HERE = Path(__file__).resolve().parent
MODEL_OUT = HERE.parent / "detector" / "models" / "default.json"
KINDS = ("plain", "evasion", "traces", "evasive_families")
# The shipped model is fitted on these; issue 10's families (``evasive_families``) are
# measured, held out, but not fitted on: with them in the fit (and terms for rewording and
# exclusivity), news outlets (authentic) and repost networks (coordinated) pull the same
# coefficients apart: news outlets stop being flagged, but a held-out repost network is
# found at 0.22, and a 300k-post world's repost network is missed. Also measured and
# rejected (60k-150k, seeds 1-3, leave one family out): a model needing a sign of fakery
# (no plain coordination term; creation, variants, speed, rewording, +/- sources or
# density): news outlets held out 0.00-0.78, but repost networks held out 0.00 and aged
# accounts 0.00-0.07; a house-style term (an account's texts open alike across distinct
# groups: outlets 0.64-0.81, campaign means 0.11-0.35, 0.19-0.52 once 30% of campaign
# accounts sign their posts): news outlets held out 1.00 (no other authentic family has a
# house style to learn it from), repost networks held out 0.22-0.33; "each group posted
# once per account": the outlets' 80 stories fall into ~30 near-duplicate groups (12
# topic phrases), 0.02-0.14, below the campaigns (black manuscript 0.87, link network 1.00).
FITTED = ("plain", "evasion", "traces")
# The shipped model's form: coordination, and coordination times each sign of
# inauthenticity (so neither alone flags a cluster); its flag threshold and regularisation.
INAUTHENTICITY = (
    "creation_concentration",
    "variant_ratio",
    "co_share_speed",
    "co_share_density",
    "content_diversity",
    "synchrony",
)
TERMS = ("coordination", *(f"coordination*{name}" for name in INAUTHENTICITY))
BASE = ScoreModel(
    features=TERMS,
    coefficients=(0.0,) * len(TERMS),
    intercept=0.0,
    threshold=0.5,
    regularisation=1.0,
    trained_on="",
)


def scan_world(kind: str, n_posts: int, seed: int, scratch: Path) -> tuple[pl.DataFrame, ...]:
    """(clusters, accounts) of one scanned world, labelled, cached in ``scratch``."""
    name = f"{kind}-{size_label(n_posts)}-seed{seed}"
    paths = [scratch / f"{name}-{table}.parquet" for table in ("clusters", "accounts")]
    if all(p.is_file() for p in paths):
        return tuple(pl.read_parquet(p) for p in paths)
    from detector.pipeline import scan
    from detector.synth import generate_evasion_world, generate_trace_world, generate_world

    if kind == "traces":
        posts, truth = generate_trace_world(n_posts, seed=seed)
    elif kind == "evasive_families":
        posts, truth = generate_evasion_world(n_posts, seed=seed)
    else:
        posts, truth = generate_world(n_posts, seed=seed, evasion=kind == "evasion")
    scratch.mkdir(parents=True, exist_ok=True)
    dump = scratch / f"{name}-posts.parquet"
    posts.write_parquet(dump)
    result = scan(dump)
    dump.unlink()
    accounts = truth.join(
        result.accounts.select("account_id", "cluster_id"), on="account_id", how="left"
    ).select(
        pl.lit(name).alias("world"),
        "account_id",
        "cluster_id",
        family=pl.coalesce("campaign", "burst", pl.lit("organic")),
        label=pl.col("campaign").is_not_null().cast(pl.Int8),
    )
    family = (
        accounts.drop_nulls("cluster_id")
        .group_by("cluster_id", "family")
        .len()
        .sort(["cluster_id", "len", "family"], descending=[False, True, False])
        .unique("cluster_id", keep="first", maintain_order=True)
        .select("cluster_id", "family")
    )
    clusters = (
        training_set(result.clusters, accounts, accounts.select("account_id", "label"))
        .join(family, on="cluster_id")
        .join(result.clusters.select("cluster_id", "n_accounts"), on="cluster_id")
        .with_columns(world=pl.lit(name))
    )
    for table, path in zip((clusters, accounts), paths, strict=True):
        table.write_parquet(path)
    return clusters, accounts


def _flagged(model: ScoreModel, clusters: pl.DataFrame) -> pl.Series:
    return pl.Series(model.score(feature_columns(clusters)) >= model.threshold)


def _account_quality(accounts: pl.DataFrame, flagged: pl.DataFrame) -> pl.DataFrame:
    """Accounts with ``flagged`` from their cluster's verdict (world, cluster_id, flagged)."""
    return accounts.join(flagged, on=["world", "cluster_id"], how="left").with_columns(
        pl.col("flagged").fill_null(False)
    )


def _precision_recall(verdicts: pl.DataFrame) -> dict[str, float]:
    flagged = verdicts.filter(pl.col("flagged"))
    campaign = verdicts.filter(pl.col("label") == 1)
    return {
        "precision": round(float(flagged["label"].mean() or 0.0), 4),
        "recall": round(float(campaign["flagged"].mean() or 0.0), 4),
        "flagged_accounts": flagged.height,
    }


def leave_one_family_out(clusters: pl.DataFrame, accounts: pl.DataFrame) -> dict[str, Any]:
    """Per family: the model fitted without it, scored on its accounts; overall precision
    and recall with every cluster judged by the model that did not see its family."""
    rows, held_out = [], []
    campaigns = set(accounts.filter(pl.col("label") == 1)["family"])
    fitted = clusters.filter(pl.col("fitted"))
    for family in sorted(set(accounts["family"])):
        model = fit(fitted.filter(pl.col("family") != family), BASE, "leave one out")
        verdicts = _account_quality(
            accounts.filter(pl.col("family") == family),
            clusters.select("world", "cluster_id").with_columns(flagged=_flagged(model, clusters)),
        )
        own = clusters.filter(pl.col("family") == family)
        held_out.append(
            own.select("world", "cluster_id").with_columns(flagged=_flagged(model, own))
        )
        rows.append(
            {
                "family": family,
                "kind": "campaign" if family in campaigns else "authentic",
                "accounts": verdicts.height,
                "clusters": own.height,
                "flagged_share": round(float(verdicts["flagged"].mean()), 4),
            }
        )
    verdicts = _account_quality(accounts, pl.concat(held_out))
    return {"families": rows, **_precision_recall(verdicts)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="60k,100k,150k")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--scratch", type=Path, default=Path("scratch") / "calibration")
    parser.add_argument("--out", type=Path, default=HERE / "calibration.json")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    parts = []
    for kind in KINDS:
        for n in sizes:
            for seed in seeds:
                print(f"{kind} {size_label(n)} seed {seed} ...", flush=True)
                parts.append(scan_world(kind, n, seed, args.scratch))
    clusters = pl.concat([c for c, _ in parts]).with_columns(
        fitted=pl.col("world").str.split("-").list.first().is_in(FITTED)
    )
    accounts = pl.concat([a for _, a in parts])
    n_worlds = len(parts)
    fitted = clusters.filter(pl.col("fitted"))
    trained_on = (
        f"benchmarks/calibrate.py: {fitted.height} clusters "
        f"({int(fitted['label'].sum())} coordinated) of {fitted['world'].n_unique()} synthetic "
        f"worlds (generate_world plain and evasive, generate_trace_world; {args.sizes} posts, "
        f"seeds {args.seeds}); label: the majority of members are in a campaign"
    )
    model = fit(fitted, BASE, trained_on)
    MODEL_OUT.write_text(model.to_json())
    final = _account_quality(
        accounts,
        clusters.select("world", "cluster_id").with_columns(flagged=_flagged(model, clusters)),
    )
    results = {
        "command": "python -m benchmarks.calibrate " + shlex.join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "worlds": n_worlds,
        "clusters": clusters.height,
        "coordinated_clusters": int(clusters["label"].sum()),
        "model": json.loads(model.to_json()),
        "in_sample": _precision_recall(final),
        "leave_one_family_out": leave_one_family_out(clusters, accounts),
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {MODEL_OUT} and {args.out}")


if __name__ == "__main__":
    main()
