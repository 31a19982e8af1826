"""Regenerate docs/report.png, the README's picture of the report: the demo scan's
report.html in headless Chromium, opened at its most suspicious cluster.

    detector scan fixtures/demo.csv.gz --out out/demo
    python docs/screenshot.py out/demo/report.html docs/report.png
"""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

WIDTH, HEIGHT, SCALE = 1280, 1500, 0.75  # CSS pixels captured, and the scale of the PNG


def main(report: Path, png: Path) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={WIDTH},{HEIGHT}")
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=shutil.which("chromedriver"))
    )
    try:
        driver.get(report.resolve().as_uri() + "#cluster-1")
        top = driver.execute_script(
            "var r = document.getElementById('cluster-1').getBoundingClientRect();"
            "return r.top + window.scrollY - 8"
        )
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": top, "width": WIDTH, "height": HEIGHT, "scale": SCALE},
            },
        )
        png.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
