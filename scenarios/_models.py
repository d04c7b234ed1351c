"""The typed, frozen pydantic models of a scenario file: its sections (scoring, outlets,
events, staff, campaigns, simulation, calibration; the money tables in
``scenarios._money_models``) and the resolved :class:`Scenario`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from geo._pydantic import validation_problems
from geo.assumptions import EVENT_MAX_WALK_MIN, MINUTES_PER_VISIT, VISITS_PER_CUSTOMER_WEEK
from geo.contract import INDICATORS, SITE_KINDS
from geo.errors import Problem
from scenarios._model_types import (
    NAME_PATTERN,
    WEEKS_PER_QUARTER,
    Channel,
    Money,
    Share,
    WeekRange,
    _Frozen,
    opening_week,
)
from scenarios._money_models import Budget, Finance, OnlineShare, Policy, Targets
from simulation.params import SEGMENT_HELP, unknown_segments

__all__ = ["NAME_PATTERN", "Budget", "Calibration", "Campaign", "Channel", "EventKind",
           "Events", "Finance", "Money", "OnlineShare", "Outlets", "Policy", "Scale", "Scenario",
           "Scoring", "Share", "Simulation", "Staff", "Targets", "Van", "WeekRange",
           "horizon_problems"]


class Scoring(_Frozen):
    """Weights of community indicators (negative: a cost), the normalization, and the
    fewest adults a community needs to be scored (default: a tenth of the median
    community's; docs/scoring.md)."""

    weights: dict[str, float] = Field(default_factory=lambda: {
        "youth_share": 0.3, "income": 0.2, "access_gap": 0.3, "competition": -0.2})
    normalization: Literal["minmax", "rank", "z"] = "minmax"
    min_adults: Annotated[float, Field(ge=0)] | None = None

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
    objective: Literal["max_coverage", "p_median", "max_capture", "max_share",
                       "target_share", "p_center", "set_cover",
                       "min_cost"] = "max_coverage"
    #: objective "set_cover": the most demand weight within reach of two outlets (each
    #: point still within reach of one), within max_new and the budgets
    backup: bool = False
    #: objective "min_cost": a year's cost of an adult's minute of travel to the outlet
    #: serving it, and of an adult no outlet serves (opening costs: capex annualized
    #: over finance.capex_life_years at finance.discount_rate, plus opex)
    cost_per_adult_minute: Money | None = None
    cost_per_unserved_adult: Money | None = None
    #: objectives "max_coverage" and "max_capture": a year's value of each adult covered
    #: (or captured), weighed against the openings' yearly cost (capex annualized by
    #: [finance], plus opex): the plan opens a site only where it pays
    value_per_covered_adult: Annotated[float, Field(gt=0)] | None = None
    #: objective "target_share": the share of the demand weight to capture (Huff rule)
    target_share: Share | None = None
    capex_budget: Money = 3_000_000
    opex_budget: Money | None = None
    max_new: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"micro_branch": 3, "smart_atm": 10})
    coverage_minutes: Annotated[float, Field(gt=0, le=120)] = 15
    min_coverage_share: Share | None = None
    min_spacing_m: Annotated[float, Field(ge=0)] = 0
    allow_closures: bool = False
    #: a rollout: the sites open quarter by quarter, each quarter spending at most
    #: capex_per_quarter (one figure, or one per quarter) plus what earlier quarters left
    #: (capex_budget still caps the whole); the simulation opens each site at the start
    #: of its quarter (week 13 (q - 1) + 1)
    quarters: Annotated[int, Field(ge=1, le=40)] = 1
    #: visits a week each adult of a demand point makes to its outlet: with it, every
    #: objective but max_share and target_share serves the demand within each kind's
    #: capacity_per_week (area.toml [kinds]); default none (no capacity rows)
    visits_per_adult: Annotated[float, Field(gt=0)] | None = None
    capex_per_quarter: Money | list[Money] | None = None
    #: false: each quarter's openings within its own capex_per_quarter (no carry-over)
    carry_over: bool = True

    @model_validator(mode="after")
    def _rollout(self) -> Outlets:
        if self.quarters == 1:
            if self.capex_per_quarter is not None:
                raise ValueError("capex_per_quarter is for a rollout over quarters: set "
                                 "quarters > 1, or use capex_budget")
            return self
        from optimizer import ROLLOUT_OBJECTIVES

        if self.capex_per_quarter is None:
            raise ValueError(f"quarters = {self.quarters} needs capex_per_quarter, the capex "
                             "a quarter may spend (one figure, or a list of one per quarter)")
        if isinstance(self.capex_per_quarter, list) \
                and len(self.capex_per_quarter) not in (1, self.quarters):
            raise ValueError(f"capex_per_quarter has {len(self.capex_per_quarter)} figures "
                             f"for {self.quarters} quarters; give one, or one per quarter")
        if self.objective not in ROLLOUT_OBJECTIVES:
            raise ValueError(f"quarters = {self.quarters}: a rollout takes objective "
                             f"{' or '.join(repr(o) for o in ROLLOUT_OBJECTIVES)}, not "
                             f"{self.objective!r}; set quarters = 1 for {self.objective}")
        given = {"allow_closures": self.allow_closures or None,
                 "min_coverage_share": self.min_coverage_share,
                 "visits_per_adult": self.visits_per_adult}
        for key, value in given.items():  # as optimizer.site_outlets refuses them
            if value is not None:
                raise ValueError(f"quarters = {self.quarters}: a rollout does not take "
                                 f"{key}; leave it out or set quarters = 1")
        return self

    @model_validator(mode="after")
    def _valued_coverage(self) -> Outlets:
        if self.value_per_covered_adult is None:
            return self
        if self.objective not in ("max_coverage", "max_capture"):
            raise ValueError(f"value_per_covered_adult is for objective 'max_coverage' or "
                             f"'max_capture', not {self.objective!r}; leave it out")
        if self.quarters > 1:
            raise ValueError("value_per_covered_adult does not take a rollout yet: set "
                             "quarters = 1 or leave it out")
        return self

    @model_validator(mode="after")
    def _capacity_rows(self) -> Outlets:
        if self.visits_per_adult is not None and self.objective in ("max_share",
                                                                    "target_share"):
            raise ValueError(f"objective = {self.objective!r} does not take visits_per_adult "
                             "(its shares are not assignments); leave it out")
        return self

    @model_validator(mode="after")
    def _target_given(self) -> Outlets:
        if self.objective == "target_share" and not self.target_share:
            raise ValueError("objective = \"target_share\" needs target_share, the share "
                             "of the demand to capture (such as target_share = 0.3)")
        if self.objective == "min_cost" and (self.cost_per_adult_minute is None
                                             or self.cost_per_unserved_adult is None):
            raise ValueError("objective = \"min_cost\" needs cost_per_adult_minute and "
                             "cost_per_unserved_adult (a year's money each)")
        return self

    @field_validator("max_new")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(SITE_KINDS))
        if unknown:
            raise ValueError(f"unknown outlet kind(s) {unknown}; expected {', '.join(SITE_KINDS)}")
        return value


class Van(_Frozen):
    """A mobile van's week (optimizer.plan_van): which of its stops it serves on which
    days, the most adults reached at least once a week; the simulation gives the stops'
    communities its access on those days."""

    enabled: bool = False
    #: an own outlet where the van starts and ends each day (default: the own branch
    #: nearest the stops' centre)
    home: str | None = None
    #: candidate site ids (default: every candidate site that allows a mobile_van)
    stops: tuple[str, ...] = ()
    days: Annotated[int, Field(ge=1, le=7)] = 5
    day_hours: Annotated[float, Field(gt=0, le=24)] = 8.0
    hours_per_stop: Annotated[float, Field(gt=0, le=24)] = 2.0
    coverage_minutes: Annotated[float, Field(gt=0, le=120)] = 15


EventKind = Literal["financial_literacy", "parent_child", "anti_fraud"]


def _default_events() -> dict[EventKind, int]:
    return {"financial_literacy": 6, "anti_fraud": 4, "parent_child": 2}


class Events(_Frozen):
    """Community events: how many of each type, in which weeks (default: the first 12, or
    the whole run when it is shorter), with what money and staff; ``communities``: plan
    for the residents of these communities only (default: all)."""

    enabled: bool = True
    count: dict[EventKind, Annotated[int, Field(ge=0)]] = Field(
        default_factory=_default_events)
    weeks: WeekRange | None = None
    budget: Money | None = 25_000
    staff_per_week: Annotated[float, Field(ge=0)] | None = None
    max_walk_minutes: Annotated[float, Field(gt=0, le=120)] = EVENT_MAX_WALK_MIN
    communities: tuple[str, ...] = ()
    #: how long the solver may look for the plan (seconds): a large city's many events
    #: may need more than the default
    time_limit_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0


class Staff(_Frozen):
    """Relationship managers available, and their hours."""

    enabled: bool = True
    relationship_managers: Annotated[int, Field(ge=0)] = 40
    hours_per_week: Annotated[float, Field(gt=0, le=80)] = 40
    visits_per_customer_week: Annotated[float, Field(ge=0)] = VISITS_PER_CUSTOMER_WEEK
    minutes_per_visit: Annotated[float, Field(gt=0)] = MINUTES_PER_VISIT


#: A campaign's weeks when it gives none.
DEFAULT_CAMPAIGN_WEEKS: tuple[int, int] = (1, 52)


class Campaign(_Frozen):
    """One campaign: a channel, target segments, a week range and its spend."""

    channel: Channel
    segments: tuple[str, ...] = ()
    weeks: WeekRange = DEFAULT_CAMPAIGN_WEEKS
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
    """The agent-based simulation: horizon and replications; ``customer_share``: the
    share of adults who are customers where the area has no ``customers`` column (default:
    area.toml's, else 13%)."""

    enabled: bool = True
    weeks: Annotated[int, Field(ge=1, le=520)] = 52
    replications: Annotated[int, Field(ge=1, le=1000)] = 20
    max_agents: Annotated[int, Field(ge=100)] = 200_000
    customer_share: Share | None = None


class Scale(_Frozen):
    """The adults a scenario's staff, budgets, campaign spend and event counts are written
    for: on an area with another number of adults they scale with its adults
    (:func:`scenarios.scale.scaled_to_area`; docs/scenarios.md, "On another area").
    ``written_for``: set on a scaled scenario, to the adults it was written for."""

    adults: Annotated[float, Field(gt=0)] | None = None
    written_for: Annotated[float, Field(gt=0)] | None = None


class Calibration(_Frozen):
    """The model's parameters fitted to the bank's own history by ``sitesim calibrate``
    (docs/calibration.md): ``file`` the calibration it wrote; with ``fixed`` the runs use
    the estimates, else each replication draws its parameters from their uncertainty."""

    file: str | None = None
    fixed: bool = False


class Scenario(_Frozen):
    """A resolved scenario: what to decide, with which rules, on which area."""

    name: Annotated[str, Field(min_length=1, pattern=NAME_PATTERN)]
    description: str = ""
    area: str = "builtin:sample-city"
    seed: Annotated[int, Field(ge=0)] = 0
    scoring: Scoring = Field(default_factory=Scoring)
    outlets: Outlets = Field(default_factory=Outlets)
    budget: Budget = Field(default_factory=Budget)
    staff: Staff = Field(default_factory=Staff)
    events: Events = Field(default_factory=Events)
    van: Van = Field(default_factory=Van)
    campaigns: tuple[Campaign, ...] = ()
    simulation: Simulation = Field(default_factory=Simulation)
    targets: Targets = Field(default_factory=Targets)
    finance: Finance = Field(default_factory=Finance)
    calibration: Calibration = Field(default_factory=Calibration)
    scale: Scale = Field(default_factory=Scale)
    sweep: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _finance_keys(cls, raw: Any) -> Any:
        """``budget.capex_life_years`` and ``budget.discount_rate`` (written before
        ``[finance]`` held them) are read as ``finance``'s, where it does not set them."""
        if not isinstance(raw, dict) or not isinstance(raw.get("budget"), dict):
            return raw
        moved = {k: raw["budget"][k] for k in ("capex_life_years", "discount_rate")
                 if k in raw["budget"]}
        if not moved:
            return raw
        finance = dict(raw.get("finance") or {})
        return {**raw, "budget": {k: v for k, v in raw["budget"].items() if k not in moved},
                "finance": {**moved, **finance}}

    @model_validator(mode="after")
    def _campaign_weeks(self) -> Scenario:
        late = horizon_problems(
            self.model_dump(mode="json", include={"simulation", "campaigns", "events",
                                                 "budget"}), "")
        if late:
            raise ValueError("; ".join(f"{p.where.removeprefix(': ')} = {p.message}, "
                                       f"{p.fix}" for p in late))
        return self

    @model_validator(mode="after")
    def _rollout_in_the_run(self) -> Scenario:
        o = self.outlets
        if not o.enabled or o.quarters == 1:
            return self
        last = opening_week(o.quarters)
        if self.simulation.enabled and last > self.simulation.weeks:
            raise ValueError(f"outlets.quarters = {o.quarters}: quarter {o.quarters} starts in "
                             f"week {last}, after the simulation's {self.simulation.weeks} "
                             f"weeks; lower outlets.quarters to "
                             f"{(self.simulation.weeks - 1) // WEEKS_PER_QUARTER + 1} or "
                             "lengthen simulation.weeks")
        if self.budget.includes_outlets:
            raise ValueError("budget.includes_outlets weighs each outlet for a whole year: "
                             "it does not take a rollout (outlets.quarters > 1); set "
                             "outlets.quarters = 1 or budget.includes_outlets = false")
        return self

    @model_validator(mode="after")
    def _sweep_design(self) -> Scenario:
        if self.sweep:
            from scenarios._sweep import sweep_problems  # it validates Scenarios

            raw = self.model_dump(mode="json")
            problems = sweep_problems(raw, "scenario")
            if problems:
                raise ValueError("; ".join(f"{p.where}: {p.message}" for p in problems))
        return self


def horizon_problems(raw: Mapping[str, Any], where: str) -> list[Problem]:
    """Every campaign, and the events' and the budget's windows, that end after the
    simulation's horizon, each with its own key path (checked on the raw tables, so also
    when other keys are wrong)."""
    sim, campaigns = raw.get("simulation"), raw.get("campaigns")
    weeks = sim.get("weeks", 52) if isinstance(sim, dict) else 52
    if not isinstance(weeks, int):
        return []
    # a campaign without weeks runs the default weeks 1-52, which a shorter run cuts
    spans = [(f"campaigns[{i}].weeks", c.get("weeks", DEFAULT_CAMPAIGN_WEEKS)
              if isinstance(c, dict) else None)
             for i, c in enumerate(campaigns if isinstance(campaigns, list | tuple) else [])]
    for table in ("events", "budget"):
        section = raw.get(table)
        spans.append((f"{table}.weeks", section.get("weeks") if isinstance(section, dict)
                      else None))
    return [Problem("error", f"{where}: {key}",
                    f"{list(span)}{' (the default)' if span is DEFAULT_CAMPAIGN_WEEKS else ''}"
                    f" ends after the simulation's {weeks} weeks",
                    f"end it by week {weeks} or lengthen simulation.weeks")
            for key, span in spans
            if isinstance(span, list | tuple) and len(span) == 2
            and all(isinstance(w, int) for w in span) and span[1] > weeks]


def _validate(raw: dict[str, Any], where: str) -> tuple[Scenario | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, where, "", Scenario)
        # the horizon check once per key, from the raw tables, not again from the model
        problems = [p for p in problems if not (
            p.where == f"{where}: (top level)" and p.message.startswith(
                ("campaigns[", "events.weeks", "budget.weeks")))]
        return None, problems + horizon_problems(raw, where)
    return scenario, problems
