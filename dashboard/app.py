"""The sitesim dashboard (Dash): runs of the results store side by side.

Pages (tabs): **Compare** (pick runs; KPI cards with deltas and 95% intervals against a
baseline, curves over weeks with interval bands, budget by channel, staff by week, where
the scenarios differ) and **Runs** (every complete run with its status and timings; a
run's manifest at ``/runs/<run id>``).

The views are plain functions of run ids (``compare_view``, ``run_page``) so they are
tested without a browser; :func:`create_app` wires them to the page.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import data, maps
from dashboard.compare import (
    Figure,
    compare_cards,
    compare_differences,
    compare_figures,
    compare_view,
    compare_warnings,
    empty_figure,
    kpi_cards,
)
from dashboard.layout import page_layout
from dashboard.manifest_view import manifest_tables
from dashboard.whatif import CAMPAIGN_FIELDS, FIELDS, Jobs, build_scenario, form_values
from geo.errors import InputError
from scenarios.store import RUN_ID

__all__ = ["compare_cards", "compare_differences", "compare_figures", "compare_view",
           "compare_warnings", "create_app", "kpi_cards", "map_view", "run_page"]


def map_view(run_id: str | None, colour_by: str, runs_dir: Path,
             less: str | None = None) -> tuple[str, go.Figure]:
    """The map page for one run, or for the run less another, community by community
    (``less``): (message, figure)."""
    if not run_id:
        return "Pick a run.", go.Figure(empty_figure("Pick a run above to see its map.", 600))
    try:
        if not less:
            return "", maps.map_figure(run_id, runs_dir, colour_by)
        if less == run_id:
            return ("Pick another run to take away: a run less itself is no difference.",
                    go.Figure(empty_figure("Pick another run under 'less'.", 600)))
        areas = {r: (data.manifest(r, runs_dir).get("scenario") or {}).get("area")
                 for r in (run_id, less)}
        if areas[run_id] != areas[less]:
            return (f"{run_id} and {less} are on different areas ({areas[run_id]}, "
                    f"{areas[less]}): their communities cannot be told apart one by one.",
                    go.Figure(empty_figure("Pick two runs on the same area.", 600)))
        said = ""
        if colour_by not in maps.DIFFERENCE_BY:
            colour_by = next(iter(maps.DIFFERENCE_BY))
            said = (f"A difference map colours by a run KPI ({', '.join(maps.DIFFERENCE_BY)})"
                    f": showing {colour_by}.")
        return said, maps.difference_figure(less, run_id, runs_dir, colour_by)
    except InputError as exc:
        return f"404: {exc}", go.Figure(empty_figure(f"No map: {exc}", 600))


def run_page(pathname: str | None, runs_dir: Path) -> Any:
    """``/runs/<run id>``: the run's manifest as tables; anything that is not a complete run's id
    gets a not-found message, never a file."""
    run = (pathname or "").removeprefix("/runs/").strip("/")
    if not run:
        return html.Div()
    if not RUN_ID.match(run):
        return html.Div(f"404: {run!r} is not a run id (<name>-<8 hex digits>).",
                        className="not-found")
    try:
        m = data.manifest(run, runs_dir)
    except InputError:
        return html.Div(f"404: no complete run {run!r} in the results store.",
                        className="not-found")
    return html.Div([html.H3(run), *manifest_tables(m)], id="run-manifest")


def launch_whatif(jobs: Jobs, base: str | None, name: str | None, values: dict[str, Any],
                  runs_dir: Path) -> tuple[list[Any], str | None, bool]:
    """Check the form against the schema and queue the run: (problems as list items, job
    id, whether polling stays off)."""
    if not base:
        return [html.Li("pick the run to start from")], None, True
    try:
        scenario = data.manifest(base, runs_dir).get("scenario") or {}
    except InputError as exc:
        return [html.Li(f"404: {exc}")], None, True
    built, problems = build_scenario(scenario, values, name or "")
    if built is None:
        return [html.Li(p) for p in problems], None, True
    return [], jobs.submit(built, base), False


def compare_link(run_ids: list[str]) -> str:
    """The page's address of a comparison of ``run_ids``, the first the baseline."""
    return "/compare?" + urlencode([("runs", r) for r in run_ids])


def whatif_status(jobs: Jobs, job_id: str | None) -> tuple[str, bool, Any]:
    """The job's progress line, whether polling can stop, and, once it is done, a link to
    its comparison with the run it started from."""
    job = jobs.status(job_id)
    if job is None:
        return "", True, None
    seconds = time.time() - job.started
    if job.state in ("queued", "running"):
        return f"{job.name}: {job.state} ({seconds:.0f} s): {job.message}", False, None
    if job.state == "failed":
        return f"{job.name}: failed: {job.message}", True, None
    link = (dcc.Link(f"Compare {job.run_id} with {job.base}, the run it started from",
                     href=compare_link([job.base, job.run_id]), id="whatif-compare")
            if job.base and job.run_id else None)
    return (f"{job.name}: {job.message}. It is in Compare now (run {job.run_id}).", True,
            link)


def route(pathname: str | None, search: str | None, runs_dir: Path) -> tuple[Any, str, Any]:
    """What an address shows: (the run page, the tab, the runs picked to compare or
    no_update). ``/runs/<run id>`` is a run's manifest; ``/compare?runs=A&runs=B`` picks
    A and B (A the baseline), keeping only ids of complete runs."""
    if pathname and pathname.startswith("/runs/"):
        return run_page(pathname, runs_dir), "runs", no_update
    if pathname == "/compare" and search:
        wanted = [r for r in parse_qs(search.removeprefix("?")).get("runs", [])
                  if RUN_ID.match(r) and (runs_dir / r / "manifest.json").is_file()]
        return html.Div(), "compare", list(dict.fromkeys(wanted)) or no_update
    return html.Div(), "compare", no_update


def create_app(runs_dir: str | Path = "runs") -> Dash:
    """The dashboard over the run folders of ``runs_dir``."""
    root = Path(runs_dir)
    app = Dash(__name__, title="sitesim", suppress_callback_exceptions=True)
    app.layout = page_layout()

    jobs = Jobs(root)
    app.jobs = jobs  # type: ignore[attr-defined]  # for scripts and tests
    warming = threading.Lock()

    def _warm() -> None:
        if warming.acquire(blocking=False):  # one warm-up at a time
            try:
                data.warm(root)
            finally:
                warming.release()

    threading.Thread(target=_warm, daemon=True, name="sitesim-warm").start()

    @app.callback(Output("runs", "options"), Output("runs-table", "rowData"),
                  Output("runs-table", "columnDefs"), Output("map-run", "options"),
                  Output("whatif-base", "options"), Output("map-less", "options"),
                  Output("runs-seen", "data"),
                  Input("refresh", "n_intervals"), Input("whatif-status", "children"),
                  State("runs-seen", "data"))
    def _refresh(_: int | None, __: object, seen: str | None) -> tuple[Any, ...]:
        table = data.runs_table(root)
        listed = hashlib.sha256(table.to_json().encode()).hexdigest()  # what the page has
        if listed == seen:  # nothing new: the page is left alone (no redraw mid-compare)
            raise PreventUpdate
        threading.Thread(target=_warm, daemon=True, name="sitesim-warm").start()
        options = [{"label": f"{r.name} ({r.run_id})", "value": r.run_id}
                   for r in table.itertuples(index=False)]
        shown = table.assign(run_id=[f"[{r}](/runs/{r})" for r in table["run_id"]])
        columns = [{"field": c, "cellRenderer": "markdown"} if c == "run_id"
                   else {"field": c} for c in table.columns]
        return (options, shown.to_dict("records"), columns, options, options, options,
                listed)

    @app.callback(Output("map-message", "children"), Output("map", "figure"),
                  Input("map-run", "value"), Input("map-colour", "value"),
                  Input("map-less", "value"))
    def _map(run: str | None, colour: str, less: str | None) -> tuple[str, go.Figure]:
        return map_view(run, colour, root, less)

    @app.callback(Output("whatif-name", "value"),
                  *[Output(f"wf-{fid}", "value") for fid in FIELDS],
                  Input("whatif-base", "value"), prevent_initial_call=True)
    def _fill(base: str | None) -> tuple[Any, ...]:
        if not base:
            return ("", *[None for _ in FIELDS])
        try:
            scenario = data.manifest(base, root).get("scenario") or {}
        except InputError:
            return ("", *[None for _ in FIELDS])
        values = form_values(scenario)
        return (f"{scenario.get('name', 'run')}-whatif", *[values[f] for f in FIELDS])

    @app.callback(Output("whatif-problems", "children"), Output("whatif-job", "data"),
                  Output("whatif-poll", "disabled"), Input("whatif-run", "n_clicks"),
                  State("whatif-base", "value"), State("whatif-name", "value"),
                  *[State(f"wf-{fid}", "value") for fid in (*FIELDS, *CAMPAIGN_FIELDS)],
                  prevent_initial_call=True)
    def _launch(_: int, base: str | None, name: str | None, *values: Any) -> tuple[Any, ...]:
        fields = dict(zip((*FIELDS, *CAMPAIGN_FIELDS), values, strict=True))
        return launch_whatif(jobs, base, name, fields, root)

    @app.callback(Output("whatif-status", "children"), Output("whatif-poll", "disabled",
                                                              allow_duplicate=True),
                  Output("whatif-link", "children"),
                  Input("whatif-poll", "n_intervals"), State("whatif-job", "data"),
                  prevent_initial_call=True)
    def _poll(_: int | None, job_id: str | None) -> tuple[str, bool, Any]:
        return whatif_status(jobs, job_id)

    # the baseline's choices follow the picked runs in the browser (no round trip before
    # the cards); the same rule as compare_cards: the current baseline, else the first run
    app.clientside_callback(
        """function(runs, current) {
            runs = runs || [];
            return [runs, runs.includes(current) ? current : (runs.length ? runs[0] : null)];
        }""",
        Output("baseline", "options"), Output("baseline", "value"),
        Input("runs", "value"), Input("baseline", "value"))

    @app.callback(Output("compare-message", "children"), Output("cards", "children"),
                  Input("runs", "value"), Input("baseline", "value"))
    def _cards(runs: list[str] | None, baseline: str | None) -> tuple[Any, list[Any]]:
        return compare_cards(runs, baseline, root)

    @app.callback(Output("curves", "figure"), Output("budget", "figure"),
                  Output("staff", "figure"), Input("runs", "value"), Input("curve", "value"))
    def _figures(runs: list[str] | None, curve: str) -> tuple[Figure, ...]:
        return compare_figures(runs, curve, root)

    @app.callback(Output("differences", "rowData"), Output("differences", "columnDefs"),
                  Input("runs", "value"))
    def _differences(runs: list[str] | None) -> tuple[list[Any], list[Any]]:
        return compare_differences(runs, root)

    @app.callback(Output("run-page", "children"), Output("tabs", "value"),
                  Output("runs", "value"), Input("url", "pathname"), Input("url", "search"))
    def _route(pathname: str | None, search: str | None) -> tuple[Any, str, Any]:
        return route(pathname, search, root)

    return app
