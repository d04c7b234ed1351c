"""What optimizer._solve says a solver proved: a stop without a point is not a plan."""

from __future__ import annotations

import pulp
import pytest

from optimizer._solve import solve


def _lp() -> pulp.LpProblem:
    problem = pulp.LpProblem("stopped", pulp.LpMaximize)
    spend = [problem.add_variable(f"x{i}", 0, 1) for i in range(2000)]
    problem += pulp.lpSum((i % 7 + 1) * x for i, x in enumerate(spend))
    problem += pulp.lpSum(spend) == 500
    return problem


def test_a_highs_stop_without_a_point_is_not_solved() -> None:
    # PuLP calls every HiGHS stop at its time limit "integer feasible"; stopped before any
    # point, the variables read 0, which breaks the equality: that is no plan
    problem = _lp()
    outcome = solve(problem, solver="highs", time_limit_s=1e-9)
    assert outcome.status == "not solved"
    assert outcome.objective is None


@pytest.mark.parametrize("options", [{}, {"presolve": "off", "solver": "ipm"}])
def test_highs_options_reach_highs_and_solve_the_same_optimum(
        options: dict[str, str]) -> None:
    problem = _lp()
    outcome = solve(problem, solver="highs", highs_options=options)
    # by hand: the 500 units go to the columns worth 7, 6, ... (286 of 7, 285 of 6 ...)
    worth = sorted(((i % 7 + 1) for i in range(2000)), reverse=True)[:500]
    assert outcome.proven_optimal
    assert outcome.objective == pytest.approx(sum(worth))
    assert problem.solverModel.getOptionValue("presolve")[1] == options.get("presolve", "choose")
