"""The typed, frozen pydantic models of a scenario file: its sections (scoring, outlets,
events, budget, staff, campaigns, simulation) and the resolved :class:`Scenario`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

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
from geo.contract import INDICATORS, SITE_KINDS
from geo.errors import Problem
from simulation.params import SEGMENT_HELP, unknown_segments

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


#: What a scenario name may be (a run id is the name, a dash and 8 hex digits).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class OnlineShare(_Frozen):
    """The online channels' share of the budget's spend: at least ``min``, at most ``max``,
    or ``exact`` (a plain number for ``online_share`` is the least)."""

    min: Share | None = None
    max: Share | None = None
    exact: Share | None = None

    @model_validator(mode="after")
    def _bounds(self) -> OnlineShare:
        if self.exact is not None and (self.min is not None or self.max is not None):
            raise ValueError("give exact, or min and/or max, not both")
        if self.exact is None and self.min is None and self.max is None:
            raise ValueError("give min, max or exact")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min = {self.min} is above max = {self.max}")
        return self

    def bounds(self) -> tuple[float | None, float | None]:
        """(least, most) share."""
        if self.exact is not None:
            return self.exact, self.exact
        return self.min, self.max


class Budget(_Frozen):
    """The marketing budget and the bank's rules for splitting it."""

    enabled: bool = True
    total: Money = 2_000_000
    #: A least share (a number) or {min, max, exact} (:class:`OnlineShare`).
    online_share: OnlineShare | None = None
    min_roi: Annotated[float, Field(ge=0)] | None = None
    max_cac: Annotated[float, Field(gt=0)] | None = None
    policy: Policy = Field(default_factory=Policy)
    quarterly: bool = False
    #: What the split maximizes: new customers, their lifetime value ("value",
    #: docs/scenarios.md "Lifetime value") or a year's margin on their deposits ("margin").
    objective: Literal["customers", "value", "margin"] = "customers"
    inclusion: dict[str, Share] = Field(default_factory=dict)
    curves: str | None = None
    #: Rounds of plan, simulate, correct (docs/scenarios.md, "Plans that hold up").
    rounds: Annotated[int, Field(ge=1, le=10)] = 3
    #: Last year's split: a CSV or Parquet file of community_id, channel, spend.
    previous: str | None = None
    #: One budget for the year: ``total`` pays for the new outlets too (their capex
    #: annualized by ``[finance]``, plus opex with staff), and the optimizer splits it
    #: (docs/scenarios.md, "One budget for outlets and marketing").
    includes_outlets: bool = False
    #: The weeks the budget's campaigns run (default: the whole run). ``sitesim replan``
    #: sets the weeks after the re-plan's week; the sweep then runs over these weeks on
    #: top of the scenario's own campaigns (docs/scenarios.md, "Writing a scenario").
    weeks: WeekRange | None = None

    @model_validator(mode="after")
    def _weeks(self) -> Budget:
        if self.weeks is None:
            return self
        if self.includes_outlets:
            raise ValueError("weeks is set with includes_outlets = true: the outlets' cost "
                             "is a year's; give the whole year to one budget, or set "
                             "includes_outlets = false")
        if self.quarterly and self.weeks[1] - self.weeks[0] < 3:
            raise ValueError(f"weeks {list(self.weeks)} with quarterly = true: four quarters "
                             "need at least 4 weeks; give more weeks or quarterly = false")
        return self

    @field_validator("online_share", mode="before")
    @classmethod
    def _least(cls, value: Any) -> Any:
        """A plain number is the least share, as it always was."""
        return {"min": value} if isinstance(value, int | float) else value

    @field_validator("inclusion")
    @classmethod
    def _segments(cls, value: dict[str, float]) -> dict[str, float]:
        bad = unknown_segments(tuple(value))
        if bad:
            raise ValueError(f"unknown segment(s) {bad}; expected {SEGMENT_HELP}")
        return value


class Finance(_Frozen):
    """How money over time is counted (docs/scenarios.md, "All the money"): capex
    annualized over ``capex_life_years`` at ``discount_rate`` (the capital recovery
    factor), net present value and payback over ``horizon_years``, and a relationship
    manager's cost a year. Defaults: 7 years, the longest ATM depreciation period the
    ATM Industry Association's survey of 400 members found commonly accepted (5-7, 7 for
    multi-function machines; 2003); 10%, the euro area banks' cost of equity (Altavilla
    et al., ECB Occasional Paper 254, 2021: a median close to 10%); 5 years (assumption:
    a planning horizon shorter than the outlets' life); 55,000 a year (assumption: about
    3,500 a month over 12.5 months with holiday pay, plus about 25% employer's
    contributions)."""

    capex_life_years: Annotated[float, Field(gt=0, le=50)] = 7.0
    discount_rate: Annotated[float, Field(ge=0, le=0.5)] = 0.10
    horizon_years: Annotated[int, Field(ge=1, le=30)] = 5
    staff_cost_per_year: Money = 55_000


class Targets(_Frozen):
    """The bank's policy targets every comparison marks each run against
    (docs/scenarios.md, "Targets"). Defaults: the marketing policy sitesim was written for
    (campaign ROI at least 3:1, cost per acquisition at most 50, customer retention at
    least 75%, the budget split 20% maintenance / 40% growth / 30% brand / 10% reserve,
    online:offline 60:40); set any to another figure, list those not to check in
    ``ignore``, or ``enabled = false`` for none. The tolerances are an assumption (5
    points either way)."""

    enabled: bool = True
    min_roi: Annotated[float, Field(ge=0)] = 3.0
    #: The ROI the target judges: over the new customers' lifetime value (``roi_clv``,
    #: docs/scenarios.md "Lifetime value") or a year's margin (``roi``).
    roi_kpi: Literal["roi_clv", "roi"] = "roi_clv"
    max_cac: Annotated[float, Field(gt=0)] = 50.0
    min_retention: Share = 0.75
    policy: Policy = Field(default_factory=Policy)
    policy_tolerance: Share = 0.05
    online_share: Share = 0.60
    online_tolerance: Share = 0.05
    ignore: tuple[Literal["min_roi", "max_cac", "min_retention", "policy",
                          "online_share"], ...] = ()


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
    campaigns: tuple[Campaign, ...] = ()
    simulation: Simulation = Field(default_factory=Simulation)
    targets: Targets = Field(default_factory=Targets)
    finance: Finance = Field(default_factory=Finance)
    calibration: Calibration = Field(default_factory=Calibration)
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
