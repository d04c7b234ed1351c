"""The budget-review report as one self-contained HTML page (no script, no CDN: it opens
offline and prints): the question of each scenario, the KPIs against the baseline with
intervals and P10/P90, the targets, all the money, the plan's checks, maps, charts over
weeks, the plans, uplift by segment and community, assumptions and warnings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from dashboard.compare import run_colour
from dashboard.data import WEEKLY
from dashboard.map_layers import map_layers
from dashboard.report_data import Report
from dashboard.report_figures import channel_svg, map_png, weekly_svg
from scenarios.plan_checks import check_cells
from scenarios.store import compare_cells, format_kpi
from scenarios.targets import target_cell

__all__ = ["render_html"]

_PAGE = jinja2.Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>sitesim report: {{ names|join(", ") }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#24292f}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;
margin-top:32px}h3{font-size:15px}table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:right;vertical-align:top}
th:first-child,td:first-child,.left td{text-align:left}th{background:#f6f8fa}
.met{color:#0a7d32}.missed{color:#b42318;font-weight:600}.note{color:#57606a;font-size:12px}
.warn{background:#fff8c5;padding:6px 10px;border-left:4px solid #bf8700;font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
img{max-width:100%}svg{max-width:100%;height:auto}.scroll{overflow-x:auto}
</style></head><body>
<h1>sitesim report: {{ names|join(", ") }}</h1>
<p class="note">Compared with <b>{{ baseline }}</b>. {{ uncertainty }}</p>
<h2>The questions</h2>
<table class="left"><tr><th>run</th><th>scenario</th><th>the question it asks</th></tr>
{% for r in runs %}<tr><td><span class="swatch" style="background:{{ r.colour }}"></span>
{{ r.run_id }}</td><td>{{ r.name }}</td><td>{{ r.question }}</td></tr>
{% endfor %}</table>
<h2 id="kpis">KPIs against the baseline</h2>
<p class="note">Mean over replications ±95% interval; then the difference from the baseline
±95% interval, * where it is larger than the replication noise; then the replications'
P10 to P90 (the downside and upside of one outcome, not of the mean).</p>
<div class="scroll">{{ kpi_table }}</div>
<h2 id="targets">Against the targets</h2>
<p class="note">Each scenario's [targets]: the mean over replications, P the share of
replications that meet it; a split is the plan's.</p>
<div class="scroll">{{ target_table }}</div>
<h2 id="money">All the money</h2>
<div class="scroll">{{ money_table }}</div>
{% if check_table %}<h2 id="checks">The plans checked by simulation</h2>
<div class="scroll">{{ check_table }}</div>{% endif %}
<h2 id="charts">Over the weeks</h2>
{% for svg in weekly %}<figure>{{ svg }}</figure>
{% else %}<p class="note">No run holds a time series.</p>{% endfor %}
{% if channels %}<figure>{{ channels }}</figure>{% endif %}
{% for r in runs %}
<h2 id="run-{{ loop.index }}">{{ r.name }} ({{ r.run_id }})</h2>
<p>{{ r.question }}</p>
{% if r.map %}<img alt="map of {{ r.run_id }}" src="data:image/png;base64,{{ r.map }}">
{% else %}<p class="note">No map: the run holds no scores.parquet (written by an older
sitesim or copied in part).</p>{% endif %}
<h3>Outlets opened or closed, and why</h3>{{ r.outlets }}
<h3>Events</h3>{{ r.events }}
<h3>Relationship managers by outlet</h3>{{ r.staff }}
<h3>Budget by community and channel (the largest 25)</h3>{{ r.budget }}
<h3>Uplift in new customers by segment</h3>{{ r.segments }}
<h3>Uplift by community (the largest 15)</h3>{{ r.communities }}
<h3>Assumptions</h3>{{ r.assumptions }}
<h3>Warnings</h3>
{% for w in r.warnings %}<p class="warn">{{ w }}</p>{% else %}<p>None.</p>{% endfor %}
{% endfor %}
<p class="note">Written by sitesim report. Numbers as sitesim compare prints them.</p>
</body></html>
""", autoescape=True)


def _table(frame: pd.DataFrame, empty: str = "None planned.") -> Markup:
    if frame.empty:
        return Markup(f"<p>{escape(empty)}</p>")
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(format_kpi)
    return Markup(shown.to_html(index=False, border=0, escape=True,
                                               na_rep=""))


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]],
          classes: Sequence[Sequence[str]] | None = None) -> Markup:
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in header), "</tr>"]
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, cell in enumerate(row):
            cls = classes[i][j] if classes else ""
            text = escape(cell).replace("\n", Markup("<br>"))
            out.append(f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</table>")
    return Markup("".join(str(part) for part in out))


def _targets(report: Report, names: list[str]) -> Markup:
    frame = report.targets
    if frame.empty:
        return Markup("<p>No run has targets.</p>")
    rows, classes = [], []
    for target, g in frame.groupby("target", sort=False):
        by_run = {str(r["run_id"]): {str(k): v for k, v in r.items()}
                  for r in g.to_dict("records")}
        row, cls = [str(target)], [""]
        for run in names:
            r = by_run.get(run)
            row.append(target_cell(r) if r else "")
            cls.append("" if r is None else "met" if r["met"] else "missed")
        rows.append(row)
        classes.append(cls)
    return _rows(["target", *names], rows, classes)


_MONEY_ROWS = (("spend", "campaigns and events (spend)"), ("capex", "outlet capex, in full"),
               ("capex_per_year", "outlet capex a year (annualized)"),
               ("outlet_opex_per_year", "outlet opex a year"),
               ("staff_cost_per_year", "relationship managers a year"))


_IN_MONEY = {"all_costs", "cost_per_acquisition", "cost_per_acquisition_all_costs",
             "net_value_all_costs", "npv_all_costs", "outlets_net_per_year"}


def _money(report: Report, names: list[str]) -> Markup:
    means = {(str(r["kpi"]), str(r["run_id"])): float(r["mean"])
             for r in report.kpis.to_dict("records")}
    rows = []
    for key, label in _MONEY_ROWS:
        row = [label]
        for run in report.runs:
            value = run.money.get(key)
            if value is None:
                value = means.get((key, run.run_id))
            row.append(f"{format_kpi(value)} {run.currency}" if value is not None else "")
        if any(row[1:]):
            rows.append(row)
    for kpi in ("all_costs", "roi", "roi_all_costs", "cost_per_acquisition",
                "cost_per_acquisition_all_costs", "net_value_all_costs", "npv_all_costs",
                "outlets_net_per_year", "payback_years"):
        if any((kpi, r) in means for r in names):
            currency = {r.run_id: r.currency for r in report.runs}
            cells = [format_kpi(means.get((kpi, r), float("nan"))) for r in names]
            rows.append([kpi, *[f"{c} {currency[r]}" if kpi in _IN_MONEY and c != "n/a"
                                else c for c, r in zip(cells, names, strict=True)]])
    return _rows(["", *names], rows)


def render_html(report: Report, runs_dir: str | Path, colour_by: str = "score") -> str:
    """The page, as text (see the module's description)."""
    names = [r.run_id for r in report.runs]
    checks = report.checks
    check_table = (_rows(["run", "check", "plan", "other", "difference (±95%)", "verdict"],
                         check_cells(checks)) if not checks.empty else "")
    runs: list[dict[str, Any]] = []
    for i, run in enumerate(report.runs):
        budget = run.budget.head(25).drop(columns=["community_id"], errors="ignore")
        runs.append({
            "run_id": run.run_id, "name": run.name, "question": run.question,
            "colour": run_colour(i),
            "map": (map_png(map_layers(run.run_id, runs_dir, colour_by))
                    if (run.folder / "scores.parquet").exists() else ""),
            "outlets": _table(run.outlets, "No outlet opened or closed."),
            "events": _table(run.events, "No event planned."),
            "staff": _table(run.staff, "No staff plan."),
            "budget": _table(budget, "No budget plan."),
            "segments": _table(run.segments.drop(columns=["kpi"]), "No segment KPIs."),
            "communities": _table(run.communities.head(15), "No uplift by community."),
            "assumptions": _table(run.assumptions, "None recorded."),
            "warnings": run.warnings})
    colour = {r["run_id"]: r["colour"] for r in runs}
    channels = [(run.run_id, dict(zip(run.channels["channel"],
                                      run.channels["spend"].astype(float), strict=True)))
                for run in report.runs if not run.channels.empty]
    timed = [r.run_id for r in report.runs if (r.folder / "timeseries.parquet").exists()]
    kpi_rows = compare_cells(report.kpis)  # the cells sitesim compare prints
    return _PAGE.render(
        names=names, baseline=report.baseline, uncertainty=report.uncertainty, runs=runs,
        kpi_table=_rows(["KPI", *names], kpi_rows), target_table=_targets(report, names),
        money_table=_money(report, names), check_table=check_table,
        weekly=[Markup(weekly_svg(timed, timed, runs_dir, curve,
                                  [colour[r] for r in timed]))
                for curve in WEEKLY] if timed else [],
        channels=(Markup(channel_svg(channels, report.runs[0].currency,
                                     [colour[r] for r, _ in channels]))
                  if channels else ""))

