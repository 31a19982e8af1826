"""report.html in a real headless Chromium: no script errors, every section and every
cluster present, hostile posts shown as text, paging and #cluster-N links work."""

from __future__ import annotations

import os
import shutil

import polars as pl
import pytest
from triage_fixture import HOSTILE, make_result

from detector.result import ScanResult
from detector.schema import TABLES
from detector.triage import write_report
from detector.triage.html import EXPANDED

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


def _assert_no_errors(driver) -> None:
    errors = driver.execute_script("return window.__errors")
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    assert severe == [], severe


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # Enough flagged filler clusters to pass the cap on fully rendered ones.
    result = make_result(filler=2 * EXPANDED + 60)
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
    assert result.clusters.filter(pl.col("flagged")).height > EXPANDED


def test_report_shows_evidence_and_escapes_posts(browser, report):
    _, path = report
    _open(browser, path)
    campaign = browser.execute_script("return document.getElementById('cluster-1').outerHTML")
    for needle in ("batch creation", "<svg", "<circle", "<mark>", "Posts per", "created per"):
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
