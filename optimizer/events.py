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

This module is the public entry point (``plan_events``, ``event_attendance``,
``EventPlan``); the input checks, the model and the layout in weeks live in
``optimizer._event_checks``, ``optimizer._event_model`` and ``optimizer._event_layout``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.assumptions import (
    ATTENDEES_PER_STAFF,
    EVENT_MAX_WALK_MIN,
    EVENT_REPEAT_DECAY,
    EVENT_TYPES,
    EVENT_WALK_DECAY_MIN,
    VENUE_COST_PER_EVENT,
    EventType,
)
from optimizer._event_checks import AGE_COLUMNS, _check, _precheck, _staff_caps
from optimizer._event_model import _alike_weeks, _Data
from optimizer._event_search import Found, find_plan
from optimizer._solve import Solver, check_solver
from optimizer.errors import OptimizerInputError

__all__ = ["EVENT_TYPES", "EventPlan", "EventType", "event_attendance", "plan_events"]


@dataclass(frozen=True)
class EventPlan:
    """An event plan. ``schedule``: one row per event (``venue_id``, ``week``,
    ``event_type``, ``attendance``, ``capacity``, ``cost``, ``staff``); ``by_community``:
    expected attendance per community and type; ``staff_by_week``: staff the events need
    each week; ``gap``: how far the plan may be from the best (its attendance against the
    bound of the model's relaxation or the solver's), 0 when proven optimal, None when no
    bound was found in time."""

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
    #: "solver", or "greedy" when the solver found no better plan in its time
    found_by: str = "solver"


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
    found = find_plan(data, slots, week_list, alike, blocked, solver=solver,
                      time_limit_s=time_limit_s, gap=gap)
    return _result(found, data, week_list, time.perf_counter() - start - found.solve_seconds)


def _result(found: Found, data: _Data, weeks: list[int], build: float) -> EventPlan:
    per_vt: dict[tuple[object, str], float] = {}
    for _, v, t, a in found.rows:
        per_vt[v, t] = per_vt.get((v, t), 0.0) + a
    rows = []
    for (v, t), ws in found.held.items():
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
    by_community = (pd.DataFrame([(c, t, a) for c, _, t, a in found.rows if a > 1e-9],
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
    proven = found.proven_optimal
    gap = 0.0 if proven else (None if found.bound is None or value <= 0
                              else max(found.bound - value, 0.0) / value)
    return EventPlan(status="optimal" if proven else "feasible", proven_optimal=proven,
                     gap=gap, attendance=value, cost=cost, schedule=schedule,
                     by_community=by_community, staff_by_week=staff_by_week.rename("staff"),
                     binding=tuple(binding), build_seconds=build,
                     solve_seconds=found.solve_seconds, solver=found.solver,
                     found_by=found.found_by)
