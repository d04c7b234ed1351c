"""The budget plan checked by its own simulation (docs/scenarios.md, "Plans that hold up").

:func:`closed_loop`: the optimizer plans on the response curves; the simulation runs the
plan (the scenario's own simulation, replications and counterfactual); when the
simulated uplift of the budget's campaigns falls outside the forecast's tolerance (the
simulation's 95% interval widened by :data:`TOLERANCE` of its mean), the curves are
corrected around the plan and the plan is made again, up to ``budget.rounds`` rounds.
The correction is a local sweep at the planned spend: each channel's campaigns are left
out of the plan in turn, with the same random numbers, and what the simulation loses is
the channel's contribution at the plan; its curves are scaled to it. The sum of those
contributions against the plan's whole uplift is the cross-channel effect (word of mouth
carrying one channel's customers into another's), measured and reported.

:func:`simple_rules`: the same money split by the rules a manager would use, simulated
with the same random numbers as the plan; the plan's paired advantage over each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import InputError
from optimizer import PlanInfeasibleError
from scenarios._sweep_size import LOCAL_REPLICATIONS
from simulation import (
    Campaign,
    ReplicationResult,
    SimulationParams,
    Venues,
    new_customers_by_replication,
    run_replications,
    t_interval,
)

__all__ = [
    "MARGINAL_STEP",
    "PER_ADULT_TOLERANCE",
    "TOLERANCE",
    "LoopResult",
    "MarginalCheck",
    "Round",
    "RuleResult",
    "agrees",
    "campaigns_from_budget",
    "closed_loop",
    "marginal_check",
    "simple_rules",
]

#: The forecast agrees with the simulation when it lies within the simulated 95%
#: interval widened by this share of the simulated mean on each side.
TOLERANCE = 0.05
#: Communities whose planned spend per adult differs by less than this share share a
#: campaign (each then gets its spend to within this share).
PER_ADULT_TOLERANCE = 0.005
#: A channel's correction at one round is kept within these factors.
CORRECTION_BOUNDS = (0.25, 4.0)
#: The finite difference of the marginal check: the plan at ``total x (1 + step)``.
MARGINAL_STEP = 0.10

def campaigns_from_budget(plan: pd.DataFrame, adults: pd.Series, weeks: int,
                          quarterly: bool, *, first: int = 1) -> list[Campaign]:
    """Campaigns for the simulation from a budget plan: per channel (and quarter), one
    campaign for each group of communities that spend the same per adult (within
    :data:`PER_ADULT_TOLERANCE`). The model spreads a campaign's spend evenly over its
    residents, so every community gets the spend per adult the plan gives it: a
    community curve's spend is the spend the simulation makes there. The campaigns run
    in weeks ``first`` to ``weeks`` (``budget.weeks``), quarterly in four equal parts."""
    out = []
    spend = plan[plan["spend"] > 1e-6].assign(
        community_id=lambda f: f["community_id"].astype(str))
    adults = adults.set_axis(adults.index.astype(str))
    unknown = sorted(set(spend["community_id"]) - set(adults.index))
    if unknown:  # spend the simulation could not make: never dropped silently
        raise InputError(f"the budget plan spends in {len(unknown)} community id(s) the area "
                         f"does not have ({', '.join(unknown[:5])}); give curves "
                         "(budget.curves) whose community_id are the area's")
    for (channel, quarter), g in spend.groupby(["channel", "quarter"], sort=True):
        if quarterly:  # four parts as equal as whole weeks allow (at least 4 weeks)
            part = np.array_split(np.arange(first, weeks + 1), 4)[int(str(quarter)) - 1]
            start, last = int(part[0]), int(part[-1])
        else:
            start, last = first, weeks
        per_adult = g["spend"].to_numpy() / np.maximum(
            adults.loc[g["community_id"]].to_numpy(float), 1.0)
        band = np.round(np.log(per_adult) / np.log1p(PER_ADULT_TOLERANCE))
        for key in np.unique(band):
            members = band == key
            out.append(Campaign(str(channel), float(g["spend"].to_numpy()[members].sum()),
                                (start, last), (),
                                tuple(str(c) for c in g["community_id"].to_numpy()[members])))
    return out


@dataclass(frozen=True)
class Round:
    """One round of the loop: the plan's forecast (new customers from the budget's
    campaigns), its simulated uplift (mean and 95% interval, paired against the scenario
    without the budget's campaigns), whether they agree, and, when they did not and a
    round followed, the correction of each channel's curves and the cross-channel gap."""

    round: int
    forecast: float
    simulated: float
    low: float
    high: float
    agrees: bool
    spend: float
    corrections: dict[str, float] = field(default_factory=dict)
    cross_channel: float | None = None

    @property
    def gap(self) -> float:
        """Forecast minus simulated, as a share of simulated."""
        return (self.forecast - self.simulated) / self.simulated if self.simulated else (
            float("nan"))

    def as_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "gap": self.gap}


@dataclass(frozen=True)
class LoopResult:
    """The final plan, its curves and simulation, and every round."""

    budget: object  # optimizer.BudgetPlan
    curves: pd.DataFrame
    campaigns: list[Campaign]
    result: ReplicationResult
    rounds: list[Round]
    budget_new: np.ndarray  # per replication: the budget campaigns' uplift
    note: str | None = None  # why the loop stopped before agreeing, when it did


def agrees(forecast: float, simulated: float, low: float, high: float) -> bool:
    """Whether ``forecast`` lies within [low, high] widened by TOLERANCE x simulated."""
    widen = TOLERANCE * abs(simulated)
    return bool(low - widen <= forecast <= high + widen)


def closed_loop(*, plan: Callable[[pd.DataFrame], object], curves: pd.DataFrame,
                inputs: pd.DataFrame, params: SimulationParams, explicit: Sequence[Campaign],
                adults: pd.Series, quarterly: bool, replications: int, seed: int,
                venues: Venues | None, rounds: int,
                progress: Callable[[str], None],
                span: tuple[int, int] | None = None) -> LoopResult:
    """Plan, simulate, compare, correct and plan again (see the module docstring).

    ``plan(curves)`` returns an optimizer.BudgetPlan; ``params`` holds the scenario's
    events (its campaigns are set here: ``explicit`` and the budget's); ``span``: the
    budget's weeks (default: the whole run).
    """
    first, weeks = span or (1, params.weeks)

    def new_customers(campaigns: Sequence[Campaign], reps: int) -> np.ndarray:
        p = dataclasses.replace(params, campaigns=tuple(campaigns))
        return new_customers_by_replication(inputs, p, replications=reps, seed=seed,
                                            venues=venues)

    # the scenario without the budget's campaigns: its explicit campaigns and events
    without = None
    history: list[Round] = []
    last: LoopResult | None = None
    for r in range(1, rounds + 1):
        try:
            budget = plan(curves)
        except PlanInfeasibleError as exc:
            if last is None:
                raise
            # the corrected curves cannot meet the scenario's limits: keep the last plan
            progress(f"round {r}: no plan on the corrected curves ({exc}); the plan of "
                     f"round {r - 1} is kept")
            return dataclasses.replace(last, note=f"round {r} found no plan on the "
                                                  f"corrected curves: {exc}")
        planned = campaigns_from_budget(budget.plan, adults, weeks,  # type: ignore[attr-defined]
                                        quarterly, first=first)
        campaigns = [*explicit, *planned]
        progress(f"simulation of the budget plan, round {r} of at most {rounds}")
        result = run_replications(inputs, dataclasses.replace(params,
                                                              campaigns=tuple(campaigns)),
                                  replications=replications, seed=seed, venues=venues)
        full = result.per_replication["new_customers"].to_numpy(float)
        if without is None:
            without = (result.per_replication["counterfactual_new_customers"].to_numpy(float)
                       if not explicit and not params.events
                       else new_customers(explicit, replications))
        uplift = full - without
        mean, _, low, high, _ = t_interval(uplift)
        forecast = float(budget.customers)  # type: ignore[attr-defined]
        ok = agrees(forecast, mean, low, high)
        spend = float(budget.spend)  # type: ignore[attr-defined]
        if ok or r == rounds:
            history.append(Round(r, forecast, mean, low, high, ok, spend))
            return LoopResult(budget, curves, campaigns, result, history, uplift)
        progress(f"round {r}: forecast {forecast:,.0f} against {mean:,.0f} simulated "
                 f"({low:,.0f} to {high:,.0f}): the curves are corrected at the plan")
        corrections, cross = _local_corrections(budget.plan, planned, explicit,  # type: ignore[attr-defined]
                                                full, new_customers, uplift)
        history.append(Round(r, forecast, mean, low, high, ok, spend, corrections, cross))
        last = LoopResult(budget, curves, campaigns, result, list(history), uplift)
        curves = curves.assign(rmax=curves["rmax"] * curves["channel"].map(
            corrections).fillna(1.0))
    raise AssertionError("unreachable")  # pragma: no cover


def _local_corrections(plan: pd.DataFrame, planned: Sequence[Campaign],
                       explicit: Sequence[Campaign], full: np.ndarray,
                       new_customers: Callable[[Sequence[Campaign], int], np.ndarray],
                       uplift: np.ndarray) -> tuple[dict[str, float], float]:
    """Each funded channel's contribution at the plan (the plan without it, paired) over
    its forecast: the factor its curves are scaled by. Also the cross-channel effect:
    the plan's uplift minus the sum of the contributions (positive when channels help
    each other)."""
    reps = min(LOCAL_REPLICATIONS, full.size)
    forecast = plan.groupby("channel")["customers"].sum()
    corrections: dict[str, float] = {}
    total = 0.0
    for channel in sorted({c.channel for c in planned}):
        rest = [c for c in planned if c.channel != channel]
        contribution = float((full[:reps] - new_customers([*explicit, *rest], reps)).mean())
        total += contribution
        if forecast.get(channel, 0.0) > 0:
            corrections[channel] = float(np.clip(contribution / forecast[channel],
                                                 *CORRECTION_BOUNDS))
    return corrections, float(uplift[:reps].mean()) - total


@dataclass(frozen=True)
class RuleResult:
    """A simple rule's split of the same money, simulated with the plan's random numbers:
    its uplift and the plan's paired advantage (mean and 95% interval)."""

    rule: str
    description: str
    spend: float
    uplift: float
    advantage: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "the plan is better"
        if self.high < 0:
            return "the rule is better"
        return "no difference beyond noise"

    def as_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "verdict": self.verdict}


def rule_splits(plan: pd.DataFrame, adults: pd.Series, previous: pd.DataFrame | None,
                others: Mapping[str, tuple[str, pd.DataFrame]] | None = None
                ) -> dict[str, tuple[str, pd.DataFrame]]:
    """The simple rules' splits of the plan's spend (``community_id``, ``channel``,
    ``spend``): equal over the plan's channels and communities; equal over the channels
    and by adults within each; last year's (``previous``) and ``others`` (by name: a
    description and a split), each scaled to the same total."""
    total = float(plan["spend"].sum())
    channels = sorted(plan["channel"].unique())
    communities = adults.index
    grid = pd.MultiIndex.from_product([communities, channels],
                                      names=["community_id", "channel"]).to_frame(index=False)
    out = {"equal": ("the same money split equally over channels and communities",
                     grid.assign(spend=total / len(grid)))}
    share = adults.reindex(grid["community_id"]).to_numpy(float) / float(adults.sum())
    out["adults"] = ("the same money split equally over channels, by adults within each",
                     grid.assign(spend=total / len(channels) * share))
    given = dict(others or {})
    if previous is not None:
        given = {"previous": ("last year's split (budget.previous)", previous), **given}
    for name, (text, split) in given.items():
        if float(split["spend"].sum()) > 0:
            scale = total / float(split["spend"].sum())
            out[name] = (f"{text}, scaled by {scale:.3g} to the same money",
                         split.assign(spend=split["spend"] * scale))
    return out


def simple_rules(*, plan: pd.DataFrame, full: np.ndarray, without: np.ndarray,
                 inputs: pd.DataFrame, params: SimulationParams,
                 explicit: Sequence[Campaign], adults: pd.Series, seed: int,
                 venues: Venues | None, previous: pd.DataFrame | None,
                 progress: Callable[[str], None], span: tuple[int, int] | None = None,
                 others: Mapping[str, tuple[str, pd.DataFrame]] | None = None
                 ) -> list[RuleResult]:
    """Each simple rule simulated beside the plan (``full``: the plan's new customers per
    replication; ``without``: the scenario's without the budget's campaigns); ``others``:
    further splits (:func:`rule_splits`); all in the budget's weeks ``span``."""
    first, last = span or (1, params.weeks)
    out = []
    for rule, (text, split) in rule_splits(plan, adults, previous, others).items():
        progress(f"simulation of a simple rule: {rule}")
        campaigns = campaigns_from_budget(split.assign(quarter=1), adults, last,
                                          quarterly=False, first=first)
        p = dataclasses.replace(params, campaigns=(*explicit, *campaigns))
        new = new_customers_by_replication(inputs, p, replications=full.size, seed=seed,
                                           venues=venues)
        mean, _, low, high, _ = t_interval(full - new)
        out.append(RuleResult(rule, text, float(split["spend"].sum()),
                              float((new - without).mean()), mean, low, high))
    return out


@dataclass(frozen=True)
class MarginalCheck:
    """What one more unit of budget buys, three ways, in new customers per unit of
    ``budget.total``: the LP's own figure (``lp``: the dual of the total, or its +1%
    re-solve, in the plan's objective), the curves' finite difference (``curves``: the
    plan re-made at ``total x (1 + step)``, forecast less forecast), and the simulation's
    (``simulated`` with its 95% interval: both plans simulated with the same random
    numbers). ``agrees``: the curves' figure lies in the simulated interval widened by
    TOLERANCE x the simulated figure."""

    step: float
    lp: float | None
    objective: str
    curves: float
    simulated: float
    low: float
    high: float
    agrees: bool

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def marginal_check(*, budget: object, bigger: object, total: float, full: np.ndarray,
                   uplift: float, inputs: pd.DataFrame, params: SimulationParams,
                   explicit: Sequence[Campaign], adults: pd.Series, quarterly: bool,
                   seed: int, venues: Venues | None, step: float = MARGINAL_STEP,
                   replications: int = LOCAL_REPLICATIONS,
                   span: tuple[int, int] | None = None) -> MarginalCheck:
    """The LP's marginal value of budget beside a finite-difference re-run of the
    simulation (``budget`` at ``total``, ``bigger`` at ``total x (1 + step)``; ``full``:
    the plan's new customers per replication, of which the first ``replications`` pair
    with the bigger plan's; ``uplift``: the plan's simulated uplift)."""
    delta = step * total
    full = full[:replications]
    first, last = span or (1, params.weeks)
    planned = campaigns_from_budget(bigger.plan, adults, last,  # type: ignore[attr-defined]
                                    quarterly, first=first)
    p = dataclasses.replace(params, campaigns=(*explicit, *planned))
    more = new_customers_by_replication(inputs, p, replications=full.size, seed=seed,
                                        venues=venues)
    mean, _, low, high, _ = t_interval((more - full) / delta)
    curves = (float(bigger.customers) - float(budget.customers)) / delta  # type: ignore[attr-defined]
    # widened by 5% of the simulated increment, as the plan's by 5% of its uplift
    return MarginalCheck(step, budget.marginal_value,  # type: ignore[attr-defined]
                         str(budget.objective_name),  # type: ignore[attr-defined]
                         curves, mean, low, high, agrees(curves, mean, low, high))
