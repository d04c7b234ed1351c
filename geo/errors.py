"""Exception and warning base types shared by every sitesim package.

The command line maps :class:`InputError` to exit code 2 and :class:`InfeasibleError`
to exit code 3; anything else is an internal error (exit code 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "AreaError",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "Problem",
    "SitesimError",
    "SitesimWarning",
]


class SitesimError(Exception):
    """Base of every error sitesim raises on purpose."""


class SitesimWarning(UserWarning):
    """Something was repaired or assumed; the result is usable but the user should know."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a user's input.

    Parameters
    ----------
    severity
        ``"error"`` (the input cannot be used) or ``"warning"`` (repaired or assumed).
    where
        The file and, where it applies, the layer, key path or column.
    message
        What is wrong, with the value received and what was expected.
    fix
        What the user should do about it.
    ids
        The identifiers of the offending rows, if any.
    """

    severity: str
    where: str
    message: str
    fix: str = ""
    ids: tuple[str, ...] = field(default_factory=tuple)

    def line(self, *, max_ids: int = 8) -> str:
        """Format the problem as one line for a terminal."""
        text = f"{self.severity}: {self.where}: {self.message}"
        if self.ids:
            shown = ", ".join(self.ids[:max_ids])
            more = f" and {len(self.ids) - max_ids} more" if len(self.ids) > max_ids else ""
            text += f" (ids {shown}{more})"
        if self.fix:
            text += f"; {self.fix}"
        return text


class InputError(SitesimError, ValueError):
    """The user's input cannot be used; the message says what to change.

    Parameters
    ----------
    message
        The summary line.
    problems
        Every problem found, when several were collected at once.
    """

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)

    def lines(self) -> list[str]:
        """One line per problem (or the message alone when there is no list)."""
        if self.problems:
            return [p.line() for p in self.problems]
        text = str(self)
        return [text if text.startswith(("error:", "warning:")) else f"error: {text}"]


class AreaError(InputError):
    """A study area pack or import mapping has problems."""


class NetworkError(InputError):
    """A street network file cannot be read or has no usable streets."""


class InfeasibleError(SitesimError, RuntimeError):
    """No plan satisfies every constraint; the message names the binding one in user units."""
