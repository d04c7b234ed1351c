"""Event planning: which venues and weeks hold how many events of each type.

Attendance follows the simulation's event model (docs/simulation.md): a community's adults
of age band b come to a type-t event at venue v with probability
``attend_rate[t] x affinity[t][b] x exp(-minutes / walk_decay_min)`` (nobody walks further
than ``max_walk_min``); the affinity is raised by ``low_income_boost`` x the community's
low-income share. That is the audience fit: an anti-fraud session draws the 56+, a
parent-child finance day draws 36-55.

The model is a mixed-integer programme over (venue, week, type) with at most one event per
venue and week, the number of events of each type asked for, the event budget and the staff
available each week (an event needs its ``staff`` plus one more per ``attendees_per_staff``
people). Attendance from one community to one event is at most its first-event draw and the
venue's capacity caps the sum; a community reached by n events of the same type comes at
most ``1 + d + ... + d^(n-1)`` times its draw at its best venue within reach
(``d = repeat_decay``: people who came once come less), modelled by concave pieces, exact at
whole numbers of events.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from geo.assumptions import (
    ATTENDEES_PER_STAFF,
    EVENT_MAX_WALK_MIN,
    EVENT_REPEAT_DECAY,
    EVENT_TYPES,
    EVENT_WALK_DECAY_MIN,
    VENUE_COST_PER_EVENT,
    EventType,
)
from optimizer._checks import require_columns, require_non_negative
from optimizer._elastic import Soft, explain_infeasible
from optimizer._solve import SolveOutcome, Solver, check_solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["EVENT_TYPES", "EventPlan", "EventType", "event_attendance", "plan_events"]

AGE_COLUMNS = ("pop_18_35", "pop_36_55", "pop_56_plus")


@dataclass(frozen=True)
class EventPlan:
    """An event plan. ``schedule``: one row per event (``venue_id``, ``week``,
    ``event_type``, ``attendance``, ``capacity``, ``cost``, ``staff``); ``by_community``:
    expected attendance per community and type; ``staff_by_week``: staff the events need
    each week; ``gap``: 0 when proven optimal, None when the solver gave no bound."""

    status: str
    proven_optimal: bool
    gap: float | None
    attendance: float
    cost: float
    schedule: pd.DataFrame
    by_community: pd.DataFrame
    staff_by_week: pd.Series
    binding: tuple[str, ...]
    build_seconds: float
    solve_seconds: float
    solver: str


def event_attendance(communities: pd.DataFrame, travel: pd.DataFrame,
                     types: Mapping[str, EventType], *,
                     walk_decay_min: float = EVENT_WALK_DECAY_MIN,
                     max_walk_min: float = EVENT_MAX_WALK_MIN) -> pd.DataFrame:
    """First-event draw of each community at each venue within ``max_walk_min``, per type.

    ``travel``: ``origin_id`` (community), ``dest_id`` (venue), ``cost`` (minutes).
    Returns ``community_id``, ``venue_id``, ``minutes``, ``event_type``, ``draw``
    (expected attendees).
    """
    near = travel[travel["cost"] <= max_walk_min]
    ci = communities.index.get_indexer(pd.Index(near["origin_id"]))
    if (ci < 0).any():
        raise OptimizerInputError(f"travel names community {near['origin_id'][ci < 0].iloc[0]!r}"
                                  ", which is not in communities")
    bands = communities[list(AGE_COLUMNS)].to_numpy(float)[ci]
    low = (communities["income_low_share"].to_numpy(float)[ci]
           if "income_low_share" in communities else np.zeros(ci.size))
    decay = np.exp(-near["cost"].to_numpy(float) / walk_decay_min)
    frames = []
    for name, t in types.items():
        fitted = bands @ np.asarray(t.affinity, float) * (1.0 + t.low_income_boost * low)
        frames.append(pd.DataFrame({
            "community_id": near["origin_id"].to_numpy(), "venue_id": near["dest_id"].to_numpy(),
            "minutes": near["cost"].to_numpy(float), "event_type": name,
            "draw": t.attend_rate * fitted * decay}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["community_id", "venue_id", "minutes", "event_type", "draw"])


def plan_events(
    venues: pd.DataFrame, communities: pd.DataFrame, travel: pd.DataFrame, *,
    events: Mapping[str, int], weeks: int | Sequence[int] = 12,
    budget: float | None = None, staff_per_week: float | Mapping[int, float] | None = None,
    event_types: Mapping[str, EventType] | None = None,
    repeat_decay: float = EVENT_REPEAT_DECAY, walk_decay_min: float = EVENT_WALK_DECAY_MIN,
    max_walk_min: float = EVENT_MAX_WALK_MIN, attendees_per_staff: int = ATTENDEES_PER_STAFF,
    week_factor: Mapping[int, float] | None = None,
    unavailable: Iterable[tuple[object, int]] = (),
    default_cost: float = VENUE_COST_PER_EVENT, solver: Solver = "cbc", time_limit_s: float = 60.0,
    gap: float = 0.0,
) -> EventPlan:
    """Choose venues and weeks for ``events`` (type -> how many), maximizing expected
    attendance weighted by audience fit.

    Parameters
    ----------
    venues
        Indexed by venue id: ``capacity`` (people); optional ``cost_per_event`` (else
        ``default_cost``).
    communities
        Indexed by community id: ``pop_18_35``, ``pop_36_55``, ``pop_56_plus``; optional
        ``income_low_share``.
    travel
        Walking minutes, ``origin_id`` (community), ``dest_id`` (venue), ``cost``.
    events
        How many events of each type to hold (exactly).
    weeks
        The weeks to plan (``12``: weeks 1 to 12).
    budget
        Most the events may cost in all (venue cost + the type's cost).
    staff_per_week
        Relationship managers free for events each week (one number, or per week).
    week_factor
        Attendance multiplier per week (holidays below 1); missing weeks count 1.
    unavailable
        (venue_id, week) pairs when a venue cannot host.
    """
    start = time.perf_counter()
    check_solver(solver)
    types = dict(EVENT_TYPES if event_types is None else event_types)
    week_list = list(range(1, weeks + 1)) if isinstance(weeks, int) else sorted(set(weeks))
    _check(venues, communities, travel, events, types, week_list, budget, repeat_decay)
    events = {t: int(n) for t, n in events.items() if int(n) > 0}
    factor = {w: float((week_factor or {}).get(w, 1.0)) for w in week_list}
    staff_cap = _staff_caps(staff_per_week, week_list)
    cost_v = (venues["cost_per_event"].astype(float).fillna(default_cost)
              if "cost_per_event" in venues else pd.Series(default_cost, index=venues.index))
    draws = event_attendance(communities, travel, {t: types[t] for t in events},
                             walk_decay_min=walk_decay_min, max_walk_min=max_walk_min)
    draws = draws[(draws["draw"] > 0) & draws["venue_id"].isin(venues.index)]
    blocked = {(v, int(w)) for v, w in unavailable}
    slots = [(v, w) for v in venues.index for w in week_list
             if (v, w) not in blocked and factor[w] > 0]
    _precheck(events, types, slots, cost_v, budget, staff_cap)

    capacity = venues["capacity"].astype(float)
    # staff of an event: the type's own plus one per attendees_per_staff of a full draw
    full_draw = draws.groupby(["venue_id", "event_type"])["draw"].sum()
    staff_vt = {(v, t): types[t].staff + math.ceil(
        min(float(capacity[v]), float(full_draw.get((v, t), 0.0))) / attendees_per_staff - 1e-9)
        for v in venues.index for t in events}
    limits = [f"one event per venue a week over {len(week_list)} weeks"]
    if staff_cap:
        caps = sorted(set(staff_cap.values()))
        limits.append(f"events.staff_per_week = {'/'.join(f'{c:g}' for c in caps)}")
    if budget is not None:
        limits.append(f"events.budget = {budget:,.0f}")
    data = _Data(events, types, factor, staff_cap, cost_v.to_dict(), capacity.to_dict(), draws,
                 staff_vt,
                 repeat_decay, budget, ", ".join(limits))
    alike = _alike_weeks(week_list, factor, staff_cap, blocked)
    schedule_weeks: dict[tuple[object, str], list[int]] | None = None
    if len(alike) == 1 and len(alike[0]) == len(week_list):
        # every week alike: count events per venue and type, then lay them out in weeks;
        # the count model is a relaxation of the weekly one with the same objective, so a
        # count plan that fits the weeks is optimal for the weekly model too
        agg = [(v, 0, len(week_list)) for v in venues.index
               if sum((v, w) not in blocked for w in week_list) == len(week_list)]
        model = _build(data, agg, aggregate_staff=len(week_list))
        outcome = _solve_or_explain(model, solver, time_limit_s, gap)
        counts = {key: round(var.value() or 0) for key, var in model.x.items()}
        schedule_weeks = _lay_out(counts, staff_vt, week_list, staff_cap)
        if schedule_weeks is not None:
            return _result(outcome, model, schedule_weeks, data, week_list,
                           time.perf_counter() - start - outcome.solve_seconds, solver)
    model = _build(data, [(v, w, 1) for v, w in slots], aggregate_staff=0)
    for group in alike:  # interchangeable weeks: order them by events held
        load = {w: pulp.lpSum(var for (_, w_, _), var in model.x.items() if w_ == w)
                for w in group}
        for w, w_next in itertools.pairwise(group):
            model.prob += load[w] >= load[w_next]
    build = time.perf_counter() - start
    outcome = _solve_or_explain(model, solver, time_limit_s, gap)
    held: dict[tuple[object, str], list[int]] = {}
    for (v, w, t), var in model.x.items():
        if round(var.value() or 0) == 1:
            held.setdefault((v, t), []).append(w)
    return _result(outcome, model, held, data, week_list, build, solver)


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


def _build(data: _Data, slots: list[tuple[object, int, int]], *,
           aggregate_staff: int) -> _Model:
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
    factor = {0: 1.0, **data.factor}
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
    for (c, t), ys in y_by_ct.items():
        pieces = min(events[t], sum(int(v.upBound or 0) for v in x_by_ct[c, t]))
        if pieces <= 1 or data.repeat_decay >= 1:
            continue  # one event at most, or no repeat loss: the draw rows suffice
        a = [prob.add_variable(f"a{a_count}_{k}", lowBound=0, upBound=1) for k in range(pieces)]
        a_count += 1
        prob += pulp.lpSum(a) <= pulp.lpSum(x_by_ct[c, t])
        prob += pulp.lpSum(ys) <= pulp.lpSum(best_draw[c, t] * data.repeat_decay ** k * a[k]
                                             for k in range(pieces))
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
    return _Model(prob, x, y_meta, soft)


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
                                  f"({outcome.status}); raise the time limit")
    return outcome


def _lay_out(counts: Mapping[tuple[object, int, str], int],
             staff_vt: Mapping[tuple[object, str], int], weeks: list[int],
             staff_cap: Mapping[int, float]) -> dict[tuple[object, str], list[int]] | None:
    """Weeks for counted events: at most one per venue a week, within each week's staff,
    spread out (each event goes to the week with the most staff left, then the earliest).
    None when first-fit cannot place them all."""
    todo = sorted(((v, t) for (v, _, t), n in counts.items() for _ in range(n)),
                  key=lambda vt: (-staff_vt[vt], str(vt[0]), vt[1]))
    left = {w: staff_cap.get(w, math.inf) for w in weeks}
    used: set[tuple[object, int]] = set()
    held_n = dict.fromkeys(weeks, 0)
    out: dict[tuple[object, str], list[int]] = {}
    for v, t in todo:
        need = staff_vt[v, t]
        options = [w for w in weeks if (v, w) not in used and left[w] >= need]
        if not options:
            return _lay_out_exact(todo, staff_vt, weeks, left_start=staff_cap)
        w = min(options, key=lambda w_: (held_n[w_], -left[w_], w_))
        used.add((v, w))
        left[w] -= need
        held_n[w] += 1
        out.setdefault((v, t), []).append(w)
    return out


def _alike_weeks(weeks: list[int], factor: Mapping[int, float],
                 staff_cap: Mapping[int, float], blocked: set[tuple[object, int]]
                 ) -> list[list[int]]:
    """Groups of weeks with the same attendance factor, staff and venues free."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for w in weeks:
        closed = tuple(sorted(str(v) for v, w_ in blocked if w_ == w))
        groups.setdefault((factor[w], staff_cap.get(w, math.inf), closed), []).append(w)
    return [g for g in groups.values() if len(g) > 1]


def _check(venues: pd.DataFrame, communities: pd.DataFrame, travel: pd.DataFrame,
           events: Mapping[str, int], types: Mapping[str, EventType], weeks: list[int],
           budget: float | None, repeat_decay: float) -> None:
    require_columns(("venues", venues, ("capacity",)),
                    ("communities", communities, AGE_COLUMNS),
                    ("travel", travel, ("origin_id", "dest_id", "cost")))
    unknown = sorted(set(events) - set(types))
    if unknown:
        raise OptimizerInputError(f"events: unknown event type(s) {unknown}; expected "
                                  f"{', '.join(types)}")
    bad = {t: n for t, n in events.items() if not float(n).is_integer() or n < 0}
    if bad:
        t = next(iter(bad))
        raise OptimizerInputError(f"events.count.{t} = {bad[t]}: expected a whole number >= 0")
    if not weeks or min(weeks) < 1:
        raise OptimizerInputError(f"weeks = {weeks}: expected week numbers from 1")
    if budget is not None and budget < 0:
        raise OptimizerInputError(f"events.budget = {budget}: expected >= 0")
    if not 0 <= repeat_decay <= 1:
        raise OptimizerInputError(f"repeat_decay = {repeat_decay}: expected a share in [0, 1]")
    require_non_negative(venues, "capacity", "venues", "a number of people >= 0")


def _staff_caps(staff_per_week: float | Mapping[int, float] | None,
                weeks: list[int]) -> dict[int, float]:
    if staff_per_week is None:
        return {}
    if isinstance(staff_per_week, Mapping):
        caps = {w: float(staff_per_week.get(w, math.inf)) for w in weeks}
    else:
        caps = dict.fromkeys(weeks, float(staff_per_week))
    bad = {w: c for w, c in caps.items() if c < 0}
    if bad:
        w = next(iter(bad))
        raise OptimizerInputError(f"staff_per_week (week {w}) = {bad[w]:g}: expected >= 0")
    return {w: c for w, c in caps.items() if math.isfinite(c)}


def _precheck(events: Mapping[str, int], types: Mapping[str, EventType],
              slots: list[tuple[object, int]], cost_v: pd.Series, budget: float | None,
              staff_cap: Mapping[int, float]) -> None:
    """The plain counting reasons a plan cannot exist, said before any solving."""
    total = sum(events.values())
    if total > len(slots):
        raise PlanInfeasibleError(
            f"events.count asks for {total} events but the venues offer only {len(slots)} "
            "venue-weeks (one event per venue a week); lower events.count, add weeks or "
            "venues")
    if budget is not None and total:
        # the type's cost is the same anywhere: the cheapest plan uses the cheapest slots
        slot_cost = np.sort(cost_v.reindex([v for v, _ in slots]).to_numpy(float))
        need = float(slot_cost[:total].sum()) + sum(n * types[t].cost for t, n in events.items())
        if need > budget + 1e-6:
            raise PlanInfeasibleError(
                f"events.budget = {budget:,.0f} is too small for {total} events: the "
                f"cheapest venues need at least {need:,.0f}; raise the budget or ask for "
                "fewer events")
    if staff_cap and total:
        fewest = min(types[t].staff for t in events)
        room = sum(math.floor(c / fewest) for c in staff_cap.values()) if fewest else total
        room += sum(1 for _, w in slots if w not in staff_cap) if fewest else 0
        if room < total:
            raise PlanInfeasibleError(
                f"events.staff_per_week allows at most {room} events in {len(staff_cap)} "
                f"weeks (an event needs at least {fewest} staff); events.count asks for "
                f"{total}: raise staff_per_week, add weeks or ask for fewer events")


def _count_text(t: str, n: int, limits: str) -> Callable[[float], str]:
    return lambda s: (f"events.count.{t} = {n} cannot all be held within {limits}: at most "
                      f"{n - round(s)} fit")


def _staff_text(w: int, cap: float) -> Callable[[float], str]:
    return lambda s: (f"events.staff_per_week = {cap:g} is too few in week {w}: the events "
                      f"need {cap + s:.1f}")


def _lay_out_exact(todo: list[tuple[object, str]], staff_vt: Mapping[tuple[object, str], int],
                   weeks: list[int], left_start: Mapping[int, float]
                   ) -> dict[tuple[object, str], list[int]] | None:
    """The layout as a small packing programme, when first-fit fails; None if none exists."""
    prob = pulp.LpProblem("lay_out_events", pulp.LpMinimize)
    z = {(e, w): prob.add_variable(f"z{e}_{w}", cat="Binary")
         for e in range(len(todo)) for w in weeks}
    for e in range(len(todo)):
        prob += pulp.lpSum(z[e, w] for w in weeks) == 1
    for w in weeks:
        cap = left_start.get(w, math.inf)
        if math.isfinite(cap):
            prob += pulp.lpSum(staff_vt[todo[e]] * z[e, w] for e in range(len(todo))) <= cap
        for v in {v for v, _ in todo}:
            at_v = [z[e, w] for e in range(len(todo)) if todo[e][0] == v]
            if len(at_v) > 1:
                prob += pulp.lpSum(at_v) <= 1
    prob += pulp.lpSum(w * var for (_, w), var in z.items())  # earlier weeks first
    outcome = solve(prob, solver="highs", time_limit_s=20.0)
    if outcome.status not in ("optimal", "feasible"):
        return None
    out: dict[tuple[object, str], list[int]] = {}
    for (e, w), var in z.items():
        if round(var.value() or 0) == 1:
            out.setdefault(todo[e], []).append(w)
    return out


def _result(outcome: SolveOutcome, model: _Model, held: Mapping[tuple[object, str], list[int]],
            data: _Data, weeks: list[int], build: float, solver: str) -> EventPlan:
    rows_c = [(c, t, float(var.value() or 0.0), v) for var, c, v, t in model.y]
    per_vt: dict[tuple[object, str], float] = {}
    for _, t, a, v in rows_c:
        per_vt[v, t] = per_vt.get((v, t), 0.0) + a
    rows = []
    for (v, t), ws in held.items():
        weight = sum(data.factor[w] for w in ws)
        for w in ws:
            # a venue's attendance over the horizon, shared by its events as their weeks draw
            rows.append({"venue_id": v, "week": w, "event_type": t,
                         "attendance": per_vt.get((v, t), 0.0) * data.factor[w] / weight,
                         "capacity": float(data.capacity[v]),
                         "cost": float(data.cost_v[v]) + data.types[t].cost,
                         "staff": data.staff_vt[v, t]})
    schedule = pd.DataFrame(rows, columns=["venue_id", "week", "event_type", "attendance",
                                           "capacity", "cost", "staff"])
    schedule = schedule.sort_values(["week", "venue_id", "event_type"], ignore_index=True)
    by_community = (pd.DataFrame([r[:3] for r in rows_c if r[2] > 1e-9],
                                 columns=["community_id", "event_type", "attendance"])
                    .groupby(["community_id", "event_type"])["attendance"].sum().reset_index())
    staff_by_week = schedule.groupby("week")["staff"].sum().reindex(weeks, fill_value=0)
    cost = float(schedule["cost"].sum())
    binding = []
    budget = data.budget
    if budget is not None and cost >= budget * 0.999 - 1e-6:
        binding.append(f"events.budget ({cost:,.0f} of {budget:,.0f})")
    smallest = min(data.staff_vt.values(), default=0)
    tight = [w for w, cap in data.staff_cap.items()
             if cap > 0 and staff_by_week.get(w, 0) + smallest > cap]
    if tight:
        binding.append(f"events.staff_per_week (no room for another event in {len(tight)} "
                       f"of {len(weeks)} weeks)")
    full = int((schedule["attendance"] >= schedule["capacity"] - 1e-6).sum())
    if full:
        binding.append(f"venue capacity ({full} of {len(schedule)} events full)")
    value = float(schedule["attendance"].sum())
    proven = outcome.proven_optimal
    gap = 0.0 if proven else (None if outcome.bound is None or value == 0
                              else abs(outcome.bound - value) / abs(value))
    return EventPlan(status=outcome.status, proven_optimal=proven, gap=gap,
                     attendance=value, cost=cost, schedule=schedule, by_community=by_community,
                     staff_by_week=staff_by_week.rename("staff"), binding=tuple(binding),
                     build_seconds=build, solve_seconds=outcome.solve_seconds,
                     solver=solver)
