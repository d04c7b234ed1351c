"""The budget stage of a run: curves, plan, the plan checked by its simulation round by
round, and the simple rules it must beat (scenarios.plan_check)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimizer import PlanInfeasibleError
from scenarios import plans, plans_budget
from scenarios.curves import curve_notes, curve_summary
from scenarios.plan_check import (
    MARGINAL_STEP,
    MarginalCheck,
    Round,
    RuleResult,
    campaigns_from_budget,
    closed_loop,
    marginal_check,
    simple_rules,
)
from scenarios.previous import read_previous
from simulation import Campaign, ReplicationResult, SimulationParams, Venues

__all__ = ["BudgetStage", "budget_stage"]

Stage = Callable[[str], Callable[[], None]]


@dataclass(frozen=True)
class BudgetStage:
    """What the budget stage leaves for the run: the final plan and its curves, the
    campaigns to simulate (the scenario's own and the plan's), the simulation of them
    when the loop ran it, the rounds, the rules, and warnings."""

    budget: Any  # optimizer.BudgetPlan
    curves: pd.DataFrame
    campaigns: list[Campaign]
    result: ReplicationResult | None
    rounds: list[Round]
    rules: list[RuleResult]
    warnings: list[str]
    marginal: MarginalCheck | None = None

    def summary(self) -> dict[str, object]:
        b = self.budget
        return {"status": b.status, "spend": b.spend, "customers": b.customers,
                "marginal_value": b.marginal_value, "binding": list(b.binding),
                "rounds": [r.as_dict() for r in self.rounds],
                "rules": [r.as_dict() for r in self.rules],
                "marginal_check": self.marginal.as_dict() if self.marginal else None,
                "curves": curve_summary(self.curves)}


def budget_stage(sc: Any, prep: plans.Prepared, inputs: pd.DataFrame, *,
                 explicit: Sequence[Campaign], params: SimulationParams,
                 venues: Venues | None, stage: Stage, progress: Callable[[str], None],
                 curves: pd.DataFrame | None = None,
                 total: float | None = None,
                 other_rules: Mapping[str, tuple[str, pd.DataFrame]] | None = None
                 ) -> BudgetStage:
    """Curves, plan and, with the simulation on, the loop and the rules. ``curves``:
    already made (else fitted here); ``total``: the marketing's money (default
    ``budget.total``; less the outlets' yearly cost when one budget pays for both);
    ``other_rules``: further splits to simulate beside the plan (name: description and
    ``community_id, channel, spend``; :func:`scenarios.plan_check.simple_rules`)."""
    previous = (read_previous(sc.budget.previous, prep.area.communities.index)
                if sc.budget.previous is not None else None)
    if curves is None:
        done = stage("response curves")
        table = plans_budget.response_curves(prep, inputs, progress=progress,
                                             background=explicit)
        done()
    else:
        table = curves
    money = float(sc.budget.total if total is None else total)
    span = plans_budget.budget_weeks(sc)
    warnings = [f"response curves: {line}" for line in curve_notes(table)]
    adults = prep.area.adults

    def plan(curves: pd.DataFrame) -> Any:
        return plans_budget.budget_plan(prep, curves, total=money)

    if not sc.simulation.enabled:
        done = stage("budget plan")
        budget = plan(table)
        done()
        planned = campaigns_from_budget(budget.plan, adults, span[1], sc.budget.quarterly,
                                        first=span[0])
        return BudgetStage(budget, table, [*explicit, *planned], None, [], [], warnings)
    done = stage("budget plan")  # checked by its simulation: the loop runs it
    progress(f"{sc.name}: the plan is checked by its simulation "
             f"({sc.simulation.replications} replications, at most {sc.budget.rounds} "
             "rounds)")
    loop = closed_loop(plan=plan, curves=table, inputs=inputs, params=params,
                       explicit=explicit, adults=adults, quarterly=sc.budget.quarterly,
                       replications=sc.simulation.replications, seed=sc.seed,
                       venues=venues, rounds=sc.budget.rounds,
                       progress=lambda m: progress(f"{sc.name}: {m}"), span=span)
    done()
    last = loop.rounds[-1]
    if loop.note:
        warnings.append(f"budget plan: {loop.note}")
    if not last.agrees:
        warnings.append(
            f"budget plan: after {len(loop.rounds)} round(s) the forecast of "
            f"{last.forecast:,.0f} new customers is {abs(last.gap):.0%} "
            f"{'above' if last.gap > 0 else 'below'} the simulated {last.simulated:,.0f} "
            f"({last.low:,.0f} to {last.high:,.0f}); the simulated figure is the one to use")
    done = stage("simple rules")
    full = loop.result.per_replication["new_customers"].to_numpy(float)
    rules = simple_rules(plan=loop.budget.plan, full=full,  # type: ignore[attr-defined]
                         without=full - loop.budget_new, inputs=inputs, params=params,
                         explicit=explicit, adults=adults, seed=sc.seed, venues=venues,
                         previous=previous, progress=lambda m: progress(f"{sc.name}: {m}"),
                         span=span, others=other_rules)
    done()
    for rule in rules:
        if rule.verdict != "the plan is better":
            warnings.append(f"budget plan: against the {rule.rule} rule ({rule.description}) "
                            f"{rule.verdict}: {rule.advantage:+,.0f} new customers "
                            f"({rule.low:+,.0f} to {rule.high:+,.0f})")
    done = stage("marginal value check")
    total = money
    try:
        bigger = (plans_budget.budget_plan(prep, loop.curves, total=total * (1 + MARGINAL_STEP))
                  if total > 0 else None)
    except PlanInfeasibleError as exc:  # such as max_cac: more money cannot hold it
        bigger = None
        warnings.append(f"budget plan: no marginal check, {MARGINAL_STEP:.0%} more budget "
                        f"has no plan under the scenario's limits ({exc})")
    marginal = None if bigger is None else marginal_check(
        budget=loop.budget, bigger=bigger, total=total, full=full,
        uplift=float(loop.budget_new.mean()), inputs=inputs, params=params,
        explicit=explicit, adults=adults, quarterly=sc.budget.quarterly, seed=sc.seed,
        venues=venues, span=span)
    done()
    if marginal is not None and not marginal.agrees:
        warnings.append(
            f"budget plan: {MARGINAL_STEP:.0%} more budget buys {marginal.curves:.4f} new "
            f"customers a unit on the curves but {marginal.simulated:.4f} "
            f"({marginal.low:.4f} to {marginal.high:.4f}) in the simulation")
    return BudgetStage(loop.budget, loop.curves, loop.campaigns, loop.result, loop.rounds,
                       rules, warnings, marginal)

