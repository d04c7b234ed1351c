"""Finding the event plan: the greedy plan first, then the model's linear relaxation for a
bound, then the solver started from the greedy plan for the time left. The better plan is
kept, its attendance computed with its events fixed (exact), with the gap to the best
bound; a plan is called optimal only when it meets the bound.

The model's repeat decay has its first few pieces exact per community and a last piece
that overstates a community reached more often (``_event_model.PIECES``): the model is then
a relaxation, so its bound holds; when the solver's plan reaches a community more often,
the model is built again with all that community's pieces and solved again."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulp

from optimizer._event_greedy import PlanRows, greedy_plan, plan_attendance
from optimizer._event_layout import _lay_out
from optimizer._event_model import _build, _Data, _Model, _solve_or_explain
from optimizer._solve import Solver, relaxation_bound, solve
from optimizer.errors import PlanInfeasibleError

__all__ = ["Found", "find_plan"]

#: Share of the time left the relaxation's bound may take before the solver starts.
BOUND_SHARE = 0.4


@dataclass(frozen=True)
class Found:
    """A plan: its events' weeks per (venue, type), attendance rows, and what is proven."""

    held: dict[tuple[object, str], list[int]]
    rows: PlanRows
    value: float
    bound: float | None
    found_by: str  # "solver" or "greedy"
    solver: str
    solve_seconds: float

    @property
    def proven_optimal(self) -> bool:
        # twice the relaxation bound's own widening (relaxation_bound's 1e-6)
        return self.bound is not None and self.value >= self.bound - 2e-6 * max(1.0, self.bound)


@dataclass
class _Best:
    held: dict[tuple[object, str], list[int]] | None = None
    rows: PlanRows | None = None
    value: float = -math.inf
    found_by: str = ""
    bound: float = math.inf
    seconds: float = 0.0  # spent solving (the bound and the solver)
    solver: str = ""

    def offer(self, held: dict[tuple[object, str], list[int]], rows: PlanRows,
              found_by: str) -> None:
        value = sum(r[3] for r in rows)
        if value > self.value + 1e-9:
            self.held, self.rows, self.value, self.found_by = held, rows, value, found_by

    def within(self, gap: float) -> bool:
        return self.held is not None and self.value >= self.bound * (1 - gap) - 2e-6 * max(
            1.0, abs(self.bound))


def find_plan(data: _Data, slots: Sequence[tuple[object, int]], weeks: list[int],
              alike: list[list[int]], blocked: set[tuple[object, int]], *, solver: Solver,
              time_limit_s: float, gap: float) -> Found:
    """The best plan found within ``time_limit_s`` (see the module's note)."""
    deadline = time.perf_counter() + time_limit_s
    venue_weeks: dict[object, list[int]] = {}
    for v, w in slots:
        venue_weeks.setdefault(v, []).append(w)
    best = _Best(solver=solver)
    all_alike = len(alike) == 1 and len(alike[0]) == len(weeks)
    greedy = greedy_plan(data, slots, weeks)
    if greedy is not None:
        if all_alike:  # weeks interchangeable: laid out as the solver's counts would be
            greedy = _lay_out({(v, 0, t): len(ws) for (v, t), ws in greedy.items()},
                              data.staff_vt, weeks, data.staff_cap) or greedy
        best.offer(greedy, plan_attendance(data, greedy, venue_weeks), "greedy")
    fixed = venue_weeks
    if all_alike:
        # every week alike: count events per venue and type, then lay them out in weeks;
        # the count model is a relaxation of the weekly one with the same objective
        agg = [(v, 0, len(weeks)) for v in venue_weeks
               if sum((v, w) not in blocked for w in weeks) == len(weeks)]

        def counted(model: _Model) -> dict[tuple[object, str], list[int]] | None:
            counts = {key: round(var.value() or 0) for key, var in model.x.items()}
            return _lay_out(counts, data.staff_vt, weeks, data.staff_cap)

        laid = _improve(lambda pieces: _build(data, agg, aggregate_staff=len(weeks),
                                              pieces=pieces),
                        counted, data, best, fixed, weeks, aggregate=True, solver=solver,
                        deadline=deadline, gap=gap)
        if laid:
            return _found(best)

    def weekly(pieces: Mapping[tuple[object, str], int] | None) -> _Model:
        model = _build(data, [(v, w, 1) for v, w in slots], aggregate_staff=0, pieces=pieces)
        for group in alike:  # interchangeable weeks: order them by events held
            load = {w: pulp.lpSum(var for (_, w_, _), var in model.x.items() if w_ == w)
                    for w in group}
            for w, w_next in itertools.pairwise(group):
                model.prob += load[w] >= load[w_next]
        return model

    def held_weeks(model: _Model) -> dict[tuple[object, str], list[int]]:
        held: dict[tuple[object, str], list[int]] = {}
        for (v, w, t), var in model.x.items():
            if round(var.value() or 0) == 1:
                held.setdefault((v, t), []).append(w)
        return held

    _improve(weekly, held_weeks, data, best, fixed, weeks, aggregate=False, solver=solver,
             deadline=deadline, gap=gap)
    return _found(best)


def _improve(build: Callable[[Mapping[tuple[object, str], int] | None], _Model],
             read: Callable[[_Model], dict[tuple[object, str], list[int]] | None],
             data: _Data, best: _Best, venue_weeks: Mapping[object, Sequence[int]],
             weeks: list[int], *, aggregate: bool, solver: Solver, deadline: float,
             gap: float) -> bool:
    """Bound, then solve from the best plan so far; False when the solver's plan could not
    be laid out in weeks (the caller then tries the weekly model)."""
    pieces: dict[tuple[object, str], int] = {}
    for round_ in range(3):
        model = build(pieces or None)
        left = deadline - time.perf_counter()
        if round_ == 0:
            start = time.perf_counter()
            bound = relaxation_bound(model.prob, time_limit_s=BOUND_SHARE * left)
            best.seconds += time.perf_counter() - start
            if bound is not None:
                best.bound = min(best.bound, bound)
            if best.within(gap) or deadline - time.perf_counter() <= 0:
                return True
        _start_from(model, best.held, aggregate)
        left = max(deadline - time.perf_counter(), 1.0)
        # with no plan in hand, a model without one says which limit; with one, it is kept
        outcome = (_solve_or_explain(model, solver, left, gap) if best.held is None else
                   solve(model.prob, solver=solver, time_limit_s=left, gap=gap,
                         warm_start=True))
        best.seconds += outcome.solve_seconds
        best.solver = outcome.solver or solver
        if outcome.status not in ("optimal", "feasible"):
            return True
        held = read(model)
        if held is None:
            return False
        best.offer(held, plan_attendance(data, held, venue_weeks), "solver")
        if outcome.bound is not None:
            best.bound = min(best.bound, outcome.bound)
        elif outcome.proven_optimal and outcome.objective is not None:
            best.bound = min(best.bound, outcome.objective)
        over = [ct for ct, (exact, a) in model.pieces.items() if len(a) > exact
                and sum(round(v.value() or 0) for v in model.reach[ct]) > exact + 1]
        if not over or best.within(gap) or time.perf_counter() >= deadline:
            return True
        pieces.update({ct: data.events[ct[1]] for ct in over})  # all pieces
    return True


def _start_from(model: _Model, held: Mapping[tuple[object, str], Sequence[int]] | None,
                aggregate: bool) -> None:
    """Give the model's event variables the plan ``held`` as the solver's first plan (the
    solver completes the rest), or no values at all."""
    for var in model.prob.variables():
        var.varValue = None
    if held is None:
        return
    for (v, w, t), var in model.x.items():
        weeks = held.get((v, t), ())
        var.varValue = float(len(weeks) if aggregate else w in weeks)


def _found(best: _Best) -> Found:
    if best.held is None or best.rows is None:
        raise PlanInfeasibleError("the solver stopped without an event plan (not solved); "
                                  "raise the time limit", timed_out=True)
    bound = best.bound if math.isfinite(best.bound) else None
    return Found(best.held, best.rows, best.value, bound, best.found_by, best.solver,
                 best.seconds)
