"""The dashboard in a real browser: Playwright driving headless Chromium.

Opens the app, picks two runs and sees the KPI cards, opens the map, launches a what-if
run to completion, and asks for a run id that is a path. With ``SITESIM_SCREENSHOTS=DIR``
each page is saved there (docs/img holds the ones in the docs).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import data
from dashboard.testing import pick

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(runs: tuple[Path, list[str]]) -> Iterator[tuple[str, list[str]]]:
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    root, ids = runs
    port = _free_port()
    server = make_server("127.0.0.1", port, create_app(root).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def page(served: tuple[str, list[str]]) -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright not installed (.ci/run installs it)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield tab
        browser.close()


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("SITESIM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"dashboard-{name}.png"),  # type: ignore[attr-defined]
                        full_page=True)


def test_compare_map_whatif_in_a_browser(page: object, served: tuple[str, list[str]],
                                         runs: tuple[Path, list[str]]) -> None:
    url, ids = served
    p = page
    p.goto(url)  # type: ignore[attr-defined]
    p.wait_for_selector("text=sitesim: scenarios side by side")  # type: ignore[attr-defined]
    pick(p, "runs", ids[0])
    pick(p, "runs", ids[1])
    p.wait_for_selector(f".kpi-card >> text={ids[1]}")  # type: ignore[attr-defined]
    cards = p.locator(".kpi-card")  # type: ignore[attr-defined]
    assert cards.count() >= 5
    assert "beyond noise" in cards.nth(3).inner_text()  # spend differs in every replication
    p.wait_for_selector("#curves .js-plotly-plot")  # type: ignore[attr-defined]
    _shot(p, "compare")

    p.locator("#tabs").get_by_text("Map", exact=True).click()  # type: ignore[attr-defined]
    pick(p, "map-run", ids[1])
    p.wait_for_selector("#map .legendtext >> text=streets", timeout=60_000)  # type: ignore[attr-defined]
    legend = p.locator("#map .legendtext").all_text_contents()  # type: ignore[attr-defined]
    assert any(t.startswith("own ") for t in legend)
    assert any(t.startswith("within 15 min") for t in legend)
    _shot(p, "map")
    pick(p, "map-less", ids[0])  # the difference of the two runs, community by community
    p.wait_for_selector(f"#map .gtitle >> text={ids[1]} less {ids[0]}",  # type: ignore[attr-defined]
                        timeout=60_000)
    assert "A difference map colours by a run KPI" in p.locator(  # type: ignore[attr-defined]
        "#map-message").inner_text()

    p.locator("#tabs").get_by_text("What-if", exact=True).click()  # type: ignore[attr-defined]
    pick(p, "whatif-base", ids[0])
    name = p.locator("#whatif-name")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "document.querySelector('#whatif-name').value.endsWith('-whatif')")
    name.fill("browser-try")
    budget = p.locator("#wf-budget-total")  # type: ignore[attr-defined]
    budget.fill("35000")
    budget.press("Tab")
    pick(p, "wf-c-channel", "sms")  # a campaign added to the run's own
    p.locator("#wf-c-segments").fill("56+")  # type: ignore[attr-defined]
    p.locator("#wf-c-spend").fill("2000")  # type: ignore[attr-defined]
    p.locator("#wf-c-spend").press("Tab")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Run this scenario").click()  # type: ignore[attr-defined]
    p.wait_for_selector("#whatif-status >> text=It is in Compare now",  # type: ignore[attr-defined]
                        timeout=300_000)
    _shot(p, "whatif")
    p.locator("#whatif-compare").click()  # type: ignore[attr-defined]
    p.wait_for_selector(".kpi-card >> text=browser-try", timeout=60_000)  # type: ignore[attr-defined]
    assert "Compared with " + ids[0] in p.locator(  # type: ignore[attr-defined]
        "#compare-message").inner_text()

    p.locator("#tabs").get_by_text("Runs", exact=True).click()  # type: ignore[attr-defined]
    p.wait_for_selector("#runs-table >> text=browser-try", timeout=30_000)  # type: ignore[attr-defined]
    listed = data.runs_table(runs[0])
    [run_id] = listed.loc[listed["name"] == "browser-try", "run_id"]
    manifest = data.manifest(run_id, runs[0])
    assert manifest["scenario"]["budget"]["total"] == 35_000
    assert manifest["scenario"]["campaigns"][-1]["channel"] == "sms"
    assert manifest["scenario"]["campaigns"][-1]["segments"] == ["56+"]
    _shot(p, "runs")
    fits = p.evaluate(  # type: ignore[attr-defined]
        "() => { const g = document.querySelector('#runs-table .ag-center-cols-viewport')"
        " || document.querySelector('#runs-table .ag-body-viewport');"
        " return [g.scrollWidth, g.clientWidth]; }")
    assert fits[0] <= fits[1] + 1, fits  # no sideways scroll: the table fits its page

    p.goto(f"{url}/runs/..%2F..%2Fetc%2Fpasswd")  # type: ignore[attr-defined]
    shown = p.wait_for_selector(".not-found").inner_text()  # type: ignore[attr-defined]
    assert shown.startswith("404:") and "is not a run id" in shown
    assert "root:x:0:0" not in p.content()  # type: ignore[attr-defined]
