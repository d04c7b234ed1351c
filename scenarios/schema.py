"""Scenario files: typed, frozen pydantic models; ``extends``; every error at once.

The layout follows DESIGN.md. A scenario is read with :func:`load_scenario`, which resolves
``extends`` chains (detecting cycles), merges tables (a child's keys win; lists are
replaced whole), resolves the area path relative to the file, and validates the result.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from geo._pydantic import validation_problems
from geo.assumptions import EVENT_MAX_WALK_MIN, MINUTES_PER_VISIT, VISITS_PER_CUSTOMER_WEEK
from geo.contract import SITE_KINDS
from geo.errors import InputError, Problem
from geo.scoring import INDICATORS
from simulation.params import CHANNELS, SEGMENT_HELP, unknown_segments

__all__ = [
    "CHANNELS",
    "INDICATORS",
    "Budget",
    "Campaign",
    "Events",
    "Outlets",
    "Scenario",
    "ScenarioError",
    "Scoring",
    "Simulation",
    "Staff",
    "load_scenario",
    "sweep_problems",
]


Channel = Literal["community_event", "social_media", "sms", "merchant_alliance",
                  "referral_bonus", "outlet_promo", "kol_live"]
Share = Annotated[float, Field(ge=0, le=1)]


def _ordered(value: tuple[int, int]) -> tuple[int, int]:
    if value[0] > value[1]:
        raise ValueError(f"weeks {list(value)} end before they start; give [first, last]")
    return value


#: [first, last] week, both from 1, first <= last.
WeekRange = Annotated[tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]],
                      AfterValidator(_ordered)]
Money = Annotated[float, Field(ge=0)]


class ScenarioError(InputError):
    """A scenario file has problems; ``problems`` lists each with its key path."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scoring(_Frozen):
    """Weights of community indicators (negative: a cost), and the normalization."""

    weights: dict[str, float] = Field(default_factory=lambda: {
        "youth_share": 0.3, "income": 0.2, "access_gap": 0.3, "competition": -0.2})
    normalization: Literal["minmax", "rank", "z"] = "minmax"

    @field_validator("weights")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(INDICATORS))
        if unknown:
            raise ValueError(f"unknown indicator(s) {unknown}; expected some of "
                             f"{', '.join(INDICATORS)}")
        if value and all(w == 0 for w in value.values()):
            raise ValueError("all weights are 0; give at least one non-zero weight")
        return value


class Outlets(_Frozen):
    """Outlet siting: objective and limits (money in the area's currency)."""

    enabled: bool = True
    objective: Literal["max_coverage", "p_median", "max_capture"] = "max_coverage"
    capex_budget: Money = 3_000_000
    opex_budget: Money | None = None
    max_new: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"micro_branch": 3, "smart_atm": 10})
    coverage_minutes: Annotated[float, Field(gt=0, le=120)] = 15
    min_coverage_share: Share | None = None
    min_spacing_m: Annotated[float, Field(ge=0)] = 0
    allow_closures: bool = False

    @field_validator("max_new")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(SITE_KINDS))
        if unknown:
            raise ValueError(f"unknown outlet kind(s) {unknown}; expected {', '.join(SITE_KINDS)}")
        return value


EventKind = Literal["financial_literacy", "parent_child", "anti_fraud"]


def _default_events() -> dict[EventKind, int]:
    return {"financial_literacy": 6, "anti_fraud": 4, "parent_child": 2}


class Events(_Frozen):
    """Community events: how many of each type, in which weeks, with what money and staff;
    ``communities``: plan for the residents of these communities only (default: all)."""

    enabled: bool = True
    count: dict[EventKind, Annotated[int, Field(ge=0)]] = Field(
        default_factory=_default_events)
    weeks: WeekRange = (1, 12)
    budget: Money | None = 25_000
    staff_per_week: Annotated[float, Field(ge=0)] | None = None
    max_walk_minutes: Annotated[float, Field(gt=0, le=120)] = EVENT_MAX_WALK_MIN
    communities: tuple[str, ...] = ()


class Policy(_Frozen):
    """Shares of the budget by purpose; they must sum to 1."""

    maintenance: Share = 0.2
    growth: Share = 0.4
    brand: Share = 0.3
    reserve: Share = 0.1

    @model_validator(mode="after")
    def _sums_to_one(self) -> Policy:
        total = self.maintenance + self.growth + self.brand + self.reserve
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"policy shares sum to {total:g}; they must sum to 1")
        return self


class Budget(_Frozen):
    """The marketing budget and the bank's rules for splitting it."""

    enabled: bool = True
    total: Money = 2_000_000
    online_share: Share | None = None
    min_roi: Annotated[float, Field(ge=0)] | None = None
    max_cac: Annotated[float, Field(gt=0)] | None = None
    policy: Policy = Field(default_factory=Policy)
    quarterly: bool = False
    objective: Literal["customers", "value"] = "customers"
    inclusion: dict[str, Share] = Field(default_factory=dict)
    curves: str | None = None

    @field_validator("inclusion")
    @classmethod
    def _segments(cls, value: dict[str, float]) -> dict[str, float]:
        bad = unknown_segments(tuple(value))
        if bad:
            raise ValueError(f"unknown segment(s) {bad}; expected {SEGMENT_HELP}")
        return value


class Staff(_Frozen):
    """Relationship managers available, and their hours."""

    enabled: bool = True
    relationship_managers: Annotated[int, Field(ge=0)] = 40
    hours_per_week: Annotated[float, Field(gt=0, le=80)] = 40
    visits_per_customer_week: Annotated[float, Field(ge=0)] = VISITS_PER_CUSTOMER_WEEK
    minutes_per_visit: Annotated[float, Field(gt=0)] = MINUTES_PER_VISIT


class Campaign(_Frozen):
    """One campaign: a channel, target segments, a week range and its spend."""

    channel: Channel
    segments: tuple[str, ...] = ()
    weeks: WeekRange = (1, 52)
    spend: Money
    communities: tuple[str, ...] = ()

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = unknown_segments(value)
        if bad:
            raise ValueError(f"unknown segment(s) {bad}; expected {SEGMENT_HELP}")
        return value


class Simulation(_Frozen):
    """The agent-based simulation: horizon and replications."""

    enabled: bool = True
    weeks: Annotated[int, Field(ge=1, le=520)] = 52
    replications: Annotated[int, Field(ge=1, le=1000)] = 20
    max_agents: Annotated[int, Field(ge=100)] = 200_000


class Scenario(_Frozen):
    """A resolved scenario: what to decide, with which rules, on which area."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    description: str = ""
    area: str = "builtin:sample-city"
    seed: Annotated[int, Field(ge=0)] = 0
    scoring: Scoring = Field(default_factory=Scoring)
    outlets: Outlets = Field(default_factory=Outlets)
    budget: Budget = Field(default_factory=Budget)
    staff: Staff = Field(default_factory=Staff)
    events: Events = Field(default_factory=Events)
    campaigns: tuple[Campaign, ...] = ()
    simulation: Simulation = Field(default_factory=Simulation)
    sweep: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _campaign_weeks(self) -> Scenario:
        late = [i for i, c in enumerate(self.campaigns) if c.weeks[1] > self.simulation.weeks]
        if late:
            i = late[0]
            raise ValueError(
                f"campaigns[{i}].weeks = {list(self.campaigns[i].weeks)} ends after the "
                f"simulation's {self.simulation.weeks} weeks; end it by week "
                f"{self.simulation.weeks} or lengthen simulation.weeks")
        return self

    @model_validator(mode="after")
    def _sweep_design(self) -> Scenario:
        if self.sweep:
            raw = self.model_dump(mode="json")
            problems = sweep_problems(raw, "scenario")
            if problems:
                raise ValueError("; ".join(f"{p.where}: {p.message}" for p in problems))
        return self


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
    if isinstance(raw.get("area"), str) and not raw["area"].startswith("builtin:"):
        raw["area"] = str((path.parent / raw["area"]).resolve())
    budget = raw.get("budget")
    if isinstance(budget, dict) and isinstance(budget.get("curves"), str):
        budget["curves"] = str((path.parent / budget["curves"]).resolve())
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        problems.append(Problem("error", f"{path}: extends", f"got {parent!r}",
                                "give the path of another scenario file as text"))
        return raw
    base = _read_chain(path.parent / parent, (*seen, path), problems)
    return _merge(base, raw)


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


def _validate(raw: dict[str, Any], where: str) -> tuple[Scenario | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, where, "")
        return None, problems
    return scenario, problems


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve and validate a scenario file.

    Raises
    ------
    ScenarioError
        Every problem at once, each naming the file, the key path, the value and the fix.
    """
    path = Path(path)
    problems: list[Problem] = []
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
    if scenario is None:
        problems.extend(_late_campaigns(raw, where))
    area = raw.get("area", "builtin:sample-city")
    if isinstance(area, str) and not area.startswith("builtin:") and not Path(area).exists():
        problems.append(Problem("error", f"{where}: area", f"no study area at {area!r}",
                                "give a pack folder (relative to the scenario file) or "
                                "builtin:sample-city"))
    if problems or scenario is None:
        raise ScenarioError(f"{path}: {len(problems)} problem(s)", problems)
    return scenario


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


def _late_campaigns(raw: dict[str, Any], where: str) -> list[Problem]:
    """The campaign-weeks check, also when other errors stopped the model's own check."""
    weeks = (raw.get("simulation") or {}).get("weeks", 52)
    out = []
    for i, c in enumerate(raw.get("campaigns") or []):
        span = c.get("weeks") if isinstance(c, dict) else None
        if (isinstance(weeks, int) and isinstance(span, list) and len(span) == 2
                and all(isinstance(w, int) for w in span) and span[1] > weeks):
            out.append(Problem("error", f"{where}: campaigns[{i}].weeks",
                               f"{span} ends after the simulation's {weeks} weeks",
                               f"end it by week {weeks} or lengthen simulation.weeks"))
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
