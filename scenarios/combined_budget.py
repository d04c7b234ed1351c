"""One budget for outlets and marketing (docs/scenarios.md, "One budget for outlets and
marketing").

With ``budget.includes_outlets`` the sites the outlet plan chooses are options, not
decisions: each is measured in the simulation (its own network, beside today's, with the
same random numbers and no campaigns: what the outlet alone brings through access,
congestion and churn), and :func:`optimizer.allocate_combined` splits ``budget.total``
between them (capex annualized over ``finance.capex_life_years`` at
``finance.discount_rate``, plus opex with staff) and marketing on the response curves.
An outlet's gain is in the marketing's units: customers won or kept a year (the new
customers it brings plus the churn it avoids) and value (the net interest margin on the
deposits it adds by the year's end: for ``budget.objective = "margin"`` a year's, else
over ``finance.horizon_years`` as long as today's network keeps its customers, as a new
customer's lifetime value counts it, :mod:`scenarios.lifetime`). The outlets opened are
then simulated together, and their forecast (the sum of their gains alone) checked
against it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from optimizer import (
    CombinedPlan,
    PlanInfeasibleError,
    SitingResult,
    allocate_combined,
    marketing_marginal,
)
from scenarios import plans, plans_budget
from scenarios._sweep_size import LOCAL_REPLICATIONS
from scenarios.lifetime import lifetime_years, yearly_retention
from scenarios.money import network_year
from scenarios.plan_check import agrees
from simulation import SimulationParams, replication_seeds, t_interval

__all__ = ["OPTION_REPLICATIONS", "CombinedStage", "OutletCheck", "combined_plan",
           "combined_report", "combined_stage", "outlet_options", "outlets_check",
           "with_opened"]

#: Replications of each option's paired measurement (and of the opened outlets' check).
OPTION_REPLICATIONS = LOCAL_REPLICATIONS


def _year(prep: plans.Prepared, outlets: pd.DataFrame, params: SimulationParams,
          seeds: list[int]) -> np.ndarray:
    """Per replication, with no campaign, on the network ``outlets``: new customers, churn
    events, and deposits at the year's end (:func:`scenarios.money.network_year`)."""
    return network_year(plans.simulation_inputs(prep, outlets), params, seeds)


def _gain(diff: np.ndarray, margin: float, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Customers won or kept (new customers less churn) and value, per replication, a
    year (a horizon other than 52 weeks scaled to one, as the costs are a year's)."""
    year = 52 / weeks
    return (diff[:, 0] - diff[:, 1]) * year, diff[:, 2] * margin * year


def _value_years(sc: Any, today: np.ndarray, weeks: int) -> float:
    """The years of margin a year's deposits are counted for: 1 for ``budget.objective =
    "margin"``, else :func:`scenarios.lifetime.lifetime_years` at today's network's
    retention (churn events over the customers held, pooled over the replications)."""
    if sc.budget.objective == "margin":
        return 1.0
    churned, held = (pd.Series([float(np.asarray(today)[:, i].sum())]) for i in (1, 3))
    retention = yearly_retention(churned, held, weeks)
    return float(lifetime_years(retention.to_numpy(float), float(sc.finance.discount_rate),
                                int(sc.finance.horizon_years))[0])


def outlet_options(prep: plans.Prepared, siting: SitingResult, params: SimulationParams, *,
                   seed: int, progress: Callable[[str], None]
                   ) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per site the outlet plan opens: ``option_id``, ``kind``, ``capex``,
    ``opex_per_year``, ``life_years`` and its measured gain a year, ``customers`` (won or
    kept; ``customers_se`` its standard error over the paired replications),
    ``new_customers``, ``churn_avoided`` and ``value`` (``value_se``); and today's network's
    year (:func:`_year`), against which each option was measured."""
    sc = prep.scenario
    seeds = replication_seeds(seed, OPTION_REPLICATIONS)
    base = plans.open_outlets(prep, with_opened(prep, siting, ()))
    every = plans.open_outlets(prep, siting)
    before = _year(prep, base, params, seeds)
    years = _value_years(sc, before, params.weeks)
    decisions = siting.decisions[siting.decisions["action"] == "open"]
    rows = []
    for i, d in enumerate(decisions.to_dict("records")):
        progress(f"outlet option {i + 1} of {len(decisions)} ({d['site_id']}, {d['kind']})")
        diff = _year(prep, pd.concat([base, every.loc[[d["site_id"]]]]), params,
                     seeds) - before
        customers, value = _gain(diff, params.net_interest_margin, params.weeks)
        value = value * years
        year = 52 / params.weeks
        rows.append({"option_id": str(d["site_id"]), "kind": d["kind"],
                     "capex": float(d["capex"]), "opex_per_year": float(d["opex_per_year"]),
                     "life_years": float(sc.finance.capex_life_years),
                     "customers": max(float(customers.mean()), 0.0),
                     "customers_se": float(customers.std(ddof=1) / np.sqrt(len(seeds))),
                     "new_customers": float(diff[:, 0].mean()) * year,
                     "churn_avoided": float(-diff[:, 1].mean()) * year,
                     "value": max(float(value.mean()), 0.0),
                     "value_se": float(value.std(ddof=1) / np.sqrt(len(seeds)))})
    table = pd.DataFrame(rows, columns=["option_id", "kind", "capex", "opex_per_year",
                                        "life_years", "customers", "customers_se",
                                        "new_customers", "churn_avoided", "value",
                                        "value_se"])
    return table, before


def combined_plan(prep: plans.Prepared, curves: pd.DataFrame,
                  options: pd.DataFrame) -> CombinedPlan:
    """The split of ``budget.total`` between the options and marketing, with the
    scenario's budget rules."""
    sc = prep.scenario
    return allocate_combined(curves, options, float(sc.budget.total),
                             rate=float(sc.finance.discount_rate),
                             budget_options=plans_budget.budget_rules(prep))


def with_opened(prep: plans.Prepared, siting: SitingResult,
                opened: tuple[str, ...]) -> SitingResult:
    """The outlet plan with only ``opened`` of its new sites opened: its capex, opex and
    coverage after recomputed (the adults within the coverage minutes of an own outlet)."""
    d = siting.decisions
    keep = (d["action"] != "open") | d["site_id"].astype(str).isin(opened)
    decisions = d[keep].reset_index(drop=True)
    live = decisions.loc[decisions["action"] != "close", "site_id"]
    travel = prep.travel
    cols = travel.sites.get_indexer(pd.Index(live))
    adults = (travel.points["share"].to_numpy()
              * prep.area.adults.astype(float).reindex(travel.points["community_id"]).to_numpy())
    # as the siting counts them: pairs within its reach cutoff only
    minutes = np.where(travel.minutes[:, cols] <= plans.REACH_CUTOFF_MIN,
                       travel.minutes[:, cols], np.inf)
    near = minutes.min(axis=1) if len(cols) else np.full(len(adults), np.inf)
    within = minutes <= prep.scenario.outlets.coverage_minutes
    covered = float(adults[within.any(axis=1)].sum())
    # the adults no other outlet of this plan reaches, for each one kept or opened
    alone = within & (within.sum(axis=1) == 1)[:, None]
    only = pd.Series(adults @ alone, index=pd.Index(live))
    decisions = decisions.assign(adults_only_here=decisions["site_id"].map(only).fillna(
        decisions.get("adults_only_here", 0.0)))
    finite = np.isfinite(near)
    new = decisions[decisions["action"] == "open"]
    chosen = int((d["action"] == "open").sum())
    binding = siting.binding if len(new) == chosen else (
        f"budget.includes_outlets ({len(new)} of the {chosen} sites chosen open)",)
    return dataclasses.replace(
        siting, decisions=decisions, capex=float(new["capex"].sum()), binding=binding,
        mean_minutes_after=float((near[finite] * adults[finite]).sum()
                                 / max(float(adults[finite].sum()), 1e-12)),
        opex_per_year=float(decisions.loc[decisions["action"] != "close",
                                          "opex_per_year"].fillna(0.0).sum()),
        coverage_after=covered / float(adults.sum()) if adults.sum() > 0 else 0.0)


@dataclasses.dataclass(frozen=True)
class OutletCheck:
    """The opened outlets simulated together against the sum of their gains alone
    (customers won or kept a year): agree when the forecast lies within the simulated 95%
    interval widened by 5% of its mean (:func:`scenarios.plan_check.agrees`)."""

    forecast: float
    simulated: float
    low: float
    high: float
    agrees: bool

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def outlets_check(prep: plans.Prepared, siting: SitingResult, options: pd.DataFrame,
                  opened: tuple[str, ...], params: SimulationParams, today: np.ndarray, *,
                  seed: int) -> OutletCheck | None:
    """The check of the opened outlets together against ``today`` (today's network, as
    :func:`outlet_options` measured it with the same seeds); None when fewer than two
    open: one outlet together is its own measurement."""
    if len(opened) < 2:
        return None
    seeds = replication_seeds(seed, OPTION_REPLICATIONS)
    chosen = plans.open_outlets(prep, with_opened(prep, siting, opened))
    diff = _year(prep, chosen, params, seeds) - today
    customers, _ = _gain(diff, params.net_interest_margin, params.weeks)
    mean, _, low, high, _ = t_interval(customers)
    forecast = float(options.set_index("option_id").loc[list(opened), "customers"].sum())
    return OutletCheck(forecast, mean, low, high, agrees(forecast, mean, low, high))


@dataclasses.dataclass(frozen=True)
class CombinedStage:
    """The split decided before the marketing plan is checked: the plan, the options
    measured, the curves it used, the outlet plan with every option (``every``) and with
    only those opened (``siting``)."""

    plan: CombinedPlan
    options: pd.DataFrame
    curves: pd.DataFrame
    every: SitingResult
    siting: SitingResult
    today: np.ndarray  # today's network, no campaign, per option replication


def combined_stage(prep: plans.Prepared, every: SitingResult, *,
                   stage: Callable[[str], Callable[[], None]],
                   progress: Callable[[str], None]) -> CombinedStage:
    """Measure the options, fit the curves (on the network with every option open: one
    sweep whatever the split), and split the budget."""
    sc = prep.scenario
    done = stage("outlet options")
    options, today = outlet_options(prep, every, plans.simulation_params(sc), seed=sc.seed,
                             progress=lambda m: progress(f"{sc.name}: {m}"))
    done()
    done = stage("response curves")
    curves = plans_budget.response_curves(
        prep, plans.simulation_inputs(prep, plans.open_outlets(prep, every)),
        progress=progress)
    done()
    done = stage("outlets or marketing")
    plan = combined_plan(prep, curves, options)
    done()
    return CombinedStage(plan, options, curves, every, with_opened(prep, every, plan.opened),
                         today)


def _marginals(plan: CombinedPlan) -> dict[str, Any]:
    return {"marketing": dataclasses.asdict(plan.marketing_marginal),
            "outlets": (dataclasses.asdict(plan.outlet_marginal)
                        if plan.outlet_marginal is not None else None),
            "best_closed": plan.best_closed_id}


def combined_report(prep: plans.Prepared, done: CombinedStage,
                    corrected_curves: pd.DataFrame) -> tuple[dict[str, Any], list[str]]:
    """The manifest's ``summary.combined`` and warnings: the split, each option, the
    marginal value of a unit more in each (on the curves the loop corrected, where it
    ran), and the opened outlets checked together in the simulation."""
    sc, plan = prep.scenario, done.plan
    warnings = []
    check = outlets_check(prep, done.every, done.options, plan.opened,
                          plans.simulation_params(sc), done.today, seed=sc.seed)
    if check is not None and not check.agrees:
        warnings.append(
            f"one budget: the {len(plan.opened)} outlets opened bring {check.simulated:,.0f} "
            f"customers won or kept together ({check.low:,.0f} to {check.high:,.0f}), "
            f"against {check.forecast:,.0f} from each alone (they share residents)")
    # the loop left the curves as they were (its first round agreed): the split and
    # marketing's marginal value are the first ones, not solved again
    same = corrected_curves is done.curves or corrected_curves.equals(done.curves)
    corrected = plan
    if not same:
        try:
            corrected = combined_plan(prep, corrected_curves, done.options)
        except PlanInfeasibleError as exc:
            warnings.append(f"one budget: no split on the corrected curves ({exc})")
    if set(corrected.opened) != set(plan.opened):
        warnings.append(
            "one budget: on the curves the simulation corrected, the split would open "
            f"{', '.join(corrected.opened) or 'no outlet'} instead of "
            f"{', '.join(plan.opened) or 'none'}; the plan simulated is the first")
    # a unit more in each for the split simulated: marketing on the corrected curves
    marketing = plan.marketing_marginal if same else marketing_marginal(
        corrected_curves, plan.marketing_budget, total=float(sc.budget.total),
        budget_options=plans_budget.budget_rules(prep))
    marginal = {**_marginals(plan), "marketing": dataclasses.asdict(marketing)}
    table = plan.outlets
    summary = {
        "total": float(sc.budget.total), "objective": plan.objective_name,
        "capex_life_years": float(sc.finance.capex_life_years),
        "discount_rate": float(sc.finance.discount_rate),
        "outlet_cost": plan.outlet_cost, "marketing_budget": plan.marketing_budget,
        "opened": list(plan.opened), "proven_optimal": plan.proven_optimal,
        "forecast": {"outlets": plan.customers - plan.marketing.customers,
                     "marketing": plan.marketing.customers},
        "options": table.replace([np.inf], np.nan).to_dict("records"),
        "marginal": marginal, "marginal_first": _marginals(plan),
        "corrected_opened": list(corrected.opened),
        "outlets_check": check.as_dict() if check is not None else None}
    return summary, warnings
