"""The budget-review report in a real browser: the HTML of ``sitesim report`` opened from
a file in headless Chromium with the network cut off loads with no console error and shows
its maps and charts. With ``SITESIM_SCREENSHOTS=DIR`` the page is saved there
(docs/img/report.png is one)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dashboard import write_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_report_opens_offline_with_its_maps_and_charts(
        runs: tuple[Path, list[str]], tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright not installed (.ci/run installs it)")
    root, ids = runs
    page_file = write_report(ids, tmp_path / "report.html", runs_dir=root)
    problems: list[str] = []
    asked: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: problems.append(str(e)))
        tab.on("request", lambda r: asked.append(r.url))
        tab.goto(page_file.as_uri())
        tab.wait_for_load_state("load")
        widths = tab.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        charts = tab.eval_on_selector_all(
            "figure svg", "els => els.map(e => e.getBoundingClientRect().width)")
        missed = tab.locator("td.missed, td.met").count()
        shots = os.environ.get("SITESIM_SCREENSHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(shots) / "report.png"), full_page=False)
        browser.close()
    assert problems == []
    assert [u for u in asked if not u.startswith(("file:", "data:"))] == []
    assert len(widths) == len(ids) and min(widths) > 0  # a map per run, decoded
    assert len(charts) >= 3 and min(charts) > 100  # the weekly curves and the channels
    assert missed > 0  # the targets, marked
