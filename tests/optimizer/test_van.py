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
    """Home between a west pair of stops (A, B) and an east pair (C, D): 30 minutes'
    drive to either pair, 10 within a pair, 200 across (too far to serve both in a day).
    Each stop has its own 100 adults in reach (D's 150)."""
    ids = ["home", "A", "B", "C", "D"]
    drive = pd.DataFrame(
        [[0, 30, 30, 30, 30], [30, 0, 10, 200, 200], [30, 10, 0, 200, 200],
         [30, 200, 200, 0, 10], [30, 200, 200, 10, 0]], index=ids, columns=ids, dtype=float)
    demand = pd.Series({"pA": 100.0, "pB": 100.0, "pC": 100.0, "pD": 150.0})
    walk = pd.DataFrame({"origin_id": ["pA", "pB", "pC", "pD"],
                         "dest_id": ["A", "B", "C", "D"], "cost": 5.0})
    return demand, walk, drive


def test_two_days_serve_both_clusters() -> None:
    demand, walk, drive = _two_clusters()
    # a day of 8 hours: two stops of 2 hours and 70 minutes' drive fit, a third does not
    week = plan_van(demand, walk, drive, home="home", days=2, day_hours=8, hours_per_stop=2)
    assert week.proven_optimal and week.weekly_reach == 450 and week.adult_days == 450
    days = week.schedule.groupby("day")["stop_id"].agg(lambda s: "".join(sorted(s)))
    assert sorted(days) == ["AB", "CD"]
    assert days[1] == "CD"  # the day that reaches more adults comes first
    first = week.schedule[week.schedule["day"] == 1].sort_values("order")
    assert first["arrive_min"].tolist() == [30.0, 160.0]
    assert first["depart_min"].tolist() == [150.0, 280.0]
    # one day: the east pair (250 adults); three days: the third repeats the east pair
    assert plan_van(demand, walk, drive, home="home", days=1).weekly_reach == 250
    three = plan_van(demand, walk, drive, home="home", days=3)
    assert three.weekly_reach == 450 and three.adult_days == 450 + 250
    assert three.days_by_point.to_dict() == {"pA": 1, "pB": 1, "pC": 2, "pD": 2}


def _instance(seed: int) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = ["home", *[f"s{i}" for i in range(5)]]
    xy = rng.uniform(0, 30, (len(ids), 2))
    minutes = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 2
    drive = pd.DataFrame(minutes, index=ids, columns=ids)
    points = [f"p{i}" for i in range(9)]
    demand = pd.Series(rng.integers(10, 200, len(points)).astype(float), index=points)
    walk = pd.DataFrame([(p, s, float(rng.uniform(1, 25))) for p in points for s in ids[1:]
                         if rng.random() < 0.4], columns=["origin_id", "dest_id", "cost"])
    return demand, walk, drive


def _brute_force(demand: pd.Series, walk: pd.DataFrame, drive: pd.DataFrame, days: int,
                 day_minutes: float, stop_minutes: float) -> tuple[float, float]:
    """Every route (each set of stops in its best order, by trying every order), then
    every week of at most ``days`` routes: the most adults reached, then adult-days."""
    stops = [s for s in drive.index if s != "home"]
    routes = []
    for k in range(1, len(stops) + 1):
        for subset in itertools.combinations(stops, k):
            tour = min(sum(drive.loc[a, b] for a, b in itertools.pairwise(
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
@given(seed=st.integers(0, 10_000), days=st.integers(1, 3), hours=st.sampled_from([4.0, 6.0]))
def test_the_week_equals_brute_force(seed: int, days: int, hours: float) -> None:
    demand, walk, drive = _instance(seed)
    week = plan_van(demand, walk, drive, home="home", days=days, day_hours=hours,
                    hours_per_stop=1.0)
    reach, adult_days = _brute_force(demand, walk, drive, days, hours * 60, 60.0)
    assert week.proven_optimal
    assert week.weekly_reach == pytest.approx(reach)
    assert week.adult_days == pytest.approx(adult_days)
    # every day of the schedule fits: its stops, the drive between and home again
    for _, day in week.schedule.groupby("day"):
        day = day.sort_values("order")
        back = drive.loc[day["stop_id"].iloc[-1], "home"]
        assert day["depart_min"].iloc[-1] + back <= hours * 60 + 1e-6
        legs = [drive.loc[a, b] for a, b in itertools.pairwise(["home", *day["stop_id"]])]
        assert day["drive_min"].tolist() == pytest.approx(legs)
    assert week.schedule["day"].max() <= days if len(week.schedule) else True


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"days": 8}, "1 to 7 days"), ({"day_hours": 0}, "day_hours = 0"),
    ({"home": "X"}, "home 'X' is not in the drive table"),
    ({"max_stops_per_day": 9}, "max_stops_per_day"),
])
def test_bad_van_inputs_are_named(kwargs: dict, match: str) -> None:
    demand, walk, drive = _two_clusters()
    with pytest.raises(OptimizerInputError, match=match):
        plan_van(demand, walk, drive, **{"home": "home", **kwargs})
