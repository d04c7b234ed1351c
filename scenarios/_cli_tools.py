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
    from scenarios.schema import load_scenario

    resolved = load_scenario(scenario)
    if show:
        console.print_json(json.dumps(resolved.model_dump(mode="json")))
    runs = expand_sweep(resolved)
    # the checks of sitesim run's first step, on each scenario of the sweep; one line per
    # problem however many of the sweep's scenarios share it
    indexes = {area: read_area_index(area) for area in dict.fromkeys(r.area for r in runs)}
    lines: dict[str, bool] = {}  # line -> is bad input (else infeasible)
    for run in runs:
        found = preflight(run, indexes[run.area])
        named = f"{run.name}: " if len(runs) > 1 else ""
        for p in found.problems:
            lines.setdefault(p.line(), True)
        for reason in found.infeasible:
            lines.setdefault(f"error: infeasible: {named}{reason}", False)
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    if lines:
        raise typer.Exit(EXIT_BAD_INPUT if any(lines.values()) else EXIT_INFEASIBLE)
    sweep = f"; its sweep makes {len(runs)} scenarios" if resolved.sweep else ""
    adults = [indexes[r.area].adults for r in runs]
    console.print(f"ok: {scenario} ({resolved.name}){sweep}; "
                  f"{estimate_runs(runs, adults).text()}")


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
