"""The scoring model: the shipped file, missing data that is not evidence, refitting from
an analyst's labels (``detector calibrate``) and using the result (``scan --model``)."""

import json
import shutil

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from detector.calibrate import feature_columns, fit, read_labels, training_set
from detector.cli import main
from detector.errors import EXIT_DATA, EXIT_OK, DataError
from detector.model import ScoreModel, load_model
from detector.pipeline import scan
from detector.result import ScanResult
from detector.schema import FEATURES
from detector.synth import generate_trace_world, generate_world

YEAR = 365 * 86_400


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small world with creation dates spread over ten years, and without them."""
    posts, truth = generate_world(60_000, seed=4)
    folder = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(0)
    ids = posts["account_id"].unique().sort()
    spread = pl.DataFrame(
        {
            "account_id": ids,
            "spread": rng.integers(1_300_000_000, 1_300_000_000 + 10 * YEAR, ids.len()),
        }
    )
    spread_posts = (
        posts.join(spread, on="account_id", how="left", maintain_order="left")
        .with_columns(
            account_created_at=pl.from_epoch("spread", time_unit="s").dt.replace_time_zone("UTC")
        )
        .drop("spread")
    )
    paths = {}
    for name, frame in (("spread", spread_posts), ("undated", posts.drop("account_created_at"))):
        paths[name] = folder / f"{name}.parquet"
        frame.write_parquet(paths[name])
    return paths, truth


def _random_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    columns = {name: rng.random(n) for name in FEATURES}
    for name in FEATURES:
        columns[name][rng.random(n) < 0.2] = np.nan
    return columns


def test_shipped_model_loads_and_scores_probabilities():
    model = load_model()
    assert model.features and len(model.features) == len(model.coefficients)
    assert 0.0 < model.threshold < 1.0 and model.trained_on
    scores = model.score(_random_columns(1_000, seed=1))
    assert scores.shape == (1_000,)
    assert np.all((scores >= 0.0) & (scores <= 1.0))


def test_an_unknown_feature_never_raises_the_score():
    model = load_model()
    columns = _random_columns(500, seed=2)
    for name in FEATURES:
        unknown = {**columns, name: np.full(500, np.nan)}
        for value in np.linspace(0.0, 1.0, 11):
            known = {**columns, name: np.full(500, value)}
            assert np.all(model.score(unknown) <= model.score(known) + 1e-12), (name, value)


def test_missing_creation_dates_never_score_higher_than_spread_out_ones(world):
    paths, truth = world
    undated = scan(paths["undated"]).accounts.select("account_id", "flagged", undated="score")
    spread = scan(paths["spread"]).accounts.select("account_id", spread="score")
    both = undated.join(spread, on="account_id").join(truth, on="account_id")
    assert both.height == truth.height
    assert (both["undated"] <= both["spread"] + 1e-9).all()
    # Neither old accounts nor missing dates hide a campaign: it is flagged on what it does.
    assert both.filter(pl.col("campaign").is_not_null())["flagged"].mean() >= 0.9


def test_a_model_file_must_be_complete(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"features": ["size"], "coefficients": [1.0]}))
    with pytest.raises(DataError, match="not a detector model file"):
        load_model(path)
    data = json.loads(load_model().to_json())
    data["features"][0] = "repetition*no_such_feature"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="no_such_feature"):
        load_model(path)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A saved scan of a trace world (networks and authentic crowds), an analyst's labels
    of its accounts, and the dump."""
    posts, truth = generate_trace_world(60_000, seed=4)
    folder = tmp_path_factory.mktemp("calibrate")
    dump = folder / "posts.parquet"
    posts.write_parquet(dump)
    out = folder / "scan"
    result = CliRunner().invoke(main, ["scan", str(dump), "--out", str(out), "--quiet"])
    assert result.exit_code == EXIT_OK, result.output
    labels = folder / "labels.csv"
    truth.select("account_id", label=pl.col("campaign").is_not_null().cast(pl.Int8)).write_csv(
        labels
    )
    return out, labels, folder, dump


def test_fitting_is_deterministic(scanned):
    out, labels, _, _ = scanned
    result = ScanResult.load(out)
    training = training_set(result.clusters, result.accounts, read_labels(labels))
    assert training.height == result.clusters.height
    assert 0 < training["label"].sum() < training.height
    first = fit(training, load_model(), "test").to_json()
    assert fit(training, load_model(), "test").to_json() == first


def test_calibrate_writes_a_model_that_scan_uses(scanned):
    out, labels, folder, dump = scanned
    model_path = folder / "model.json"
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", str(out), str(labels), "--out", str(model_path)])
    assert result.exit_code == EXIT_OK, result.output
    first = model_path.read_bytes()
    runner.invoke(main, ["calibrate", str(out), str(labels), "--out", str(model_path)])
    assert model_path.read_bytes() == first
    model = ScoreModel.from_json(first.decode(), "model.json")
    assert model.trained_on.startswith("detector calibrate")
    assert model.coefficients != load_model().coefficients

    again = folder / "again"
    args = [
        "scan",
        str(dump),
        "--out",
        str(again),
        "--quiet",
        "--model",
        str(model_path),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((again / "summary.json").read_text())
    assert summary["model"]["file"] == str(model_path)
    assert summary["model"]["flag_threshold"] == model.threshold
    clusters = pl.read_parquet(again / "clusters.parquet")
    expected = model.score(feature_columns(clusters))
    assert np.allclose(clusters["score"].to_numpy(), expected, atol=2e-3)
    assert (
        clusters["flagged"].to_numpy() == (clusters["score"].to_numpy() >= model.threshold)
    ).all()


def test_calibrate_rejects_bad_labels_in_one_line(scanned):
    out, _, folder, _ = scanned
    labels = folder / "bad.csv"
    labels.write_text("account_id,label\na,1\nb,maybe\n")
    result = CliRunner().invoke(
        main, ["calibrate", str(out), str(labels), "--out", str(folder / "m.json")]
    )
    assert result.exit_code == EXIT_DATA
    assert result.output.startswith("detector: error:") and "maybe" in result.output


def test_calibrate_reads_the_decisions_of_detector_review(scanned, tmp_path):
    out, labels, _, _ = scanned
    reviewed = tmp_path / "scan"
    shutil.copytree(out, reviewed)
    result = ScanResult.load(reviewed)
    training = training_set(result.clusters, result.accounts, read_labels(labels))
    runner = CliRunner()
    for cluster_id, label in training.select("cluster_id", "label").iter_rows():
        decision = "--confirm" if label else "--reject"
        args = ["review", str(reviewed), "--cluster", str(cluster_id), decision]
        assert runner.invoke(main, args).exit_code == EXIT_OK
    from_review, from_labels = tmp_path / "review.json", tmp_path / "labels.json"
    args = ["calibrate", str(reviewed), "--out", str(from_review)]
    assert runner.invoke(main, args).exit_code == EXIT_OK
    args = ["calibrate", str(reviewed), str(labels), "--out", str(from_labels)]
    assert runner.invoke(main, args).exit_code == EXIT_OK
    fitted = [ScoreModel.from_json(p.read_text(), p.name) for p in (from_review, from_labels)]
    assert fitted[0].coefficients == fitted[1].coefficients
