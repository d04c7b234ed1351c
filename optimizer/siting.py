"""Outlet siting: which candidate sites to open, as which kind, and which outlets to keep.

Objectives (``objective``):

* ``max_coverage``: the demand weight (score x adults) within ``coverage_minutes`` of an
  own outlet;
* ``p_median``: the smallest weighted travel time to the nearest own outlet, assignments
  limited to each demand point's ``nearest_k`` sites (a point with none of them open is
  charged ``unserved_minutes``);
* ``max_capture``: the competitive location problem: residents patronise the most
  attractive outlet they can reach (attractiveness x minutes^-beta, the Huff utility of
  geo.market), and the plan maximizes the demand weight whose best outlet is an own one;
* ``max_share``: the same utility as shares (the Huff rule the simulation uses): the plan
  maximizes the expected demand weight the own outlets capture against the competitors,
  exactly or with a proven gap (optimizer._share);
* ``target_share``: the cheapest plan (capex + a year's opex) whose expected capture is at
  least ``target_share`` of the demand weight, by the same method;
* ``set_cover``: every demand point with adults within ``coverage_minutes``, with the
  fewest new outlets, then the cheapest; with ``backup``, the most demand weight within
  reach of two outlets (every point still within reach of one);
* ``p_center``: the least longest travel time from a demand point to its nearest outlet
  (optimizer._center);
* ``min_cost``: capacitated facility location with opening costs: the least yearly cost
  of opening (capex annualized, plus opex), of the adults' travel minutes and of the
  adults left unserved (``costs``, a :class:`CostWeights`), assignments as p_median's.

Limits: capex budget, yearly opex budget (kept existing outlets count; a closure saves
its opex), the most new outlets per kind (kinds not listed are not opened) or in total,
capacity per kind against demand (``visits_per_adult`` a week), a minimum coverage share,
and a minimum spacing between outlets. When the limits cannot all hold, an elastic re-solve
names the ones that must give and by how much.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pulp

from geo.market import DEFAULT_ATTRACTIVENESS
from optimizer._assignment import assignment_rows
from optimizer._center import cover_plan
from optimizer._elastic import Soft, explain_infeasible
from optimizer._rollout import rollout_budgets, rollout_plan
from optimizer._share_plan import share_plan
from optimizer._siting_inputs import (
    CostWeights,
    best_competitor,
    build_options,
    capacities,
    check_inputs,
    opening_costs,
    read_cost_table,
    travel_pairs,
)
from optimizer._siting_plan import (
    SitingResult,
    fast_plan,
    limit_rows,
    plan_result,
    spacing_constraints,
)
from optimizer._solve import Solver, check_solver, chosen, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["CostWeights", "Objective", "SitingResult", "read_cost_table", "site_outlets"]

Objective = Literal["max_coverage", "p_median", "max_capture", "max_share", "target_share",
                    "p_center", "set_cover", "min_cost"]


def site_outlets(
    demand: pd.DataFrame, sites: pd.DataFrame, travel: pd.DataFrame, *,
    objective: Objective = "max_coverage", coverage_minutes: float = 15.0,
    kinds: Mapping[str, Mapping[str, float]] | None = None,
    capex_budget: float | None = None, opex_budget: float | None = None,
    max_new: Mapping[str, int] | int | None = None, min_coverage_share: float | None = None,
    min_spacing_m: float = 0.0, allow_closures: bool = False,
    visits_per_adult: float | None = None, competitors: pd.DataFrame | None = None,
    beta: float = 2.0, attractiveness: Mapping[str, float] | None = None,
    nearest_k: int = 10, unserved_minutes: float | None = None,
    target_share: float | None = None, backup: bool = False,
    costs: CostWeights | None = None, quarters: int = 1,
    capex_per_quarter: float | Sequence[float] | None = None, carry_over: bool = True,
    solver: Solver = "cbc", time_limit_s: float = 60.0, gap: float = 0.0,
) -> SitingResult:
    """Choose sites and kinds for new own outlets (and, if allowed, outlets to close).

    Parameters
    ----------
    demand
        Indexed by demand point id: ``weight`` (what the objective counts, such as
        adults x score) and ``adults`` (for coverage shares and capacity).
    sites
        Indexed by site id: ``status`` (``candidate`` or ``existing``), ``kinds`` (the
        kinds a candidate allows, ``|``-separated), ``kind`` (an existing outlet's),
        ``capex``, ``opex_per_year``, and ``x``, ``y`` (metres) for spacing; optional
        ``capacity_per_week``.
    travel
        Minutes from demand points to sites: ``origin_id``, ``dest_id``, ``cost``; pairs
        not listed are out of reach. Use geo's travel times or :func:`read_cost_table`.
    kinds
        Per kind: ``capex``, ``opex_per_year`` (added to the site's own) and
        ``capacity_per_week`` (the area.toml ``[kinds]`` table).
    competitors
        For ``max_capture``: the competitor outlets' minutes, ``origin_id``, ``dest_id``,
        ``cost``, and their ``kind``.
    quarters, capex_per_quarter, carry_over
        A rollout (optimizer._rollout): which site opens in which quarter, each quarter's
        capex at most its budget plus (with ``carry_over``) what earlier quarters left.
    """
    start = time.perf_counter()
    kinds = {k: dict(v) for k, v in (kinds or {}).items()}
    check_solver(solver)
    check_inputs(demand, sites, travel, objective, coverage_minutes, min_coverage_share,
           capex_budget, opex_budget, competitors)
    if objective == "target_share" and not (target_share is not None
                                            and 0 < target_share <= 1):
        raise OptimizerInputError(f"target_share = {target_share}: target_share needs the "
                                  "share of the demand to capture, in (0, 1]")
    if objective == "min_cost" and costs is None:
        raise OptimizerInputError("min_cost needs costs: CostWeights(per_adult_minute=..., "
                                  "per_unserved_adult=...)")
    valued = costs is not None and costs.values_coverage
    if valued and objective not in ("max_coverage", "max_capture"):
        raise OptimizerInputError(f"costs.value_per_covered_adult is for max_coverage and "
                                  f"max_capture, not {objective}; leave it out")
    needs_limit = objective not in ("target_share", "set_cover", "min_cost") or backup
    needs_limit = needs_limit and not valued  # cost is weighed against coverage
    budgets = rollout_budgets(objective, quarters, capex_per_quarter,
                              allow_closures=allow_closures, visits_per_adult=visits_per_adult,
                              min_coverage_share=min_coverage_share)
    if needs_limit and max_new is None and capex_budget is None and opex_budget is None \
            and budgets is None:
        # every objective gains from one more outlet: without a limit every site opens
        raise OptimizerInputError(f"{objective} without max_new or a budget opens every "
                                  "candidate; give outlets.max_new (max_new=) or "
                                  "outlets.capex_budget (capex_budget=)")
    opts = build_options(sites, kinds, max_new)
    existing = sites[sites["status"] == "existing"]
    ids = demand.index
    w = demand["weight"].to_numpy(float)
    adults = demand["adults"].to_numpy(float)
    site_ids = sites.index
    pairs = travel_pairs(ids, sites, travel, coverage_minutes)
    di, si, t, pairs_by_site = pairs.di, pairs.si, pairs.t, pairs.by_site
    is_existing = (sites["status"] == "existing").to_numpy()
    within = t <= coverage_minutes
    covered_before = pairs.covered_before
    total_adults = float(adults.sum()) or 1.0
    coverage_before = float(adults[covered_before].sum()) / total_adults

    # the cover pairs of the objective: within reach, or beating the best competitor
    if objective == "max_capture":
        assert competitors is not None
        table = {**DEFAULT_ATTRACTIVENESS, **(attractiveness or {})}
        best = best_competitor(ids, competitors, table, beta)

        def beats(kind: str, pair_d: np.ndarray, pair_t: np.ndarray) -> np.ndarray:
            return table.get(kind, 1.0) * np.maximum(pair_t, 1.0) ** -beta > best[pair_d]

    site_pos = {sid: i for i, sid in enumerate(site_ids)}
    # option -> its site's row position; pairs per option via the site
    opt_site_pos = np.array([site_pos[s] for s in opts.site], dtype=np.int64)

    def option_pairs(o: int) -> np.ndarray:
        return pairs_by_site.get(opt_site_pos[o], np.zeros(0, dtype=np.int64))

    fixed_existing = existing.index if not allow_closures else existing.index[:0]
    closable = existing.index if allow_closures else existing.index[:0]
    existing_kind = existing["kind"] if "kind" in existing else pd.Series(dtype=object)

    def covers(o_pairs: np.ndarray, kind: str) -> np.ndarray:
        """Demand points the pairs serve under the objective's rule."""
        if objective == "max_capture":
            ok = beats(kind, di[o_pairs], t[o_pairs])
            return np.unique(di[o_pairs][ok & within[o_pairs]])
        return np.unique(di[o_pairs][within[o_pairs]])

    def reached_by(e: object) -> np.ndarray:
        """Demand points existing outlet ``e`` serves under the objective's rule."""
        return covers(pairs_by_site.get(site_pos[e], np.zeros(0, dtype=np.int64)),
                      existing_kind.get(e, "branch"))

    # the points the outlets that stay serve whatever the plan
    fixed_cover = np.zeros(len(ids), dtype=bool)
    if objective in ("max_coverage", "max_capture"):
        for e in fixed_existing:
            fixed_cover[reached_by(e)] = True
    if budgets is not None:
        if valued:
            raise OptimizerInputError("a rollout over quarters does not weigh coverage "
                                      "against cost yet: leave value_per_covered_adult out")
        return rollout_plan(opts, [covers(option_pairs(o), opts.kind[o])
                                   for o in range(opts.site.size)], fixed_cover, w, adults,
                            sites, (di, si, t), objective=objective, budgets=budgets,
                            carry_over=carry_over,
                            limits=(capex_budget, opex_budget, max_new),
                            min_spacing_m=min_spacing_m,
                            coverage=(coverage_minutes, coverage_before), solver=solver,
                            time_limit_s=time_limit_s, gap=gap, start=start)
    simple = (objective in ("max_coverage", "max_capture") and visits_per_adult is None
              and min_coverage_share is None and min_spacing_m <= 0 and not allow_closures
              and opex_budget is None and not valued
              and (objective == "max_coverage" or len(set(opts.site)) == opts.site.size))
    if simple and opts.site.size and not isinstance(max_new, Mapping):
        return fast_plan(demand, sites, opts, covers, option_pairs, fixed_existing, existing_kind,
                     site_pos, pairs_by_site, objective, max_new, capex_budget, solver,
                     time_limit_s, gap, coverage_minutes, coverage_before, adults, (di, si, t))

    prob = pulp.LpProblem("site_outlets", pulp.LpMinimize if objective in (
        "p_median", "target_share", "min_cost") else pulp.LpMaximize)
    x = [prob.add_variable(f"x{o}", cat="Binary") for o in range(opts.site.size)]
    keep = {e: prob.add_variable(f"keep{i}", cat="Binary") for i, e in enumerate(closable)}
    by_site: dict[object, list[int]] = {}
    for o, s in enumerate(opts.site):
        by_site.setdefault(s, []).append(o)
    for os_ in by_site.values():
        if len(os_) > 1:
            prob += pulp.lpSum(x[o] for o in os_) <= 1

    def open_expr(site_row: int) -> pulp.LpAffineExpression | float:
        sid = site_ids[site_row]
        if is_existing[site_row]:
            return keep.get(sid, 1.0)
        return pulp.lpSum(x[o] for o in by_site.get(sid, []))

    requirements: list[str] = []
    soft: list[Soft] = []
    obj_terms: list[pulp.LpAffineExpression] = []
    floor = 0.0
    cover_rows: dict[int, list[pulp.LpVariable]] = {}
    served_within: dict[int, list[pulp.LpVariable]] = {}  # assignments within reach
    if objective in ("max_share", "target_share"):
        if visits_per_adult is not None:
            raise OptimizerInputError(f"{objective} does not take visits_per_adult (capacity "
                                      "rows serve covered demand); use max_coverage")
    elif objective in ("p_center", "set_cover"):
        pass  # their rows depend on the radius (optimizer._center)
    elif objective not in ("p_median", "min_cost"):
        for o in range(opts.site.size):
            for d in covers(option_pairs(o), opts.kind[o]):
                cover_rows.setdefault(int(d), []).append(x[o])
        for e, kept_var in keep.items():  # outlets that may close cover while kept
            for d in reached_by(e):
                cover_rows.setdefault(int(d), []).append(kept_var)
        cover_w = w
        if valued:  # a year's value of each adult covered, less the openings' yearly cost
            assert costs is not None
            cover_w = adults * costs.value_per_covered_adult
            obj_terms.extend(-term for term in opening_costs(opts, x, keep, existing, costs))
        floor = float(cover_w[fixed_cover].sum())
        y = {}
        for d, terms in cover_rows.items():
            if fixed_cover[d]:
                continue
            y[d] = prob.add_variable(f"y{d}", lowBound=0, upBound=1)
            prob += y[d] <= pulp.lpSum(terms)
            obj_terms.append(float(cover_w[d]) * y[d])
        prob += pulp.lpSum(obj_terms)
    else:
        penalty = unserved_minutes if unserved_minutes is not None else 2 * float(
            t.max() if t.size else coverage_minutes)
        per_minute, unserved = w, w * penalty
        if costs is not None and objective == "min_cost":  # a year's money, not minutes
            per_minute = adults * costs.per_adult_minute
            unserved = adults * costs.per_unserved_adult
            obj_terms.extend(opening_costs(opts, x, keep, existing, costs))
        z_by_site = assignment_rows(
            prob, (di, si, t), len(ids), nearest_k, coverage_minutes,
            lambda s_row: bool(is_existing[s_row] or site_ids[s_row] in by_site), open_expr,
            per_minute, unserved, obj_terms, served_within)
        prob += pulp.lpSum(obj_terms)
    site_capacity = (capacities(sites, kinds, existing_kind) if visits_per_adult is not None
                     else np.zeros(len(sites)))
    if visits_per_adult is not None and objective not in ("p_center", "set_cover"):
        requirements.append(f"capacity for {visits_per_adult:g} visits per adult a week")
        if objective in ("p_median", "min_cost"):
            load = z_by_site
        else:  # serve covered demand within capacity: assignments on the cover pairs
            load = {}
            served: dict[int, list[pulp.LpVariable]] = {}
            for k_, (d_, s_row) in enumerate(zip(di[within], si[within], strict=True)):
                if not is_existing[s_row] and site_ids[s_row] not in by_site:
                    continue
                a = prob.add_variable(f"a{k_}", lowBound=0, upBound=1)
                prob += a <= open_expr(int(s_row))
                load.setdefault(int(s_row), []).append((a, int(d_)))
                served.setdefault(int(d_), []).append(a)
                served_within.setdefault(int(d_), []).append(a)
            for d, yv in y.items():
                prob += yv <= pulp.lpSum(served.get(d, []))
        for s_row, terms in load.items():
            sid = site_ids[s_row]
            if is_existing[s_row]:
                cap_expr = float(site_capacity[s_row]) * open_expr(s_row)
            else:
                cap_expr = pulp.lpSum(float(opts.capacity[o]) * x[o] for o in by_site[sid])
            prob += pulp.lpSum(float(adults[d] * visits_per_adult) * v
                               for v, d in terms) <= cap_expr
    if min_coverage_share is not None:
        requirements.append(f"min_coverage_share {min_coverage_share:.0%} within "
                            f"{coverage_minutes:g} minutes")
        reach_all = covered_before.copy()
        openable = np.isin(site_ids.to_numpy()[si], opts.site)
        reach_all[di[within & (is_existing[si] | openable)]] = True
        best_share = float(adults[reach_all].sum()) / total_adults
        if best_share < min_coverage_share - 1e-9:
            raise PlanInfeasibleError(
                f"outlets.min_coverage_share = {min_coverage_share:.0%} is out of reach: "
                f"opening every candidate covers {best_share:.1%} of adults within "
                f"{coverage_minutes:g} minutes (a candidate opens only as a kind listed in "
                "outlets.max_new); lower it, list more kinds or add candidate sites")
        c = {}
        reach_d, reach_s = di[within], si[within]
        grouped = np.argsort(reach_d, kind="stable")
        starts = np.searchsorted(reach_d[grouped], np.unique(reach_d), side="left")
        for d, rows in zip(np.unique(reach_d), np.split(grouped, starts[1:]), strict=True):
            if visits_per_adult is not None:  # covered means served within capacity
                terms = served_within.get(int(d), [])
            else:
                terms = [open_expr(int(s)) for s in reach_s[rows]
                         if is_existing[s] or site_ids[s] in by_site]
            c[d] = prob.add_variable(f"c{d}", lowBound=0, upBound=1)
            prob += c[d] <= pulp.lpSum(terms)
        prob += (pulp.lpSum(float(adults[d]) * v for d, v in c.items())
                 >= min_coverage_share * total_adults), "min_coverage"
    because = f" to meet {' and '.join(requirements)}" if requirements else ""
    soft += limit_rows(prob, x, keep, opts, existing["opex_per_year"],
                       (capex_budget, opex_budget, max_new), because)
    if min_spacing_m > 0:
        spacing_constraints(prob, sites, x, by_site, keep, min_spacing_m)
    build = time.perf_counter() - start
    if objective in ("p_center", "set_cover"):
        return cover_plan(prob, x, keep, sites, opts, (di, si, t), fixed_existing, adults, w,
                          objective=objective, backup=backup,
                          load=(visits_per_adult, site_capacity),
                          coverage=(coverage_minutes, coverage_before),
                          limits=(capex_budget, opex_budget, max_new), solver=solver,
                          time_limit_s=time_limit_s, gap=gap, start=start)
    if objective in ("max_share", "target_share"):
        assert competitors is not None
        return share_plan(prob, x, keep, sites, opts, ids, (di, si, t), competitors, adults,
                          w, fixed_existing, existing_kind, soft, pairs_by_site,
                          attractiveness=attractiveness, beta=beta, min_spacing_m=min_spacing_m,
                          limits=(capex_budget, opex_budget, max_new),
                          coverage=(coverage_minutes, coverage_before, min_coverage_share),
                          target_share=target_share if objective == "target_share" else None,
                          solver=solver, time_limit_s=time_limit_s, gap=gap, start=start)
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s, gap=gap)
    if outcome.status == "infeasible":
        lines = explain_infeasible(prob, soft, solver=solver, time_limit_s=time_limit_s)
        raise PlanInfeasibleError("; ".join(lines) if lines else (
            f"no outlet plan meets {' and '.join(requirements) or 'the limits'}, even with "
            "unlimited budgets and counts: check min_spacing_m and the candidates"))
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the solver stopped without an outlet plan "
                                  f"({outcome.status}); raise the time limit")
    opened = chosen(x) > 0.5
    kept = {e: bool(v > 0.5) for e, v in zip(keep, chosen(list(keep.values())), strict=True)}
    value = float(outcome.objective or 0.0) + floor
    bound = None if outcome.bound is None else outcome.bound + floor
    return plan_result(outcome.status, outcome.proven_optimal, value, bound, objective, sites,
                   opts, opened, kept, adults, (di, si, t), coverage_minutes, coverage_before,
                   (capex_budget, opex_budget, max_new), build, outcome.solve_seconds, solver)

