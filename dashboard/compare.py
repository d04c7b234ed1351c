"""The dashboard's Compare page as plain functions of run ids: KPI cards with deltas and
95% intervals against a baseline, the runs' warnings, the budget plan's checks, curves
over weeks with interval bands, budget by channel, staff by week, and where the
scenarios differ (dashboard.app wires them to the page)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dash import html

from dashboard import data
from geo.errors import InputError
from scenarios.store import format_kpi, group_warnings

__all__ = [
    "LOWER_IS_BETTER",
    "NEUTRAL",
    "Figure",
    "compare_cards",
    "compare_differences",
    "compare_figures",
    "compare_view",
    "compare_warnings",
    "empty_figure",
    "kpi_cards",
    "plan_check_table",
    "run_colour",
    "target_table",
]

_CARD = {"border": "1px solid #d0d7de", "borderRadius": "6px", "padding": "8px 12px",
         "minWidth": "190px", "background": "#fff"}


#: KPIs where less is better (a rise shows red), and KPIs that are neither good nor bad.
LOWER_IS_BETTER = frozenset({"cost_per_acquisition", "cost_per_acquisition_all_costs",
                             "capex", "all_costs", "payback_years"})
NEUTRAL = frozenset({"spend"})


def _delta_colour(kpi: str, delta: float, significant: bool) -> str:
    """Green for a difference beyond noise in the good direction, red in the bad one, blue
    for a KPI that is neither (spend), grey within noise."""
    if not significant:
        return "#57606a"
    if kpi in NEUTRAL:
        return "#0550ae"
    better = delta < 0 if kpi in LOWER_IS_BETTER else delta > 0
    return "#0a7d32" if better else "#b42318"


def kpi_cards(table: Any) -> list[Any]:
    """One card per KPI: each run's mean ±95% half-width, and its difference from the
    baseline with its half-width (marked when larger than the replication noise)."""
    cards = []
    for kpi, g in table.groupby("kpi", sort=False):
        lines: list[Any] = [html.Div(str(kpi).replace("_", " "), className="kpi-name",
                                     style={"fontWeight": "bold"})]
        for r in g.itertuples(index=False):
            spread = (r.high - r.low) / 2
            text = (f"{r.run_id}: {format_kpi(r.mean)}" if spread != spread
                    else f"{r.run_id}: {format_kpi(r.mean)} ±{format_kpi(spread)}")
            if r.p10 == r.p10 and r.p90 == r.p90 and r.p10 != r.p90:  # outcomes' spread
                text += f" (P10-P90 {format_kpi(r.p10)} to {format_kpi(r.p90)})"
            lines.append(html.Div(text, className="kpi-value"))
            if r.run_id != r.baseline and r.delta == r.delta:
                sign = "+" if r.delta >= 0 else ""
                half = (r.delta_high - r.delta_low) / 2
                mark = " (beyond noise)" if r.significant else " (within noise)"
                lines.append(html.Div(f"  {sign}{format_kpi(r.delta)} ±{format_kpi(half)}{mark}",
                                      className="kpi-delta significant" if r.significant
                                      else "kpi-delta",
                                      style={"color": _delta_colour(str(kpi), r.delta,
                                                                    bool(r.significant))}))
        cards.append(html.Div(lines, className="kpi-card", style=_CARD))
    return cards


#: A plotly figure as the dict the page takes.
Figure = dict[str, Any]
_MARGIN = {"t": 40, "l": 40, "r": 10, "b": 40}


def _figure(traces: list[dict[str, Any]], title: str, height: int, **layout: Any) -> Figure:
    """A plotly figure as plain data: the page gets the same JSON without plotly's
    per-property validation on the server (the compare page answers within 500 ms)."""
    return {"data": traces, "layout": {"title": {"text": title}, "height": height,
                                       "margin": _MARGIN, "legend": {"orientation": "h"},
                                       **layout}}


#: One colour per run, the same in every chart of the page (plotly's own cycle).
RUN_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3",
               "#ff6692", "#b6e880", "#ff97ff", "#fecb52")


def run_colour(i: int) -> str:
    """The colour of the ``i``-th run picked."""
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def _curves(run_ids: Sequence[str], runs_dir: Path, curve: str) -> Figure:
    traces = []
    for i, run in enumerate(run_ids):
        band = data.weekly_band(run, runs_dir, curve)
        weeks = band["week"].tolist()
        traces.append({"type": "scatter", "x": weeks + weeks[::-1],
                       "y": band["high"].tolist() + band["low"].tolist()[::-1],
                       "fill": "toself", "opacity": 0.2, "fillcolor": run_colour(i),
                       "line": {"width": 0, "color": run_colour(i)},
                       "hoverinfo": "skip", "showlegend": False, "name": f"{run} 95%"})
        traces.append({"type": "scatter", "x": weeks, "y": band["mean"].tolist(),
                       "mode": "lines", "name": run, "line": {"color": run_colour(i)}})
    return _figure(traces, f"{curve} by week (mean and 95% band over replications)", 360,
                   xaxis={"title": {"text": "week"}})


def _budget(run_ids: Sequence[str], runs_dir: Path) -> Figure:
    traces = []
    for i, run in enumerate(run_ids):
        b = data.budget_by_channel(run, runs_dir)
        traces.append({"type": "bar", "x": b["channel"].tolist(), "y": b["spend"].tolist(),
                       "name": run, "marker": {"color": run_colour(i)},
                       "customdata": b["customers"].tolist(),
                       "hovertemplate": "%{x}: %{y:,.0f} spent, %{customdata:,.0f} new "
                                        "customers forecast"})
    return _figure(traces, "budget plan by channel", 320, barmode="group")


def _staff(run_ids: Sequence[str], runs_dir: Path) -> Figure:
    traces = []
    for i, run in enumerate(run_ids):
        s = data.staff_by_week(run, runs_dir)
        traces.append({"type": "scatter", "x": s["week"].tolist(),
                       "y": (s["outlets"] + s["events"]).tolist(), "mode": "lines",
                       "name": run, "line": {"color": run_colour(i)},
                       "customdata": s["events"].tolist(),
                       "hovertemplate": "week %{x}: %{y} RMs (%{customdata} at events)"})
    return _figure(traces, "relationship managers by week (outlets and events)", 320)


def compare_cards(run_ids: Sequence[str] | None, baseline: str | None,
                  runs_dir: Path) -> tuple[Any, list[Any]]:
    """The compare page's message (with the runs' warnings below it, where they recorded
    any) and KPI cards."""
    run_ids = [r for r in (run_ids or []) if r]
    if not run_ids:
        return "Pick one run or more.", []
    if baseline not in run_ids:
        baseline = run_ids[0]
    try:
        table = data.kpi_table(run_ids, runs_dir, baseline=baseline)
    except InputError as exc:
        return f"404: {exc}", []
    message = (f"Compared with {baseline}; differences are paired where runs share a seed "
               "and replications (common random numbers).")
    parts: list[Any] = [message]
    warnings = compare_warnings(run_ids, runs_dir)
    if warnings:  # one callback, one round trip: the warnings come with the cards
        parts.append(html.Ul(warnings, id="compare-warnings",
                             style={"color": "#9a6700", "margin": "4px 0"}))
    for table_of in (target_table, plan_check_table):
        shown = table_of(run_ids, runs_dir)
        if shown is not None:
            parts.append(shown)
    return (parts if len(parts) > 1 else message), kpi_cards(table)


def target_table(run_ids: Sequence[str], runs_dir: Path) -> Any | None:
    """Each run against its scenario's targets (scenarios.targets): met or MISSED, the
    goal, and the share of replications that meet it; None when no run has targets."""
    from scenarios import target_cell, target_checks
    from scenarios.store import resolve_run

    try:
        frame = target_checks([resolve_run(r, runs_dir) for r in run_ids])
    except InputError:
        return None
    if frame.empty:
        return None
    runs = list(dict.fromkeys(frame["run_id"]))
    rows = []
    for target, g in frame.groupby("target", sort=False):
        by_run = {str(r["run_id"]): target_cell({str(k): v for k, v in r.items()})
                  for r in g.to_dict("records")}
        cells = [by_run.get(r, "") for r in runs]
        rows.append(html.Tr([html.Td(str(target)), *[
            html.Td(c, className="target-missed" if "MISSED" in c else "target-met",
                    style={"color": "#b42318" if "MISSED" in c else "#0a7d32"})
            if c else html.Td("") for c in cells]]))
    return html.Details([
        html.Summary("targets: each run against its scenario's [targets] (the mean over "
                     "replications; P: the share of replications that meet it)"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ["target", *runs]])),
                    html.Tbody(rows)], style={"fontSize": "13px", "borderCollapse": "collapse"})],
        id="targets", open=True, style={"margin": "4px 0"})


def plan_check_table(run_ids: Sequence[str], runs_dir: Path) -> Any | None:
    """The runs' budget plans checked (scenarios.plan_checks): each round's forecast
    against the plan's simulated uplift, and the plan's paired advantage over the simple
    rules with its 95% interval; None when no run has a checked plan."""
    from scenarios.plan_checks import check_cells, plan_checks
    from scenarios.store import resolve_run

    try:
        frame = plan_checks([resolve_run(r, runs_dir) for r in run_ids])
    except InputError:
        return None
    if frame.empty:
        return None
    header = ["run", "check", "plan", "other", "difference ±95%", "verdict"]
    rows = [html.Tr([html.Td(cell) for cell in cells]) for cells in check_cells(frame)]
    return html.Details([
        html.Summary("budget plans checked: forecast against simulation, and against "
                     "simple rules with the same money (new customers)"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
                   style={"fontSize": "13px", "borderCollapse": "collapse"})],
        id="plan-checks", open=True, style={"margin": "4px 0"})


def compare_warnings(run_ids: Sequence[str] | None, runs_dir: Path) -> list[Any]:
    """A line for each warning the runs recorded: where a run leaves the envelope of
    published figures (docs/simulation.md), and response curves that fit poorly."""
    run_ids = [r for r in (run_ids or []) if r]
    try:
        found = group_warnings({r: data.manifest(r, runs_dir).get("warnings")
                                for r in run_ids})
    except InputError:
        return []
    return [html.Li(f"{', '.join(ids)}: {line}") for line, ids in found]


def compare_figures(run_ids: Sequence[str] | None, curve: str, runs_dir: Path
                    ) -> tuple[Figure, Figure, Figure]:
    """The compare page's curves over weeks, budget by channel and staff by week."""
    run_ids = [r for r in (run_ids or []) if r]
    if not run_ids:  # no bare axes: what to pick instead
        return (empty_figure("Pick runs above to see their curves over weeks.", 360),
                empty_figure("Pick runs above to see their budget plans by channel.", 320),
                empty_figure("Pick runs above to see their relationship managers by week.",
                             320))
    try:
        return (_curves(run_ids, runs_dir, curve), _budget(run_ids, runs_dir),
                _staff(run_ids, runs_dir))
    except InputError as exc:
        said = f"These runs cannot be read: {exc}"
        return empty_figure(said, 360), empty_figure(said, 320), empty_figure(said, 320)


def empty_figure(message: str, height: int = 320) -> Figure:
    """A figure with no axes that says what to do instead (an empty page's chart)."""
    return _figure([], "", height, xaxis={"visible": False}, yaxis={"visible": False},
                   annotations=[{"text": message, "showarrow": False, "x": 0.5, "y": 0.5,
                                 "xref": "paper", "yref": "paper",
                                 "font": {"size": 15, "color": "#57606a"}}])


def compare_differences(run_ids: Sequence[str] | None, runs_dir: Path
                        ) -> tuple[list[dict[Any, Any]], list[dict[str, str]]]:
    """Where the runs' scenarios differ: (rows, column definitions)."""
    run_ids = [r for r in (run_ids or []) if r]
    if not run_ids:
        return [], []
    try:
        diff = data.scenario_differences(run_ids, runs_dir)
    except InputError:
        return [], []
    # a grid reads dots in a field as nested keys, and run ids may hold dots: each column
    # gets a plain field, and its name as the header
    fields = {c: f"c{i}" for i, c in enumerate(diff.columns)}
    rows = diff.astype(str).rename(columns=fields).to_dict("records")
    return rows, [{"field": f, "headerName": str(c)} for c, f in fields.items()]


def compare_view(run_ids: Sequence[str] | None, baseline: str | None, curve: str,
                 runs_dir: Path) -> tuple[Any, ...]:
    """The whole compare page for some runs: (message, cards, curves, budget, staff,
    differences rows, differences columns); the page updates each part on its own."""
    message, cards = compare_cards(run_ids, baseline, runs_dir)
    if not cards:  # what to pick, in each chart's place
        return message, cards, *compare_figures([], curve, runs_dir), [], []
    return (message, cards, *compare_figures(run_ids, curve, runs_dir),
            *compare_differences(run_ids, runs_dir))
