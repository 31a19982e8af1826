"""The Spark engine gives the local engine's answer: same tables, same summary, same rejects.

One local[2] session for the whole run, small shuffles. Skipped (with the reason) where
PySpark or Java is missing; CI installs both (``.ci/run``).
"""

import json
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from detector import cluster
from detector.cli import main
from detector.cluster import detect_communities, pair_adjacency
from detector.config import ScanConfig
from detector.errors import DataError
from detector.pipeline import scan as local_scan
from detector.result import ScanResult, TableParts
from detector.synth import generate_evasion_world, generate_trace_world, generate_world

pytest.importorskip("pyspark", reason="the Spark engine needs pip install 'detector[spark]'")
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs a Java runtime", allow_module_level=True)

from pyspark.sql import functions as F

from detector.spark import SparkOptions, build_session
from detector.spark import scan as spark_scan
from detector.spark.arrow import collected
from detector.spark.clusters import cluster_labels
from detector.spark.communities import community_labels, directed_edges, propagate
from detector.spark.components import (
    component_labels,
    components,
    contracted,
    driver_components,
)
from detector.spark.lsh import bucket_members, candidate_pairs
from detector.spark.staging import Staging

DEMO = Path(__file__).parent.parent / "fixtures" / "demo.csv.gz"
MESSY = Path(__file__).parent / "data"
TABLES = ("accounts", "clusters", "posts", "groups", "edges", "rejects")
ENGINE_ONLY = {"seconds", "stages", "engine"}  # summary keys that differ by engine


@pytest.fixture(scope="session")
def spark():
    session = build_session(
        "local[2]",
        {
            "spark.sql.shuffle.partitions": "2",  # the demo's scan 70 s, 82 s with 4
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.memory": "4g",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def table(result, name):
    """A table of ``result`` in memory (the executors write the posts and rejects)."""
    found = getattr(result, name)
    return found.collect() if isinstance(found, TableParts) else found


def assert_same(spark_result, local_result, parts=True):
    """Same flagged accounts, same clusters (member sets), scores within 1e-9, and then
    every table and the summary identical; the posts and rejects tables written by the
    executors (``parts``) or collected."""
    for result in (spark_result, local_result):
        assert result.summary["rows_read"] == (
            result.summary["rows_scanned"] + result.summary["rows_rejected"]
        )
    flagged = [set(r.flagged_accounts["account_id"]) for r in (spark_result, local_result)]
    assert flagged[0] == flagged[1]
    members = [
        {
            frozenset(g["account_id"])
            for _, g in r.accounts.filter(pl.col("cluster_id").is_not_null()).group_by("cluster_id")
        }
        for r in (spark_result, local_result)
    ]
    assert members[0] == members[1]
    scores = [
        r.clusters.sort("cluster_id")["score"].to_numpy() for r in (spark_result, local_result)
    ]
    np.testing.assert_allclose(scores[0], scores[1], rtol=0, atol=1e-9)
    for name in ("posts", "rejects"):
        assert isinstance(getattr(spark_result, name), TableParts if parts else pl.DataFrame)
    for name in TABLES:
        assert table(spark_result, name).equals(getattr(local_result, name)), name
    assert {k: v for k, v in spark_result.summary.items() if k not in ENGINE_ONLY} == {
        k: v for k, v in local_result.summary.items() if k not in ENGINE_ONLY
    }


def test_demo_same_as_local_on_executors_without_the_drivers_folder(spark, monkeypatch):
    # On a cluster without a shared staging folder, the driver's tables go to Spark from
    # the driver, and the posts and rejects tables come back to it, not as parts (the
    # other tests run as locally, with parts).
    monkeypatch.setattr(Staging, "seen_by_all", lambda self, spark: False)
    result = spark_scan(spark, DEMO)
    assert result.summary["flagged_accounts"] > 0
    assert result.summary["engine"]["name"] == "spark"
    assert_same(result, local_scan(DEMO), parts=False)
    # The driver held the written posts of spun groups only, a few of the shared groups',
    # and their texts (the spun groups found in Spark), not every shared group's texts.
    assert result.summary["spun_groups"] > 0
    shared = table(result, "posts")["group_id"].is_not_null().sum()
    engine = result.summary["engine"]
    assert 0 < engine["driver_posts"] < shared / 4  # 2,551 of 13,030
    assert 0 < engine["driver_texts"] <= engine["driver_posts"]  # 2,066 texts
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()  # nothing left cached
    assert spark.sparkContext._jsc.getPersistentRDDs().isEmpty()  # nor checkpointed


@pytest.fixture(scope="module")
def mixed_world(tmp_path_factory) -> list[Path]:
    """A trace world and a plain world in three files of three formats, read in several
    batches each, with repeats of earlier files' post ids (some with other text)."""
    folder = tmp_path_factory.mktemp("mixed")
    traces, _ = generate_trace_world(30_000, seed=11)
    plain, _ = generate_world(10_000, seed=12)
    plain = plain.with_columns(pl.col("post_id", "repost_of") + "p")
    repeats = pl.concat(
        [
            traces.head(60),
            traces.slice(60, 60).with_columns(text=pl.col("text") + " (edited)"),
            plain.head(40),
        ],
        how="diagonal_relaxed",
    )
    traces.write_parquet(folder / "a.parquet")
    csv = plain.with_columns(pl.col("urls", "hashtags").list.join(" "))
    csv.write_csv(folder / "b.csv")
    tail = pl.concat([repeats, traces.tail(30)], how="diagonal_relaxed")
    with open(folder / "c.jsonl", "w") as out:
        for row in tail.with_columns(pl.col(pl.Datetime).cast(pl.String)).iter_rows(named=True):
            out.write(json.dumps(row) + "\n")
        out.write("{broken json\n")
    return [folder / "a.parquet", folder / "b.csv", folder / "c.jsonl"]


def test_mixed_world_same_as_local(spark, mixed_world):
    # The whole graph written: edges of components without a cluster come back too.
    options = {"batch_rows": 5_000, "write_graph": True}
    # Components (of texts, of communities over spun groups) by large-star/small-star
    # rounds in Spark, not on the driver; clusters' evidence in three buckets.
    result = spark_scan(spark, mixed_world, partitions=3, driver_components_max=0, **options)
    expected = local_scan(mixed_world, **options)
    assert expected.summary["flagged_clusters"] > 0
    assert all(n > 0 for n in expected.summary["graph_edges_by_trace"].values())
    assert expected.summary["edges_written"] == expected.summary["graph_edges"]
    engine = result.summary["engine"]
    assert engine["component_rounds"] >= 1
    assert expected.summary["clusters"] > engine["evidence_buckets"] == 3
    assert 0 < engine["largest_bucket_traces"] < engine["bucket_traces"]
    assert 0 < engine["largest_bucket_edges"] < engine["bucket_edges"]
    assert engine["bucket_edges"] < expected.summary["graph_edges"]  # those inside clusters
    reasons = expected.summary["rejects_by_reason"]
    assert reasons["duplicate post_id"] >= 160, reasons
    assert_same(result, expected)


def test_quoting_posts_in_spun_groups_same_as_local(spark, tmp_path):
    # A repost or a reply is not a text of its own in a spun group (detector.rewording):
    # the driver, which never holds the reposted ids, must still know which posts quote.
    posts, _ = generate_evasion_world(20_000, seed=5)
    quoting = pl.int_range(pl.len()) % 3 == 0
    posts = posts.with_columns(repost_of=pl.when(quoting).then(pl.lit("elsewhere")))
    posts.write_parquet(tmp_path / "world.parquet")
    expected = local_scan(tmp_path / "world.parquet")
    assert expected.summary["spun_groups"] > 0
    assert_same(spark_scan(spark, tmp_path / "world.parquet"), expected)


def test_dataframe_input_with_edge_floors_and_communities_in_rounds(spark, tmp_path):
    # A DataFrame for input; the graph's edges, made across tasks (detector.spark.edges),
    # dropped by the co-share and participation floors as locally; and the communities of
    # components past louvain_max_edges found by label propagation in Spark rounds
    # (detector.spark.communities), the others' in tasks, as the local engine finds them.
    posts, _ = generate_world(10_000, seed=13)
    path = tmp_path / "world.parquet"
    posts.write_parquet(path)
    floors = {"min_co_shares": 2, "min_participation": 3, "write_graph": True}
    options = {**floors, "louvain_max_edges": 300, "propagation_sweeps": 3}
    frame = spark.read.parquet(str(path)).coalesce(1)
    result = spark_scan(spark, frame, propagation_task_max=0, **options)
    expected = local_scan(path, **options)
    assert expected.summary["flagged_accounts"] > 0
    engine = result.summary["engine"]
    assert engine["propagated_components"] >= 1
    assert 0 < engine["propagation_rounds"] <= 6
    unfloored = local_scan(path, write_graph=True).summary["graph_edges"]
    assert 0 < expected.summary["graph_edges"] < unfloored
    for name in ("accounts", "clusters", "posts", "groups", "edges"):
        assert table(result, name).equals(getattr(expected, name)), name


def test_cli_spark_engine_reads_files_by_uri(spark, tmp_path):
    # Files named by URI (here file://, as hdfs:// or s3a:// would be): Spark lists the
    # folder and reads the files' bytes, which the local readers then read (the folder's
    # .txt file is not a dump).
    folder = tmp_path / "dump"
    folder.mkdir()
    for name in ("messy.csv", "messy.jsonl"):
        shutil.copy(MESSY / name, folder / name)
    (folder / "notes.txt").write_text("not a dump")
    inputs = [str(folder / "messy.csv"), str(folder / "messy.jsonl")]
    out = tmp_path / "out"
    spark_cli = ["--engine", "spark", "--master", "local[2]", "--quiet"]
    run = CliRunner().invoke(main, ["scan", folder.as_uri(), *spark_cli, "--out", str(out)])
    assert run.exit_code in (0, 4), run.output
    local = local_scan(inputs)
    rejects = pl.read_parquet(out / "rejects.parquet")
    uris = [f"file:{name}" for name in inputs]  # as Spark names them
    assert rejects["file"].unique().sort().to_list() == uris
    assert rejects.with_columns(pl.col("file").str.strip_prefix("file:")).equals(local.rejects)
    assert rejects.height > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == uris
    assert summary["rows_read"] == local.summary["rows_read"]
    assert summary["engine"]["master"] == "local[2]"
    # The posts and rejects as the executors wrote them: folders of Parquet parts.
    assert (out / "posts.parquet").is_dir() and (out / "rejects.parquet").is_dir()
    assert pl.read_parquet(out / "posts.parquet").equals(local.posts)
    assert ScanResult.load(out).posts.collect().equals(local.posts)
    assert (out / "report.html").is_file()
    missing = [(tmp_path / "nowhere").as_uri(), *spark_cli, "--out", str(tmp_path / "o")]
    run = CliRunner().invoke(main, ["scan", *missing])
    assert run.exit_code == 3 and "does not exist" in run.output, run.output


def test_a_local_session_exits_when_out_of_memory(spark):
    # Spark leaves a driver thread dead on OutOfMemoryError and the scan waiting on it for
    # ever (CI once hung so): a local session's JVM exits instead, and the scan fails.
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert "-XX:+ExitOnOutOfMemoryError" in list(runtime.getInputArguments())


def test_cli_spark_options_need_spark_engine(tmp_path):
    run = CliRunner().invoke(
        main, ["scan", str(DEMO), "--master", "local[2]", "--out", str(tmp_path / "o")]
    )
    assert run.exit_code == 2
    assert "--master need(s) --engine spark" in run.output


def test_missing_column_is_one_data_error(spark, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("post_id,account_id,text\n1,a,hello\n")
    with pytest.raises(DataError) as local_error:
        local_scan(bad)
    with pytest.raises(DataError) as spark_error:
        spark_scan(spark, bad)
    assert spark_error.value.one_line() == local_error.value.one_line()


def test_communities_in_rounds_are_the_local_engines(spark):
    # Weights from a small set, so that ties are common, and pairs on one to three kinds
    # (some of zero or negative weight), summed in kind order as locally; accounts
    # numbered with gaps, as a bucket's are among the scan's. Spark's rounds end with the
    # labels of the local kernel, node by node, and the communities, found in rounds or in
    # a task, are detect_communities' (the component is past louvain_max_edges).
    rng = np.random.default_rng(5)
    ends = rng.integers(0, 150, (700, 2))
    ends = 7 + 3 * np.unique(np.sort(ends[ends[:, 0] != ends[:, 1]], axis=1), axis=0)
    kinds = rng.integers(1, 4, len(ends))
    rows = pl.DataFrame(
        {
            "source": np.repeat(ends[:, 0], kinds),
            "target": np.repeat(ends[:, 1], kinds),
            "kind": np.concatenate([np.arange(k) for k in kinds]),
            "weight": rng.choice([-0.5, 0.0, 0.1, 0.2, 0.3, 0.6, 1.0], kinds.sum()),
        }
    ).sort("source", "target", "kind")
    config = ScanConfig(louvain_max_edges=40, propagation_sweeps=4, min_cluster_accounts=2)
    rounds_options = SparkOptions(propagation_task_max=0)
    n_accounts = int(ends.max()) + 1
    adjacency = pair_adjacency(
        *(rows[c].to_numpy() for c in ("source", "target", "weight")), n_accounts
    )
    matrix, linked = adjacency.matrix, np.arange(adjacency.accounts.size)
    expected_communities = detect_communities(adjacency, config)
    cluster._quantise(matrix.indptr, matrix.data, linked)
    bounds = np.array([0, linked.size])
    labels = cluster._label_propagation(
        matrix.indptr, matrix.indices, matrix.data, adjacency.accounts, linked, 4, bounds
    )
    edges = spark.createDataFrame(rows.to_arrow())
    positive = edges.filter(F.col("weight") > 0).groupBy("source", "target")
    # Summed in any order: at most three tenths, whose last bits round away
    pairs = positive.agg(F.sum("weight").alias("weight"))
    directed = directed_edges(spark, pairs, 4, rounds_options)
    nodes = directed.select(F.col("src").alias("node"), F.lit(0).alias("component")).distinct()
    state, rounds = propagate(nodes, directed, 4, rounds_options)
    got = collected(state).sort("node")
    assert got["node"].to_list() == adjacency.accounts.tolist()
    assert got["community"].to_list() == adjacency.accounts[labels[linked]].tolist()
    assert 2 <= rounds <= 8
    member = expected_communities >= 0
    named = np.full(expected_communities.max() + 1, n_accounts)
    np.minimum.at(named, expected_communities[member], np.flatnonzero(member))
    expected = dict(
        zip(
            np.flatnonzero(member).tolist(),
            named[expected_communities[member]].tolist(),
            strict=True,
        )
    )
    for task_max, propagated in ((0, 1), (10**6, 0)):
        options = SparkOptions(propagation_task_max=task_max)
        found, done = community_labels(spark, edges, config, options)
        assert done["propagated_components"] == propagated
        assert dict(collected(found).select("account", "community").iter_rows()) == expected


def test_clusters_are_the_local_engines(spark):
    # Random in-window traces over 12 communities, each sharing mostly its own block of
    # objects (so most objects have an owner), the rest anyone's (no majority), community
    # 9 seldom its own (its members fall short of owned contents and it is dissolved);
    # copies of spun posts (rewording -1), no content; communities 2 and 3 each rewording
    # one spun group (joined); accounts in no community; four accounts with one owned
    # object each and one object tied between communities 0 and 1 (no owner: they stay
    # out). Spark's clusters are those of join_spinners then keep_core_members.
    rng = np.random.default_rng(11)
    n = 5000
    labels = np.where(rng.random(420) < 0.1, -1, rng.integers(0, 12, 420))
    account = rng.integers(0, 420, n)
    own_block = labels[account] * 20 + rng.integers(0, 20, n)
    loyal = rng.random(n) < np.where(labels[account] == 9, 0.2, 0.7)
    key = np.where((labels[account] >= 0) & loyal, own_block, 240 + account % 90)
    variant = rng.integers(0, 3, n)
    rewording = rng.choice([-1, 0], n, p=[0.15, 0.85])
    spun = [np.flatnonzero(labels == c)[:1] for c in (2, 3)]
    labels = np.concatenate([labels, [0, 0, 1, 1]])
    n_accounts = labels.size
    tied = np.arange(420, 424)
    account = np.concatenate([account, *spun, tied, tied])
    key = np.concatenate([key, [998, 998], [999] * 4, labels[tied] * 20])
    variant = np.concatenate([variant, np.zeros(10, int)])
    rewording = np.concatenate([rewording, [1, 2], np.zeros(8, int)])
    config = ScanConfig(min_cluster_accounts=20)
    assert np.bincount(labels[labels >= 0]).min() >= config.min_cluster_accounts
    joined = cluster.join_spinners(
        labels, account, key, rewording, min_size=config.min_cluster_accounts
    )
    kept = cluster.keep_core_members(
        joined, account, key, variant, rewording,
        min_contents=config.min_repeat, min_size=config.min_cluster_accounts,
    )  # fmt: skip

    def partition(of_account):
        return {frozenset(np.flatnonzero(of_account == c).tolist()) for c in set(of_account) - {-1}}

    assert len(partition(kept)) < len(partition(joined)) < len(partition(labels))  # not vacuous
    traces = pl.DataFrame(
        {"key": key, "account": account, "variant": variant, "rewording": rewording}
    )
    member = np.flatnonzero(labels >= 0)
    smallest = np.full(12, n_accounts)  # each community named by its smallest member
    np.minimum.at(smallest, labels[member], member)
    communities = pl.DataFrame({"account": member, "community": smallest[labels[member]]})
    found = cluster_labels(
        spark,
        spark.createDataFrame(traces.to_arrow()),
        spark.createDataFrame(communities.to_arrow()),
        config,
        SparkOptions(),
    )
    got = collected(found)
    found.unpersist()
    clustered = np.full(n_accounts, -1)
    clustered[got["account"].to_numpy()] = got["cluster"].to_numpy()
    assert partition(clustered) == partition(kept)


def test_components_are_the_connected_components(spark):
    rng = np.random.default_rng(4)
    nodes = np.sort(rng.choice(10**12, 400, replace=False))
    src, dst = rng.integers(0, 400, 320), rng.integers(0, 400, 320)
    edges = spark.createDataFrame(
        [(int(nodes[a]), int(nodes[b])) for a, b in zip(src, dst, strict=True)],
        "src long, dst long",
    )
    labels, rounds = components(edges, SparkOptions(max_rounds=30))
    got = {row.node: row.label for row in labels.collect()}
    graph = coo_matrix((np.ones(320), (src, dst)), shape=(400, 400))
    _, component = connected_components(graph, directed=False)
    touched = np.union1d(src[src != dst], dst[src != dst])
    expected = {
        int(nodes[i]): int(nodes[np.flatnonzero(component == component[i])].min()) for i in touched
    }
    assert got == expected
    assert rounds >= 2
    nodes, label = driver_components(
        edges.toArrow()["src"].to_numpy(), edges.toArrow()["dst"].to_numpy()
    )
    assert dict(zip(nodes.tolist(), label.tolist(), strict=True)) == expected
    # Every edge twice, in three partitions by edge: contracted to no more than the distinct edges,
    # the same components, in Spark rounds or on the driver.
    spread = edges.unionAll(edges).repartition(3, "src", "dst")
    assert contracted(spark, spread).count() <= edges.filter("src != dst").distinct().count()
    for most, spark_rounds in ((0, True), (10**6, False)):
        labels, rounds = component_labels(spark, spread, SparkOptions(driver_components_max=most))
        assert {row.node: row.label for row in labels.collect()} == expected
        assert (rounds > 0) == spark_rounds


def test_giant_buckets_are_sampled_to_the_cap(spark):
    texts = spark.createDataFrame(
        [(i * 10, [7, 1000 + i]) for i in range(100)], "first long, band_keys array<long>"
    )
    every = candidate_pairs(texts, SparkOptions()).collect()
    assert sorted(r.dst for r in every) == list(range(10, 1000, 10))
    assert {r.src for r in every} == {0}
    capped = candidate_pairs(texts, SparkOptions(max_bucket=10)).collect()
    assert 2 <= len(capped) <= 30
    assert {r.src for r in capped} == {0}


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 10**9)),
        unique_by=lambda r: r[2],
        max_size=60,
    ),
    cuts=st.lists(st.integers(0, 60), max_size=12),
)
def test_bucket_members_in_any_batches(rows, cuts):
    # Band keys sorted by bucket then text, cut into batches anywhere (empty ones too):
    # every non-head member comes out once, beside its bucket's smallest text and size.
    rows = sorted(rows)
    bounds = [0, *sorted(min(c, len(rows)) for c in cuts), len(rows)]
    batches = [
        pa.RecordBatch.from_pydict(
            {
                "node": pa.array([r[2] for r in rows[a:b]], pa.int64()),
                "band": pa.array([r[1] for r in rows[a:b]], pa.int32()),
                "key": pa.array([r[0] for r in rows[a:b]], pa.int64()),
            }
        )
        for a, b in pairwise(bounds)
    ]
    got = [
        row
        for out in bucket_members(iter(batches))
        for row in zip(*out.to_pydict().values(), strict=True)
    ]
    buckets: dict[tuple[int, int], list[int]] = {}
    for key, band, node in rows:
        buckets.setdefault((key, band), []).append(node)
    expected = [
        (min(nodes), node, band, len(nodes))
        for (_, band), nodes in buckets.items()
        for node in nodes
        if node != min(nodes)
    ]
    assert sorted(got) == sorted(expected)
