"""Reading users' TOML files: parse errors and pydantic errors as Problem lines."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from geo.errors import InputError, Problem

__all__ = ["key_path", "read_toml", "validation_problems"]


def read_toml(path: Path, what: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The contents of a TOML file, or ``error`` saying it is missing or malformed."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as exc:
        problem = Problem("error", str(path), f"not valid TOML: {exc}", "fix the syntax")
        raise error(f"{path}: not valid TOML: {exc}", [problem]) from None


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
