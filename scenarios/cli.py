"""The ``sitesim`` command line (typer + rich); exit codes as in DESIGN.md.

This module is the app: its root options, and its commands registered in the order
``--help`` lists them; the commands live in ``scenarios._cli_area`` (area),
``scenarios._cli_plan`` (score, site, allocate), ``scenarios._cli_runs`` (demo, run, batch,
compare), ``scenarios._cli_calibrate`` (calibrate), ``scenarios._cli_pilot`` (pilot design,
readout), ``scenarios._cli_replan`` (replan) and ``scenarios._cli_tools`` (validate, serve).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from scenarios._cli_area import area_check, area_import, area_synth
from scenarios._cli_calibrate import calibrate
from scenarios._cli_pilot import pilot_design, pilot_readout
from scenarios._cli_plan import allocate, score, site
from scenarios._cli_replan import replan
from scenarios._cli_runs import batch, compare, demo, run
from scenarios._cli_tools import report, serve, validate
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
    # help is boxed and styled on a terminal only: piped or captured it is plain text
    rich_markup_mode="rich" if sys.stdout.isatty() else None,
)
area_app = typer.Typer(help="Study area packs: generate, check, import.", no_args_is_help=True)
app.add_typer(area_app, name="area")
pilot_app = typer.Typer(help="Pilot communities against matched controls: design, readout.",
                        no_args_is_help=True)
app.add_typer(pilot_app, name="pilot")


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
app.command()(calibrate)
pilot_app.command("design")(pilot_design)
pilot_app.command("readout")(pilot_readout)
app.command()(replan)
app.command()(validate)
app.command()(serve)
app.command()(report)


def main() -> None:
    """Entry point of the ``sitesim`` console script.

    Click's usage errors (an unknown option, a missing argument) are printed the way every
    other error is: one line starting with ``error:``, the usage and the help hint, exit 2.
    """
    from scenarios._console import err

    # click's exception classes, wherever this typer keeps click (vendored since 0.20)
    mro: dict[str, Any] = {
        c.__name__: c for c in typer.BadParameter.__mro__ if issubclass(c, Exception)}
    usage_error, click_exception = mro["UsageError"], mro["ClickException"]
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # its message is the help (rich: "")
            if exc.format_message():
                print(exc.format_message(), file=sys.stderr)
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            err.print(ctx.get_usage(), markup=False, highlight=False, soft_wrap=True)
            err.print(f"Try '{ctx.command_path} --help' for help.", markup=False,
                      highlight=False, soft_wrap=True)
        err.print(f"error: {exc.format_message()}", markup=False, highlight=False,
                  soft_wrap=True)
        sys.exit(exc.exit_code)
    except click_exception as exc:
        err.print(f"error: {exc.format_message()}", markup=False, highlight=False,
                  soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("error: interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
