"""Benchmark: the dashboard with 20 runs in the store, in headless Chromium.

Targets (issue 7): the first page under 2 s, every compare interaction under 500 ms.
Baselines measured in the same run: a minimal Dash page (one dropdown, one echo callback)
for the first page, and that page's echo round trip for interactions.

The store: one sample-city run (150 communities, 52 weeks, 8 replications: the demo's
file sizes) copied under 20 run ids.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard.testing import close_dropdown, dropdown_option
from scenarios.run import run_scenario
from scenarios.schema import Scenario

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _serve(server_app: object) -> tuple[str, Callable[[], None]]:
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = make_server("127.0.0.1", port, server_app, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}", server.shutdown


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench-runs")
    one = run_scenario(Scenario.model_validate({
        "name": "bench", "seed": 1, "outlets": {"max_new": {"smart_atm": 4}},
        "simulation": {"replications": 8, "max_agents": 20_000}}), runs_dir=root)
    for i in range(20):
        rid = f"scenario{i:02d}-{i:08x}"
        shutil.copytree(one.path, root / rid)
        m = json.loads((root / rid / "manifest.json").read_text())
        m["run_id"], m["name"] = rid, f"scenario{i:02d}"
        m["scenario"]["budget"]["total"] = 1_000_000 + 50_000 * i
        (root / rid / "manifest.json").write_text(json.dumps(m))
    shutil.rmtree(one.path)
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _timed(action: Callable[[], None], until: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    until()
    return time.perf_counter() - start


def _minimal_app() -> object:
    from dash import Dash, Input, Output, dcc, html

    app = Dash(__name__)
    app.layout = html.Div([dcc.Dropdown(id="pick", options=["a", "b"]),
                           html.Div(id="echo")])

    @app.callback(Output("echo", "children"), Input("pick", "value"))
    def _echo(value: str | None) -> str:
        return f"picked {value}"

    return app.server


def _option(page: object, dropdown: str, text: str, *, exact: bool = False
            ) -> Callable[[], None]:
    """Open a dropdown and search (not timed); the click on the option (timed)."""
    return dropdown_option(page, dropdown, text, exact=exact).click  # type: ignore[arg-type]


def _compare_round(page: object, ids: list[str]) -> dict[str, float]:
    """Pick five runs one by one, change the baseline, change the curve: the time from the
    click until the page shows the change (the KPI cards, and from the second run on the
    run's line in the curves' legend)."""
    times: dict[str, float] = {}

    def shown(run: str, k: int) -> None:
        page.wait_for_selector(f".kpi-card >> text={run}")  # type: ignore[attr-defined]
        if k:  # a single line has no legend
            page.wait_for_selector(f"#curves .legendtext >> text={run}")  # type: ignore[attr-defined]

    for k in range(5):
        click = _option(page, "runs", ids[k])
        times["pick the first run" if k == 0 else f"add run {k + 1}"] = _timed(
            click, lambda k=k: shown(ids[k], k))
        close_dropdown(page, "runs")  # type: ignore[arg-type]
    click = _option(page, "baseline", ids[3])
    times["change the baseline"] = _timed(
        click, lambda: page.wait_for_selector(f"text=Compared with {ids[3]}"))  # type: ignore[attr-defined]
    close_dropdown(page, "baseline")  # type: ignore[arg-type]
    click = _option(page, "curve", "customers", exact=True)
    times["change the curve"] = _timed(
        click, lambda: page.wait_for_selector("text=customers by week"))  # type: ignore[attr-defined]
    return times


def test_dashboard_first_page_and_compare(store: Path, browser: object) -> None:
    from dashboard.app import create_app

    base_url, stop_base = _serve(_minimal_app())
    url, stop = _serve(create_app(store).server)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        # baselines: a minimal Dash page, and its echo callback
        minimal = min(_timed(lambda: page.goto(base_url),
                             lambda: page.wait_for_selector("text=picked None"))
                      for _ in range(3))
        echoes = []
        for value in ("b", "a", "b"):
            click = _option(page, "pick", value)
            echoes.append(_timed(click, lambda v=value: page.wait_for_selector(f"text=picked {v}")))
            close_dropdown(page, "pick")
        echo = statistics.median(echoes)
        # our first page: until the initial callbacks have filled the compare page
        first = min(_timed(lambda: page.goto(url),
                           lambda: page.wait_for_selector("text=Pick one run or more."))
                    for _ in range(3))
        ids = [f"scenario{i:02d}-{i:08x}" for i in range(20)]
        rounds: dict[str, list[float]] = {}
        for _ in range(3):  # the whole sequence three times, from a fresh page; medians
            page.goto(url)
            page.wait_for_selector("text=Pick one run or more.")
            for name, took in _compare_round(page, ids).items():
                rounds.setdefault(name, []).append(took)
        times = {name: statistics.median(v) for name, v in rounds.items()}
    finally:
        stop()
        stop_base()
    worst = max(times.values())
    print(f"\nBENCH dashboard, 20 runs in the store: first page {first:.2f} s (a minimal Dash "
          f"page {minimal:.2f} s, {first / minimal:.1f}x); compare interactions, median of 3 "
          "(slowest of 3): "
          + ", ".join(f"{k} {v * 1000:.0f} ms ({max(rounds[k]) * 1000:.0f})"
                      for k, v in times.items())
          + f"; worst {worst * 1000:.0f} ms ({worst / echo:.1f}x a minimal echo callback, "
          f"{echo * 1000:.0f} ms)")
    assert first < 2.0, f"first page {first:.2f} s (target under 2 s)"
    assert worst < 0.5, f"slowest compare interaction {worst * 1000:.0f} ms (target 500 ms)"
