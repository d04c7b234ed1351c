"""How the command line reports: one line per problem, exit codes of DESIGN.md."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

import typer
from rich.console import Console

from geo.errors import InfeasibleError, InputError, SitesimWarning

__all__ = ["EXIT_BAD_INPUT", "EXIT_INFEASIBLE", "EXIT_INTERNAL", "console", "err", "guarded",
           "set_debug", "setup_logging"]

EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INFEASIBLE = 1, 2, 3

# soft_wrap: a message line is never broken at the terminal's width (a long path would
# split it, and scripts that read the output would miss it). Output that is not a
# terminal (a pipe, a file, a captured run) is never styled and never wrapped: tables
# take the width their cells need, so a path in a cell stays whole.
_WIDE = 100_000


def _console(stream: TextIO) -> Console:
    terminal = stream.isatty()
    return Console(file=stream, soft_wrap=True, width=None if terminal else _WIDE,
                   color_system="auto" if terminal else None, highlight=terminal)


console = _console(sys.stdout)
err = _console(sys.stderr)
_state = {"debug": False}

F = TypeVar("F", bound=Callable[..., Any])


def set_debug(flag: bool) -> None:
    _state["debug"] = flag


class _LineFormatter(logging.Formatter):
    """Log records as the command line's own lines: ``warning: ...``, ``error: ...``, and
    progress (``--verbose``) as it is."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            prefix = "error: "
        elif record.levelno >= logging.WARNING:
            prefix = "warning: "
        else:
            return text
        return text if text.startswith(("error:", "warning:")) else prefix + text


def setup_logging(verbose: bool) -> None:
    import warnings

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        handlers=[handler], force=True)
    logging.captureWarnings(True)
    # a warning is its message, one line (not the file, the line number and the source)
    warnings.formatwarning = lambda message, *_args, **_kwargs: str(message)
    warnings.simplefilter("default", SitesimWarning)


def guarded(func: F) -> F:
    """Turn sitesim's errors into one line each and the exit codes of DESIGN.md."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as exc:
            if _state["debug"]:
                traceback.print_exc()
            for line in exc.lines():
                err.print(line, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except InfeasibleError as exc:
            if _state["debug"]:
                traceback.print_exc()
            err.print(f"error: infeasible: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INFEASIBLE) from None
        except KeyboardInterrupt:
            err.print("error: interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the last resort of a command line
            if _state["debug"]:
                traceback.print_exc()
            else:
                err.print(f"error: internal error: {type(exc).__name__}: {exc} "
                          "(run with --debug for the traceback, and please report it)",
                          markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]
