"""Mobile van schedules: which stops a van serves on which days of its week.

A van leaves its home site each working day, drives to its stops, stays ``hours_per_stop``
at each, and drives home, all within ``day_hours``. A day's route is a set of stops with
its shortest tour from home (driving minutes from the street network); the plan picks a
route for each day. Residents within ``coverage_minutes``' walk of a stop are served on
the days the van is there.

The objective: the adults served at least once a week (a resident's banking needs a visit
a week: an assumption, docs/optimizer.md), then, among plans that serve as many, the most
adult-days (adults x the days a week the van is within their reach). Solved exactly: every
feasible route is enumerated (a set of stops is feasible only if every set with one stop
fewer is, as a tour cannot lengthen when a stop is left out; each tour by dynamic
programming over its stops), then an integer programme chooses how many days each route
runs (days are alike, so no schedule is counted twice): a team orienteering problem with
coverage (Chao, Golden & Wasil 1996, "The team orienteering problem", EJOR 88(3); the
covering tour problem of Gendreau, Laporte & Semet 1997, Operations Research 45(4)).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from optimizer._solve import Solver, check_solver, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = ["VanPlan", "plan_van", "van_routes"]

#: The most stops a route may have (enumeration grows as stops^k).
MAX_STOPS_PER_DAY = 6
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: HiGHS to a zero gap (its default stops at 0.01%)
EXACT: dict[str, str | int | float] = {"mip_rel_gap": 0.0, "mip_abs_gap": 0.0}
#: The adult-days, second to the weekly reach, are proven within this relative gap
TIE_GAP = 1e-4


@dataclass(frozen=True)
class VanPlan:
    """A van's week. ``proven_optimal``: the weekly reach proven the most, and the
    adult-days within ``TIE_GAP`` of theirs (``gap``). ``schedule``: a row per stop and day
    (``day``, ``day_name``, ``order``, ``stop_id``, ``arrive_min`` and ``depart_min``
    after leaving home, ``drive_min`` to it);
    ``days_by_point``: the days a week each demand point has a stop within reach;
    ``weekly_reach``: adults served at least once a week; ``adult_days``: adults x days."""

    status: str
    proven_optimal: bool
    gap: float | None
    schedule: pd.DataFrame
    days_by_point: pd.Series
    weekly_reach: float
    adult_days: float
    routes: int  # feasible routes considered
    build_seconds: float
    solve_seconds: float


def _tour_minutes(stops: tuple[int, ...], drive: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The shortest closed tour from home (row 0) through ``stops`` (rows of ``drive``),
    by Held-Karp dynamic programming; its minutes and its order."""
    k = len(stops)
    if k == 0:
        return 0.0, ()
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for j in range(k):
        best[1 << j, j] = (float(drive[0, stops[j]]), -1)
    for mask in range(1, 1 << k):
        for j in range(k):
            if (mask, j) not in best:
                continue
            here = best[mask, j][0]
            for nxt in range(k):
                if mask & (1 << nxt):
                    continue
                key = (mask | (1 << nxt), nxt)
                cost = here + float(drive[stops[j], stops[nxt]])
                if key not in best or cost < best[key][0]:
                    best[key] = (cost, j)
    full = (1 << k) - 1
    end = min(range(k), key=lambda j: best[full, j][0] + float(drive[stops[j], 0]))
    total = best[full, end][0] + float(drive[stops[end], 0])
    order, mask, j = [], full, end
    while j != -1:
        order.append(stops[j])
        mask, j = mask ^ (1 << j), best[mask, j][1]
    return total, tuple(reversed(order))


def van_routes(drive: np.ndarray, *, day_minutes: float, stop_minutes: float,
               max_stops: int = MAX_STOPS_PER_DAY) -> list[tuple[tuple[int, ...], float]]:
    """Every set of stops (rows 1.. of ``drive``; row 0 is home) a day can hold: its
    tour in order and its driving minutes. A set is tried only when each of its subsets
    with one stop fewer was feasible."""
    n = drive.shape[0] - 1
    feasible: dict[frozenset[int], tuple[tuple[int, ...], float]] = {}
    level = [frozenset([s]) for s in range(1, n + 1)]
    out = []
    for size in range(1, max_stops + 1):
        nxt: set[frozenset[int]] = set()
        for stops in level:
            if any(stops - {s} not in feasible for s in stops if len(stops) > 1):
                continue
            minutes, order = _tour_minutes(tuple(sorted(stops)), drive)
            if minutes + size * stop_minutes <= day_minutes + 1e-9:
                feasible[stops] = (order, minutes)
                out.append((order, minutes))
                nxt.update(stops | {s} for s in range(1, n + 1) if s not in stops)
        level = sorted(nxt, key=sorted)
        if not level:
            break
    return out


def plan_van(demand: pd.Series, walk: pd.DataFrame, drive: pd.DataFrame, *, home: object,
             days: int = 5, day_hours: float = 8.0, hours_per_stop: float = 2.0,
             coverage_minutes: float = 15.0, max_stops_per_day: int = MAX_STOPS_PER_DAY,
             solver: Solver = "highs", time_limit_s: float = 60.0) -> VanPlan:
    """A van's stops by day, serving the most adults at least once a week.

    Parameters
    ----------
    demand
        Adults per demand point (indexed by point id).
    walk
        Walking minutes from demand points to stops: ``origin_id``, ``dest_id``, ``cost``.
    drive
        Driving minutes between the home site and the stops: a square table indexed and
        columned by the same ids, ``home`` among them; every other id is a stop.
    home
        Where the van starts and ends each day (not itself a stop).
    days, day_hours, hours_per_stop
        Working days a week (at most 7), hours a day, hours at each stop.
    """
    start = time.perf_counter()
    check_solver(solver)
    if not 1 <= days <= 7:
        raise OptimizerInputError(f"days = {days}: a van works 1 to 7 days a week")
    for key, value in (("day_hours", day_hours), ("hours_per_stop", hours_per_stop),
                       ("coverage_minutes", coverage_minutes)):
        if not value > 0:
            raise OptimizerInputError(f"{key} = {value}: expected > 0")
    if not 1 <= max_stops_per_day <= MAX_STOPS_PER_DAY:
        raise OptimizerInputError(f"max_stops_per_day = {max_stops_per_day}: expected 1 to "
                                  f"{MAX_STOPS_PER_DAY}")
    if not isinstance(days, int | np.integer):
        raise OptimizerInputError(f"days = {days!r}: expected a whole number of days")
    values = demand.to_numpy(float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise OptimizerInputError("demand: every point needs adults >= 0 (a number)")
    if drive.index.has_duplicates:
        raise OptimizerInputError(f"drive: the id {drive.index[drive.index.duplicated()][0]!r} "
                                  "appears twice; give each site once")
    if list(drive.index) != list(drive.columns):
        raise OptimizerInputError("drive: expected a square table, its rows and columns the "
                                  "same ids in the same order (home and the stops)")
    if home not in drive.index:
        raise OptimizerInputError(f"home {home!r} is not in the drive table; give the van's "
                                  "home site among its rows")
    minutes = drive.to_numpy(float)
    if np.isnan(minutes).any() or (minutes < 0).any():
        raise OptimizerInputError("drive: every pair needs minutes >= 0 (inf where one "
                                  "site cannot be reached from the other)")
    stops = pd.Index([s for s in drive.index if s != home])
    order = np.array([drive.index.get_loc(home), *(drive.index.get_loc(s) for s in stops)],
                     dtype=np.int64)
    # row 0 home, then the stops; the van may drive past a stop without stopping, so each
    # leg is the quickest way through the others (Floyd-Warshall), which makes every tour
    # at least as quick without one of its stops, as the enumeration needs
    matrix = minutes[order][:, order]
    for k in range(matrix.shape[0]):
        matrix = np.minimum(matrix, matrix[:, k:k + 1] + matrix[k:k + 1, :])
    routes = van_routes(matrix, day_minutes=day_hours * 60, stop_minutes=hours_per_stop * 60,
                        max_stops=max_stops_per_day)
    if not routes:
        raise PlanInfeasibleError(
            f"the van's schedule: no stop fits in a day of {day_hours:g} hours with "
            f"{hours_per_stop:g} hours at the stop and the drive there and back; lengthen "
            "the day, shorten the stop or add stops nearer home")
    adults = demand.to_numpy(float)
    point = demand.index.get_indexer(pd.Index(walk["origin_id"]))
    stop = stops.get_indexer(pd.Index(walk["dest_id"]))
    ok = (walk["cost"].to_numpy(float) <= coverage_minutes) & (point >= 0) & (stop >= 0)
    reach: dict[int, set[int]] = {}
    for p_, s_ in zip(point[ok], stop[ok], strict=True):
        reach.setdefault(int(s_) + 1, set()).add(int(p_))  # stop rows count from 1
    route_points = [sorted(set().union(*(reach.get(s, set()) for s in tour)))
                    for tour, _ in routes]
    prob = pulp.LpProblem("van", pulp.LpMaximize)
    runs = [prob.add_variable(f"n{r}", lowBound=0, upBound=days, cat="Integer")
            for r in range(len(routes))]
    prob += pulp.lpSum(runs) <= days, "days"
    by_point: dict[int, list[int]] = {}
    for r, points in enumerate(route_points):
        for p_ in points:
            by_point.setdefault(p_, []).append(r)
    served: dict[int, pulp.LpVariable] = {}
    for p_, members in by_point.items():
        served[p_] = prob.add_variable(f"u{p_}", lowBound=0, upBound=1)
        prob += served[p_] <= pulp.lpSum(runs[r] for r in members)
    reached = [float(adults[points].sum()) for points in route_points]
    build = time.perf_counter() - start
    deadline = time.perf_counter() + time_limit_s
    # first the adults reached at least once a week; then, holding that, the adult-days
    # (two solves, each to a zero gap: a weighted sum would leave the tie to the
    # solver's tolerance)
    weekly = pulp.lpSum(float(adults[p_]) * v for p_, v in served.items())
    prob += weekly
    first = solve(prob, solver=solver, time_limit_s=time_limit_s, highs_options=EXACT)
    if first.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the van's schedule: the solver stopped without a plan "
                                  f"({first.status}); raise the time limit")
    best = float(first.objective or 0.0)
    counts = [round(v.value() or 0) for v in runs]
    prob += weekly >= best - 1e-6 * max(1.0, best), "weekly_reach"  # solver tolerance
    prob.setObjective(pulp.lpSum(reached[r] * runs[r] for r in range(len(routes))))
    second = solve(prob, solver=solver, time_limit_s=max(deadline - time.perf_counter(), 1.0),
                   gap=TIE_GAP)
    if second.status in ("optimal", "feasible"):  # else the first plan stands
        counts = [round(v.value() or 0) for v in runs]
    schedule = _schedule(routes, counts, reached, stops, matrix, hours_per_stop * 60)
    days_at = np.zeros(adults.size, dtype=int)
    for r, n in enumerate(counts):
        days_at[route_points[r]] += n
    days_by_point = pd.Series(days_at, index=demand.index, name="days")
    # the reach exactly; the adult-days within TIE_GAP of their bound
    tie_gap = (0.0 if second.proven_optimal else None if second.bound is None
               or not second.objective else (second.bound - second.objective)
               / abs(second.objective))
    proven = first.proven_optimal and tie_gap is not None and tie_gap <= TIE_GAP + 1e-12
    return VanPlan(status="optimal" if proven else "feasible", proven_optimal=proven,
                   gap=tie_gap if first.proven_optimal else None, schedule=schedule,
                   days_by_point=days_by_point,
                   weekly_reach=float(adults[days_at > 0].sum()),
                   adult_days=float((adults * days_at).sum()), routes=len(routes),
                   build_seconds=build,
                   solve_seconds=first.solve_seconds + second.solve_seconds)


def _schedule(routes: Sequence[tuple[tuple[int, ...], float]], counts: Sequence[int],
              reached: Sequence[float], stops: pd.Index, matrix: np.ndarray,
              stop_minutes: float) -> pd.DataFrame:
    """A row per stop and day: routes that reach more adults come first in the week."""
    rows = []
    day = 0
    for r in sorted(range(len(routes)), key=lambda r: (-reached[r], r)):
        for _ in itertools.repeat(None, counts[r]):
            day += 1
            clock, here = 0.0, 0
            for k, s in enumerate(routes[r][0], start=1):
                drive = float(matrix[here, s])
                clock += drive
                rows.append({"day": day, "day_name": WEEKDAYS[day - 1], "order": k,
                             "stop_id": stops[s - 1], "arrive_min": clock,
                             "depart_min": clock + stop_minutes, "drive_min": drive})
                clock += stop_minutes
                here = s
    return pd.DataFrame(rows, columns=["day", "day_name", "order", "stop_id", "arrive_min",
                                       "depart_min", "drive_min"])
