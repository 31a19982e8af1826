"""The report's pictures and drill-down data, computed from the tables: sub-communities and
their layout, link hover texts, waves, mass sign-up days, and the capped account posts
embedded for the account panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from triage_fixture import T0, make_result

from detector.review import NO_DECISIONS
from detector.triage import svg
from detector.triage.bundle import page_data
from detector.triage.evidence import collect, network_sample, sign_ups, waves
from detector.triage.settings import ReportSettings


@pytest.fixture(scope="module")
def result():
    return make_result(filler=8)


def _two_groups() -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    """Two cliques of 8 joined by one weak link."""
    a = [f"a{i}" for i in range(8)]
    b = [f"b{i}" for i in range(8)]
    rows = [(x, y, 1.0) for g in (a, b) for i, x in enumerate(g) for y in g[i + 1 :]]
    rows.append(("a0", "b0", 0.1))
    edges = pl.DataFrame(rows, schema=["source", "target", "weight"], orient="row")
    ends = pl.concat([edges["source"], edges["target"]]).alias("account_id")
    return a + b, edges, ends.value_counts(name="links")


def test_network_colours_sub_communities_groups_them_and_bundles_links_between():
    members, edges, linked = _two_groups()
    net = network_sample(linked, edges, ReportSettings(network_links_per_node=2))
    group = dict(zip(net.nodes, net.community, strict=True))
    assert len({group[m] for m in members[:8]}) == 1 and len({group[m] for m in members[8:]}) == 1
    assert group["a0"] != group["b0"]
    # One bundle of the one link between the groups; inside, each member's strongest links.
    assert [(b.links, b.weight) for b in net.bundles] == [(1, 0.1)]
    assert len(net.links) < edges.height - 1
    assert all(net.community[link.a] == net.community[link.b] for link in net.links)
    # Grouped layout: the groups' centres lie further apart than any member from its centre.
    xy = {n: net.xy[i] for i, n in enumerate(net.nodes)}
    centres = [np.mean([xy[m] for m in g], axis=0) for g in (members[:8], members[8:])]
    spread = max(np.linalg.norm(xy[m] - centres[k >= 8]) for k, m in enumerate(members))
    assert np.linalg.norm(centres[0] - centres[1]) > 2 * spread
    again = network_sample(linked, edges, ReportSettings(network_links_per_node=2))
    assert np.array_equal(again.xy, net.xy) and again.community == net.community


def test_network_picture_hover_says_what_was_shared_and_when(result):
    (campaign,) = collect(result, [1])
    net = campaign.network
    assert len(set(net.community)) > 1 and net.links
    about = net.links[0].about
    assert "shared text (" in about and "co-shared 2024-03-0" in about and "UTC" in about
    assert about.startswith("xm_fan_") and "“小米汽车" in about and "closest 1 min apart" in about
    picture = svg.network(net, 8)
    assert picture.count("<circle") == len(net.nodes)
    assert picture.count('class="link"') == len(net.links)
    assert picture.count('class="bundle"') == len(net.bundles)
    assert 'data-account="xm_fan_' in picture


def _posts(times: list[datetime]) -> pl.DataFrame:
    return pl.DataFrame(
        {"created_at": times, "account_id": [f"u{i % 7}" for i in range(len(times))]},
        schema={"created_at": pl.Datetime("us", "UTC"), "account_id": pl.String},
    )


def test_waves_are_the_runs_between_quiet_spells():
    burst = [T0 + timedelta(days=d, minutes=m) for d in (0, 3, 9) for m in range(60 + 10 * d)]
    stray = [T0 + timedelta(days=20)]  # one post alone is no wave
    found, total = waves(_posts(burst + stray))
    assert total == 3
    assert [w.start for w in found] == [T0, T0 + timedelta(days=3), T0 + timedelta(days=9)]
    assert [w.n_posts for w in found] == [60, 90, 150] and found[0].n_accounts == 7
    shown, total = waves(_posts(burst), ReportSettings(max_waves=2))
    assert total == 3 and [w.n_posts for w in shown] == [90, 150]  # the largest, in order
    steady = [T0 + timedelta(hours=h) for h in range(100)]
    assert waves(_posts(steady)) == ([], 0)
    assert waves(_posts([])) == ([], 0)


def _created(days: list[datetime]) -> pl.Series:
    return pl.Series(days, dtype=pl.Datetime("us", "UTC"))


def test_creation_chart_zooms_on_mass_sign_up_days_and_summarises_the_rest():
    busy = [datetime(2024, 11, 19, h % 24, tzinfo=UTC) for h in range(50)]
    busy += [datetime(2024, 11, 28, h % 24, tzinfo=UTC) for h in range(30)]
    spread = [datetime(2013 + i % 12, 1 + i % 12, 1 + i, tzinfo=UTC) for i in range(20)]
    s = sign_ups(_created(busy + spread), shown=24)
    assert [(d.isoformat(), n) for d, n in s.busy] == [("2024-11-19", 50), ("2024-11-28", 30)]
    assert (s.busy_days, s.on_busy, s.other, s.other_days, s.other_peak) == (2, 80, 20, 20, 1)
    assert s.first.isoformat() == "2013-01-01" and s.last.isoformat() == "2024-12-12"
    chart = svg.sign_up_days(s)
    assert chart.count("<rect") == 2 and ">11-19<" in chart and ">2024<" in chart
    assert "8 days between" in chart  # the gap between the busy days is marked
    only_two = sign_ups(_created(busy + spread), shown=1)
    assert [n for _, n in only_two.busy] == [50] and only_two.busy_days == 2
    assert sign_ups(_created(spread), shown=24) is None  # no busy day: no zoom
    assert sign_ups(_created([]), shown=24) is None


def test_timeline_marks_each_wave(result):
    (campaign,) = collect(result, [1])
    assert campaign.n_waves == 3 and len(campaign.waves) == 3
    chart = svg.time_bars(campaign.timeline, "t", waves=campaign.waves)
    for number in (1, 2, 3):
        assert f"<title>wave {number}: 2024-03-0{number} 10:0" in chart


def test_account_posts_are_embedded_capped_for_clusters_without_a_bundle(result):
    ranked = result.clusters.sort("score", descending=True)["cluster_id"].to_list()
    settings = ReportSettings(bundle_rows=0, account_posts=2)
    data = page_data(result, ranked, NO_DECISIONS, settings)
    flagged = result.clusters.filter(pl.col("flagged"))["cluster_id"].to_list()
    assert data["listed"] == sorted(flagged)
    assert all(c["bundle"] is None for c in data["clusters"].values())
    accounts = data["accounts"]["id"]
    per_account = pl.Series([accounts[i] for i in data["drill"]["account"]]).value_counts()
    members = result.flagged_accounts.filter(pl.col("n_posts") > 0)["account_id"]
    assert sorted(per_account[per_account.columns[0]]) == sorted(members)
    assert per_account["count"].max() == 2
    assert data["limits"]["posts"] == 2
    none = page_data(result, ranked, NO_DECISIONS, ReportSettings(bundle_rows=0, drill_rows=0))
    assert none["listed"] == [] and none["drill"]["id"] == []
