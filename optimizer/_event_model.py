"""The event planning programme: the mixed-integer model over (venue, week, type), as a
weekly model or as a count model over interchangeable weeks (with week patterns for staff),
and its solving with an explanation when it is infeasible."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
import pulp

from geo.assumptions import EventType
from optimizer._elastic import Soft, explain_infeasible
from optimizer._solve import SolveOutcome, Solver, solve
from optimizer.errors import PlanInfeasibleError

#: Events of a type reaching a community each modelled as their own piece of the repeat
#: decay; a community reached more often than this is planned again with all its pieces.
PIECES = 4


@dataclass(frozen=True)
class _Data:
    events: Mapping[str, int]
    types: Mapping[str, EventType]
    factor: Mapping[int, float]
    staff_cap: Mapping[int, float]
    cost_v: Mapping[object, float]
    capacity: Mapping[object, float]
    draws: pd.DataFrame
    staff_vt: Mapping[tuple[object, str], int]
    repeat_decay: float
    budget: float | None
    limits: str  # the limits as the user set them, for messages


@dataclass
class _Model:
    prob: pulp.LpProblem
    x: dict[tuple[object, int, str], pulp.LpVariable]
    y: list[tuple[pulp.LpVariable, object, object, str]]
    soft: list[Soft]
    #: per (community, type): the events reaching it, and the repeat pieces (how many
    #: exact, the variables); a community reached more than exact + 1 times is overstated
    reach: dict[tuple[object, str], list[pulp.LpVariable]]
    pieces: dict[tuple[object, str], tuple[int, list[pulp.LpVariable]]]


def _build(data: _Data, slots: list[tuple[object, int, int]], *,
           aggregate_staff: int, pieces: Mapping[tuple[object, str], int] | None = None
           ) -> _Model:
    """The model over ``slots`` (venue, week, how many events it may hold). Week 0 with a
    count above 1 stands for every week alike; ``aggregate_staff`` is then the number of
    weeks, and staff is one row over the horizon (each event must fit a week's staff)."""
    events, types = data.events, data.types
    prob = pulp.LpProblem("plan_events", pulp.LpMaximize)
    x: dict[tuple[object, int, str], pulp.LpVariable] = {}
    week_cap = next(iter(data.staff_cap.values()), math.inf)
    for i, (v, w, m) in enumerate(slots):
        for t in events:
            too_big = data.staff_vt[v, t] > data.staff_cap.get(w, week_cap if w == 0
                                                               else math.inf)
            x[v, w, t] = prob.add_variable(f"x{i}_{t}", lowBound=0, upBound=0 if too_big else m,
                                           cat="Integer" if m > 1 else "Binary")
        if len(events) > 1 or m > 1:
            prob += pulp.lpSum(x[v, w, t] for t in events) <= m
    soft: list[Soft] = []
    for t, n in events.items():
        name = f"count_{t}"
        prob += pulp.lpSum(var for (_, _, t_), var in x.items() if t_ == t) == n, name
        soft.append(Soft(name, 1.0, _count_text(t, n, data.limits),
                         f"events.count.{t} = {n}"))
    # attendance per (community, venue, type) over the horizon: at most the draw of each
    # event held there, at most the venue's capacity per event, and a community reached by
    # n events of a type comes 1 + d + ... + d^(n-1) times its best draw (concave pieces)
    held: dict[tuple[object, str], list[tuple[int, pulp.LpVariable]]] = {}
    for (v, w, t), var in x.items():
        held.setdefault((v, t), []).append((w, var))
    y_by_vt: dict[tuple[object, str], list[pulp.LpVariable]] = {}
    y_by_ct: dict[tuple[object, str], list[pulp.LpVariable]] = {}
    x_by_ct: dict[tuple[object, str], list[pulp.LpVariable]] = {}
    best_draw: dict[tuple[object, str], float] = {}
    y_meta: list[tuple[pulp.LpVariable, object, object, str]] = []
    # week 0 stands for every week alike (the count model): their common factor
    factor = {0: next(iter(data.factor.values()), 1.0) if aggregate_staff else 1.0,
              **data.factor}
    d_ = data.draws
    for c, v, t, d in zip(d_["community_id"], d_["venue_id"], d_["event_type"], d_["draw"],
                          strict=True):
        weeks_vt = held.get((v, t))
        if not weeks_vt:
            continue
        y = prob.add_variable(f"y{len(y_meta)}", lowBound=0)
        prob += y <= pulp.lpSum(float(d * factor[w]) * var for w, var in weeks_vt)
        y_by_vt.setdefault((v, t), []).append(y)
        y_by_ct.setdefault((c, t), []).append(y)
        x_by_ct.setdefault((c, t), []).extend(var for _, var in weeks_vt)
        best_draw[c, t] = max(best_draw.get((c, t), 0.0),
                              float(d) * max(factor[w] for w, _ in weeks_vt))
        y_meta.append((y, c, v, t))
    for (v, t), ys in y_by_vt.items():
        prob += pulp.lpSum(ys) <= float(data.capacity[v]) * pulp.lpSum(
            var for _, var in held[v, t])
    a_count = 0
    piece_vars: dict[tuple[object, str], tuple[int, list[pulp.LpVariable]]] = {}
    for (c, t), ys in y_by_ct.items():
        reach = min(events[t], sum(int(v.upBound or 0) for v in x_by_ct[c, t]))
        if reach <= 1 or data.repeat_decay >= 1:
            continue  # one event at most, or no repeat loss: the draw rows suffice
        # the first ``exact`` events each their own piece; the rest share a last piece at
        # the next event's value, which overstates only a community reached more often
        exact = min(reach, pieces.get((c, t), PIECES) if pieces is not None else PIECES)
        a = [prob.add_variable(f"a{a_count}_{k}", lowBound=0,
                               upBound=1 if k < exact else reach - exact)
             for k in range(exact + (reach > exact))]
        a_count += 1
        piece_vars[c, t] = (exact, a)
        prob += pulp.lpSum(a) <= pulp.lpSum(x_by_ct[c, t])
        prob += pulp.lpSum(ys) <= pulp.lpSum(best_draw[c, t] * data.repeat_decay ** k * a_k
                                             for k, a_k in enumerate(a))
    budget = data.budget
    if budget is not None:
        prob += pulp.lpSum((float(data.cost_v[v]) + types[t].cost) * var
                           for (v, _, t), var in x.items()) <= budget, "budget"
        soft.append(Soft("budget", max(budget, 1.0), lambda s: (
            f"events.budget = {budget:,.0f} is too small for the events asked: it needs at "
            f"least {budget + s:,.0f}"), f"events.budget = {budget:,.0f}"))
    if aggregate_staff and data.staff_cap:
        _week_patterns(prob, x, data.staff_vt, week_cap, aggregate_staff)
    rows = ({0: week_cap * aggregate_staff} if aggregate_staff and data.staff_cap
            else data.staff_cap)
    for w, cap in rows.items():
        terms = [float(data.staff_vt[v, t]) * var for (v, w_, t), var in x.items() if w_ == w]
        if terms:
            name = f"staff_w{w}"
            prob += pulp.lpSum(terms) <= cap, name
            soft.append(Soft(name, max(cap, 1.0), _staff_text(w, cap),
                             f"events.staff_per_week (week {w}) = {cap:g}"))
    prob += pulp.lpSum(var for var, *_ in y_meta)
    return _Model(prob, x, y_meta, soft, x_by_ct, piece_vars)


def _week_patterns(prob: pulp.LpProblem, x: Mapping[tuple[object, int, str], pulp.LpVariable],
                   staff_vt: Mapping[tuple[object, str], int], cap: float, weeks: int,
                   limit: int = 2000) -> None:
    """Make the counted events fit the weeks' staff: each week takes a pattern (how many
    events of each staff size fit its staff), ``weeks`` patterns in all, and the events of
    each size are at most the slots the patterns give. Skipped when the patterns exceed
    ``limit`` (large staff relative to events: the total row is then close to exact)."""
    sizes = sorted({staff_vt[v, t] for (v, _, t), var in x.items()
                    if (var.upBound or 0) > 0 and staff_vt[v, t] > 0})
    if not sizes or not math.isfinite(cap):
        return
    patterns: list[tuple[int, ...]] = []

    def grow(i: int, room: float, counts: tuple[int, ...]) -> None:
        if len(patterns) > limit:
            return
        if i == len(sizes):
            if any(room >= s for s in sizes):
                return  # not maximal: another event would still fit
            patterns.append(counts)
            return
        for k in range(int(room // sizes[i]), -1, -1):
            grow(i + 1, room - k * sizes[i], (*counts, k))

    grow(0, cap, ())
    if len(patterns) > limit or not patterns:
        return
    m = [prob.add_variable(f"pattern{i}", lowBound=0, upBound=weeks, cat="Integer")
         for i in range(len(patterns))]
    prob += pulp.lpSum(m) <= weeks
    for j, size in enumerate(sizes):
        prob += (pulp.lpSum(var for (v, _, t), var in x.items() if staff_vt[v, t] == size)
                 <= pulp.lpSum(p[j] * m_i for p, m_i in zip(patterns, m, strict=True)))


def _solve_or_explain(model: _Model, solver: Solver, time_limit_s: float,
                      gap: float) -> SolveOutcome:
    outcome = solve(model.prob, solver=solver, time_limit_s=time_limit_s, gap=gap)
    if outcome.status == "infeasible":
        lines = explain_infeasible(model.prob, model.soft, solver=solver,
                                   time_limit_s=time_limit_s)
        raise PlanInfeasibleError("; ".join(lines) if lines else
                                  "no event plan meets the counts asked within the venues "
                                  "and weeks; lower events.count or add venues or weeks")
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the solver stopped without an event plan "
                                  f"({outcome.status}); raise the time limit",
                                  timed_out=True)
    return outcome


def _alike_weeks(weeks: list[int], factor: Mapping[int, float],
                 staff_cap: Mapping[int, float], blocked: set[tuple[object, int]]
                 ) -> list[list[int]]:
    """Groups of weeks with the same attendance factor, staff and venues free."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for w in weeks:
        closed = tuple(sorted(str(v) for v, w_ in blocked if w_ == w))
        groups.setdefault((factor[w], staff_cap.get(w, math.inf), closed), []).append(w)
    return [g for g in groups.values() if len(g) > 1]


def _count_text(t: str, n: int, limits: str) -> Callable[[float], str]:
    return lambda s: (f"events.count.{t} = {n} cannot all be held within {limits}: at most "
                      f"{n - round(s)} fit")


def _staff_text(w: int, cap: float) -> Callable[[float], str]:
    return lambda s: (f"events.staff_per_week = {cap:g} is too few in week {w}: the events "
                      f"need {cap + s:.1f}")
