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
    """Check a scenario file; every problem on its own line with its key path."""
    from scenarios.batch import expand_sweep
    from scenarios.schema import load_scenario

    resolved = load_scenario(scenario)
    if show:
        console.print_json(json.dumps(resolved.model_dump(mode="json")))
    runs = expand_sweep(resolved)
    sweep = f"; its sweep makes {len(runs)} scenarios" if resolved.sweep else ""
    console.print(f"ok: {scenario} ({resolved.name}){sweep}")


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
