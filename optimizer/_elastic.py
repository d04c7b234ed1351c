"""Explaining infeasibility: re-solve with priced slack on the limits and name those that
had to give, in the user's units.

Each limit a model may break is registered as a :class:`Soft` row: its PuLP constraint, how
much one unit of slack costs (so limits are compared in their own scale) and a function
that turns the slack the re-solve needed into a sentence ("max_new.micro_branch = 2 allows
too few sites: the other limits need at least 4").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulp

from optimizer._solve import Solver, row_duals, solve

__all__ = ["Soft", "explain_infeasible"]


@dataclass(frozen=True)
class Soft:
    constraint: str  # the name of the row in the problem
    scale: float  # slack is divided by this, so rows with different units compare
    describe: Callable[[float], str]  # slack needed -> a sentence in the user's units
    label: str  # the limit as the user wrote it, such as "budget.min_roi = 3"


def explain_infeasible(problem: pulp.LpProblem, soft: list[Soft], *, solver: Solver,
                       time_limit_s: float = 30.0,
                       highs_options: dict[str, str | int | float] | None = None) -> list[str]:
    """Sentences naming the limits that cannot all hold, smallest total relaxation first.

    The problem is changed in place (slack added, objective replaced); pass a copy or a
    freshly built model. An empty list means that even relaxing every soft row does not
    help: the hard rows conflict by themselves.
    """
    slacks: list[tuple[Soft, pulp.LpVariable, pulp.LpVariable | None]] = []
    for i, row in enumerate(soft):
        c = problem.get_constraint_by_name(row.constraint)
        up = problem.add_variable(f"_slack_up_{i}", lowBound=0)
        down = None
        if c.sense == pulp.LpConstraintLE:
            c.expr.addInPlace(up, -1)
        elif c.sense == pulp.LpConstraintGE:
            c.expr.addInPlace(up, 1)
        else:
            down = problem.add_variable(f"_slack_down_{i}", lowBound=0)
            c.expr.addInPlace(up, 1)
            c.expr.addInPlace(down, -1)
        slacks.append((row, up, down))
    problem.sense = pulp.LpMinimize
    problem.setObjective(pulp.lpSum(
        (up + (down if down is not None else 0)) * (1.0 / max(row.scale, 1e-12))
        for row, up, down in slacks))
    outcome = solve(problem, solver=solver, time_limit_s=time_limit_s,
                    highs_options=highs_options)
    if outcome.status not in ("optimal", "feasible"):
        return []
    lines, relaxed = [], set()
    for row, up, down in slacks:
        amount = (up.value() or 0.0) + ((down.value() or 0.0) if down is not None else 0.0)
        if amount > 1e-6 * max(1.0, row.scale):
            lines.append(row.describe(amount))
            relaxed.add(row.constraint)
    # the limits that held but pushed back (a price in the relaxed LP) are the other side
    duals = row_duals(problem, solver) if not _has_integers(problem) else {}
    partners = [row.label for row in soft if row.constraint not in relaxed
                and abs(duals.get(row.constraint, 0.0)) > 1e-9]
    if lines and partners:
        lines[-1] += f" (in conflict with {', '.join(partners)})"
    return lines


def _has_integers(problem: pulp.LpProblem) -> bool:
    return any(v.cat == pulp.LpInteger for v in problem.variables())
