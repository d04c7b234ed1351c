"""The commands around the pipeline: validate (check a scenario file) and serve (the
dashboard over the results store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scenarios._console import console, err, guarded


@guarded
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    show: Annotated[bool, typer.Option(help="Print the resolved scenario as JSON.")] = False,
) -> None:
    """Check a scenario file and its area; every problem on its own line with its key path.
    Exit 2 for bad input, 3 when the counts alone rule out a plan."""
    from geo import read_area_index
    from scenarios._console import EXIT_BAD_INPUT, EXIT_INFEASIBLE
    from scenarios.batch import expand_sweep
    from scenarios.estimate import estimate_runs
    from scenarios.preflight import preflight
    from scenarios.scale import scale_note, scaled_to_area
    from scenarios.schema import load_scenario

    resolved = load_scenario(scenario)
    if show:
        console.print_json(json.dumps(resolved.model_dump(mode="json")))
    runs = expand_sweep(resolved)
    # the checks of sitesim run's first step, on each scenario of the sweep; one line per
    # problem however many of the sweep's scenarios share it
    indexes = {area: read_area_index(area) for area in dict.fromkeys(r.area for r in runs)}
    found: dict[tuple[str, bool], list[str]] = {}  # (line, is bad input) -> its runs
    for run in runs:
        checked = preflight(run, indexes[run.area])
        lines = [(p.line().replace(f": {run.name}: ", f": {resolved.name}: ", 1), True)
                 for p in checked.problems]
        lines += [(f"error: infeasible: {reason}", False) for reason in checked.infeasible]
        for entry in lines:
            found.setdefault(entry, []).append(run.name)
    for (line, _), names in found.items():
        where = "" if len(names) == len(runs) else (
            f" (in {len(names)} of the sweep's {len(runs)} scenarios: "
            f"{', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
        err.print(line + where, markup=False, highlight=False, soft_wrap=True)
    if found:
        raise typer.Exit(EXIT_BAD_INPUT if any(bad for _, bad in found) else EXIT_INFEASIBLE)
    sweep = f"; its sweep makes {len(runs)} scenarios" if resolved.sweep else ""
    adults = [indexes[r.area].adults for r in runs]
    console.print(f"ok: {scenario} ({resolved.name}){sweep}; "
                  f"{estimate_runs(runs, adults).text()}")
    scaled = scale_note(scaled_to_area(resolved, indexes[resolved.area].adults))
    if scaled is not None:
        console.print(f"{resolved.name}: {scaled}", markup=False, highlight=False,
                      soft_wrap=True)


@guarded
def serve(
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
    host: Annotated[str, typer.Option(
        help="Address to listen on; the default serves this machine only. 0.0.0.0 serves "
             "the network: anyone who reaches it sees the runs.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8050,
) -> None:
    """The dashboard: compare runs of the results store in a browser."""
    from dashboard.app import create_app

    if not runs_dir.is_dir():
        from geo.errors import InputError

        raise InputError(f"--runs {runs_dir}: no such folder; run sitesim demo or sitesim "
                         "run first, or name the folder of your runs")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"note: serving on {host}: other machines can open the dashboard")
    console.print(f"sitesim dashboard on http://{host}:{port}/ (runs from {runs_dir}); "
                  "Ctrl+C stops it")
    create_app(runs_dir).run(host=host, port=port, debug=False)


@guarded
def report(
    runs: Annotated[list[str], typer.Argument(help="Run ids, run folders or scenario names.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write (.html or .xlsx).")],
    baseline: Annotated[str | None, typer.Option(
        "--baseline", help="The run the others are compared with (default: the first).")]
    = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="html (default) or xlsx; default from the suffix of --out.")]
    = None,
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
    kpi: Annotated[list[str] | None, typer.Option(
        "--kpi", help="A KPI to compare (repeat; default those of sitesim compare).")]
    = None,
    colour_by: Annotated[str, typer.Option(
        "--colour-by", help="What the maps colour communities by, such as score, income "
                            "or 'uplift in new customers'.")] = "score",
) -> None:
    """The report for a budget review: one self-contained HTML page (opens offline) or an
    Excel workbook with the questions, plans, KPIs against targets, all the money, maps,
    charts, assumptions and warnings of the runs."""
    from dashboard import write_report
    from scenarios.store import DEFAULT_KPIS

    written = write_report(runs, out, runs_dir=runs_dir, baseline=baseline, fmt=fmt,
                           kpis=tuple(kpi) if kpi else DEFAULT_KPIS, colour_by=colour_by)
    console.print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
