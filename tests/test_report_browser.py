"""report.html in a real headless Chromium: no script errors, every section and every
cluster present, hostile posts shown as text, paging and #cluster-N links work."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import polars as pl
import pytest
from click.testing import CliRunner
from triage_fixture import HOSTILE, make_result

from detector.cli import main
from detector.result import ScanResult
from detector.schema import FEATURE_LEGEND, FEATURES, TABLES
from detector.triage import write_report
from detector.triage.settings import DEFAULT, ReportSettings

SECTIONS = ("overview", "flagged", "notable", "all")
# Installed before any page script runs: records uncaught errors and console.error calls.
CATCH_ERRORS = """
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
var consoleError = console.error;
console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, ' '));
  consoleError.apply(console, arguments);
};
"""


def _browser_paths() -> tuple[str, str] | None:
    browser = next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))),
        None,
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    paths = _browser_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        paths = None
    if paths is None:
        if os.environ.get("CI"):
            pytest.fail("chromium, chromedriver and selenium are required under CI")
        pytest.skip("no chromium/chromedriver/selenium found (install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_ERRORS})
    yield driver
    driver.quit()


def _open(driver, path, fragment: str = "") -> None:
    driver.get_log("browser")  # drop entries of earlier pages
    driver.get(path.as_uri() + fragment)
    _wait(
        lambda: driver.execute_script(
            "return document.readyState === 'complete' && !!document.getElementById('legend')"
        )
    )


def _assert_no_errors(driver) -> None:
    errors = driver.execute_script("return window.__errors")
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    assert severe == [], severe


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # Enough flagged filler clusters to pass the cap on fully rendered ones.
    result = make_result(filler=2 * DEFAULT.expanded + 60)
    out = tmp_path_factory.mktemp("scan")
    result.save(out)
    return ScanResult.load(out), write_report(ScanResult.load(out), out)


def test_report_opens_without_errors_and_shows_every_cluster(browser, report):
    result, path = report
    _open(browser, path)
    _assert_no_errors(browser)
    for section in SECTIONS:
        assert browser.execute_script(f"return !!document.getElementById('{section}')"), section
    ids = result.clusters["cluster_id"].to_list()
    missing = browser.execute_script(
        "return arguments[0].filter(function (id) {"
        " return !document.getElementById('cluster-' + id); });",
        ids,
    )
    assert missing == []
    assert result.clusters.filter(pl.col("flagged")).height > DEFAULT.expanded


def test_report_shows_evidence_and_escapes_posts(browser, report):
    _, path = report
    _open(browser, path)
    campaign = browser.execute_script("return document.getElementById('cluster-1').outerHTML")
    for needle in (
        "batch creation",
        "<svg",
        "<circle",
        "<mark>",
        "Posts per",
        "Accounts created on mass sign-up days",
        "2 days hold 100% (60) of the 60 accounts",
    ):
        assert needle in campaign, needle
    assert browser.execute_script("return document.getElementById('cluster-1').open")
    ring = browser.execute_script("return document.getElementById('cluster-2').textContent")
    assert HOSTILE in ring  # shown as text, not run
    assert browser.execute_script("return window.__pwned") is None
    notable = browser.execute_script("return document.getElementById('notable').textContent")
    assert "Not flagged: score 0.21" in notable
    assert "its accounts form no cluster" in notable
    _assert_no_errors(browser)


def test_pager_and_links_reach_collapsed_clusters(browser, report):
    _, path = report
    _open(browser, path)
    last = browser.execute_script(
        "var rows = document.querySelectorAll('#all-table tbody tr[id]');"
        "return rows[rows.length - 1].id"
    )
    assert not browser.find_element("id", last).is_displayed()  # on the last page
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('.page-label'), e => e.textContent)"
    )
    assert len(labels) == 2 and labels[0] == labels[1] and labels[0].startswith("page 1 of ")
    browser.find_element("css selector", '[data-page="1"]').click()
    assert browser.find_element("class name", "page-label").text.startswith("page 2 of ")
    _open(browser, path, f"#{last}")
    assert browser.find_element("id", last).is_displayed()
    _assert_no_errors(browser)


def test_empty_scan_renders(browser, tmp_path):
    full = make_result()
    empty = ScanResult(**{name: getattr(full, name).clear() for name in TABLES}, summary={})
    path = write_report(empty, tmp_path)
    _open(browser, path)
    _assert_no_errors(browser)
    text = browser.execute_script("return document.body.textContent")
    assert "No cluster reached the flag threshold" in text


def _wait(condition: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _search(driver, query: str, decision: str = "") -> None:
    """Type ``query`` into the search box, pick ``decision`` in the filter and wait until
    the debounced search has answered."""
    driver.execute_script(
        "var f = document.getElementById('review-filter'); f.value = arguments[0];"
        "f.dispatchEvent(new Event('change'));"
        "document.getElementById('search-results').textContent = '';",
        decision,
    )
    box = driver.find_element("id", "search-box")
    box.clear()
    if query:
        box.send_keys(query)
    else:
        driver.execute_script(
            "document.getElementById('review-filter').dispatchEvent(new Event('change'))"
        )
    _wait(
        lambda: driver.execute_script(
            "return document.getElementById('search-results').children.length"
        )
    )
    time.sleep(0.3)  # keystrokes typed after the first answer


def test_search_finds_accounts_and_texts_and_opens_an_accounts_panel(browser, report):
    _, path = report
    _open(browser, path)
    panel = browser.find_element("id", "account-panel")
    assert not panel.is_displayed() and panel.text == ""  # nothing built until asked for
    _search(browser, "xm_fan_01")
    results = browser.find_element("id", "search-results")
    assert "10 accounts" in results.text
    results.find_element("css selector", 'a[data-account="xm_fan_010"]').click()
    assert panel.is_displayed()
    assert panel.find_element("tag name", "h2").text == "xm_fan_010"
    rows = panel.find_elements("css selector", "tbody tr")
    assert rows and "小米汽车" in panel.text
    _search(browser, "刹车系统")
    assert "#1" in browser.find_element("id", "search-results").text
    _search(browser, "window.__pwned")  # hostile text found, shown as text
    assert browser.execute_script("return window.__pwned") is None
    _assert_no_errors(browser)


def test_evidence_links_download_the_clusters_posts_and_edges(browser, report, tmp_path):
    result, path = report
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    _open(browser, path)
    for kind in ("posts", "edges"):
        browser.find_element(
            "css selector", f'#cluster-1 a[data-download="{kind}"][data-cluster="1"]'
        ).click()
    files = [tmp_path / "cluster-1-posts.csv", tmp_path / "cluster-1-edges.csv"]
    _wait(lambda: all(f.is_file() for f in files))
    posts = pl.read_csv(files[0], infer_schema=False)
    expected = result.posts.filter(pl.col("cluster_id") == 1)
    assert posts.columns == ["post_id", "account_id", "created_at", "group_id", "group_text"]
    assert sorted(posts["post_id"]) == sorted(expected["post_id"])
    assert posts["group_text"].str.contains("小米汽车").any()
    edges = pl.read_csv(files[1])
    assert edges.height == result.edges.filter(pl.col("cluster_id") == 1).height
    assert edges.columns[:3] == ["source", "target", "trace"]
    _assert_no_errors(browser)


def test_review_filter_hides_undecided_clusters(browser, tmp_path):
    result = make_result(filler=20)
    result.save(tmp_path)
    assert (
        CliRunner().invoke(main, ["review", str(tmp_path), "--cluster", "2", "--confirm"]).exit_code
        == 0
    )
    assert CliRunner().invoke(main, ["report", str(tmp_path)]).exit_code == 0
    _open(browser, tmp_path / "report.html")
    _search(browser, "", "confirm")
    visible = browser.execute_script(
        "return Array.from(document.querySelectorAll('details.cluster'))"
        ".filter(d => !d.hidden).map(d => d.id)"
    )
    assert visible == ["cluster-2"]
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#all-table tbody tr'))"
        ".filter(r => !r.hidden).length"
    )
    assert rows == 1
    assert "ring<b>0</b>" in browser.find_element("id", "search-results").text
    _assert_no_errors(browser)


def test_ten_thousand_flagged_accounts_load_fast(browser, tmp_path):
    result = make_result(filler=4000)  # 2,000 flagged filler clusters of 5: 10,000 accounts
    assert result.flagged_accounts.height >= 10_000
    path = write_report(result, tmp_path)
    _open(browser, path)
    took = browser.execute_script(
        "var t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd"
    )
    assert took < 5000, took
    assert browser.execute_script("return document.getElementsByTagName('*').length") < 150_000
    _search(browser, "filler_3999")
    assert "filler_3999_0" in browser.find_element("id", "search-results").text
    _assert_no_errors(browser)


def test_legend_explains_every_feature_and_the_network_colours(browser, report):
    _, path = report
    _open(browser, path)
    terms = browser.execute_script(
        "return Array.from(document.querySelectorAll('#legend dt'), e => e.textContent)"
    )
    assert terms == list(FEATURES)
    meanings = browser.execute_script(
        "return Array.from(document.querySelectorAll('#legend dd'), e => e.textContent)"
    )
    assert meanings == [FEATURE_LEGEND[name] for name in FEATURES] and all(meanings)
    keys = browser.find_elements("css selector", "#cluster-1 .keys .key")
    dots = browser.execute_script(
        "return new Set(Array.from(document.querySelectorAll('#cluster-1 svg.net circle'),"
        " c => c.getAttribute('fill'))).size"
    )
    assert len(keys) == dots > 1  # one key per sub-community colour
    assert keys[0].text.startswith("group 1: ")
    hover = browser.execute_script(
        "return document.querySelector('#cluster-1 svg.net line.link title').textContent"
    )
    assert "shared text (" in hover and "co-shared 2024-03-0" in hover
    _assert_no_errors(browser)


def test_member_list_and_network_dots_open_the_accounts_panel(browser, report):
    _, path = report
    _open(browser, path)
    members = browser.find_element("css selector", "#cluster-1 details.members")
    assert members.find_elements("tag name", "li") == []  # filled when opened
    members.find_element("tag name", "summary").click()
    _wait(lambda: members.find_elements("tag name", "li"))
    items = members.find_elements("tag name", "li")
    assert len(items) == 60
    items[0].find_element("css selector", "a[data-account]").click()
    panel = browser.find_element("id", "account-panel")
    assert panel.find_element("tag name", "h2").text == "xm_fan_000"
    assert "Cluster #1 · 8 posts in all · created 2024-02-10" in panel.text
    assert panel.find_elements("css selector", "svg.account-timeline rect")
    assert "#1: 8 of its posts, in 5 near-duplicate groups" in panel.text
    assert len(panel.find_elements("css selector", "tbody tr")) == 8
    assert "Its first" not in panel.text  # all its posts are shown
    browser.find_element("css selector", "#account-panel .close").click()
    assert not panel.is_displayed()
    dot = browser.find_element("css selector", "#cluster-1 svg.net circle")
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", dot
    )
    assert panel.is_displayed()
    assert panel.find_element("tag name", "h2").text == dot.get_attribute("data-account")
    _assert_no_errors(browser)


def test_accounts_panel_caps_the_posts_it_shows_and_says_so(browser, tmp_path):
    result = make_result(filler=4)
    path = write_report(result, tmp_path, settings=ReportSettings(bundle_rows=0, account_posts=4))
    _open(browser, path)
    assert "cluster's data is not in the page" not in browser.find_element("id", "cluster-1").text
    browser.execute_script("document.querySelector('#cluster-1 a[data-account]').click()")
    panel = browser.find_element("id", "account-panel")
    assert len(panel.find_elements("css selector", "tbody tr")) == 4
    assert "Its first 4 of 8 posts are in this page (at most 4 per account" in panel.text
    none = write_report(result, tmp_path, settings=ReportSettings(bundle_rows=0, drill_rows=0))
    _open(browser, none)
    assert "this cluster's data is not in the page" in browser.find_element("id", "cluster-1").text
    browser.execute_script("document.querySelector('#cluster-1 a[data-account]').click()")
    assert "not in the data of this page" in browser.find_element("id", "account-panel").text
    _assert_no_errors(browser)


def test_empty_states_say_what_is_missing(browser, report, tmp_path):
    _, path = report
    _open(browser, path)
    ring = browser.find_element("id", "cluster-2")
    browser.execute_script("arguments[0].open = true", ring)
    assert "Creation dates are not in the input." in ring.text
    burst = browser.find_element("id", "cluster-3")
    browser.execute_script("arguments[0].open = true", burst)
    assert "No day of mass sign-ups: creation dates are spread out." in burst.text
    full = make_result()
    ring = pl.col("cluster_id") == 2
    lonely = ScanResult(  # the ring alone, without its links
        **{name: getattr(full, name).filter(ring) for name in ("accounts", "clusters", "posts")},
        groups=full.groups.filter(ring),
        edges=full.edges.clear(),
        rejects=full.rejects,
        summary=full.summary,
    )
    _open(browser, write_report(lonely, tmp_path))
    card = browser.find_element("id", "cluster-2")
    assert "no links in this cluster" in card.text
    assert "No distinct waves" in card.text
    _assert_no_errors(browser)


def _glyph_png(driver, text: str) -> bytes:
    """A screenshot of ``text`` drawn in the report's font at 40 px, black on white."""
    driver.execute_script(
        "var s = document.getElementById('glyph-probe') || document.createElement('span');"
        "s.id = 'glyph-probe'; s.textContent = arguments[0];"
        "s.style.cssText = 'position:fixed;top:0;left:0;z-index:99;background:#fff;"
        "color:#000;font-size:40px;line-height:1;padding:4px';"
        "document.body.appendChild(s);",
        text,
    )
    return driver.find_element("id", "glyph-probe").screenshot_as_png


def test_page_renders_chinese_glyphs_not_tofu(browser, report):
    """Each of four Chinese characters must draw its own shape, unlike a blank: with no CJK
    font they are all the same missing-glyph box (tofu), so their screenshots, same-sized
    PNGs from one encoder, would be byte for byte equal."""
    _, path = report
    _open(browser, path)
    assert "小米汽车" in browser.find_element("id", "cluster-1").text
    shots = [_glyph_png(browser, ch) for ch in "小米汽车"]
    blank = _glyph_png(browser, "\u3000")  # ideographic space: the same box, nothing drawn
    tofu = _glyph_png(browser, "\U000f0000")  # a private-use character no font draws
    assert len(set(shots)) == 4, "Chinese characters drawn alike: tofu"
    assert blank not in shots and tofu not in shots
    _assert_no_errors(browser)
