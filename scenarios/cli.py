"""The ``sitesim`` command line (typer + rich); exit codes as in DESIGN.md.

This module is the app: its root options, and its commands registered in the order
``--help`` lists them; the commands live in ``scenarios._cli_area`` (area),
``scenarios._cli_plan`` (score, site, allocate), ``scenarios._cli_runs`` (demo, run, batch,
compare) and ``scenarios._cli_tools`` (validate, serve).
"""

from __future__ import annotations

from typing import Annotated

import typer

from scenarios._cli_area import area_check, area_import, area_synth
from scenarios._cli_plan import allocate, score, site
from scenarios._cli_runs import batch, compare, demo, run
from scenarios._cli_tools import serve, validate
from scenarios._console import set_debug, setup_logging

__all__ = ["app", "main"]

app = typer.Typer(
    name="sitesim",
    help="Where a retail bank puts its community outlets and events, and how it splits its "
         "marketing budget. Exit codes: 0 done, 2 bad input, 3 no feasible plan, 1 internal "
         "error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
area_app = typer.Typer(help="Study area packs: generate, check, import.", no_args_is_help=True)
app.add_typer(area_app, name="area")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    set_debug(debug)
    setup_logging(verbose)


app.command()(demo)
area_app.command("synth")(area_synth)
area_app.command("check")(area_check)
area_app.command("import")(area_import)
app.command()(score)
app.command()(site)
app.command()(allocate)
app.command()(run)
app.command()(batch)
app.command()(compare)
app.command()(validate)
app.command()(serve)


def main() -> None:
    """Entry point of the ``sitesim`` console script."""
    app()
