"""One budget for the year that outlets and marketing draw on together.

An outlet option costs, a year, its capital annualized over its life at a discount rate
(the capital recovery factor, ``capex x r / (1 - (1 + r)^-life)``, or ``capex / life`` at
a rate of 0) plus its opex and staff, and brings ``customers`` a year and ``value`` (from
the simulation: access, congestion and churn, as every other figure). Marketing buys new
customers on response curves (:func:`optimizer.allocate_budget`), whose best objective
``V(m)`` for a marketing budget ``m`` is concave (a linear programme's value in its
right-hand side). The split is a mixed-integer programme: open outlet ``j`` or not
(``x_j``), give marketing ``m``; maximize ``sum c_j x_j + V(m)`` subject to
``m + sum a_j x_j <= total``, with ``V`` the interpolation of the marketing plan at
``levels + 1`` budgets from the least the options can leave to ``total``, and at
``total - a_j`` for each option (so a plan that opens one outlet or none is valued
exactly; with more, the interpolation is a lower bound of ``V`` within the grid's
spacing; beyond ``EACH_OPTION_UP_TO`` options, at the grid and then at the budget each
split leaves, solved again until a split lands on a budget already valued); budgets
closer than a thousandth of the range count as one, and points below
the upper concave hull are dropped (the LP's tolerance, not ``V``). An option whose gain
is below its cost times marketing's marginal value just above ``total`` (the least slope
``V`` has below it, ``V`` being concave) is held closed (``screened``): whatever else
opens, giving its cost to marketing instead buys more. The marginal value of a unit more
in each, in new customers and in value: marketing, the plan at 1% of ``total`` more than
the chosen ``m`` less the plan at ``m``, per unit; an outlet, its gain over its yearly
cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer._budget_inputs import check_total, require
from optimizer._solve import SolveOutcome, Solver, check_solver, solve
from optimizer.budget import BudgetPlan, allocate_budget
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

#: Up to this many options V is valued at the total less each one's cost (a plan opening
#: one outlet or none valued exactly); beyond, a marketing plan a budget would cost too
#: much time (a metropolis has 1,600 options), so V is valued at the grid and then where
#: the split lands, until it lands on a budget already valued (LANDING_ROUNDS at most).
EACH_OPTION_UP_TO = 60
LANDING_ROUNDS = 12

__all__ = ["OPTION_COLUMNS", "CombinedPlan", "Marginal", "allocate_combined",
           "annualized_cost", "best_closed", "marketing_marginal"]

OPTION_COLUMNS = ("option_id", "capex", "life_years", "opex_per_year", "customers")
#: Needed as well when the objective is ``value``.
VALUE_COLUMN = "value"


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
class Marginal:
    """What a unit more a year buys: new customers, and value (None where the options
    give no value)."""

    customers: float | None
    value: float | None


@dataclass(frozen=True)
class CombinedPlan:
    """The split of one yearly budget: the outlets opened, the marketing plan, and the
    marginal value of a unit more in each (per unit a year). ``outlet_marginal``: the
    best option left closed (None when every option opens)."""

    status: str
    proven_optimal: bool
    objective_name: str
    opened: tuple[str, ...]
    outlets: pd.DataFrame  # every option: yearly cost, gains, gains per unit, opened
    outlet_cost: float
    marketing_budget: float
    marketing: BudgetPlan
    customers: float
    value: float | None
    marketing_marginal: Marginal
    outlet_marginal: Marginal | None
    best_closed_id: str | None = None  # the option outlet_marginal is of


def allocate_combined(curves: pd.DataFrame, options: pd.DataFrame, total: float, *,
                      rate: float = 0.0, levels: int = 6,
                      budget_options: Mapping[str, Any] | None = None,
                      solver: Solver = "highs", time_limit_s: float = 60.0) -> CombinedPlan:
    """Split ``total`` a year between outlet ``options`` and marketing on ``curves``.

    ``options``: one row per outlet option, with ``option_id``, ``capex``, ``life_years``,
    ``opex_per_year`` (staff included), ``customers`` (new customers a year it brings,
    or keeps) and, for ``objective = "value"`` in ``budget_options``, ``value`` (a year's
    value, in the curves' unit). ``budget_options``: passed to :func:`allocate_budget`
    (objective, policy, shares).

    Raises
    ------
    OptimizerInputError
        Missing columns, negative costs or gains, a bad life or rate.
    PlanInfeasibleError
        When no split meets the marketing plan's limits.
    """
    check_solver(solver)
    kwargs = dict(budget_options or {})
    objective = str(kwargs.get("objective", "customers"))
    needed = [*OPTION_COLUMNS, *([VALUE_COLUMN] if objective == "value" else [])]
    require(options, needed, "options")
    check_total(total)
    if levels < 2:
        raise OptimizerInputError(f"levels = {levels}: expected 2 or more")
    has_value = VALUE_COLUMN in options.columns
    for col in ("capex", "opex_per_year", "customers", *([VALUE_COLUMN] if has_value else [])):
        bad = ~(options[col].astype(float) >= 0)
        if bad.any():
            raise OptimizerInputError(f"options row {int(np.flatnonzero(bad)[0])}: {col} = "
                                      f"{options[col][bad].iloc[0]}; expected >= 0")
    yearly = np.array([annualized_cost(float(c), float(life), rate) + float(o)
                       for c, life, o in zip(options["capex"], options["life_years"],
                                             options["opex_per_year"], strict=True)])
    customers = options["customers"].to_numpy(float)
    value = options[VALUE_COLUMN].to_numpy(float) if has_value else None
    gain = customers if objective == "customers" else options[VALUE_COLUMN].to_numpy(float)

    def marketing(budget: float) -> BudgetPlan:
        return allocate_budget(curves, budget, solver=solver, time_limit_s=time_limit_s,
                               marginal=False, **kwargs)

    plans: dict[float, BudgetPlan] = {}

    def value_at(b: float) -> BudgetPlan | None:
        if b not in plans:
            try:
                plans[b] = marketing(b)
            except PlanInfeasibleError:
                return None  # too little for the marketing limits: not a split
        return plans[b]

    screened = np.zeros(len(options), dtype=bool)
    here, above = value_at(float(total)), None
    if here is not None and total > 0:
        try:  # beyond the grid, only for the least slope: not a split itself
            above = marketing(float(total) * 1.01)
        except PlanInfeasibleError:
            above = None
    if here is not None and above is not None:
        least = (above.objective - here.objective) / (0.01 * float(total))
        screened = gain < yearly * least - 1e-12
    live = ~screened
    floor = max(0.0, float(total) - float(yearly[live].sum()))
    # the budgets V is valued at: the total, the total less each live option's cost (up
    # to EACH_OPTION_UP_TO options; beyond, V is valued where the plan lands, below), a
    # grid between; budgets closer than a thousandth of the range are one (the LP's
    # values at nearly equal budgets differ by its tolerance, not by V)
    tol = 1e-3 * max(float(total) - floor, 1e-9)
    singles = live & (yearly > 0) & (yearly < total)
    each_option = int(singles.sum()) <= EACH_OPTION_UP_TO
    kept: list[float] = []

    def keep(b: float) -> bool:
        if all(abs(b - k) >= tol for k in kept):
            kept.append(b)
            return True
        return False

    for b in [float(total), *(float(total) - yearly[singles] if each_option else []),
              *np.linspace(floor, float(total), levels + 1)]:
        keep(float(b))
    for _ in range(LANDING_ROUNDS):
        for b in sorted(kept):
            value_at(b)
        if not plans:
            raise PlanInfeasibleError("no marketing budget up to the total meets the "
                                      "budget's limits")
        at, v = _upper_hull(np.array(sorted(b for b in plans if b in kept)), plans)
        outcome, opened = _split(gain, yearly, screened, at, v, float(total), solver,
                                 time_limit_s)
        outlet_cost = float(yearly[opened].sum())
        # what the outlets leave, within what the marketing's limits allow
        budget = min(max(float(total) - outlet_cost, float(at[0])), float(at[-1]))
        if each_option or not keep(budget):
            break  # the plan lands on a budget V is valued at
    plan = plans.get(budget) or marketing(budget)

    def per_unit(g: np.ndarray) -> np.ndarray:  # free and worthless: no ratio
        out = np.divide(g, yearly, out=np.full(len(g), np.inf), where=yearly > 0)
        out[(yearly <= 0) & (g <= 0)] = np.nan
        return out

    table = options.assign(yearly_cost=yearly, customers_per_unit=per_unit(customers),
                           screened=screened, opened=opened)
    if value is not None:
        table["value_per_unit"] = per_unit(value)
    best = best_closed(table, objective)
    return CombinedPlan(
        # past EACH_OPTION_UP_TO the split is judged on V valued where plans landed: the
        # best on that interpolation, not proven for V itself
        status=outcome.status if each_option else "feasible",
        proven_optimal=outcome.proven_optimal and each_option,
        objective_name=objective,
        opened=tuple(str(o) for o in options["option_id"][opened]), outlets=table,
        outlet_cost=outlet_cost, marketing_budget=budget, marketing=plan,
        customers=float(customers[opened].sum()) + float(plan.customers),
        value=(float(value[opened].sum()) + float(plan.value)) if value is not None else None,
        marketing_marginal=marketing_marginal(
            curves, budget, total=float(total), plan=plan, budget_options=kwargs,
            solver=solver, time_limit_s=time_limit_s),
        outlet_marginal=best[1] if best else None, best_closed_id=best[0] if best else None)


def _split(gain: np.ndarray, yearly: np.ndarray, screened: np.ndarray, at: np.ndarray,
           v: np.ndarray, total: float, solver: Solver, time_limit_s: float
           ) -> tuple[SolveOutcome, np.ndarray]:
    """The mixed-integer split on the interpolated V: which options open."""
    prob = pulp.LpProblem("combined", pulp.LpMaximize)
    x = [prob.add_variable(f"open_{i}", lowBound=0, upBound=1, cat="Binary")
         for i in range(len(gain))]
    for i in np.flatnonzero(screened):  # a binary's bounds are reset to 0..1: a row
        prob += x[int(i)] == 0, f"screened_{int(i)}"
    m = prob.add_variable("marketing", lowBound=float(at[0]), upBound=float(at[-1]))
    t = prob.add_variable("marketing_objective")
    prob += pulp.lpSum(float(g) * xi for g, xi in zip(gain, x, strict=True)) + t
    prob += m + pulp.lpSum(float(a) * xi for a, xi in zip(yearly, x, strict=True)) <= total
    for lo, hi in itertools.pairwise(range(len(at))):
        slope = (v[hi] - v[lo]) / (at[hi] - at[lo])
        prob += t <= float(v[lo]) + float(slope) * (m - float(at[lo]))
    if len(at) == 1:
        prob += t <= float(v[0])
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s)
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"no split of {total:,.0f} between outlets and marketing "
                                  f"({outcome.status})")
    return outcome, np.array([(xi.value() or 0) > 0.5 for xi in x], dtype=bool)


def _upper_hull(at: np.ndarray, plans: Mapping[float, BudgetPlan]
                ) -> tuple[np.ndarray, np.ndarray]:
    """The budgets on the upper concave hull of (budget, objective): V is concave, so a
    point below the hull is the LP's tolerance, not V; left in, its segments would cap
    the marketing's value below what the plans show."""
    keep: list[int] = []
    v = np.array([plans[float(b)].objective for b in at])
    for i in range(len(at)):
        while len(keep) >= 2:
            a, b = keep[-2], keep[-1]
            # b lies on or below the chord from a to i: not on the hull
            if (v[b] - v[a]) * (at[i] - at[a]) <= (v[i] - v[a]) * (at[b] - at[a]):
                keep.pop()
            else:
                break
        keep.append(i)
    return at[keep], v[keep]


def marketing_marginal(curves: pd.DataFrame, budget: float, *, total: float,
                       plan: BudgetPlan | None = None,
                       budget_options: Mapping[str, Any] | None = None,
                       solver: Solver = "highs", time_limit_s: float = 60.0) -> Marginal:
    """What a unit more buys in marketing at ``budget``: the plan at 1% of ``total`` more,
    less the plan at ``budget`` (``plan``, if already made), per unit (as
    :func:`allocate_budget`'s own marginal value); None where either has no plan under
    the limits."""
    kwargs = {"solver": solver, "time_limit_s": time_limit_s, "marginal": False,
              **dict(budget_options or {})}
    step = 0.01 * max(float(total), 1.0)
    try:
        here = plan if plan is not None else allocate_budget(curves, budget, **kwargs)
        more = allocate_budget(curves, budget + step, **kwargs)
    except PlanInfeasibleError:
        return Marginal(None, None)
    return Marginal((more.customers - here.customers) / step, (more.value - here.value) / step)


def best_closed(table: pd.DataFrame, objective: str) -> tuple[str, Marginal] | None:
    """The best option of ``table`` (``allocate_combined``'s) left closed: its id and its
    gains per unit of yearly cost; None when every option with a ratio opens."""
    key = "customers_per_unit" if objective == "customers" else "value_per_unit"
    closed = table[~table["opened"] & table[key].notna()]
    if closed.empty:
        return None
    row = closed.iloc[int(np.argmax(closed[key].to_numpy(float)))]
    return str(row["option_id"]), Marginal(
        float(row["customers_per_unit"]),
        float(row["value_per_unit"]) if "value_per_unit" in row else None)
