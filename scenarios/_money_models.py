"""The scenario's money tables: the budget and the bank's rules for splitting it (policy,
online share), how money over time is counted (finance) and the targets every run is
marked against."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from scenarios._model_types import Money, Share, WeekRange, _Frozen
from simulation.params import SEGMENT_HELP, unknown_segments


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
