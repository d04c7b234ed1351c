"""Solving a PuLP model and reading what the solver proved.

PuLP reports CBC stopped by a time limit with an incumbent as status "Optimal"; whether
optimality was proven is in ``sol_status`` (``LpSolutionOptimal`` versus
``LpSolutionIntegerFeasible``), so both are read.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import highspy
import numpy as np
import pulp

from geo.errors import SitesimWarning
from optimizer._banner import quiet_highs
from optimizer.errors import OptimizerInputError

__all__ = ["SolveOutcome", "Solver", "check_solver", "chosen", "relaxation_bound", "row_duals",
           "solve"]

Solver = Literal["cbc", "highs"]


@dataclass(frozen=True)
class SolveOutcome:
    status: str  # "optimal", "feasible", "infeasible", "unbounded", "not solved"
    proven_optimal: bool
    objective: float | None
    bound: float | None
    solve_seconds: float
    solver: str = ""  # the solver that solved it (the other one, where the first failed)


def check_solver(solver: str) -> None:
    """Refuse an unknown solver name before any work is done."""
    if solver not in ("cbc", "highs"):
        raise OptimizerInputError(f"solver = {solver!r}: expected 'cbc' or 'highs'")


def solve(problem: pulp.LpProblem, *, solver: Solver = "cbc", time_limit_s: float = 60.0,
          gap: float = 0.0, warm_start: bool = False,
          highs_options: Mapping[str, str | int | float] | None = None) -> SolveOutcome:
    """Solve ``problem`` with CBC or HiGHS under a time limit; say what was proven.

    ``highs_options`` are HiGHS's own options (such as ``presolve = "off"``), used when
    HiGHS solves. A stop without a feasible point (a time limit in presolve, say) is
    "not solved", whatever PuLP calls it.

    Where the solver itself fails (it crashes, or cannot read the model), the other one
    solves it and a :class:`~geo.errors.SitesimWarning` says so; only when both fail does
    the error reach the caller.
    """
    check_solver(solver)
    try:
        return replace(_solve(problem, solver, time_limit_s, gap, warm_start,
                              dict(highs_options or {})), solver=solver)
    except pulp.PulpSolverError as exc:
        other: Solver = "highs" if solver == "cbc" else "cbc"
        outcome = _solve(problem, other, time_limit_s, gap, False, dict(highs_options or {}))
        warnings.warn(f"{solver} failed on {problem.name} ({str(exc).strip()[:200]}); "
                      f"solved with {other} instead", SitesimWarning, stacklevel=2)
        return replace(outcome, solver=other)


def _solve(problem: pulp.LpProblem, solver: Solver, time_limit_s: float, gap: float,
           warm_start: bool, highs_options: dict[str, str | int | float]) -> SolveOutcome:
    if solver == "highs":
        quiet_highs()
    if solver == "cbc":
        engine = pulp.COIN_CMD(path=_cbc_path(), msg=False, timeLimit=time_limit_s,
                               gapRel=gap or None, warmStart=warm_start, threads=1)
    else:
        kind = _HighsFromStart if warm_start else pulp.HiGHS
        engine = kind(msg=False, timeLimit=time_limit_s, gapRel=gap or None, threads=1,
                      **highs_options)
    start = time.perf_counter()
    problem.solve(engine)
    seconds = time.perf_counter() - start
    sol = problem.sol_status
    if problem.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return SolveOutcome("infeasible", False, None, None, seconds)
    if problem.status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
        return SolveOutcome("unbounded", False, None, None, seconds)
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return SolveOutcome("not solved", False, None, None, seconds)
    proven = sol == pulp.LpSolutionOptimal
    if not proven and solver == "highs" and not _has_feasible_point(problem):
        # PuLP calls every HiGHS stop at a limit "integer feasible", even one in presolve
        # with no point at all (the variables then read 0)
        return SolveOutcome("not solved", False, None, None, seconds)
    objective = pulp.value(problem.objective)
    if objective is None and proven:  # no decision is in the objective: it is 0
        objective = 0.0
    if objective is None:
        return SolveOutcome("feasible", False, None, None, seconds)
    objective = float(objective)
    bound = _best_bound(problem, solver) if not proven or gap > 0 else objective
    if proven and gap > 0:
        # "optimal" then means within the relative gap asked for; where the solver keeps
        # no bound (CBC through PuLP), the gap it stopped at is the proof
        if bound is None:
            slack = gap * max(abs(objective), 1e-9)
            bound = objective + slack if problem.sense == pulp.LpMaximize else objective - slack
        proven = abs(bound - objective) <= 1e-9 * max(1.0, abs(objective))
    return SolveOutcome("optimal" if proven else "feasible", proven, objective, bound, seconds)


class _HighsFromStart(pulp.HiGHS):
    """HiGHS given the variables' current values as its first solution (PuLP passes a
    start only to CBC); variables without a value are left for HiGHS to complete."""

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        given = [(v.index, float(v.varValue)) for v in lp.variables() if v.varValue is not None]
        if given:
            index, value = zip(*given, strict=True)
            lp.solverModel.setSolution(len(index), np.asarray(index, np.int32),
                                       np.asarray(value, float))
        super().callSolver(lp)


def chosen(variables: Sequence[pulp.LpVariable]) -> np.ndarray:
    """The solved values of whole-number variables, rounded (0 where unset)."""
    return np.array([round(v.value() or 0) for v in variables], float)


def relaxation_bound(problem: pulp.LpProblem, *, time_limit_s: float) -> float | None:
    """The optimum of ``problem`` with integrality dropped: a bound on its best objective.
    HiGHS's interior point method without crossover (large degenerate models defeat the
    simplex), widened by a millionth for its tolerance; None when not solved in time. The
    variables keep the relaxation's values."""
    quiet_highs()
    engine = pulp.HiGHS(mip=False, msg=False, timeLimit=max(time_limit_s, 0.1), threads=1,
                        solver="ipm", run_crossover="off")
    problem.solve(engine)
    value = pulp.value(problem.objective)
    if problem.status != pulp.LpStatusOptimal or value is None:
        return None
    margin = 1e-6 * max(1.0, abs(float(value)))
    return float(value) + (margin if problem.sense == pulp.LpMaximize else -margin)


def _has_feasible_point(problem: pulp.LpProblem) -> bool:
    model = getattr(problem, "solverModel", None)
    if model is None:
        return False
    feasible = int(highspy.SolutionStatus.kSolutionStatusFeasible)
    return int(model.getInfo().primal_solution_status) == feasible


def _cbc_path() -> str:
    """The CBC binary of cbcbox (PuLP's ``cbc`` extra; PuLP's own bundled CBC is
    deprecated)."""
    import cbcbox

    found = cbcbox.cbc_bin_path
    path = found() if callable(found) else found
    return str(path)


def _best_bound(problem: pulp.LpProblem, solver: Solver) -> float | None:
    # PuLP does not return the best bound of a stopped search for CBC; HiGHS keeps it on
    # its solver model. Without a bound the gap is reported as unknown.
    if solver == "highs":
        model = getattr(problem, "solverModel", None)
        if model is not None:
            try:
                info = model.getInfo()
                bound = float(info.mip_dual_bound)
            except (AttributeError, RuntimeError):
                return None
            # PuLP hands HiGHS a maximization as the minimization of the negated objective
            maximizing = model.getLp().sense_ == highspy.ObjSense.kMaximize
            if problem.sense == pulp.LpMaximize and not maximizing:
                bound = -bound
            # PuLP hands HiGHS no objective constant: the bound is without it
            bound += float(problem.objective.constant) if problem.objective is not None \
                else 0.0
            return bound if math.isfinite(bound) else None
    return None


def row_duals(problem: pulp.LpProblem, solver: Solver) -> dict[str, float]:
    """Shadow price of each row of a solved LP, in the problem's own sense: how much the
    objective gains per unit added to the row's right-hand side.

    PuLP passes a maximization to HiGHS negated and reads its duals back as they are, so
    they are negated here; CBC's are already in the problem's sense.
    """
    flip = -1.0 if solver == "highs" and problem.sense == pulp.LpMaximize else 1.0
    return {name: flip * float(c.pi) for c in problem.constraints() for name in (c.name,)
            if c.pi is not None}
