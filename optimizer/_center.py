"""The covering objectives that ask every demand point to be served: ``set_cover`` (the
fewest new outlets, then the cheapest, so that every demand point with adults is within
the coverage minutes of an outlet; with ``backup``, the most demand weight within reach
of two) and ``p_center`` (the least longest travel time from a demand point to its
nearest outlet, within the limits).

p-center is solved exactly by bisection on the radius: the optimal radius is one of the
travel times in the table, and a radius is feasible when a set cover at that radius
meets the limits, a mixed-integer feasibility question the solver answers (Minieka 1970,
"The m-center problem", SIAM Review 12(1); Daskin 2013, "Network and Discrete Location",
ch. 5). A radius the solver could not settle in its time leaves the answer between the
largest radius proven infeasible and the smallest found feasible: stated as the gap.
Demand points no site in the table reaches are not served by any plan: they are
reported, not counted."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from optimizer._siting_inputs import Options
from optimizer._siting_plan import SitingResult, plan_result
from optimizer._solve import SolveOutcome, Solver, chosen, solve
from optimizer.errors import PlanInfeasibleError

__all__ = ["CoverData", "CoverSolution", "cover_plan", "p_center", "set_cover"]


@dataclass(frozen=True)
class CoverData:
    """Pairs (demand point, site row, minutes) of the travel table; which site rows are
    outlets that stay (``fixed``); each decision's site row; adults and weight per point;
    each decision's cost (capex + a year's opex; 0 for an outlet that may close)."""

    point: np.ndarray
    site: np.ndarray
    minutes: np.ndarray
    fixed: np.ndarray  # bool per site row
    decision_site: np.ndarray
    adults: np.ndarray
    weight: np.ndarray
    cost: np.ndarray
    new: int  # decisions before this index open a new outlet
    #: with capacity: visits a week per adult, each decision's and each fixed outlet's
    #: (per site row) visits a week
    visits: float | None = None
    decision_capacity: np.ndarray | None = None
    site_capacity: np.ndarray | None = None

    def cover_terms(self, radius: float) -> tuple[np.ndarray, list[list[int]]]:
        """Per point: how many fixed outlets are within ``radius``, and the decisions
        whose site is."""
        near = self.minutes <= radius
        fixed_hits = np.zeros(self.adults.size)
        np.add.at(fixed_hits, self.point[near & self.fixed[self.site]], 1.0)
        terms: list[list[int]] = [[] for _ in range(self.adults.size)]
        for i, row in zip(self.point[near], self.site[near], strict=True):
            terms[int(i)].extend(self.decisions_at.get(int(row), ()))
        return fixed_hits, terms

    @functools.cached_property
    def decisions_at(self) -> dict[int, list[int]]:
        """The decisions at each site row (built once, whatever the radius)."""
        out: dict[int, list[int]] = {}
        for j, row in enumerate(self.decision_site):
            out.setdefault(int(row), []).append(j)
        return out


@dataclass
class CoverSolution:
    y: np.ndarray
    value: float
    bound: float | None
    proven: bool
    seconds: float
    rounds: int
    unserved_points: int
    unserved_adults: float


def _count_objective(decisions: Sequence[pulp.LpVariable], data: CoverData
                     ) -> pulp.LpAffineExpression:
    """The fewest new outlets, then the cheapest: each new outlet counts 1 plus its cost
    over one more than all the costs together (so costs only break ties in count)."""
    scale = float(data.cost.sum()) + 1.0
    return pulp.lpSum((float(j < data.new) + float(data.cost[j]) / scale) * v
                      for j, v in enumerate(decisions))


def _cover_rows(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable], data: CoverData,
                radius: float, points: np.ndarray, tag: str) -> list[str] | None:
    """Rows that cover each of ``points`` within ``radius``; None when some point has no
    outlet or site within it (no plan can cover it)."""
    fixed_hits, terms = data.cover_terms(radius)
    if any(fixed_hits[i] == 0 and not terms[i] for i in points):
        return None
    if data.visits is not None:
        return _capacity_rows(prob, decisions, data, radius, points, tag)
    names = []
    for i in points:
        if fixed_hits[i] > 0:
            continue
        name = f"{tag}{i}"
        prob += pulp.lpSum(decisions[j] for j in terms[i]) >= 1, name
        names.append(name)
    return names


def _capacity_rows(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable],
                   data: CoverData, radius: float, points: np.ndarray, tag: str) -> list[str]:
    """Each of ``points`` served whole by outlets within ``radius`` (an assignment may
    split a point among them), each outlet's load within its capacity."""
    assert data.visits is not None and data.decision_capacity is not None \
        and data.site_capacity is not None
    at_site = data.decisions_at
    wanted = np.zeros(data.adults.size, dtype=bool)
    wanted[points] = True
    near = (data.minutes <= radius) & wanted[data.point]
    load: dict[int, list[tuple[pulp.LpVariable, int]]] = {}
    served: dict[int, list[pulp.LpVariable]] = {}
    for k, (i, row) in enumerate(zip(data.point[near], data.site[near], strict=True)):
        row, i = int(row), int(i)
        if not data.fixed[row] and row not in at_site:
            continue
        share = prob.add_variable(f"{tag}a{k}", lowBound=0, upBound=1)
        if not data.fixed[row]:
            prob += share <= pulp.lpSum(decisions[j] for j in at_site[row])
        load.setdefault(row, []).append((share, i))
        served.setdefault(i, []).append(share)
    names = []
    for i in points:
        name = f"{tag}{i}"
        prob += pulp.lpSum(served.get(int(i), [])) == 1, name
        names.append(name)
    for row, terms in load.items():
        room = (float(data.site_capacity[row]) if data.fixed[row] else pulp.lpSum(
            float(data.decision_capacity[j]) * decisions[j] for j in at_site[row]))
        prob += pulp.lpSum(float(data.adults[i] * data.visits) * share
                           for share, i in terms) <= room
    return names


def _capacity_text(data: CoverData, points: np.ndarray) -> str:
    if data.visits is None:
        return ""
    need = float(data.adults[points].sum()) * data.visits
    return (f", or the outlets' capacity: the demand takes {need:,.0f} visits a week at "
            f"{data.visits:g} a week per adult")


def _served(data: CoverData, radius: float) -> np.ndarray:
    """Points with adults that some outlet or site of the table reaches within radius."""
    fixed_hits, terms = data.cover_terms(radius)
    return (data.adults > 0) & ((fixed_hits > 0) | np.array([bool(t) for t in terms]))


def set_cover(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable], data: CoverData,
              minutes: float, *, backup: bool, solver: Solver, time_limit_s: float,
              gap: float) -> tuple[CoverSolution, SolveOutcome]:
    """Every point with adults within ``minutes``: the fewest new outlets (then the
    cheapest), or with ``backup`` the most weight within reach of two, all covered once."""
    served = _served(data, minutes)
    want = data.adults > 0
    if (want & ~served).any():
        lost = want & ~served
        raise PlanInfeasibleError(
            f"set_cover: {int(lost.sum())} demand point(s) with {data.adults[lost].sum():,.0f} "
            f"adults have no outlet or candidate within {minutes:g} minutes; raise "
            "outlets.coverage_minutes or add candidate sites")
    points = np.flatnonzero(want)
    _cover_rows(prob, decisions, data, minutes, points, "cover")
    if backup:
        fixed_hits, terms = data.cover_terms(minutes)
        twice = {}
        for i in points:
            if fixed_hits[i] >= 2:
                continue
            twice[i] = prob.add_variable(f"twice{i}", cat="Binary")
            prob += (pulp.lpSum(decisions[j] for j in terms[i]) + float(fixed_hits[i])
                     >= 1 + twice[i])
        prob.sense = pulp.LpMaximize
        prob.setObjective(pulp.lpSum(float(data.weight[i]) * v for i, v in twice.items()))
    else:
        prob.sense = pulp.LpMinimize
        prob.setObjective(_count_objective(decisions, data))
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s, gap=gap)
    if outcome.status == "infeasible":
        raise PlanInfeasibleError(
            "set_cover: no plan covers every demand point within the limits; raise "
            "outlets.max_new or the budgets, or coverage_minutes"
            + _capacity_text(data, points))
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"set_cover: the solver stopped without a plan "
                                  f"({outcome.status}); raise the time limit", timed_out=True)
    y = chosen(decisions)
    if backup:  # the weight within reach of two, with the points two kept outlets reach
        fixed_hits, terms = data.cover_terms(minutes)
        hits = fixed_hits + np.array([sum(y[j] for j in t) for t in terms])
        value = float(data.weight[(hits >= 2) & want].sum())
        always = float(data.weight[(fixed_hits >= 2) & want].sum())
        bound = None if outcome.bound is None else outcome.bound + always
    else:  # the count; its bound is in count-and-cost units, so only a proof carries over
        value = float(y[:data.new].sum())
        bound = value if outcome.proven_optimal else None
    return CoverSolution(y, value, bound, outcome.proven_optimal,
                         outcome.solve_seconds, 1, 0, 0.0), outcome


def p_center(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable], data: CoverData,
             *, solver: Solver, time_limit_s: float) -> CoverSolution:
    """The least radius within which every served point has an outlet, by bisection over
    the table's travel times (see the module's note)."""
    deadline = time.perf_counter() + time_limit_s
    reach_all = _served(data, np.inf)
    points = np.flatnonzero(reach_all)
    if points.size == 0:
        raise PlanInfeasibleError("p_center: no demand point with adults is in the travel "
                                  "table's reach of any outlet or candidate")
    # no plan does better than each point's nearest site of all
    nearest = np.full(data.adults.size, np.inf)
    np.minimum.at(nearest, data.point, data.minutes)
    radii = np.unique(data.minutes[data.minutes >= nearest[points].max()])
    # bisection asks only whether a plan exists at a radius (no objective: the solver
    # stops at the first plan); the fewest, cheapest outlets at the answer come last
    prob.sense = pulp.LpMinimize
    prob.setObjective(pulp.LpAffineExpression())
    lo, hi = 0, radii.size - 1  # the answer's index lies in [lo, hi]
    best_y: np.ndarray | None = None
    found = radii.size - 1
    settled_below = -1  # the largest index proven infeasible
    seconds, rounds = 0.0, 0
    while lo <= hi and time.perf_counter() < deadline:
        mid = (lo + hi) // 2
        at_radius = prob.copy()  # the limits and objective, and this radius's rows
        if _cover_rows(at_radius, decisions, data, float(radii[mid]), points, "c") is None:
            settled_below, lo = mid, mid + 1  # a point out of every site's reach
            continue
        outcome = solve(at_radius, solver=solver,
                        time_limit_s=max(deadline - time.perf_counter(), 1.0))
        seconds += outcome.solve_seconds
        rounds += 1
        if outcome.status in ("optimal", "feasible"):
            best_y, hi = chosen(decisions), mid - 1
            found = mid
        elif outcome.status == "infeasible":
            settled_below, lo = mid, mid + 1
        else:
            break  # the solver could not settle this radius in the time left
    if best_y is None:
        raise PlanInfeasibleError("p_center: no plan serves every reachable demand point "
                                  "within the limits (or none was found in the time); raise "
                                  "outlets.max_new or the budgets"
                                  + _capacity_text(data, points),
                                  timed_out=time.perf_counter() >= deadline)
    radius = float(radii[found])
    final = prob.copy()  # at the answer: the fewest new outlets, then the cheapest
    final.setObjective(_count_objective(decisions, data))
    _cover_rows(final, decisions, data, radius, points, "c")
    outcome = solve(final, solver=solver,
                    time_limit_s=max(deadline - time.perf_counter(), 1.0))
    seconds += outcome.solve_seconds
    if outcome.status in ("optimal", "feasible"):
        best_y = chosen(decisions)
    bound = float(radii[settled_below + 1]) if settled_below + 1 <= found else radius
    lost = (data.adults > 0) & ~reach_all
    return CoverSolution(best_y, radius, bound, bound >= radius, seconds, rounds,
                         int(lost.sum()), float(data.adults[lost].sum()))


def cover_plan(prob: pulp.LpProblem, x: list[pulp.LpVariable],
               keep: dict[object, pulp.LpVariable], sites: pd.DataFrame, opts: Options,
               pairs: tuple[np.ndarray, np.ndarray, np.ndarray], fixed_existing: pd.Index,
               adults: np.ndarray, weight: np.ndarray, *, objective: str, backup: bool,
               load: tuple[float | None, np.ndarray], coverage: tuple[float, float],
               limits: tuple[float | None, float | None, Mapping[str, int] | int | None],
               solver: Solver, time_limit_s: float, gap: float, start: float
               ) -> SitingResult:
    """The ``set_cover`` or ``p_center`` plan of ``site_outlets`` (its limits already in
    ``prob``); ``load``: visits a week per adult (None: no capacity) and each existing
    outlet's capacity, per site row."""
    di, si, t = pairs
    site_pos = {sid: i for i, sid in enumerate(sites.index)}
    closable = list(keep)
    existing = sites[sites["status"] == "existing"]
    fixed = np.zeros(len(sites), dtype=bool)
    fixed[[site_pos[e] for e in fixed_existing]] = True
    data = CoverData(di, si, t, fixed,
                     np.array([site_pos[s] for s in opts.site] + [site_pos[e] for e in closable],
                              dtype=np.int64), adults, weight,
                     np.concatenate([opts.capex + opts.opex,
                                     existing.loc[closable, "opex_per_year"].to_numpy(float)]),
                     len(x), visits=load[0],
                     decision_capacity=np.concatenate(
                         [opts.capacity, load[1][[site_pos[e] for e in closable]]]),
                     site_capacity=load[1])
    decisions = [*x, *keep.values()]
    coverage_minutes, coverage_before = coverage
    time_limit_s = max(time_limit_s - (time.perf_counter() - start), 1.0)
    if objective == "set_cover":
        found, outcome = set_cover(prob, decisions, data, coverage_minutes, backup=backup,
                                   solver=solver, time_limit_s=time_limit_s, gap=gap)
        status, proven = outcome.status, outcome.proven_optimal
        bound = outcome.bound
    else:
        found = p_center(prob, decisions, data, solver=solver, time_limit_s=time_limit_s)
        status, proven, bound = ("optimal" if found.proven else "feasible"), found.proven, \
            found.bound
    y = found.y
    result = plan_result(status, proven, found.value, bound, objective, sites, opts,
                         y[:len(x)] > 0.5,
                         {e: bool(y[len(x) + k] > 0.5) for k, e in enumerate(closable)},
                         adults, pairs, coverage_minutes, coverage_before, limits,
                         time.perf_counter() - start - found.seconds, found.seconds, solver)
    return dataclasses.replace(result, rounds=found.rounds,
                               unserved_points=found.unserved_points,
                               unserved_adults=found.unserved_adults)
