"""Loading a scenario file: ``extends`` chains (with cycles detected), merging tables,
paths relative to the file, and every problem reported at once as a :class:`ScenarioError`."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geo.errors import InputError, Problem
from scenarios._models import Scenario, _validate
from scenarios._sweep import sweep_problems


class ScenarioError(InputError):
    """A scenario file has problems; ``problems`` lists each with its key path."""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_chain(path: Path, seen: tuple[Path, ...], problems: list[Problem]) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in (*seen, path))
        problems.append(Problem("error", f"{seen[-1]}: extends",
                                f"a cycle of extends: {cycle}",
                                "remove one of the extends so that the chain ends"))
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = f"{seen[-1]}: extends" if seen else str(path)
        problems.append(Problem("error", where, f"file {path} not found",
                                "check the path (relative to the file that names it)"))
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem("error", str(path), f"not valid TOML: {exc}", "fix the syntax"))
        return {}
    return _resolve(raw, path.parent, str(path), (*seen, path), problems)


def _resolve(raw: dict[str, Any], folder: Path, where: str, seen: tuple[Path, ...],
             problems: list[Problem]) -> dict[str, Any]:
    """Paths relative to ``folder`` (the scenario file's), then its ``extends`` merged in."""
    if isinstance(raw.get("area"), str) and not raw["area"].startswith("builtin:"):
        raw["area"] = str((folder / raw["area"]).resolve())
    budget = raw.get("budget")
    for key in ("curves", "previous"):
        if isinstance(budget, dict) and isinstance(budget.get(key), str):
            budget[key] = str((folder / budget[key]).resolve())
    calibration = raw.get("calibration")
    if isinstance(calibration, dict) and isinstance(calibration.get("file"), str):
        calibration["file"] = str((folder / calibration["file"]).resolve())
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        problems.append(Problem("error", f"{where}: extends", f"got {parent!r}",
                                "give the path of another scenario file as text"))
        return raw
    base = _read_chain(folder / parent, seen, problems)
    return _merge(base, raw)


def load_scenario(source: str | Path | Mapping[str, Any], *,
                  base_dir: str | Path | None = None) -> Scenario:
    """Read, resolve and validate a scenario: a TOML file, or the same tables as a dict.

    ``source`` as a dict (``{"name": "more", "extends": "baseline.toml", "budget":
    {"total": 3_000_000}}``) is checked exactly as a file would be; its relative paths
    (``area``, ``extends``, ``budget.curves``, ``budget.previous``, ``calibration.file``)
    are read from
    ``base_dir`` (default: the working directory).

    Raises
    ------
    ScenarioError
        Every problem at once, each naming the file, the key path, the value and the fix.
    """
    problems: list[Problem] = []
    if isinstance(source, Mapping):
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
        name = source.get("name")
        path = Path(f"<scenario {name!r}>" if isinstance(name, str) else "<scenario>")
        raw = _resolve(copy.deepcopy(dict(source)), folder, str(path), (), problems)
    else:
        path = Path(source)
        raw = _read_chain(path, (), problems)
    if problems:
        raise ScenarioError(f"{path}: {len(problems)} problem(s)", problems)
    where = str(path)
    problems = sweep_problems(raw, where)
    if problems:  # reported once, here, not again by the model's own sweep check
        scenario, more = _validate({k: v for k, v in raw.items() if k != "sweep"}, where)
        problems.extend(more)
    else:
        scenario, problems = _validate(raw, where)
    area = raw.get("area", "builtin:sample-city")
    if isinstance(area, str) and not area.startswith("builtin:") and not Path(area).exists():
        problems.append(Problem("error", f"{where}: area", f"no study area at {area!r}",
                                "give a pack folder (relative to the scenario file) or "
                                "builtin:sample-city"))
    if problems or scenario is None:
        raise ScenarioError(f"{path}: {len(problems)} problem(s)", problems)
    return scenario
