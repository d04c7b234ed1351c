"""Stage 3 of maximal covering: an upper bound on the covered weight that needs no MIP
solver, the Lagrangian relaxation of the covering rows at multipliers from subgradient steps
and from the LP relaxation's duals (HiGHS interior point). Any multipliers give a valid
bound, so a gap stated from it is proven even when the LP is stopped early."""

from __future__ import annotations

import highspy
import numpy as np
from scipy.sparse import csr_matrix

from optimizer._banner import quiet_highs

__all__ = ["lagrangian_value", "lp_dual_bound", "subgradient_bound"]

TOL = 1e-9


def _relaxed_max(s: np.ndarray, *, p: int | None, costs: np.ndarray,
                 budget: float | None) -> float:
    """Upper bound on max s.x over x in {0,1} with sum x <= p and costs.x <= budget: the
    smaller of the two LP relaxations with one constraint each."""
    s = np.maximum(s, 0.0)
    out = float("inf")
    if p is not None:
        out = float(np.sort(s)[::-1][:p].sum())
    if budget is not None:
        free = costs <= 0
        value = float(s[free].sum())
        order = np.flatnonzero(~free)[np.argsort(-s[~free] / costs[~free], kind="stable")]
        room = budget
        for j in order:
            if s[j] <= 0 or room <= 0:
                break
            take = min(1.0, room / costs[j])
            value += take * s[j]
            room -= take * costs[j]
        out = min(out, value)
    return out


def lagrangian_value(gw: np.ndarray, at: csr_matrix, lam: np.ndarray, *, p: int | None,
                costs: np.ndarray, budget: float | None, s: np.ndarray | None = None
                ) -> float:
    """The Lagrangian bound: max over y of sum (w - lam) y plus the best relaxed site
    choice on lam-weighted coverage ``s = at @ lam`` (pass it when already computed).
    Valid for every lam >= 0."""
    s = at @ lam if s is None else s
    return float(np.maximum(gw - lam, 0.0).sum()) + _relaxed_max(
        s, p=p, costs=costs, budget=budget)


def subgradient_bound(gw: np.ndarray, g: csr_matrix, *, p: int | None, costs: np.ndarray,
                 budget: float | None, target: float, iterations: int = 400) -> float:
    at = g.T.tocsr()
    lam = 0.5 * gw
    best = float("inf")
    step, stall = 2.0, 0
    for _ in range(iterations):
        s = at @ lam
        value = lagrangian_value(gw, at, lam, p=p, costs=costs, budget=budget, s=s)
        if value < best - TOL:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2, 0
        if step < 1e-4:
            break
        # a subgradient from the cardinality (or budget) solution of the site choice
        x = np.zeros(s.size)
        order = np.argsort(-s if budget is None else -s / np.maximum(costs, 1e-12),
                           kind="stable")
        room = budget if budget is not None else float("inf")
        for j in order[: p if p is not None else s.size]:
            if s[j] <= 0 or costs[j] > room:
                continue
            x[j] = 1.0
            room -= costs[j]
        direction = (g @ x) - (gw > lam)
        norm = float(direction @ direction)
        if norm == 0:
            break
        lam = np.clip(lam - step * max(value - target, TOL) / norm * direction, 0.0, gw)
    return best


def lp_dual_bound(gw: np.ndarray, g: csr_matrix, *, p: int | None, costs: np.ndarray,
                   budget: float | None, time_limit_s: float) -> float:
    """The Lagrangian bound at the duals of the LP relaxation (interior point)."""
    n, m = g.shape[1], g.shape[0]
    quiet_highs()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(0.1, float(time_limit_s)))
    inf = highspy.kHighsInf
    h.addVars(n + m, np.zeros(n + m), np.ones(n + m))
    h.changeColsCost(n + m, np.arange(n + m, dtype=np.int32),
                     np.concatenate([np.zeros(n), -gw]))
    indptr = g.indptr + np.arange(m + 1)  # one more entry per row: the row's own y
    index = np.empty(g.nnz + m, dtype=np.int32)
    value = np.empty(g.nnz + m)
    ends = indptr[1:] - 1
    mask = np.ones(index.size, dtype=bool)
    mask[ends] = False
    index[mask], value[mask] = g.indices, -1.0
    index[ends], value[ends] = n + np.arange(m), 1.0
    h.addRows(m, np.full(m, -inf), np.zeros(m), index.size, indptr[:-1].astype(np.int32),
              index, value)
    if p is not None:
        h.addRow(-inf, float(p), n, np.arange(n, dtype=np.int32), np.ones(n))
    if budget is not None:
        h.addRow(-inf, float(budget), n, np.arange(n, dtype=np.int32), costs.astype(float))
    h.run()
    duals = np.asarray(h.getSolution().row_dual, dtype=np.float64)[:m]
    if duals.size != m or not np.isfinite(duals).all():
        return float("inf")
    lam = np.clip(-duals, 0.0, gw)
    return lagrangian_value(gw, g.T.tocsr(), lam, p=p, costs=costs, budget=budget)
