"""Screenshots of the dashboard for docs/img, from the demo's runs (run `make demo` first).

    python scripts/screenshots.py [--runs runs] [--out docs/img]

Serves the dashboard on a free loopback port and drives headless Chromium (Playwright)
through each page.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.testing import pick
from scenarios.store import list_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default="runs")
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args()
    runs = list_runs(args.runs)
    latest = runs.drop_duplicates("name", keep="last").set_index("name")["run_id"]
    wanted = ["baseline", "digital-push-18-35", "events-56-plus-old-town", "outlet-expansion"]
    missing = [n for n in wanted if n not in latest]
    if missing:
        raise SystemExit(f"{args.runs} lacks the demo's runs {missing}: run `make demo` first")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, create_app(args.runs).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/")
        for name in wanted:
            pick(page, "runs", latest[name])
        page.wait_for_selector(f".kpi-card >> text={latest['outlet-expansion']}")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "dashboard-compare.png"), full_page=True)
        page.locator("#tabs").get_by_text("Map", exact=True).click()
        pick(page, "map-run", latest["outlet-expansion"])
        pick(page, "map-colour", "uplift in new customers")
        page.wait_for_selector("#map .legendtext >> text=chosen sites", timeout=120_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "dashboard-map.png"), full_page=True)
        pick(page, "map-less", latest["baseline"])
        page.wait_for_selector("#map .gtitle >> text=less", timeout=120_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "dashboard-difference.png"), full_page=True)
        pick(page, "map-colour", "score")
        page.locator("#tabs").get_by_text("What-if", exact=True).click()
        pick(page, "whatif-base", latest["baseline"])
        page.wait_for_function(
            "document.querySelector('#whatif-name').value.endsWith('-whatif')")
        page.locator("#wf-budget-total").fill("2500000")
        pick(page, "wf-c-channel", "social_media")
        page.locator("#wf-c-segments").fill("18-35")
        page.locator("#wf-c-first").fill("1")
        page.locator("#wf-c-last").fill("12")
        page.locator("#wf-c-spend").fill("50000")
        page.screenshot(path=str(out / "dashboard-whatif.png"), full_page=True)
        page.locator("#tabs").get_by_text("Runs", exact=True).click()
        page.wait_for_selector("#runs-table >> text=baseline")
        page.wait_for_timeout(500)
        page.screenshot(path=str(out / "dashboard-runs.png"), full_page=True)
        browser.close()
    server.shutdown()
    print(f"wrote {', '.join(p.name for p in sorted(out.glob('dashboard-*.png')))} to {out}")


if __name__ == "__main__":
    main()
