"""The ``[sweep]`` of a scenario: which dotted keys it may name and the type they take,
setting a dotted key in a raw scenario, and every problem of a grid or a Latin hypercube."""

from __future__ import annotations

from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from geo.errors import Problem
from scenarios._models import Scenario, _validate

_MISSING = object()


def _field_annotation(model: type[BaseModel], dotted: str) -> Any:
    """The annotation of a dotted scenario key, or ``_MISSING`` when there is no such key."""
    current: Any = model
    annotation: Any = _MISSING
    for part in dotted.split("."):
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return _MISSING
        annotation = fields[part].annotation
        current = annotation if isinstance(annotation, type) else None
    return annotation


def _field_exists(model: type[BaseModel], dotted: str) -> bool:
    return _field_annotation(model, dotted) is not _MISSING


def number_type(dotted: str) -> type | None:
    """int or float when a dotted scenario key takes a number, else None."""
    return _numeric(_field_annotation(Scenario, dotted))


def _numeric(annotation: Any) -> type | None:
    """int or float when a key takes a number (optionally None), else None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation in (int, float):
        return annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return _numeric(args[0])
    return None


#: The sweep table that holds a Latin hypercube design (the other keys are grid lists).
LHS = "latin_hypercube"
_LHS_SETTINGS = ("samples", "seed")
MAX_SAMPLES = 10_000


def sweep_problems(raw: dict[str, Any], where: str) -> list[Problem]:
    """Every problem of a raw scenario's ``[sweep]``: keys that do not exist, lists that are
    empty, values the key does not accept (each checked as the scenario would run), and a
    Latin hypercube table without samples or with ranges that are not ``[low, high]``."""
    sweep = raw.get("sweep")
    if not sweep:
        return []
    if not isinstance(sweep, dict):
        return [Problem("error", f"{where}: sweep", f"got {sweep!r}",
                        'give a table of keys and value lists, such as "budget.total" = '
                        "[1_000_000, 2_000_000]")]
    base = {k: v for k, v in raw.items() if k != "sweep"}
    # a problem of the scenario itself is reported once, not again for each swept value
    known = {(p.where.removeprefix(f"{where}: "), p.message) for p in _validate(base, where)[1]}
    problems: list[Problem] = []

    def check(key: str, value: Any, at: str) -> list[Problem]:
        _, sub = _validate(set_dotted(base, key, value), f"{where}: {at}")
        return [p for p in sub
                if (p.where.removeprefix(f"{where}: {at}: "), p.message) not in known]

    for key, values in sweep.items():
        at = f"sweep.{key}"
        if key == LHS:
            problems.extend(_lhs_problems(values, sweep, where, check))
            continue
        if not _sweepable(key):
            problems.append(_no_such_key(where, at))
            continue
        if not isinstance(values, list | tuple) or not values:
            problems.append(Problem("error", f"{where}: {at}", f"got {values!r}",
                                    "give a non-empty list of values"))
            continue
        for i, value in enumerate(values):
            problems.extend(check(key, value, f"{at}[{i}]"))
    return problems


def _sweepable(key: str) -> bool:
    return _field_exists(Scenario, key) and key.split(".")[0] not in ("sweep", "name")


def _no_such_key(where: str, at: str) -> Problem:
    return Problem("error", f"{where}: {at}", "sweeps over a key that does not exist",
                   "name a scenario key such as budget.total")


def _lhs_problems(table: Any, sweep: dict[str, Any], where: str,
                  check: Callable[[str, Any, str], list[Problem]]) -> list[Problem]:
    at = f"sweep.{LHS}"
    if not isinstance(table, dict):
        return [Problem("error", f"{where}: {at}", f"got {table!r}",
                        'give a table: samples = 20, seed = 1, "budget.total" = '
                        "[1_000_000, 3_000_000]")]
    out: list[Problem] = []
    samples = table.get("samples")
    if (not isinstance(samples, int) or isinstance(samples, bool)
            or not 1 <= samples <= MAX_SAMPLES):
        out.append(Problem("error", f"{where}: {at}.samples", f"got {samples!r}",
                           f"give the number of scenarios to draw, 1 to {MAX_SAMPLES:,}"))
    seed = table.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        out.append(Problem("error", f"{where}: {at}.seed", f"got {seed!r}",
                           "give a whole number >= 0 (default: the scenario's seed)"))
    keys = [k for k in table if k not in _LHS_SETTINGS]
    if not keys:
        out.append(Problem("error", f"{where}: {at}", "names no key to vary",
                           'add a range such as "budget.total" = [1_000_000, 3_000_000]'))
    for key in keys:
        span, key_at = table[key], f"{at}.{key}"
        if not _sweepable(key):
            out.append(_no_such_key(where, key_at))
            continue
        kind = number_type(key)
        if kind is None:
            out.append(Problem("error", f"{where}: {key_at}",
                               "a Latin hypercube varies numbers and this key is not one",
                               "vary it in the grid instead: a list of values under [sweep]"))
            continue
        if key in sweep:
            out.append(Problem("error", f"{where}: {key_at}",
                               "is also in the grid of [sweep]", "vary it in one design only"))
            continue
        numbers = isinstance(span, list | tuple) and len(span) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in span)
        if not numbers or span[0] > span[1]:
            out.append(Problem("error", f"{where}: {key_at}", f"got {span!r}",
                               "give the range to draw from as [low, high], low <= high"))
            continue
        if kind is int and not all(isinstance(v, int) for v in span):
            out.append(Problem("error", f"{where}: {key_at}", f"got {span!r}",
                               f"{key} takes whole numbers; give whole-number ends"))
            continue
        for i, value in enumerate(span):
            out.extend(check(key, value, f"{key_at}[{i}]"))
    return out



def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    parts = dotted.split(".")
    out = dict(raw)
    node = out
    for part in parts[:-1]:
        child = dict(node.get(part) or {})
        node[part] = child
        node = child
    node[parts[-1]] = value
    return out
