"""Triage outputs: exports read back against the tables, explain text, templates, and the
report file itself (the browser test opens it for real)."""

from __future__ import annotations

import gc
import re
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_fixture import HOSTILE, make_result

from detector.cli import _graph_note
from detector.config import ScanConfig
from detector.errors import EXIT_USAGE, UsageError
from detector.result import ScanResult, TableParts
from detector.schema import TABLES
from detector.triage import explain_cluster, export, write_exports, write_report
from detector.triage.evidence import MAX_BUCKETS, MIN_BUCKETS, histogram, pair_links
from detector.triage.explain import marked
from detector.triage.template import families

ENFORCEMENT_COLUMNS = [
    "account_id", "cluster_id", "score", "top_reasons", "n_posts", "shared_posts",
    "first_post", "last_post", "account_created_at", "review",
]  # fmt: skip


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return make_result(filler=8)


@pytest.fixture(scope="module")
def exports(result, tmp_path_factory):
    return write_exports(result, tmp_path_factory.mktemp("exports"))


def _flagged_edges(result: ScanResult) -> pl.DataFrame:
    flagged = result.clusters.filter(pl.col("flagged"))["cluster_id"].to_list()
    return pair_links(result.edges.filter(pl.col("cluster_id").is_in(flagged)))


def _read(path):
    return nx.read_graphml(path) if path.suffix == ".graphml" else nx.read_gexf(path)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcd"),
            st.sampled_from("abcd"),
            st.sampled_from(["text", "repost", "url", "hashtag"]),
            st.integers(0, 5),
            st.floats(0, 10, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_pair_links_sum_each_pairs_traces(rows):
    """One row per pair whatever the rows' order: as polars groups them, each trace named
    once, in name order (the edges table holds a row per pair and trace, and a pair is in
    one cluster or none)."""
    edges = (
        pl.DataFrame(
            rows,
            schema={"source": pl.String, "target": pl.String, "trace": pl.String,
                    "shared": pl.Int64, "weight": pl.Float64},
            orient="row",
        )
        .unique(["source", "target", "trace"], keep="first", maintain_order=True)
        .with_columns(
            cluster_id=pl.when(pl.col("source") != "a").then(pl.col("target").str.len_bytes())
        )
    )  # fmt: skip
    expected = (
        edges.sort("source", "target", "trace")
        .group_by("source", "target", "cluster_id", maintain_order=True)
        .agg(pl.col("weight").sum(), pl.col("shared").sum(), traces=pl.col("trace").str.join(","))
    )
    links = pair_links(edges.reverse())
    assert links.drop("weight").equals(expected.drop("weight"))
    assert links["weight"].to_list() == pytest.approx(expected["weight"].to_list())


@pytest.mark.parametrize("kind", ["graphml", "gexf"])
def test_graph_export_holds_flagged_accounts_and_their_links(result, exports, kind):
    graph = _read(exports.paths[kind])
    flagged = result.flagged_accounts
    assert set(graph.nodes) == set(flagged["account_id"])
    activity = result.posts.group_by("account_id").agg(
        first=pl.col("created_at").min(), last=pl.col("created_at").max()
    )
    rows = flagged.join(activity, on="account_id")
    for account, cluster, score, first, last in rows.select(
        "account_id", "cluster_id", "score", "first", "last"
    ).iter_rows():
        node = graph.nodes[account]
        assert node["label"] == account
        assert node["cluster"] == cluster and isinstance(node["cluster"], int)
        assert node["score"] == pytest.approx(score) and isinstance(node["score"], float)
        assert node["first_activity"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert node["last_activity"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")
    edges = _flagged_edges(result)
    assert graph.number_of_edges() == edges.height
    for source, target, weight, shared, traces in edges.select(
        "source", "target", "weight", "shared", "traces"
    ).iter_rows():
        data = graph.edges[source, target]
        assert data["weight"] == pytest.approx(weight)
        assert data["shared"] == shared and isinstance(data["shared"], int)
        assert data["traces"] == traces
    assert not exports.graph.capped


def test_graph_export_leaves_out_unflagged_clusters(result, exports):
    graph = nx.read_graphml(exports.paths["graphml"])
    assert not any(node.startswith("hk_citizen_") for node in graph.nodes)
    assert "ring<b>0</b>" in graph.nodes  # odd ids survive XML
    assert graph.graph["description"] == exports.graph.description()


@pytest.mark.parametrize("kind", ["graphml", "gexf"])
def test_graph_export_escapes_what_xml_cannot_hold(result, tmp_path, kind):
    odd = 'a&b "c" <d>\te\nf\x01'
    renamed = {
        name: getattr(result, name).with_columns(
            pl.col(column).replace("ring<b>0</b>", odd) for column in columns
        )
        for name, columns in (
            ("accounts", ["account_id"]),
            ("posts", ["account_id"]),
            ("edges", ["source", "target"]),
        )
    }
    odd_result = ScanResult(**{**{n: getattr(result, n) for n in TABLES}, **renamed})
    graph = _read(write_exports(odd_result, tmp_path).paths[kind])
    node = 'a&b "c" <d>\te\nf\ufffd'
    assert graph.nodes[node]["label"] == node
    assert graph.degree(node) == nx.read_graphml(
        write_exports(result, tmp_path / "plain").paths["graphml"]
    ).degree("ring<b>0</b>")


def test_graph_export_caps_to_top_clusters_and_heaviest_links(result, tmp_path):
    sizes = result.flagged_accounts.group_by("cluster_id").len().sort("cluster_id")
    links = _flagged_edges(result).filter(pl.col("cluster_id") == sizes["cluster_id"][0])
    config = ScanConfig(export_max_nodes=int(sizes["len"][0]), export_max_edges=3)
    exports = write_exports(result, tmp_path, config=config)
    for kind in ("graphml", "gexf"):
        graph = _read(exports.paths[kind])
        cluster_ids = {data["cluster"] for _, data in graph.nodes(data=True)}
        assert cluster_ids == {sizes["cluster_id"][0]}  # the top cluster by score, whole
        heaviest = links.sort("weight", descending=True)["weight"].head(3).to_list()
        weights = sorted((d["weight"] for *_, d in graph.edges(data=True)), reverse=True)
        assert weights == pytest.approx(heaviest)
    description = exports.graph.description()
    assert exports.graph.capped and "capped for Gephi" in description
    assert f"3 of {links.height} links" in description
    gexf = ElementTree.parse(exports.paths["gexf"]).getroot()
    meta = gexf.find("{http://www.gexf.net/1.2draft}meta/{http://www.gexf.net/1.2draft}description")
    assert meta.text == description


def test_the_screen_says_what_the_caps_left_out_only_when_they_did(result, exports, tmp_path):
    capped = write_exports(result, tmp_path, config=ScanConfig(export_max_edges=1))
    assert _graph_note(capped) == [f"Gephi files: {capped.graph.description()}"]
    assert _graph_note(exports) == []


def test_graph_export_cuts_a_top_cluster_larger_than_the_cap(result, tmp_path):
    exports = write_exports(result, tmp_path, config=ScanConfig(export_max_nodes=2))
    graph = nx.read_graphml(exports.paths["graphml"])
    top = result.flagged_accounts.sort("score", "cluster_id", descending=[True, False])
    assert (
        sorted(graph.nodes)
        == sorted(top.filter(pl.col("cluster_id") == top["cluster_id"][0])["account_id"])[:2]
    )


def test_graph_export_is_the_same_bytes_whatever_the_chunk_size(result, tmp_path, monkeypatch):
    whole = write_exports(result, tmp_path / "whole")
    monkeypatch.setattr(export, "CHUNK_ROWS", 3)
    chunked = write_exports(result, tmp_path / "chunked")
    for kind in ("graphml", "gexf"):
        assert whole.paths[kind].read_bytes() == chunked.paths[kind].read_bytes()


def test_enforcement_list_is_ranked_flagged_accounts_with_reason(result, exports):
    table = pl.read_csv(exports.paths["enforcement"])
    assert table.columns == ENFORCEMENT_COLUMNS
    assert sorted(table["account_id"]) == sorted(result.flagged_accounts["account_id"])
    expected = table.sort(["score", "cluster_id", "account_id"], descending=[True, False, False])
    assert table.equals(expected)
    assert table["account_id"][0].startswith("xm_fan_")  # the highest-scored campaign
    top = {r["cluster_id"]: r["reasons"][:3] for r in result.clusters.iter_rows(named=True)}
    for cluster, reasons in table.select("cluster_id", "top_reasons").iter_rows():
        assert reasons == " | ".join(top[cluster])
    # The account's own evidence: its posts, those in shared groups, first and last post.
    posts = result.posts.group_by("account_id").agg(
        n=pl.len(), shared=pl.col("group_id").is_not_null().sum()
    )
    own = table.join(posts, on="account_id")
    assert (own["n_posts"] == own["n"]).all() and (own["shared_posts"] == own["shared"]).all()
    assert (own["first_post"] <= own["last_post"]).all()


def test_exports_of_a_scan_without_clusters(tmp_path):
    full = make_result()
    empty = ScanResult(**{name: getattr(full, name).clear() for name in TABLES}, summary={})
    paths = write_exports(empty, tmp_path).paths
    assert nx.read_graphml(paths["graphml"]).number_of_nodes() == 0
    assert nx.read_gexf(paths["gexf"]).number_of_nodes() == 0
    assert paths["enforcement"].read_text().strip() == ",".join(ENFORCEMENT_COLUMNS)


def test_explain_shows_reasons_timeline_and_marked_template(result):
    text = explain_cluster(result, 1)
    assert text.startswith("Cluster 1: FLAGGED (score 0.86, threshold 0.5)")
    for reason in result.clusters.filter(pl.col("cluster_id") == 1)["reasons"][0]:
        assert reason in text
    assert "Posts per hour (peak " in text
    assert "Accounts created per day (peak 30 at 2024-02-10)" in text
    assert "Waves:\n  1. 2024-03-01 10:0" in text and "\n  3. 2024-03-03 10:0" in text
    assert "Mass sign-up days: 2024-02-10 (30), 2024-02-15 (30)" in text
    assert "2 days hold 100% (60) of the 60 accounts" in text
    assert re.search(r"\|[ ▁▂▃▄▅▆▇█]+\|", text)  # sparkline
    assert "xm_fan_000" in text
    assert "小米汽车[的刹车]系统有[严重]问题，千万[不要]买！" in text
    assert "    > 小米汽车的刹车系统有[大]问题，千万[别]买！" in text


def test_explain_unflagged_cluster_says_why_not(result):
    text = explain_cluster(result, 3)
    assert "Cluster 3: not flagged (score 0.21" in text
    assert "Not flagged: score 0.21 is below the flag threshold 0.5: low repetition" in text


def test_explain_without_creation_dates(result):
    text = explain_cluster(result, 2)
    assert "Accounts created: dates not in the input" in text
    assert "creation_concentration  unknown" in text
    assert HOSTILE in text  # terminal text, printed as is


def test_explain_unknown_cluster_is_a_usage_error(result):
    with pytest.raises(UsageError, match="no cluster 999") as error:
        explain_cluster(result, 999)
    assert error.value.exit_code == EXIT_USAGE


def test_template_marks_spun_spots_char_by_char_in_chinese_word_by_word_in_english():
    chinese, english, other = families(
        [
            "今天天气很好，我们去公园",
            "今天天气不错，我们去公园",
            "Vote NO on measure 12, it will raise your taxes",
            "Vote NO on measure 12, it will double your taxes",
            "完全无关的一句话",
        ]
    )
    assert marked(chinese.template) == "今天天气[很好]，我们去公园"
    assert [marked(v) for v in chinese.variants] == ["今天天气[不错]，我们去公园"]
    assert marked(english.variants[0]) == "Vote NO on measure 12, it will [double] your taxes"
    assert marked(other.template) == "完全无关的一句话" and other.variants == []


def test_template_is_the_text_the_variants_share():
    (family,) = families(["A B C D X", "A B C D E", "A B C D E F", "A B Y D E"])
    assert "".join(span.text for span in family.template) == "A B C D E"
    assert marked(family.template) == "A B [C] D [E]"


def test_histogram_buckets_every_post_and_pads_short_bursts():
    times = pl.Series(
        [datetime(2024, 1, 1, h, m, tzinfo=UTC) for h in range(24) for m in (0, 30)]
        + [datetime(2024, 3, 1, tzinfo=UTC)]
    )
    hist = histogram(times)
    assert sum(hist.counts) == times.len() and len(hist.counts) <= MAX_BUCKETS
    assert hist.unit == "2 days"
    burst = histogram(pl.Series([datetime(2024, 1, 1, 12, 0, tzinfo=UTC)] * 5))
    assert len(burst.counts) == MIN_BUCKETS and sum(burst.counts) == 5
    assert histogram(pl.Series([None], dtype=pl.Datetime("us", "UTC"))) is None


def test_report_is_self_contained_escaped_and_complete(result, tmp_path):
    result.save(tmp_path, "csv")
    loaded = ScanResult.load(tmp_path)
    path = write_report(loaded, tmp_path)
    html = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned" in html
    for cid in loaded.clusters["cluster_id"]:
        assert html.count(f'id="cluster-{cid}"') == 1
    assert "<mark>的刹车</mark>" in html
    assert write_report(loaded, tmp_path).read_text(encoding="utf-8") == html  # deterministic


def parts_of(frame: pl.DataFrame, folder: Path, name: str) -> TableParts:
    """``frame`` written as three Parquet parts, as a Spark scan's executors write one."""
    folder.mkdir()
    cuts = sorted([0, min(5, frame.height), frame.height // 2, frame.height])
    for i, (lo, hi) in enumerate(pairwise(cuts)):
        frame.slice(lo, hi - lo).write_parquet(folder / f"part-{i:05d}.parquet")
    return TableParts(folder, name)


def test_temporary_parts_are_deleted_with_their_table(tmp_path):
    parts = TableParts.temporary("posts", str(tmp_path))
    parts.folder.mkdir()
    pl.DataFrame({"a": [1]}).write_parquet(parts.folder / "part-00000.parquet")
    made = parts.folder.parent
    assert made.parent == tmp_path
    del parts
    gc.collect()
    assert not made.exists()


def test_tables_as_parts_give_the_same_outputs(result, tmp_path):
    # The posts and rejects as Parquet parts on disk (as a Spark scan's executors write
    # them): the same tables, report and exports as frames; saved as folders of the
    # parts, and read back as parts.
    on_disk = ("posts", "rejects")
    parted = ScanResult(
        **{name: getattr(result, name) for name in TABLES if name not in on_disk},
        **{name: parts_of(getattr(result, name), tmp_path / name, name) for name in on_disk},
        summary=result.summary,
    )
    outputs = {}
    for name, scanned in (("frame", result), ("parts", parted)):
        out = tmp_path / name
        scanned.save(out)
        scanned.write(out / "csv", "csv")
        write_report(scanned, out)
        write_exports(scanned, out)
        outputs[name] = out
    loaded = ScanResult.load(outputs["parts"])
    for name in on_disk:
        folder = outputs["parts"] / f"{name}.parquet"
        assert sorted(p.name for p in folder.iterdir()) == [
            f"part-{i:05d}.parquet" for i in range(3)
        ]
        table = getattr(loaded, name)
        assert isinstance(table, TableParts)
        assert table.collect().equals(getattr(result, name))
        assert pl.read_parquet(folder).equals(getattr(result, name))
    names = (
        "report.html",
        "enforcement.csv",
        "csv/posts.csv",
        "csv/rejects.csv",
        "flagged_graph.gexf",
    )
    for name in names:
        assert (outputs["parts"] / name).read_bytes() == (outputs["frame"] / name).read_bytes()


def test_report_of_thousands_of_clusters_stays_small(tmp_path):
    big = make_result(filler=3000)
    html = write_report(big, tmp_path).read_text(encoding="utf-8")
    assert len(html.encode()) < 12_000_000
    assert html.count('<details class="cluster') <= 200 + 10


def test_report_is_replaced_whole_or_not_at_all(result, tmp_path, monkeypatch):
    """An interrupted rewrite (``detector report``) keeps the earlier report.html and leaves
    no temporary file behind."""
    path = write_report(result, tmp_path)
    before = path.read_bytes()

    def interrupted(self, text, **kwargs):
        with open(self, "w", **kwargs) as half:
            half.write(text[: len(text) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(result, tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
