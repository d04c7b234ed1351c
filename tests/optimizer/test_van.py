"""Mobile van schedules (optimizer.van) against a hand-solved week and brute force over
every route and every week of routes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import OptimizerInputError
from optimizer.van import plan_van


def _two_clusters() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Home between a west pair of stops (A, B) and an east pair (C, D): 100 minutes'
    drive to either pair, 10 within a pair, 200 across by way of home (too far to serve
    both in a day). Each stop has its own 100 adults in reach (D's 150)."""
    ids = ["home", "A", "B", "C", "D"]
    drive = pd.DataFrame(
        [[0, 100, 100, 100, 100], [100, 0, 10, 250, 250], [100, 10, 0, 250, 250],
         [100, 250, 250, 0, 10], [100, 250, 250, 10, 0]], index=ids, columns=ids,
        dtype=float)
    demand = pd.Series({"pA": 100.0, "pB": 100.0, "pC": 100.0, "pD": 150.0})
    walk = pd.DataFrame({"origin_id": ["pA", "pB", "pC", "pD"],
                         "dest_id": ["A", "B", "C", "D"], "cost": 5.0})
    return demand, walk, drive


def test_two_days_serve_both_clusters() -> None:
    demand, walk, drive = _two_clusters()
    # a day of 8 hours: two stops of 2 hours and 210 minutes' drive fit; across, 400 do not
    week = plan_van(demand, walk, drive, home="home", days=2, day_hours=8, hours_per_stop=2)
    assert week.proven_optimal and week.weekly_reach == 450 and week.adult_days == 450
    days = week.schedule.groupby("day")["stop_id"].agg(lambda s: "".join(sorted(s)))
    assert sorted(days) == ["AB", "CD"]
    assert days[1] == "CD"  # the day that reaches more adults comes first
    first = week.schedule[week.schedule["day"] == 1].sort_values("order")
    assert first["arrive_min"].tolist() == [100.0, 230.0]
    assert first["depart_min"].tolist() == [220.0, 350.0]
    # one day: the east pair (250 adults); three days: the third repeats the east pair
    assert plan_van(demand, walk, drive, home="home", days=1).weekly_reach == 250
    three = plan_van(demand, walk, drive, home="home", days=3)
    assert three.weekly_reach == 450 and three.adult_days == 450 + 250
    assert three.days_by_point.to_dict() == {"pA": 1, "pB": 1, "pC": 2, "pD": 2}


def _instance(seed: int, roads: bool = False) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Random stops; with ``roads``, driving minutes that are not distances: one-way and
    detoured legs, some pairs joined by no direct road (inf), and fractional adults."""
    rng = np.random.default_rng(seed)
    ids = ["home", *[f"s{i}" for i in range(5)]]
    xy = rng.uniform(0, 30, (len(ids), 2))
    minutes = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 2
    if roads:
        minutes = minutes * rng.uniform(1.0, 3.0, minutes.shape)
        minutes[rng.random(minutes.shape) < 0.2] = np.inf
        np.fill_diagonal(minutes, 0.0)
    drive = pd.DataFrame(minutes, index=ids, columns=ids)
    points = [f"p{i}" for i in range(9)]
    adults = rng.uniform(10, 200, len(points)) if roads else rng.integers(10, 200, len(points))
    demand = pd.Series(adults.astype(float), index=points)
    walk = pd.DataFrame([(p, s, float(rng.uniform(1, 25))) for p in points for s in ids[1:]
                         if rng.random() < 0.4], columns=["origin_id", "dest_id", "cost"])
    return demand, walk, drive


def _brute_force(demand: pd.Series, walk: pd.DataFrame, drive: pd.DataFrame, days: int,
                 day_minutes: float, stop_minutes: float) -> tuple[float, float]:
    """Every route (each set of stops in its best order, by trying every order, each leg
    the quickest way through the road graph by networkx's Dijkstra, driving past stops),
    then every week of at most ``days`` routes: the most adults reached, then adult-days."""
    import networkx as nx

    graph = nx.DiGraph()
    for a in drive.index:
        for b in drive.columns:
            if a != b and np.isfinite(drive.loc[a, b]):
                graph.add_edge(a, b, weight=float(drive.loc[a, b]))
    legs = dict(nx.all_pairs_dijkstra_path_length(graph))

    def leg(a: str, b: str) -> float:
        return 0.0 if a == b else legs.get(a, {}).get(b, np.inf)

    stops = [s for s in drive.index if s != "home"]
    routes = []
    for k in range(1, len(stops) + 1):
        for subset in itertools.combinations(stops, k):
            tour = min(sum(leg(a, b) for a, b in itertools.pairwise(
                ("home", *order, "home"))) for order in itertools.permutations(subset))
            if tour + k * stop_minutes <= day_minutes:
                routes.append(set(subset))
    near = walk[walk["cost"] <= 15]
    reaches = np.array([demand.index.isin(near.loc[near["dest_id"].isin(r), "origin_id"])
                        for r in routes], dtype=int).reshape(len(routes), len(demand))
    adults = demand.to_numpy(float)
    best = (0.0, 0.0)
    for n in range(days + 1):
        for week in itertools.combinations_with_replacement(range(len(routes)), n):
            count = reaches[list(week)].sum(axis=0)
            best = max(best, (float(adults[count > 0].sum()), float(adults @ count)))
    return best


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), days=st.integers(1, 3), hours=st.sampled_from([4.0, 6.0]),
       roads=st.booleans())
def test_the_week_equals_brute_force(seed: int, days: int, hours: float, roads: bool) -> None:
    demand, walk, drive = _instance(seed, roads)
    week = plan_van(demand, walk, drive, home="home", days=days, day_hours=hours,
                    hours_per_stop=1.0)
    reach, adult_days = _brute_force(demand, walk, drive, days, hours * 60, 60.0)
    if reach == 0 and not len(week.schedule):
        return  # (a plan that serves nobody: nothing to compare)
    assert week.proven_optimal
    assert week.weekly_reach == pytest.approx(reach)
    assert week.adult_days == pytest.approx(adult_days)
    # every day of the schedule fits: its stops, the drive between and home again
    for _, day in week.schedule.groupby("day"):
        day = day.sort_values("order")
        assert day["depart_min"].iloc[-1] <= hours * 60 + 1e-6
        if not roads:  # straight legs: each is the table's own minutes
            back = drive.loc[day["stop_id"].iloc[-1], "home"]
            assert day["depart_min"].iloc[-1] + back <= hours * 60 + 1e-6
            legs = [drive.loc[a, b] for a, b in itertools.pairwise(["home", *day["stop_id"]])]
            assert day["drive_min"].tolist() == pytest.approx(legs)
    assert week.schedule["day"].max() <= days if len(week.schedule) else True


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"days": 8}, "1 to 7 days"), ({"day_hours": 0}, "day_hours = 0"),
    ({"days": 2.5}, "whole number"),
    ({"home": "X"}, "home 'X' is not in the drive table"),
    ({"max_stops_per_day": 9}, "max_stops_per_day"),
])
def test_bad_van_inputs_are_named(kwargs: dict, match: str) -> None:
    demand, walk, drive = _two_clusters()
    with pytest.raises(OptimizerInputError, match=match):
        plan_van(demand, walk, drive, **{"home": "home", **kwargs})


def test_a_day_too_short_for_any_stop_is_said() -> None:
    from optimizer import PlanInfeasibleError

    demand, walk, drive = _two_clusters()
    with pytest.raises(PlanInfeasibleError, match="no stop fits in a day of 2 hours"):
        plan_van(demand, walk, drive, home="home", day_hours=2, hours_per_stop=2)


def test_adult_days_break_ties_exactly_with_fractional_adults() -> None:
    """Two stops reach the same 100.5 adults; one also reaches a point of 0.25 adults on
    its own: the weekly reach is the same either way only if both run, so one day must
    go to the stop that adds the 0.25 (reach), the other to the busier one (adult-days)."""
    ids = ["home", "A", "B"]
    drive = pd.DataFrame([[0, 10, 10], [10, 0, 500], [10, 500, 0]], index=ids, columns=ids,
                         dtype=float)
    demand = pd.Series({"p": 100.5, "q": 0.25, "r": 99.75})
    walk = pd.DataFrame({"origin_id": ["p", "q", "p", "r"], "dest_id": ["A", "A", "B", "B"],
                         "cost": 5.0})
    week = plan_van(demand, walk, drive, home="home", days=3, day_hours=3, hours_per_stop=2)
    assert week.weekly_reach == pytest.approx(200.5)
    # A reaches 100.75, B 200.25: the third day goes to B
    assert week.adult_days == pytest.approx(100.75 + 2 * 200.25)
