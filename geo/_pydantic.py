"""Reading users' TOML files: parse errors and pydantic errors as Problem lines."""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from geo.errors import InputError, Problem

__all__ = ["key_path", "nearest_key", "read_toml", "valid_keys", "validation_problems"]


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


#: Words people write for a key that spelling alone does not find.
KEY_ALIASES = {"target": "communities", "targets": "communities", "community": "communities",
               "segment": "segments", "channels": "channel", "agents": "max_agents",
               "reps": "replications", "runs": "replications", "budget": "total",
               "licenses": "licence", "license": "licence", "source": "sources"}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``X``, ``X | None``, ``tuple[X, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict) or origin is not None:
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def valid_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a model accepts at the table ``loc`` names (its last part the key itself)."""
    models = [model]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        inner = [m for cls in models if part in cls.model_fields
                 for m in _models_in(cls.model_fields[part].annotation)]
        # a key of a table of tables (kinds.branch): the models stay those of its values
        models = inner or [m for m in models if part not in m.model_fields]
    return sorted({k for cls in models for k in cls.model_fields})


def nearest_key(key: str, keys: list[str]) -> str | None:
    """The valid key a misspelt or misnamed one most likely meant."""
    if KEY_ALIASES.get(key) in keys:
        return KEY_ALIASES[key]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    return close[0] if close else None


def validation_problems(exc: ValidationError, where: str, fix: str,
                        model: type[BaseModel] | None = None) -> list[Problem]:
    """One error Problem per pydantic error: the key path, the message, the value received;
    an unknown key with the nearest valid key of ``model`` at that place."""
    problems = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        hint = fix
        if e["type"] == "extra_forbidden":
            msg, hint = "unknown key", "remove it or check its spelling"
            keys = valid_keys(model, e["loc"]) if model is not None else []
            near = nearest_key(str(e["loc"][-1]), keys) if keys else None
            if near is not None:
                hint = f"did you mean {near!r}?"
            elif keys:
                hint = f"remove it; the keys here are {', '.join(keys)}"
        problems.append(Problem("error", f"{where}: {key_path(e['loc'])}", msg + got_text, hint))
    return problems
