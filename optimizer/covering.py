"""Maximal covering: choose sites so that as much demand as possible lies within reach.

Built sparsely from the pairs within reach, after the known reductions: demand points
covered by the same set of sites are merged, demand already covered by existing sites is
dropped (it counts in full), and candidates whose coverage is contained in another's at no
lower cost are dropped. A greedy plan is the warm start and the floor: the result is
never worse than greedy.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp
from scipy.sparse import csr_matrix

from optimizer._solve import SolveOutcome, Solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["CoveringResult", "greedy_covering", "maximal_covering"]


@dataclass(frozen=True)
class CoveringResult:
    """A covering plan and what the solver proved about it.

    ``chosen``: the new sites; ``objective``: demand weight covered (existing sites
    included); ``gap``: relative optimality gap, 0 when proven, None when unknown.
    """

    status: str
    proven_optimal: bool
    objective: float
    gap: float | None
    chosen: pd.Index
    covered: pd.Series
    coverage_share: float
    build_seconds: float
    solve_seconds: float
    reductions: dict[str, int]
    solver: str
    greedy_objective: float


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
            affordable &= spent + costs <= budget + 1e-9
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


def maximal_covering(
    weights: pd.Series, cover: pd.DataFrame, candidates: Sequence[object] | pd.Index, *,
    p: int | None = None, costs: pd.Series | None = None, budget: float | None = None,
    existing: Sequence[object] = (), solver: Solver = "cbc", time_limit_s: float = 60.0,
    gap: float = 0.0,
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
    """
    start = time.perf_counter()
    candidates = pd.Index(list(candidates))
    existing_idx = pd.Index(list(existing))
    if p is None and budget is None:
        raise OptimizerInputError("give p (how many new sites) or a budget, or both")
    if p is not None and p < 0:
        raise OptimizerInputError(f"p = {p}: expected 0 or more new sites")
    if (weights < 0).any():
        raise OptimizerInputError("demand weights must be >= 0")
    cost = (costs.reindex(candidates).to_numpy(np.float64) if costs is not None
            else np.zeros(len(candidates)))
    if np.isnan(cost).any():
        raise OptimizerInputError("costs lack some candidates")
    sites = candidates.append(existing_idx.difference(candidates))
    full = _incidence(weights, cover, sites)
    w = weights.to_numpy(np.float64)
    # demand already covered by an existing site counts in full
    already = np.asarray(full[:, len(candidates):].sum(axis=1)).ravel() > 0
    a = full[~already][:, : len(candidates)].tocsr()
    w_open = w[~already]
    # merge demand covered by the same set of candidates
    keys = [tuple(a.indices[a.indptr[i]:a.indptr[i + 1]]) for i in range(a.shape[0])]
    groups = pd.Series(w_open).groupby(pd.Index(keys, tupleize_cols=False)).sum()
    groups = groups[[len(k) > 0 for k in groups.index]]
    group_sets = list(groups.index)
    g_rows = np.repeat(np.arange(len(group_sets)), [len(k) for k in group_sets])
    g_cols = np.concatenate([np.array(k, dtype=np.int64) for k in group_sets]) if group_sets \
        else np.zeros(0, dtype=np.int64)
    g = csr_matrix((np.ones(g_rows.size), (g_rows, g_cols)),
                   shape=(len(group_sets), len(candidates)))
    gw = groups.to_numpy(np.float64)
    # drop candidates covered, at no lower cost, by another
    size = np.asarray(g.sum(axis=0)).ravel()
    overlap = (g.T @ g).toarray()
    keep = size > 0
    for j in np.flatnonzero(keep):
        rivals = np.flatnonzero(keep & (overlap[j] == size[j]) & (cost <= cost[j]))
        rivals = rivals[rivals != j]
        # identical coverage and cost: keep the first
        rivals = rivals[~((size[rivals] == size[j]) & (cost[rivals] == cost[j])
                          & (rivals > j))]
        if rivals.size:
            keep[j] = False
    kept = np.flatnonzero(keep)
    gk = g[:, kept].tocsr()
    reductions = {"demand_points": len(weights), "demand_groups": len(group_sets),
                  "covered_by_existing": int(already.sum()), "candidates": len(candidates),
                  "candidates_kept": int(kept.size)}
    floor = float(w[already].sum())
    greedy = greedy_covering(gw, gk, p=p, costs=cost[kept], budget=budget)
    greedy_value = floor + float(gw[np.asarray(gk[:, greedy].sum(axis=1)).ravel() > 0].sum())

    prob = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(kept.size)]
    y = [prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(len(group_sets))]
    prob += pulp.lpSum(float(gw[i]) * y[i] for i in range(len(y)))
    for i in range(len(y)):
        cols = gk.indices[gk.indptr[i]:gk.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[c] for c in cols)
    if p is not None:
        prob += pulp.lpSum(x) <= p, "new_sites"
    if budget is not None:
        kept_cost = cost[kept].tolist()
        prob += pulp.lpSum(c * v for c, v in zip(kept_cost, x, strict=True)) <= budget, (
            "budget")
    for var, value in zip(x, greedy.tolist(), strict=True):
        var.setInitialValue(int(value))
    build = time.perf_counter() - start
    if kept.size == 0 or not group_sets:  # nothing a new site could add: nothing to solve
        outcome = SolveOutcome("optimal", True, 0.0, 0.0, 0.0)
    else:
        outcome = solve(prob, solver=solver, time_limit_s=time_limit_s, gap=gap,
                        warm_start=True)
    if outcome.status == "infeasible":
        raise PlanInfeasibleError("no covering plan fits the limits")
    if outcome.status in ("optimal", "feasible"):
        picked = np.array([round(v.value() or 0) == 1 for v in x], dtype=bool)
    else:
        picked = np.zeros(kept.size, dtype=bool)
    value = floor + float(gw[np.asarray(gk[:, picked].sum(axis=1)).ravel() > 0].sum())
    status, proven = outcome.status, outcome.proven_optimal
    if value < greedy_value - 1e-9:  # a stopped solver without a better incumbent
        picked, value, status, proven = greedy, greedy_value, "feasible", False
    chosen = candidates[kept[picked]]
    covered_sites = sites.get_indexer(chosen.append(existing_idx))
    covered = pd.Series(np.asarray(full[:, covered_sites].sum(axis=1)).ravel() > 0,
                        index=weights.index, name="covered")
    if proven:
        rel_gap: float | None = 0.0
    elif outcome.bound is not None and value > 0 and outcome.bound + floor >= value - 1e-6:
        rel_gap = (outcome.bound + floor - value) / value
    else:
        rel_gap = None  # no bound, or one in another sense than ours: unknown, not zero
    total = float(w.sum())
    return CoveringResult(
        status=status, proven_optimal=proven, objective=value, gap=rel_gap, chosen=chosen,
        covered=covered, coverage_share=value / total if total else 0.0,
        build_seconds=build, solve_seconds=outcome.solve_seconds, reductions=reductions,
        solver=solver, greedy_objective=greedy_value)
