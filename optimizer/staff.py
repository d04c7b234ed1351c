"""Staff allocation: whole relationship managers (RMs) to outlets and events, week by week.

Each week the events of the event plan take their staff first: as many RMs as the largest
event needs, or the event hours over ``hours_per_week`` if more. The rest go to outlets,
at least each outlet's minimum (its ``min_staff``, else the kind's) and at most its
``max_staff``, to serve as many expected visits as possible: an RM serves
``hours_per_week x service_share x 60 / minutes_per_visit`` visits a week. RMs that would
serve no extra visit stay unassigned (``spare``: free for outreach or leave). Self-service
kinds (smart ATMs) take no RM.

Weeks with the same event needs and visits are solved once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from geo.assumptions import MINUTES_PER_VISIT, SELF_SERVICE
from optimizer._checks import require_columns, require_non_negative
from optimizer._solve import Solver, check_solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["DEFAULT_MIN_STAFF", "SELF_SERVICE", "StaffPlan", "allocate_staff",
           "event_staff_needs"]

#: RMs an outlet of each kind needs at least (the area.toml ``[kinds]`` ``staff`` defaults).
DEFAULT_MIN_STAFF: dict[str, int] = {"branch": 8, "micro_branch": 2, "smart_atm": 0,
                                     "mobile_van": 2}


@dataclass(frozen=True)
class StaffPlan:
    """A staff plan. ``plan``: one row per week and outlet (``week``, ``outlet_id``,
    ``kind``, ``staff``, ``visits``, ``served``, ``unserved``); ``weeks``: per week the
    RMs at outlets, at events, spare, and the unserved visits."""

    status: str
    proven_optimal: bool
    gap: float | None
    plan: pd.DataFrame
    weeks: pd.DataFrame
    served_share: float
    unserved_visits: float
    binding: tuple[str, ...]
    build_seconds: float
    solve_seconds: float
    solver: str


def event_staff_needs(schedule: pd.DataFrame, *, hours_per_week: float,
                      hours_per_event: float | Mapping[str, float] = 6.0) -> pd.Series:
    """Whole RMs the events of each week take: the largest event's staff, or the week's
    event hours (staff x hours) over ``hours_per_week``, whichever is more.

    ``schedule``: ``week``, ``staff`` and (for per-type hours) ``event_type``.
    """
    if schedule.empty:
        return pd.Series(dtype=np.int64, name="event_staff")
    if isinstance(hours_per_event, Mapping):
        hours = schedule["event_type"].map(dict(hours_per_event)).fillna(6.0)
    else:
        hours = pd.Series(float(hours_per_event), index=schedule.index)
    frame = schedule.assign(person_hours=schedule["staff"] * hours)
    per_week = frame.groupby("week").agg(largest=("staff", "max"),
                                         person_hours=("person_hours", "sum"))
    need = np.maximum(per_week["largest"].to_numpy(float),
                      np.ceil(per_week["person_hours"].to_numpy(float) / hours_per_week - 1e-9))
    return pd.Series(need.astype(np.int64), index=per_week.index, name="event_staff")


def allocate_staff(
    outlets: pd.DataFrame, *, relationship_managers: int, hours_per_week: float = 40.0,
    weeks: int | Sequence[int] = 52, event_staff: pd.Series | Mapping[int, int] | None = None,
    min_staff: Mapping[str, int] | None = None,
    minutes_per_visit: float = MINUTES_PER_VISIT,
    service_share: float = 0.8, visits_by_week: pd.DataFrame | None = None,
    self_service: Sequence[str] = SELF_SERVICE, solver: Solver = "cbc",
    time_limit_s: float = 60.0,
) -> StaffPlan:
    """Whole RMs to each outlet each week, after the events' needs.

    Parameters
    ----------
    outlets
        Indexed by outlet id: ``kind``, ``visits_per_week`` (expected visits); optional
        ``min_staff``, ``max_staff`` per outlet.
    relationship_managers
        RMs available each week.
    event_staff
        RMs the events take per week (see :func:`event_staff_needs`).
    min_staff
        Minimum RMs per kind (default :data:`DEFAULT_MIN_STAFF`); an outlet's own
        ``min_staff`` wins.
    minutes_per_visit
        RM minutes per visit on average (visits an RM does not handle count 0).
    visits_by_week
        ``outlet_id``, ``week``, ``visits`` for weeks that differ from ``visits_per_week``.
    self_service
        Kinds that need no RM (left out of the plan).
    """
    start = time.perf_counter()
    check_solver(solver)
    week_list = list(range(1, weeks + 1)) if isinstance(weeks, int) else sorted(set(weeks))
    _check(outlets, relationship_managers, hours_per_week, minutes_per_visit, service_share,
           week_list)
    outlets = outlets[~outlets["kind"].isin(list(self_service))]
    table = {**DEFAULT_MIN_STAFF, **(min_staff or {})}
    unknown = sorted(set(outlets["kind"]) - set(table))
    if unknown and "min_staff" not in outlets:
        raise OptimizerInputError(f"outlets: kind(s) {unknown} have no minimum staff; give "
                                  "min_staff for them")
    lo = (outlets["min_staff"] if "min_staff" in outlets else pd.Series(np.nan, outlets.index))
    lo = lo.fillna(outlets["kind"].map(table)).fillna(0).astype(int)
    top = max(relationship_managers, int(lo.max()) if len(lo) else 0)
    hi = (outlets["max_staff"].fillna(top) if "max_staff" in outlets
          else lo.clip(lower=relationship_managers)).astype(int)
    if (hi < lo).any():
        o = outlets.index[hi < lo][0]
        raise OptimizerInputError(f"outlets: {o!r} has max_staff {hi[o]} below its minimum "
                                  f"{lo[o]}")
    needs = pd.Series(event_staff if event_staff is not None else {}, dtype=float)
    needs = needs.reindex(week_list, fill_value=0).astype(int)
    visits = pd.DataFrame({w: outlets["visits_per_week"].astype(float) for w in week_list})
    if visits_by_week is not None and not visits_by_week.empty:
        for o, w, v in zip(visits_by_week["outlet_id"], visits_by_week["week"],
                           visits_by_week["visits"], strict=True):
            if o in visits.index and w in visits.columns:
                visits.loc[o, w] = float(v)
    per_rm = hours_per_week * service_share * 60.0 / minutes_per_visit

    floor = int(lo.sum())
    short = {w: floor + int(needs[w]) for w in week_list
             if floor + int(needs[w]) > relationship_managers}
    if short:
        w = max(short, key=lambda k: (short[k], -k))
        kinds = lo[lo > 0].groupby(outlets["kind"]).agg(["size", "first", "sum"])
        parts = ", ".join(f"{int(r['size'])} {k} x {int(r['first'])}"
                          if lo[outlets["kind"] == k].nunique() == 1
                          else f"{int(r['size'])} {k} ({int(r['sum'])})"
                          for k, r in kinds.iterrows())
        raise PlanInfeasibleError(
            f"minimum staffing needs {short[w]} relationship managers in week {w} (outlets "
            f"{floor}: {parts}; events {int(needs[w])}), available "
            f"{relationship_managers} (staff.relationship_managers); "
            f"{len(short)} week(s) short: hire, lower the minimums or move events")

    if outlets.empty:  # only self-service outlets: nobody to staff, nothing to solve
        return _no_outlet_to_staff(week_list, needs, relationship_managers, solver,
                                   time.perf_counter() - start)
    # distinct weeks: the same event needs and visits give the same plan
    keys: dict[tuple[object, ...], list[int]] = {}
    for w in week_list:
        keys.setdefault((int(needs[w]), *visits[w].round(6).tolist()), []).append(w)
    prob = pulp.LpProblem("allocate_staff", pulp.LpMaximize)
    staff: dict[tuple[object, int], pulp.LpVariable] = {}
    served: dict[tuple[object, int], pulp.LpVariable] = {}
    terms = []
    for g, ws in enumerate(keys.values()):
        w = ws[0]
        for i, o in enumerate(outlets.index):
            s = prob.add_variable(f"s{g}_{i}", lowBound=int(lo[o]), upBound=int(hi[o]),
                                  cat="Integer")
            v = prob.add_variable(f"v{g}_{i}", lowBound=0, upBound=float(visits.loc[o, w]))
            prob += v <= per_rm * s
            staff[o, w], served[o, w] = s, v
            # visits served count for every week alike; a spare RM is worth a hair
            terms.append(len(ws) * (v - 1e-4 * s))
        prob += (pulp.lpSum(staff[o, w] for o in outlets.index)
                 <= relationship_managers - int(needs[w])), f"rms_w{w}"
    prob += pulp.lpSum(terms)
    build = time.perf_counter() - start
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s)
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the solver stopped without a staff plan ({outcome.status})")
    rows, week_rows = [], []
    for ws in keys.values():
        w0 = ws[0]
        for w in ws:
            at_outlets = 0
            lost = 0.0
            for o in outlets.index:
                s = round(staff[o, w0].value() or 0)
                v = float(visits.loc[o, w0])
                got = min(v, round(float(served[o, w0].value() or 0.0), 6))
                missed = max(0.0, round(v - got, 6))
                rows.append({"week": w, "outlet_id": o, "kind": outlets.loc[o, "kind"],
                             "staff": s, "visits": v, "served": got, "unserved": missed})
                at_outlets += s
                lost += missed
            week_rows.append({"week": w, "outlet_staff": at_outlets,
                              "event_staff": int(needs[w]),
                              "spare": relationship_managers - at_outlets - int(needs[w]),
                              "unserved_visits": lost})
    plan = pd.DataFrame(rows).sort_values(["week", "outlet_id"], ignore_index=True)
    by_week = pd.DataFrame(week_rows).sort_values("week", ignore_index=True)
    total = float(plan["visits"].sum())
    unserved = float(plan["unserved"].sum())
    binding = []
    full = by_week[by_week["spare"] == 0]
    if len(full) and unserved > 1e-6:
        binding.append(f"staff.relationship_managers = {relationship_managers} (all assigned in "
                       f"{len(full)} of {len(by_week)} weeks, {unserved:,.0f} visits unserved)")
    capped = plan[(plan["staff"] >= plan["outlet_id"].map(hi)) & (plan["unserved"] > 1e-6)]
    if len(capped):
        binding.append(f"max_staff ({capped['outlet_id'].nunique()} outlet(s) at their "
                       "maximum with visits unserved)")
    return StaffPlan(status=outcome.status, proven_optimal=outcome.proven_optimal,
                     gap=0.0 if outcome.proven_optimal else None, plan=plan, weeks=by_week,
                     served_share=(total - unserved) / total if total else 1.0,
                     unserved_visits=unserved, binding=tuple(binding), build_seconds=build,
                     solve_seconds=outcome.solve_seconds, solver=solver)


def _no_outlet_to_staff(weeks: list[int], needs: pd.Series, rms: int, solver: str,
                        build: float) -> StaffPlan:
    """The plan where every outlet serves itself (smart ATMs): the RMs go to events."""
    plan = pd.DataFrame({"week": pd.Series(dtype=np.int64), "outlet_id": pd.Series(dtype=object),
                         "kind": pd.Series(dtype=object), "staff": pd.Series(dtype=np.int64),
                         "visits": pd.Series(dtype=float), "served": pd.Series(dtype=float),
                         "unserved": pd.Series(dtype=float)})
    event = needs.reindex(weeks).to_numpy(dtype=np.int64)
    by_week = pd.DataFrame({"week": np.array(weeks, dtype=np.int64), "outlet_staff": 0,
                            "event_staff": event, "spare": rms - event,
                            "unserved_visits": 0.0})
    return StaffPlan(status="optimal", proven_optimal=True, gap=0.0, plan=plan, weeks=by_week,
                     served_share=1.0, unserved_visits=0.0,
                     binding=("no outlet needs staff: every open outlet is self-service",),
                     build_seconds=build, solve_seconds=0.0, solver=solver)


def _check(outlets: pd.DataFrame, rms: int, hours: float, minutes_per_visit: float,
           service_share: float, weeks: list[int]) -> None:
    require_columns(("outlets", outlets, ("kind", "visits_per_week")))
    require_non_negative(outlets, "visits_per_week", "outlets")
    if not float(rms).is_integer() or rms < 0:
        raise OptimizerInputError(f"staff.relationship_managers = {rms}: expected a whole "
                                  "number >= 0")
    for name, value in (("staff.hours_per_week", hours),
                        ("minutes_per_visit", minutes_per_visit)):
        if not value > 0 or not math.isfinite(value):
            raise OptimizerInputError(f"{name} = {value}: expected a number > 0")
    if not 0 < service_share <= 1:
        raise OptimizerInputError(f"service_share = {service_share}: expected a share in (0, 1]")
    if not weeks or min(weeks) < 1:
        raise OptimizerInputError(f"weeks = {weeks}: expected week numbers from 1")
