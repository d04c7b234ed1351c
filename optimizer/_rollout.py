"""Rollout over quarters: which sites open in which quarter as the capex budget allows.

The multi-period maximal covering model (after Schilling 1980, "Dynamic location
modeling for public-sector facilities"; Gunawardane 1982): x[o, q] = 1 when option o
opens at the start of quarter q (each site at most once, as one kind); an outlet once
open stays open; y[d, q] <= the options open by quarter q that cover demand point d
(under the objective's rule: within the minutes for ``max_coverage``, beating the best
competitor for ``max_capture``). The objective sums the demand weight covered in each
quarter, so an outlet opened in quarter q counts N - q + 1 times: earlier openings count
for more. The capex of the openings up to quarter q is at most the budgets of quarters 1
to q (money a quarter leaves unspent carries to the next: an assumption, see
docs/optimizer.md; with ``carry_over=False`` each quarter's openings are within its own
budget); a total ``capex_budget``, the yearly opex of the final network and
the counts of ``max_new`` hold over the whole rollout, and spacing between any two
outlets that are ever open together.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pulp

from optimizer._siting_inputs import Options
from optimizer._siting_plan import SitingResult, limit_rows, plan_result, spacing_constraints
from optimizer._solve import SolveOutcome, Solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["ROLLOUT_OBJECTIVES", "quarter_budgets", "rollout_budgets", "rollout_plan"]

#: The objectives a rollout over quarters takes (demand covered, quarter by quarter).
ROLLOUT_OBJECTIVES: tuple[str, ...] = ("max_coverage", "max_capture")


def quarter_budgets(quarters: int, capex_per_quarter: float | Sequence[float] | None
                    ) -> np.ndarray:
    """Each quarter's capex budget: one figure for every quarter, or one per quarter."""
    if quarters < 1:
        raise OptimizerInputError(f"quarters = {quarters}: expected 1 or more")
    if capex_per_quarter is None:
        raise OptimizerInputError(f"quarters = {quarters} needs capex_per_quarter: the "
                                  "capex a quarter may spend (one figure, or one per quarter)")
    given = np.atleast_1d(np.asarray(capex_per_quarter, dtype=float))
    if given.size == 1:
        given = np.full(quarters, float(given[0]))
    if given.size != quarters:
        raise OptimizerInputError(f"capex_per_quarter has {given.size} figures for "
                                  f"{quarters} quarters; give one, or one per quarter")
    if not np.isfinite(given).all() or (given < 0).any():
        raise OptimizerInputError(f"capex_per_quarter = {given.tolist()}: expected figures "
                                  ">= 0")
    return given


def rollout_budgets(objective: str, quarters: int,
                    capex_per_quarter: float | Sequence[float] | None, *,
                    allow_closures: bool, visits_per_adult: float | None,
                    min_coverage_share: float | None) -> np.ndarray | None:
    """Each quarter's capex budget when the plan is a rollout (``quarters`` > 1), else
    None; what a rollout does not take is refused, by name."""
    if quarters == 1:
        if capex_per_quarter is not None:
            raise OptimizerInputError("capex_per_quarter is for a rollout over quarters: set "
                                      "quarters > 1, or give capex_budget")
        return None
    if objective not in ROLLOUT_OBJECTIVES:
        raise OptimizerInputError(f"quarters = {quarters}: a rollout over quarters takes the "
                                  f"objectives {', '.join(ROLLOUT_OBJECTIVES)}, not "
                                  f"{objective}; set quarters = 1")
    given = {"allow_closures": allow_closures or None, "visits_per_adult": visits_per_adult,
             "min_coverage_share": min_coverage_share}
    for key, value in given.items():
        if value is not None:
            raise OptimizerInputError(f"quarters = {quarters}: a rollout does not take "
                                      f"{key}; leave it out or set quarters = 1")
    return quarter_budgets(quarters, capex_per_quarter)


def rollout_plan(opts: Options, option_covers: list[np.ndarray], fixed_cover: np.ndarray,
                 weight: np.ndarray, adults: np.ndarray, sites: pd.DataFrame,
                 pairs: tuple[np.ndarray, np.ndarray, np.ndarray], *, objective: str,
                 budgets: np.ndarray, carry_over: bool = True,
                 limits: tuple[float | None, float | None, Mapping[str, int] | int | None],
                 min_spacing_m: float, coverage: tuple[float, float], solver: Solver,
                 time_limit_s: float, gap: float, start: float) -> SitingResult:
    """The rollout that covers the most demand weight summed over the quarters.

    ``option_covers[o]``: the demand points option o covers; ``fixed_cover``: the points
    the outlets that stay cover already (they count in every quarter).
    """
    opex_budget = limits[1]
    quarters = budgets.size
    n = opts.site.size
    prob = pulp.LpProblem("rollout", pulp.LpMaximize)
    x = [[prob.add_variable(f"x{o}_{q}", cat="Binary") for q in range(quarters)]
         for o in range(n)]
    by_site: dict[object, list[int]] = {}
    for o, s in enumerate(opts.site):
        by_site.setdefault(s, []).append(o)
    for members in by_site.values():  # a site opens once, as one kind
        prob += pulp.lpSum(x[o][q] for o in members for q in range(quarters)) <= 1
    opened = [pulp.lpSum(x[o]) for o in range(n)]  # 1 when the option opens at all
    covering: dict[int, list[int]] = {}
    for o, points in enumerate(option_covers):
        for d in points:
            if not fixed_cover[d]:
                covering.setdefault(int(d), []).append(o)
    terms = []
    for d, members in covering.items():
        for q in range(quarters):
            y = prob.add_variable(f"y{d}_{q}", lowBound=0, upBound=1)
            prob += y <= pulp.lpSum(x[o][r] for o in members for r in range(q + 1))
            terms.append(float(weight[d]) * y)
    prob += pulp.lpSum(terms)
    capex = opts.capex.astype(float)
    for q in range(quarters):  # money a quarter leaves unspent carries to the next
        first = 0 if carry_over else q  # (or only this quarter's money, without carry-over)
        prob += (pulp.lpSum(float(capex[o]) * x[o][r] for o in range(n)
                            for r in range(first, q + 1))
                 <= float(budgets[first:q + 1].sum())), f"capex_to_quarter_{q + 1}"
    limit_rows(prob, opened, {}, opts,
               sites.loc[sites["status"] == "existing", "opex_per_year"], limits)
    if min_spacing_m > 0:
        spacing_constraints(prob, sites, opened, by_site, {}, min_spacing_m)
    build = time.perf_counter() - start
    outcome = (solve(prob, solver=solver, time_limit_s=time_limit_s, gap=gap) if n else
               SolveOutcome("optimal", True, 0.0, 0.0, 0.0, solver))  # nothing to open
    if outcome.status == "infeasible":
        raise PlanInfeasibleError(
            "no rollout meets the limits: the outlets that stay already cost more opex "
            f"a year than outlets.opex_budget = {opex_budget:,.0f}" if opex_budget is not None
            else "no rollout meets the limits: check min_spacing_m and the candidates")
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the solver stopped without a rollout "
                                  f"({outcome.status}); raise the time limit")
    quarter_of = np.zeros(n, dtype=int)  # 0: not opened
    for o in range(n):
        for q in range(quarters):
            if round(x[o][q].value() or 0) == 1:
                quarter_of[o] = q + 1
    floor = float(weight[fixed_cover].sum()) * quarters
    value = float(outcome.objective or 0.0) + floor
    bound = None if outcome.bound is None else outcome.bound + floor
    coverage_minutes, coverage_before = coverage
    result = plan_result(outcome.status, outcome.proven_optimal, value, bound, objective,
                         sites, opts, quarter_of > 0, {}, adults, pairs, coverage_minutes,
                         coverage_before, limits, build, outcome.solve_seconds, solver)
    return _with_quarters(result, opts, quarter_of, option_covers, fixed_cover, weight,
                          adults, budgets, carry_over)


def _with_quarters(result: SitingResult, opts: Options, quarter_of: np.ndarray,
                   option_covers: list[np.ndarray], fixed_cover: np.ndarray,
                   weight: np.ndarray, adults: np.ndarray, budgets: np.ndarray,
                   carry_over: bool) -> SitingResult:
    """The plan's decisions with the quarter each site opens in, and a row a quarter:
    outlets opened, its capex and budget, capex spent and available to date (carried
    over), the demand weight and the share of adults the network covers in it."""
    from dataclasses import replace

    opens = pd.Series(quarter_of, index=opts.site)[quarter_of > 0]
    decisions = result.decisions.copy()
    is_open = decisions["action"] == "open"
    quarter = pd.array([pd.NA] * len(decisions), dtype="Int64")
    quarter[is_open.to_numpy()] = decisions.loc[is_open, "site_id"].map(opens).to_numpy()
    decisions.insert(3, "quarter", pd.Series(quarter, index=decisions.index))
    total_adults = float(adults.sum()) or 1.0
    rows = []
    covered = fixed_cover.copy()
    spent = 0.0
    binding = list(result.binding)
    for q in range(1, budgets.size + 1):
        now = np.flatnonzero(quarter_of == q)
        for o in now:
            covered[option_covers[o]] = True
        capex = float(opts.capex[now].sum())
        spent += capex
        available = float(budgets[:q].sum())
        rows.append({"quarter": q, "opened": int(now.size), "capex": capex,
                     "capex_budget": float(budgets[q - 1]), "capex_to_date": spent,
                     "capex_available_to_date": available,
                     "demand_covered": float(weight[covered].sum()),
                     "adults_covered_share": float(adults[covered].sum()) / total_adults})
        if carry_over and available > 0 and spent >= available * 0.999 - 1e-6:
            binding.append(f"capex_per_quarter (quarter {q}: {spent:,.0f} of {available:,.0f} "
                           "to date)")
        elif not carry_over and budgets[q - 1] > 0 \
                and capex >= budgets[q - 1] * 0.999 - 1e-6:
            binding.append(f"capex_per_quarter (quarter {q}: {capex:,.0f} of "
                           f"{budgets[q - 1]:,.0f})")
    return replace(result, decisions=decisions, by_quarter=pd.DataFrame(rows),
                   binding=tuple(binding))
