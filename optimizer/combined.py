"""One budget for the year that outlets and marketing draw on together.

An outlet option costs, a year, its capital annualized over its life at a discount rate
(the capital recovery factor, ``capex x r / (1 - (1 + r)^-life)``, or ``capex / life`` at
a rate of 0) plus its opex and staff, and brings ``customers`` new customers a year (from
the simulation: access, congestion and churn, as every other figure). Marketing buys new
customers on response curves (:func:`optimizer.allocate_budget`), whose best value ``V(m)``
for a marketing budget ``m`` is concave (a linear programme's value in its right-hand
side). The split is a mixed-integer programme: open outlet ``j`` or not (``x_j``), give
marketing ``m``; maximize ``sum c_j x_j + V(m)`` subject to ``m + sum a_j x_j <= total``,
with ``V`` the interpolation of the marketing plan at ``levels + 1`` budgets from 0 to
``total`` (exact at those budgets). The marginal value of a unit more in each: marketing,
the slope of ``V`` at the chosen ``m``; an outlet, its customers over its yearly cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer._solve import Solver, check_solver, solve
from optimizer.budget import BudgetPlan, allocate_budget
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["OPTION_COLUMNS", "CombinedPlan", "allocate_combined", "annualized_cost"]

OPTION_COLUMNS = ("option_id", "capex", "life_years", "opex_per_year", "customers")


def annualized_cost(capex: float, life_years: float, rate: float) -> float:
    """A year's share of ``capex`` over ``life_years`` at discount ``rate`` (the capital
    recovery factor; straight-line at a rate of 0)."""
    if life_years <= 0:
        raise OptimizerInputError(f"life_years = {life_years}: expected a life > 0 years")
    if rate < 0:
        raise OptimizerInputError(f"rate = {rate}: expected a discount rate >= 0")
    if rate == 0:
        return capex / life_years
    return capex * rate / (1 - (1 + rate) ** -life_years)


@dataclass(frozen=True)
class CombinedPlan:
    """The split of one yearly budget: the outlets opened, the marketing plan, and the
    marginal value of a unit more in each (new customers a year per unit a year)."""

    status: str
    proven_optimal: bool
    opened: tuple[str, ...]
    outlets: pd.DataFrame  # every option: yearly cost, customers, per unit, opened
    outlet_cost: float
    marketing_budget: float
    marketing: BudgetPlan
    customers: float
    marketing_marginal: float
    outlet_marginal: float | None  # the best option not opened, per unit of yearly cost


def allocate_combined(curves: pd.DataFrame, options: pd.DataFrame, total: float, *,
                      rate: float = 0.0, levels: int = 12,
                      budget_options: Mapping[str, Any] | None = None,
                      solver: Solver = "highs", time_limit_s: float = 60.0) -> CombinedPlan:
    """Split ``total`` a year between outlet ``options`` and marketing on ``curves``.

    ``options``: one row per outlet option, with ``option_id``, ``capex``, ``life_years``,
    ``opex_per_year`` (staff included) and ``customers`` (new customers a year it
    brings). ``budget_options``: passed to :func:`allocate_budget` (policy, shares).

    Raises
    ------
    OptimizerInputError
        Missing columns, negative costs or customers, a bad life or rate.
    PlanInfeasibleError
        When no split meets the marketing plan's limits.
    """
    check_solver(solver)
    missing = [c for c in OPTION_COLUMNS if c not in options.columns]
    if missing:
        raise OptimizerInputError(f"options lack column(s) {missing}; expected "
                                  f"{', '.join(OPTION_COLUMNS)}")
    if total < 0 or not np.isfinite(total):
        raise OptimizerInputError(f"total = {total}: expected a budget >= 0")
    if levels < 2:
        raise OptimizerInputError(f"levels = {levels}: expected 2 or more")
    for col in ("capex", "opex_per_year", "customers"):
        bad = ~(options[col].astype(float) >= 0)
        if bad.any():
            raise OptimizerInputError(f"options row {int(np.flatnonzero(bad)[0])}: {col} = "
                                      f"{options[col][bad].iloc[0]}; expected >= 0")
    yearly = np.array([annualized_cost(float(c), float(life), rate) + float(o)
                       for c, life, o in zip(options["capex"], options["life_years"],
                                             options["opex_per_year"], strict=True)])
    gain = options["customers"].to_numpy(float)
    kwargs = dict(budget_options or {})

    def marketing(budget: float) -> BudgetPlan:
        return allocate_budget(curves, budget, solver=solver, time_limit_s=time_limit_s,
                               marginal=False, **kwargs)

    grid = np.linspace(0.0, total, levels + 1)
    value = []
    for b in grid:
        try:
            value.append(float(marketing(float(b)).customers))
        except PlanInfeasibleError:
            value.append(np.nan)  # too little for the marketing limits: not a split
    v = np.asarray(value)
    feasible = np.isfinite(v)
    if not feasible.any():
        raise PlanInfeasibleError("no marketing budget up to the total meets the budget's "
                                  "limits")
    prob = pulp.LpProblem("combined", pulp.LpMaximize)
    x = [prob.add_variable(f"open_{i}", lowBound=0, upBound=1, cat="Binary")
         for i in range(len(options))]
    m = prob.add_variable("marketing", lowBound=float(grid[feasible][0]),
                          upBound=float(total))
    t = prob.add_variable("marketing_customers")
    prob += pulp.lpSum(float(g) * xi for g, xi in zip(gain, x, strict=True)) + t
    prob += m + pulp.lpSum(float(a) * xi for a, xi in zip(yearly, x, strict=True)) <= total
    idx = np.flatnonzero(feasible)
    for lo, hi in itertools.pairwise(idx):
        slope = (v[hi] - v[lo]) / (grid[hi] - grid[lo])
        prob += t <= float(v[lo]) + float(slope) * (m - float(grid[lo]))
    if len(idx) == 1:
        prob += t <= float(v[idx[0]])
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s)
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"no split of {total:,.0f} between outlets and marketing "
                                  f"({outcome.status})")
    opened_mask = np.array([(xi.value() or 0) > 0.5 for xi in x], dtype=bool)
    outlet_cost = float(yearly[opened_mask].sum())
    budget = max(total - outlet_cost, float(grid[feasible][0]))
    plan = marketing(budget)
    # the slope of V at the chosen budget: the grid segment it lies in (from the left)
    k = int(np.clip(np.searchsorted(grid[idx], budget, side="left"), 1, max(len(idx) - 1, 1)))
    slope = (float((v[idx[k]] - v[idx[k - 1]]) / (grid[idx[k]] - grid[idx[k - 1]]))
             if len(idx) > 1 else 0.0)
    table = options.assign(yearly_cost=yearly, customers_per_unit=np.divide(
        gain, yearly, out=np.full(len(gain), np.inf), where=yearly > 0), opened=opened_mask)
    closed = table.loc[~opened_mask, "customers_per_unit"]
    return CombinedPlan(
        status=outcome.status, proven_optimal=outcome.proven_optimal,
        opened=tuple(str(o) for o in options["option_id"][opened_mask]), outlets=table,
        outlet_cost=outlet_cost, marketing_budget=budget, marketing=plan,
        customers=float(gain[opened_mask].sum()) + float(plan.customers),
        marketing_marginal=slope,
        outlet_marginal=float(closed.max()) if len(closed) else None)
