"""Turn a pydantic ValidationError into Problem lines with key paths."""

from __future__ import annotations

from pydantic import ValidationError

from geo.errors import Problem

__all__ = ["key_path", "validation_problems"]


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("campaigns", 0, "spend")`` -> ``"campaigns[0].spend"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def validation_problems(exc: ValidationError, where: str, fix: str) -> list[Problem]:
    """One error Problem per pydantic error: the key path, the message, the value received."""
    problems = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        hint = fix
        if e["type"] == "extra_forbidden":
            msg, hint = "unknown key", "remove it or check its spelling"
        problems.append(Problem("error", f"{where}: {key_path(e['loc'])}", msg + got_text, hint))
    return problems
