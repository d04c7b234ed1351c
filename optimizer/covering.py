"""Maximal covering: choose sites so that as much demand as possible lies within reach.

Solved in four stages, each recorded in the result:

1. Reductions. Demand points covered by the same set of candidates are merged, demand
   already covered by existing sites is counted and dropped, and candidates whose coverage
   is contained in another's at no lower cost are dropped.
2. A plan: greedy, then vertex substitution (the best swap of a chosen site for an
   unchosen one, or the best addition, until none improves), then a few perturbed
   restarts. Plans never exceed ``p`` or the budget.
3. An upper bound that does not depend on a solver (``optimizer._covering_bounds``): the
   Lagrangian relaxation of the covering rows, evaluated at multipliers from subgradient
   steps and from the duals of the LP relaxation (HiGHS interior point). Any multipliers
   give a valid bound, so the gap stated is proven even when the LP is stopped early.
4. When the gap is still above the target and time remains, the MIP (CBC or HiGHS)
   started from the plan; its own proof of optimality or bound is taken when better.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp
from scipy.sparse import csr_matrix

from optimizer._checks import require_columns
from optimizer._covering_bounds import lp_dual_bound, subgradient_bound
from optimizer._solve import Solver, check_solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["CoveringResult", "greedy_covering", "maximal_covering", "swap_search"]

TOL = 1e-9


@dataclass(frozen=True)
class CoveringResult:
    """A covering plan and what was proven about it.

    ``chosen``: the new sites; ``objective``: demand weight covered (existing sites
    included); ``bound``: a proven upper bound on that weight; ``gap``: (bound -
    objective) / objective, 0 when proven optimal, None when no bound is known.
    ``method`` says which stage gave the plan: "greedy", "local search" or the solver.
    """

    status: str
    proven_optimal: bool
    objective: float
    bound: float | None
    gap: float | None
    chosen: pd.Index
    covered: pd.Series
    coverage_share: float
    build_seconds: float
    solve_seconds: float
    reductions: dict[str, int]
    solver: str
    method: str
    greedy_objective: float


@dataclass(frozen=True)
class _Reduced:
    gw: np.ndarray  # weight per demand group
    g: csr_matrix  # groups x kept candidates
    kept: np.ndarray  # candidate positions kept
    floor: float  # weight covered by existing sites
    reductions: dict[str, int]


def _incidence(weights: pd.Series, cover: pd.DataFrame, sites: pd.Index) -> csr_matrix:
    missing = set(cover["demand_id"]) - set(weights.index)
    if missing:
        raise OptimizerInputError(f"cover names {len(missing)} demand id(s) without a weight, "
                                  f"such as {sorted(missing, key=str)[:3]}")
    rows = weights.index.get_indexer(pd.Index(cover["demand_id"]))
    cols = sites.get_indexer(pd.Index(cover["site_id"]))
    if (cols < 0).any():
        raise OptimizerInputError("cover names sites that are neither candidates nor existing")
    m = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(weights), len(sites)))
    m.data[:] = 1.0
    return m


def _reduce(w: np.ndarray, full: csr_matrix, n_cand: int, cost: np.ndarray) -> _Reduced:
    already = np.asarray(full[:, n_cand:].sum(axis=1)).ravel() > 0
    a = full[~already][:, :n_cand].tocsr()
    a.sort_indices()
    w_open = w[~already]
    # merge demand covered by the same set of candidates
    keys = [a.indices[a.indptr[i]:a.indptr[i + 1]].tobytes() for i in range(a.shape[0])]
    codes, first = pd.factorize(pd.Index(keys))
    gw_all = np.bincount(codes, weights=w_open, minlength=len(first))
    rep = pd.Series(np.arange(codes.size)).groupby(codes).first().to_numpy()
    g = a[rep]
    nonempty = np.diff(g.indptr) > 0
    g, gw = g[nonempty], gw_all[nonempty]
    # drop candidates covered, at no lower cost, by another
    size = np.asarray(g.sum(axis=0)).ravel()
    overlap = (g.T @ g).tocsr()
    keep = size > 0
    for j in np.flatnonzero(keep):
        cols = overlap.indices[overlap.indptr[j]:overlap.indptr[j + 1]]
        vals = overlap.data[overlap.indptr[j]:overlap.indptr[j + 1]]
        rivals = cols[(vals == size[j]) & keep[cols] & (cost[cols] <= cost[j]) & (cols != j)]
        # identical coverage and cost: keep the first
        rivals = rivals[~((size[rivals] == size[j]) & (cost[rivals] == cost[j])
                          & (rivals > j))]
        if rivals.size:
            keep[j] = False
    kept = np.flatnonzero(keep)
    return _Reduced(gw=gw, g=g[:, kept].tocsr(), kept=kept, floor=float(w[already].sum()),
                    reductions={"demand_points": int(w.size), "demand_groups": int(gw.size),
                                "covered_by_existing": int(already.sum()),
                                "candidates": n_cand, "candidates_kept": int(kept.size)})


def _covered_weight(gw: np.ndarray, g: csr_matrix, chosen: np.ndarray) -> float:
    return float(gw[(g @ chosen.astype(np.float64)) > 0].sum())


def greedy_covering(weights: np.ndarray, incidence: csr_matrix, *, p: int | None,
                    costs: np.ndarray, budget: float | None) -> np.ndarray:
    """Pick the site adding the most uncovered weight (per unit cost under a budget) until
    ``p`` sites or the budget run out. Returns a boolean choice per site (column)."""
    csc = incidence.tocsc()
    uncovered = weights.astype(np.float64).copy()
    chosen = np.zeros(incidence.shape[1], dtype=bool)
    spent = 0.0
    while chosen.size and (p is None or chosen.sum() < p):
        gain = np.asarray(csc.T @ uncovered).ravel()
        affordable = ~chosen
        if budget is not None:
            affordable &= spent + costs <= budget + TOL
        score = np.where(affordable & (gain > 0),
                         gain / np.maximum(costs, 1e-12) if budget is not None else gain,
                         -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        chosen[best] = True
        spent += costs[best]
        uncovered[csc.indices[csc.indptr[best]:csc.indptr[best + 1]]] = 0.0
    return chosen


def swap_search(weights: np.ndarray, incidence: csr_matrix, chosen: np.ndarray, *,
                p: int | None, costs: np.ndarray, budget: float | None,
                deadline: float = float("inf")) -> np.ndarray:
    """Vertex substitution: apply the best improving addition or swap until none is left.

    The gain of swapping chosen site j for site k is gain(k) - loss(j) + both(j, k), where
    ``both`` is the weight covered only by j that k covers too; it is one sparse product
    per step.
    """
    a = incidence.tocsr()
    at = a.T.tocsr()
    chosen = chosen.copy()
    while time.perf_counter() < deadline:
        count = a @ chosen.astype(np.float64)
        gain = at @ (weights * (count == 0))
        spent = float(costs[chosen].sum())
        free = ~chosen
        add = np.where(free & (gain > TOL), gain, -np.inf)
        if p is not None and chosen.sum() >= p:
            add[:] = -np.inf
        if budget is not None:
            add[spent + costs > budget + TOL] = -np.inf
        best_add = int(np.argmax(add)) if add.size else 0
        best_value, move = (add[best_add], (-1, best_add)) if add.size else (-np.inf, (-1, 0))
        s = np.flatnonzero(chosen)
        if s.size and free.any():
            only = weights * (count == 1)
            ats = at[s]
            loss = ats @ only
            both = (ats.multiply(only[None, :]).tocsr() @ a).toarray()
            delta = gain[None, :] - loss[:, None] + both
            delta[:, chosen] = -np.inf
            if budget is not None:
                over = spent - costs[s][:, None] + costs[None, :] > budget + TOL
                delta[over] = -np.inf
            j, k = np.unravel_index(int(np.argmax(delta)), delta.shape)
            if delta[j, k] > best_value:
                best_value, move = delta[j, k], (int(s[j]), int(k))
        if not best_value > TOL * max(1.0, float(weights.sum())):
            break
        out, into = move
        if out >= 0:
            chosen[out] = False
        chosen[into] = True
    return chosen


def _perturbed_restarts(gw: np.ndarray, g: csr_matrix, chosen: np.ndarray, *, p: int | None,
                        costs: np.ndarray, budget: float | None, deadline: float,
                        rounds: int = 30, seed: int = 0) -> np.ndarray:
    """Iterated local search: drop a quarter of the plan at random, refill greedily, search
    again; keep the better plan. A fixed number of rounds keeps results reproducible."""
    rng = np.random.default_rng(seed)
    best, best_value = chosen, _covered_weight(gw, g, chosen)
    for _ in range(rounds):
        if time.perf_counter() >= deadline or best.sum() < 2:
            break
        trial = best.copy()
        s = np.flatnonzero(trial)
        trial[rng.choice(s, max(1, s.size // 4), replace=False)] = False
        covered = (g @ trial.astype(np.float64)) > 0
        left = p - int(trial.sum()) if p is not None else None
        room = budget - float(costs[trial].sum()) if budget is not None else None
        refill = greedy_covering(np.where(covered, 0.0, gw), g[:, ~trial],
                                 p=left, costs=costs[~trial], budget=room)
        trial[np.flatnonzero(~trial)[refill]] = True
        trial = swap_search(gw, g, trial, p=p, costs=costs, budget=budget, deadline=deadline)
        value = _covered_weight(gw, g, trial)
        if value > best_value + TOL * max(1.0, best_value):
            best, best_value = trial, value
    return best




def maximal_covering(
    weights: pd.Series, cover: pd.DataFrame, candidates: Sequence[object] | pd.Index, *,
    p: int | None = None, costs: pd.Series | None = None, budget: float | None = None,
    existing: Sequence[object] = (), solver: Solver = "cbc", time_limit_s: float = 60.0,
    gap: float = 0.0, local_search: bool = True,
) -> CoveringResult:
    """Choose candidate sites maximizing the demand weight within reach.

    Parameters
    ----------
    weights
        Demand weight per demand point (for example adults x score), indexed by id.
    cover
        The pairs within reach: columns ``demand_id`` and ``site_id`` (candidates and
        existing sites).
    candidates
        Sites that may be opened.
    p
        At most this many new sites.
    costs, budget
        Cost per candidate and the total that may be spent.
    existing
        Sites already open: what they cover counts and needs no new site.
    solver, time_limit_s, gap
        The MIP solver, the time for all stages together, and the relative gap at which
        to stop (0: until optimality is proven or time runs out).
    local_search
        False: skip stages 2 and 3 beyond greedy, so the MIP solver does all the work
        (for comparisons).
    """
    start = time.perf_counter()
    deadline = start + time_limit_s
    candidates = pd.Index(list(candidates))
    existing_idx = pd.Index(list(existing))
    check_solver(solver)
    if not isinstance(weights, pd.Series):
        raise OptimizerInputError(
            f"weights: expected a pandas Series of demand weight indexed by demand id; got "
            f"{type(weights).__name__}" + (" (pass its weight column, demand['weight'])" if
                                            isinstance(weights, pd.DataFrame) else ""))
    require_columns(("cover", cover, ("demand_id", "site_id")))
    if p is None and budget is None:
        raise OptimizerInputError("give p (how many new sites) or a budget, or both")
    if p is not None and p < 0:
        raise OptimizerInputError(f"p = {p}: expected 0 or more new sites")
    if budget is not None and budget < 0:
        raise OptimizerInputError(f"budget = {budget}: expected 0 or more")
    if (weights < 0).any():
        raise OptimizerInputError("demand weights must be >= 0")
    cost = (costs.reindex(candidates).to_numpy(np.float64) if costs is not None
            else np.zeros(len(candidates)))
    if np.isnan(cost).any():
        raise OptimizerInputError("costs lack some candidates")
    if (cost < 0).any():
        raise OptimizerInputError("costs must be >= 0")
    sites = candidates.append(existing_idx.difference(candidates))
    full = _incidence(weights, cover, sites)
    w = weights.to_numpy(np.float64)
    red = _reduce(w, full, len(candidates), cost)
    gw, g, kc = red.gw, red.g, cost[red.kept]

    greedy = greedy_covering(gw, g, p=p, costs=kc, budget=budget)
    greedy_value = red.floor + _covered_weight(gw, g, greedy)
    plan = greedy
    if local_search:
        heuristic_deadline = start + 0.25 * time_limit_s
        plan = swap_search(gw, g, greedy, p=p, costs=kc, budget=budget,
                           deadline=heuristic_deadline)
        plan = _perturbed_restarts(gw, g, plan, p=p, costs=kc, budget=budget,
                                   deadline=heuristic_deadline)
    value = red.floor + _covered_weight(gw, g, plan)
    method = "local search" if value > greedy_value + TOL else "greedy"
    build = time.perf_counter() - start

    solve_start = time.perf_counter()
    bound = float("inf")
    if g.shape[0] == 0 or g.shape[1] == 0:
        bound = value  # nothing a new site could add
    target = max(gap, 1e-9)

    def closed(b: float) -> bool:
        return b - value <= target * max(value, 1e-12)

    if not closed(bound) and local_search:
        bound = min(bound, red.floor + subgradient_bound(gw, g, p=p, costs=kc, budget=budget,
                                                    target=value - red.floor))
    if not closed(bound) and local_search and time.perf_counter() < deadline:
        bound = min(bound, red.floor + lp_dual_bound(
            gw, g, p=p, costs=kc, budget=budget,
            time_limit_s=0.5 * (deadline - time.perf_counter())))
    status, proven = "feasible", False
    if not closed(bound) and time.perf_counter() < deadline - 2.0:
        prob, x = _covering_model(gw, g, p=p, costs=kc, budget=budget)
        for var, chosen in zip(x, plan.tolist(), strict=True):
            var.setInitialValue(int(chosen))
        outcome = solve(prob, solver=solver, time_limit_s=deadline - time.perf_counter() - 1.0,
                        gap=gap, warm_start=True)
        if outcome.status == "infeasible":
            raise PlanInfeasibleError("no covering plan fits the limits")
        if outcome.status in ("optimal", "feasible"):
            picked = np.array([round(v.value() or 0) == 1 for v in x], dtype=bool)
            mip_value = red.floor + _covered_weight(gw, g, picked)
            if mip_value > value + TOL * max(1.0, value):
                plan, value, method = picked, mip_value, solver
            if outcome.proven_optimal:
                bound = min(bound, max(value, red.floor + (outcome.objective or 0.0)))
            elif outcome.bound is not None:
                bound = min(bound, red.floor + outcome.bound)
    bound = max(bound, value)  # numerical noise never makes a bound below the plan
    if bound - value <= 1e-9 * max(1.0, value):
        status, proven = "optimal", True
    rel_gap = 0.0 if proven else (bound - value) / value if value > 0 else None
    chosen = candidates[red.kept[plan]]
    covered_sites = sites.get_indexer(chosen.append(existing_idx))
    covered = pd.Series(np.asarray(full[:, covered_sites].sum(axis=1)).ravel() > 0,
                        index=weights.index, name="covered")
    total = float(w.sum())
    return CoveringResult(
        status=status, proven_optimal=proven, objective=value,
        bound=bound if np.isfinite(bound) else None,
        gap=rel_gap if np.isfinite(bound) else None, chosen=chosen, covered=covered,
        coverage_share=value / total if total else 0.0, build_seconds=build,
        solve_seconds=time.perf_counter() - solve_start, reductions=red.reductions,
        solver=solver, method=method, greedy_objective=greedy_value)


def _covering_model(gw: np.ndarray, g: csr_matrix, *, p: int | None, costs: np.ndarray,
                    budget: float | None) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    prob = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(g.shape[1])]
    y = [prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(g.shape[0])]
    prob += pulp.lpSum(float(gw[i]) * y[i] for i in range(len(y)))
    for i in range(len(y)):
        cols = g.indices[g.indptr[i]:g.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[c] for c in cols)
    if p is not None:
        prob += pulp.lpSum(x) <= p, "new_sites"
    if budget is not None:
        prob += pulp.lpSum(float(c) * v for c, v in zip(costs, x, strict=True)) <= budget, (
            "budget")
    return prob, x
