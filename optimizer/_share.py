"""Market share against competitors (``objective = "max_share"``): the demand the own
outlets capture under the Huff rule, solved exactly or with a proven gap.

A demand point i's own share is g_i(x_i) = (U_i + x_i) / (U_i + x_i + C_i): U_i the utility
of the own outlets that stay, C_i the competitors', x_i the sum of a_ij y_j over the sites
opened (a_ij = the attractiveness of j's kind x max(minutes, 1)^-beta, the utility of
``geo.huff_shares``, which the simulation uses). g_i is concave in x_i, so every tangent
lies above it: with theta_i <= g_i(xb) + g_i'(xb) (x_i - xb) for a few points xb the
mixed-integer programme max sum w_i theta_i is a relaxation, and its optimum (or the
solver's bound) a bound on the best share. Outer approximation (Ljubić & Moreno 2018,
"Outer approximation and submodular cuts for maximum capture facility location problems
with random utilities", EJOR 266(1)): solve; compute the plan's true share; add the
tangents at the plan's x_i where theta_i overstates; solve again until the bound is within
the gap of the best plan found, or the time is up (then the gap is stated, not "optimal").
The greedy plan (the site adding most share, within the limits) comes first, so the
result is never below it. A point no competitor reaches is won whole by any own outlet
within reach: a covering row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp
from scipy import sparse

from optimizer._solve import SolveOutcome, Solver, chosen, solve

#: Relative tolerance of the bound's proof and absolute tolerance of a share's tangent
#: (the solvers' own feasibility tolerances are about 1e-7).
TOL = 1e-6

__all__ = ["ShareData", "ShareSolution", "greedy_share", "greedy_target", "limits_check",
           "solve_share", "solve_target", "utilities"]


def utilities(kind: Sequence[str] | np.ndarray, minutes: np.ndarray, beta: float,
              table: Mapping[str, float]) -> np.ndarray:
    """Huff utility of outlets of ``kind`` at ``minutes``: A_kind x max(minutes, 1)^-beta."""
    attract = np.array([table.get(str(k), 1.0) for k in kind], float)
    return attract * np.maximum(np.asarray(minutes, float), 1.0) ** -beta


@dataclass(frozen=True)
class ShareData:
    """Per demand point: ``weight``, ``fixed`` (own utility that stays) and ``rival``
    (competitors' utility); ``utility``: points x decisions, a decision's utility at a
    point (the decisions are the options to open, then the outlets that may close)."""

    weight: np.ndarray
    fixed: np.ndarray
    rival: np.ndarray
    utility: sparse.csr_matrix

    def own(self, y: np.ndarray) -> np.ndarray:
        return self.fixed + self.utility @ np.asarray(y, float)

    def shares(self, y: np.ndarray) -> np.ndarray:
        own = self.own(y)
        total = own + self.rival
        return np.divide(own, total, out=np.zeros_like(own), where=total > 0)

    def value(self, y: np.ndarray) -> float:
        return float(self.weight @ self.shares(y))


@dataclass
class ShareSolution:
    y: np.ndarray | None = None
    value: float = -math.inf
    bound: float = math.inf
    found_by: str = ""
    rounds: int = 0
    cuts: int = 0
    seconds: float = 0.0
    solver: str = ""
    history: list[tuple[float, float]] = field(default_factory=list)  # (plan, bound)

    def offer(self, y: np.ndarray, value: float, found_by: str) -> None:
        if value > self.value + 1e-9:
            self.y, self.value, self.found_by = y.copy(), value, found_by

    def take_bound(self, outcome: SolveOutcome, sign: float = 1.0) -> None:
        """The bound a solver round proved, in this solution's sense (``sign`` -1 when the
        round minimized what ``value`` holds negated)."""
        if outcome.bound is not None:
            self.bound = min(self.bound, sign * outcome.bound)
        elif outcome.proven_optimal and outcome.objective is not None:
            self.bound = min(self.bound, sign * outcome.objective)

    def within(self, gap: float) -> bool:
        return self.y is not None and self.bound - self.value <= gap * abs(self.value) + TOL * (
            1.0 + abs(self.value))


def marginal_gains(data: ShareData, y: np.ndarray) -> np.ndarray:
    """What opening each decision would add to the share at plan ``y`` (0 where open)."""
    own = data.own(y)
    total = own + data.rival
    base = np.divide(own, total, out=np.zeros_like(own), where=total > 0)
    cols = data.utility.tocsc()
    gains = np.zeros(cols.shape[1])
    for j in np.flatnonzero(y < 0.5):
        lo, hi = cols.indptr[j], cols.indptr[j + 1]
        rows, u = cols.indices[lo:hi], cols.data[lo:hi]
        gains[j] = float(data.weight[rows] @ ((own[rows] + u) / (total[rows] + u) - base[rows]))
    return gains


def greedy_share(data: ShareData, fits: Callable[[np.ndarray, int], bool],
                 start: np.ndarray) -> np.ndarray:
    """Open, one at a time, the decision adding most share among those ``fits`` allows
    (decisions already 1 in ``start`` stay), until none adds any."""
    y = start.astype(float).copy()
    columns = data.utility.tocsc()
    while True:
        own = data.own(y)
        total = own + data.rival
        base = np.divide(own, total, out=np.zeros_like(own), where=total > 0)
        best, gain_best = -1, 1e-12
        for j in map(int, np.flatnonzero(y == 0)):
            col = columns[:, j]
            rows, u = col.indices, col.data
            if rows.size == 0 or not fits(y, j):
                continue
            after = (own[rows] + u) / (total[rows] + u)
            gain = float(data.weight[rows] @ (after - base[rows]))
            if gain > gain_best:
                best, gain_best = j, gain
        if best < 0:
            return y
        y[best] = 1.0


def greedy_target(data: ShareData, fits: Callable[[np.ndarray, int], bool], start: np.ndarray,
                  cost: np.ndarray, target: float) -> np.ndarray | None:
    """Open, one at a time, the decision adding most share per unit of cost among those
    ``fits`` allows until the share reaches ``target``; None if it never does."""
    y = start.astype(float).copy()
    while data.value(y) < target:
        gains = marginal_gains(data, y)
        ratio = np.full(y.size, -np.inf)
        for j in np.flatnonzero((y < 0.5) & (gains > 0)):
            if fits(y, int(j)):
                ratio[j] = gains[j] / max(float(cost[j]), 1e-9)
        if not np.isfinite(ratio).any():
            return None
        y[int(np.argmax(ratio))] = 1.0
    return y


def limits_check(site: np.ndarray, kind: np.ndarray, capex: np.ndarray, opex: np.ndarray,
                 *, capex_budget: float | None, opex_left: float | None,
                 max_new: Mapping[str, int] | int | None, options: int,
                 conflicts: Sequence[tuple[int, int]], always_open: np.ndarray
                 ) -> Callable[[np.ndarray, int], bool]:
    """Whether opening decision j keeps a plan ``y`` within the limits: one kind a site,
    the most new outlets (per kind or in all; decisions from ``options`` on are outlets
    that may close, which the greedy plan keeps), the capex and the yearly opex left,
    and the spacing ``conflicts`` (pairs of decisions; ``always_open`` those against an
    outlet that stays)."""
    partners: dict[int, list[int]] = {}
    for a, b in conflicts:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)

    def fits(y: np.ndarray, j: int) -> bool:
        chosen = np.flatnonzero(y[:options] > 0)
        if always_open[j] or np.any(site[chosen] == site[j]):
            return False
        if isinstance(max_new, Mapping):
            if int(np.sum(kind[chosen] == kind[j])) + 1 > max_new.get(str(kind[j]), 0):
                return False
        elif max_new is not None and chosen.size + 1 > max_new:
            return False
        if capex_budget is not None and capex[chosen].sum() + capex[j] > capex_budget + 1e-6:
            return False
        if opex_left is not None and float(opex @ y) + opex[j] > opex_left + 1e-6:
            return False
        return not any(y[k] > 0 for k in partners.get(j, ()))

    return fits


class _ShareRows:
    """The share's rows in a model: theta_i per point a decision reaches (covering rows
    where no competitor is), the total share as an expression, and the cuts."""

    def __init__(self, prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable],
                 data: ShareData) -> None:
        self.prob, self.decisions, self.data = prob, decisions, data
        self.util = util = data.utility.tocsr()
        reach = np.diff(util.indptr) > 0
        self.contested = reach & (data.rival > 0)
        covering = reach & (data.rival <= 0) & (data.fixed <= 0)
        self.fixed_points = ~self.contested & ~covering
        rest = self.fixed_points
        constant = float(data.weight[rest] @ data.shares(np.zeros(len(decisions)))[rest])
        self.theta: dict[int, pulp.LpVariable] = {
            int(i): prob.add_variable(f"share{i}", lowBound=0, upBound=1)
            for i in np.flatnonzero(self.contested | covering)}
        for i in np.flatnonzero(covering):
            lo, hi = util.indptr[i], util.indptr[i + 1]
            prob += self.theta[int(i)] <= pulp.lpSum(decisions[j] for j in util.indices[lo:hi])
        self.total = pulp.lpSum(float(data.weight[i]) * v for i, v in self.theta.items()
                                ) + constant
        self.cuts = 0

    def tangents(self, y: np.ndarray, only_over: Mapping[int, float] | None = None) -> int:
        """Tangents of each contested point's share at plan ``y`` (where its theta
        exceeds the true share, when ``only_over`` gives the thetas)."""
        data, util = self.data, self.util
        own = data.own(y)
        added = 0
        for i in np.flatnonzero(self.contested):
            u_, c_, x_ = data.fixed[i], data.rival[i], own[i] - data.fixed[i]
            g = (u_ + x_) / (u_ + x_ + c_)
            if only_over is not None and only_over.get(int(i), 0.0) <= g + TOL:
                continue
            slope = c_ / (u_ + x_ + c_) ** 2
            lo, hi = util.indptr[i], util.indptr[i + 1]
            self.prob.addConstraint(self.theta[int(i)] <= pulp.lpSum(
                float(slope * a) * self.decisions[j] for j, a in zip(
                    util.indices[lo:hi], util.data[lo:hi], strict=True)) + float(g - slope * x_))
            added += 1
        self.cuts += added
        return added

    def submodular(self, y: np.ndarray) -> None:
        """f is monotone submodular in the set opened: f(T) <= f(S) + the sum over j in
        T - S of what j adds to S (Nemhauser, Wolsey & Fisher 1978)."""
        gains = marginal_gains(self.data, y)
        adds = map(int, np.flatnonzero((y < 0.5) & (gains > 0)))
        self.prob.addConstraint(self.total <= self.data.value(y) + pulp.lpSum(
            float(gains[j]) * self.decisions[j] for j in adds))
        self.cuts += 1

    def solved_thetas(self) -> dict[int, float]:
        """The model's share of each point at the plan the solver just gave."""
        return {i: float(v.value() or 0.0) for i, v in self.theta.items()}

    def learn(self, y: np.ndarray) -> int:
        """Cuts at the plan the solver just gave (its thetas are read from the model)."""
        added = self.tangents(y, self.solved_thetas())
        self.submodular(y)
        return added

    def start_from(self, y: np.ndarray | None) -> None:
        for var in self.prob.variables():
            var.varValue = None
        if y is not None:  # the solver starts from this plan
            for var, v in zip(self.decisions, y, strict=True):
                var.varValue = float(v)

    @property
    def trivial(self) -> bool:
        """No decision changes any point's share."""
        return bool(self.fixed_points.all())


def solve_share(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable], data: ShareData,
                greedy: np.ndarray | None, *, solver: Solver, time_limit_s: float,
                gap: float) -> tuple[ShareSolution, SolveOutcome | None]:
    """Add the share objective to ``prob`` (its limits on ``decisions`` already in) and
    solve it by outer approximation; the last solver outcome is returned for its status
    (None when no decision changes any share)."""
    deadline = time.perf_counter() + time_limit_s
    best = ShareSolution(solver=solver)
    rows = _ShareRows(prob, decisions, data)
    prob += rows.total
    zero = np.zeros(len(decisions))
    if rows.trivial:
        best.offer(zero if greedy is None else greedy, data.value(zero), "greedy")
        best.bound = best.value
        return best, None
    rows.tangents(zero)
    rows.submodular(zero)
    if greedy is not None:
        best.offer(greedy, data.value(greedy), "greedy")
        rows.tangents(greedy)
        rows.submodular(greedy)
    outcome: SolveOutcome | None = None
    seen: list[np.ndarray] = []
    while time.perf_counter() < deadline:
        outcome, y = _round(rows, solver, deadline, gap, best)
        if y is None:
            break
        seen_before = any(np.array_equal(y, s_) for s_ in seen)
        seen.append(y)
        best.offer(y, data.value(y), "solver")
        best.take_bound(outcome)
        best.history.append((best.value, best.bound))
        if best.within(gap):
            break
        if rows.learn(y) == 0 or seen_before:
            break  # the model is exact at its own plan (its tangents are in): no more to learn
    best.cuts = rows.cuts
    return best, outcome


def solve_target(prob: pulp.LpProblem, decisions: Sequence[pulp.LpVariable], data: ShareData,
                 cost: np.ndarray, target: float, greedy: np.ndarray | None, *,
                 solver: Solver, time_limit_s: float, gap: float
                 ) -> tuple[ShareSolution, SolveOutcome | None]:
    """The cheapest plan whose share is at least ``target`` (demand weight), by the same
    outer approximation: the model over tangents overstates shares, so its least cost is a
    bound; a plan it gives that truly reaches the target at that cost is optimal, one that
    falls short gets its tangents. ``value`` is the cost negated (so "better" is higher);
    ``bound`` likewise."""
    deadline = time.perf_counter() + time_limit_s
    best = ShareSolution(solver=solver)
    rows = _ShareRows(prob, decisions, data)
    prob += pulp.lpSum(float(c) * v for c, v in zip(cost, decisions, strict=True))
    prob += rows.total >= target, "target_share"
    zero = np.zeros(len(decisions))
    rows.tangents(zero)
    reached = target - TOL * max(1.0, abs(target))
    if greedy is not None:
        rows.tangents(greedy)
        if data.value(greedy) >= reached:
            best.offer(greedy, -float(cost @ greedy), "greedy")
    outcome: SolveOutcome | None = None
    while time.perf_counter() < deadline:
        outcome, y = _round(rows, solver, deadline, gap, best)
        if y is None:
            break
        best.take_bound(outcome, -1.0)
        if data.value(y) >= reached:
            best.offer(y, -float(cost @ y), "solver")
            best.history.append((best.value, best.bound))
            if best.within(gap):
                break
        if rows.tangents(y, rows.solved_thetas()) == 0:
            break  # the model's shares are true at its plan: nothing more to learn
    best.cuts = rows.cuts
    return best, outcome


def _round(rows: _ShareRows, solver: Solver, deadline: float, gap: float,
           best: ShareSolution) -> tuple[SolveOutcome, np.ndarray | None]:
    """One solve of the model from the best plan so far: its outcome and its plan (None
    when it gave none)."""
    rows.start_from(best.y)
    outcome = solve(rows.prob, solver=solver,
                    time_limit_s=max(deadline - time.perf_counter(), 1.0), gap=gap,
                    warm_start=best.y is not None)
    best.seconds += outcome.solve_seconds
    best.solver = outcome.solver or solver
    best.rounds += 1
    if outcome.status not in ("optimal", "feasible"):
        return outcome, None
    return outcome, chosen(rows.decisions)
