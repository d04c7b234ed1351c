"""Event planning against hand-solved instances and brute force with an independent LP."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import optimizer.events as events_module
from optimizer import (
    EVENT_TYPES,
    EventType,
    OptimizerInputError,
    PlanInfeasibleError,
    event_attendance,
    plan_events,
)


def two_towns(capacity: float = 200.0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A: 5,000 adults aged 56+, next to V1; B: 5,000 aged 18-35, next to V2; each venue
    out of the other town's reach."""
    communities = pd.DataFrame({"pop_18_35": [0.0, 5000.0], "pop_36_55": [0.0, 0.0],
                                "pop_56_plus": [5000.0, 0.0]}, index=["A", "B"])
    venues = pd.DataFrame({"capacity": [capacity, 200.0], "cost_per_event": [500.0, 100.0]},
                          index=["V1", "V2"])
    travel = pd.DataFrame({"origin_id": ["A", "B", "A", "B"], "dest_id": ["V1", "V2", "V2", "V1"],
                           "cost": [0.0, 0.0, 60.0, 60.0]})
    return venues, communities, travel


def test_hand_solved_one_event() -> None:
    venues, communities, travel = two_towns()
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=4)
    # anti-fraud draws 0.01 x 1.5 x 5000 = 75 in A (56+), 0.01 x 0.3 x 5000 = 15 in B
    assert plan.schedule[["venue_id", "event_type"]].values.tolist() == [["V1", "anti_fraud"]]
    assert plan.attendance == pytest.approx(75.0)
    assert plan.proven_optimal and plan.gap == 0.0
    assert plan.cost == 500 + EVENT_TYPES["anti_fraud"].cost
    # a parent-child day draws the young town instead: 0.01 x 0.7 x 5000 = 35 > 0.01 x 0.3
    plan = plan_events(venues, communities, travel, events={"parent_child": 1}, weeks=4)
    assert plan.schedule["venue_id"].tolist() == ["V2"]
    assert plan.attendance == pytest.approx(35.0)
    # capacity caps a full house: V1 holds 10, so V2's 15 wins
    venues, communities, travel = two_towns(capacity=10.0)
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=4)
    assert plan.schedule["venue_id"].tolist() == ["V2"] and plan.attendance == pytest.approx(15)
    venues, communities, travel = two_towns(capacity=50.0)
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=4)
    assert plan.schedule["venue_id"].tolist() == ["V1"] and plan.attendance == pytest.approx(50)
    assert "venue capacity (1 of 1 events full)" in plan.binding


def test_repeats_decay_and_one_event_per_venue_a_week() -> None:
    venues, communities, travel = two_towns()
    # two sessions: V1 twice draws 75 + 37.5 (repeat decay 0.5) > V1 + V2 = 90
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 2}, weeks=2)
    assert sorted(plan.schedule["venue_id"]) == ["V1", "V1"]
    assert sorted(plan.schedule["week"]) == [1, 2]
    assert plan.attendance == pytest.approx(112.5)
    # a single week allows one event per venue: V1 and V2
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 2}, weeks=1)
    assert sorted(plan.schedule["venue_id"]) == ["V1", "V2"]
    assert plan.attendance == pytest.approx(90.0)
    # without repeat loss, V1 twice is worth 150
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 2}, weeks=2,
                       repeat_decay=1.0)
    assert plan.attendance == pytest.approx(150.0)


def test_low_income_boost_and_walk_decay() -> None:
    communities = pd.DataFrame({"pop_18_35": [100.0], "pop_36_55": [0.0], "pop_56_plus": [0.0],
                                "income_low_share": [0.5]}, index=["A"])
    travel = pd.DataFrame({"origin_id": ["A", "A"], "dest_id": ["V1", "V2"],
                           "cost": [10.0, 40.0]})
    draws = event_attendance(communities, travel, {"financial_literacy":
                                                   EVENT_TYPES["financial_literacy"]})
    # 0.01 x 1.0 x (1 + 1.0 x 0.5) x 100 x exp(-10 / 10); V2 is beyond 30 minutes
    assert draws["venue_id"].tolist() == ["V1"]
    assert draws["draw"].iloc[0] == pytest.approx(0.01 * 1.5 * 100 * math.exp(-1))


def _independent_value(events_held: list[tuple[str, str]], venues: pd.DataFrame,
                       draws: pd.DataFrame, decay: float) -> float:
    """Attendance of a fixed set of events, by an LP written from the definition: y[c, v, t]
    <= draw x times held, sum over c <= capacity x times held, and per (c, t) at most
    best x (1 + d + ... + d^(n-1)), best being c's draw at its best venue within reach and
    n the events of type t held within reach."""
    n_vt: dict[tuple[str, str], int] = {}
    for v, t in events_held:
        n_vt[v, t] = n_vt.get((v, t), 0) + 1
    rows = draws[[(v, t) in n_vt for v, t in zip(draws["venue_id"], draws["event_type"],
                                                strict=True)]].reset_index(drop=True)
    if rows.empty:
        return 0.0
    k = len(rows)
    a_ub, b_ub = [], []
    for (v, t), n in n_vt.items():
        mask = ((rows["venue_id"] == v) & (rows["event_type"] == t)).to_numpy()
        a_ub.append(mask.astype(float))
        b_ub.append(float(venues.loc[v, "capacity"]) * n)
    for (c, t), g in rows.groupby(["community_id", "event_type"]):
        n = sum(n_vt.get((v, t), 0) for v in draws.loc[(draws["community_id"] == c)
                                                       & (draws["event_type"] == t), "venue_id"])
        best = float(draws.loc[(draws["community_id"] == c) & (draws["event_type"] == t),
                               "draw"].max())
        row = np.zeros(k)
        row[g.index] = 1.0
        a_ub.append(row)
        b_ub.append(best * sum(decay ** i for i in range(n)))
    upper = [float(d) * n_vt[v, t] for d, v, t in zip(rows["draw"], rows["venue_id"],
                                                      rows["event_type"], strict=True)]
    res = linprog(-np.ones(k), A_ub=np.array(a_ub), b_ub=np.array(b_ub),
                  bounds=list(zip([0.0] * k, upper, strict=True)), method="highs")
    assert res.status == 0
    return float(-res.fun)


def small_instance(seed: int, weeks: int, n_events: int, with_staff: bool) -> dict:
    """A random instance small enough for brute force: 4 communities, 3 venues."""
    rng = np.random.default_rng(seed)
    n_c, n_v = 4, 3
    communities = pd.DataFrame(rng.integers(0, 500, size=(n_c, 3)).astype(float),
                               columns=["pop_18_35", "pop_36_55", "pop_56_plus"],
                               index=[f"c{i}" for i in range(n_c)])
    venues = pd.DataFrame({"capacity": rng.integers(5, 60, n_v).astype(float),
                           "cost_per_event": rng.integers(1, 5, n_v) * 100.0},
                          index=[f"v{i}" for i in range(n_v)])
    travel = pd.DataFrame([(c, v, float(rng.uniform(0, 40))) for c in communities.index
                           for v in venues.index], columns=["origin_id", "dest_id", "cost"])
    types = {"financial_literacy": EVENT_TYPES["financial_literacy"],
             "anti_fraud": EVENT_TYPES["anti_fraud"]}
    return {"venues": venues, "communities": communities, "travel": travel,
            "events": {"financial_literacy": n_events, "anti_fraud": 1}, "weeks": weeks,
            "budget": float(rng.integers(4, 12) * 100 + 300 * (n_events + 1)),
            "staff_per_week": 3.0 if with_staff else None, "event_types": types,
            "attendees_per_staff": 20}


def brute_force(case: dict) -> float | None:
    """The best attendance over every assignment of types to venue-weeks within the rules
    (None when none is allowed), each valued by :func:`_independent_value`."""
    venues, types, counts = case["venues"], case["event_types"], case["events"]
    weeks, budget, staff = case["weeks"], case["budget"], case["staff_per_week"]
    draws = event_attendance(case["communities"], case["travel"], types)
    draws = draws[draws["draw"] > 0].reset_index(drop=True)
    full = draws.groupby(["venue_id", "event_type"])["draw"].sum()
    per = case["attendees_per_staff"]
    staff_vt = {(v, t): types[t].staff + math.ceil(min(venues.loc[v, "capacity"],
                                                       full.get((v, t), 0.0)) / per - 1e-9)
                for v in venues.index for t in types}
    best = None
    slots = [(v, w) for v in venues.index for w in range(1, weeks + 1)]
    for choice in itertools.product([None, *types], repeat=len(slots)):
        held = [(v, w, t) for (v, w), t in zip(slots, choice, strict=True) if t is not None]
        if any(sum(t_ == t for *_, t_ in held) != n for t, n in counts.items()):
            continue
        cost = sum(venues.loc[v, "cost_per_event"] + types[t].cost for v, _, t in held)
        if cost > budget + 1e-9:
            continue
        if staff is not None and any(sum(staff_vt[v, t] for v, w_, t in held if w_ == w)
                                     > staff for w in range(1, weeks + 1)):
            continue
        value = _independent_value([(v, t) for v, _, t in held], venues, draws, 0.5)
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 2), st.integers(1, 3), st.booleans())
def test_equals_brute_force(seed: int, weeks: int, n_events: int, with_staff: bool) -> None:
    case = small_instance(seed, weeks, n_events, with_staff)
    try:
        plan = plan_events(**case)
    except PlanInfeasibleError:
        plan = None
    best = brute_force(case)
    if best is None:
        assert plan is None
        return
    assert plan is not None and plan.proven_optimal
    assert plan.attendance == pytest.approx(best, rel=1e-6, abs=1e-6)
    _assert_rules_hold(plan, case["events"], case["budget"], case["staff_per_week"])


def _assert_rules_hold(plan: events_module.EventPlan, counts: dict[str, int],
                       budget: float | None, staff: float | None) -> None:
    s = plan.schedule
    assert s.groupby("event_type").size().to_dict() == {t: n for t, n in counts.items() if n}
    assert not s.duplicated(["venue_id", "week"]).any()
    assert (s["attendance"] <= s["capacity"] + 1e-6).all()
    if budget is not None:
        assert s["cost"].sum() <= budget + 1e-6
    if staff is not None:
        assert (plan.staff_by_week <= staff).all()


def _random_city(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_c, n_v = 30, 12
    communities = pd.DataFrame(rng.integers(50, 2000, size=(n_c, 3)).astype(float),
                               columns=["pop_18_35", "pop_36_55", "pop_56_plus"],
                               index=[f"c{i}" for i in range(n_c)])
    communities["income_low_share"] = rng.uniform(0, 0.5, n_c)
    venues = pd.DataFrame({"capacity": rng.integers(30, 150, n_v).astype(float),
                           "cost_per_event": rng.integers(3, 12, n_v) * 100.0},
                          index=[f"v{i}" for i in range(n_v)])
    cxy, vxy = rng.uniform(0, 3000, (n_c, 2)), rng.uniform(0, 3000, (n_v, 2))
    minutes = np.hypot(*(cxy[:, None, :] - vxy[None, :, :]).transpose(2, 0, 1)) / 80
    travel = pd.DataFrame([(c, v, float(minutes[i, j])) for i, c in enumerate(communities.index)
                           for j, v in enumerate(venues.index)],
                          columns=["origin_id", "dest_id", "cost"])
    return venues, communities, travel


def test_count_model_equals_weekly_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """When every week is alike the plan comes from counts laid out in weeks; the full
    weekly model (forced here) must reach the same attendance."""
    venues, communities, travel = _random_city(3)
    counts = {"financial_literacy": 5, "anti_fraud": 4, "parent_child": 2}
    fast = plan_events(venues, communities, travel, events=counts, weeks=6, budget=12_000,
                       staff_per_week=9)
    monkeypatch.setattr(events_module, "_alike_weeks", lambda *a, **k: [])
    weekly = plan_events(venues, communities, travel, events=counts, weeks=6, budget=12_000,
                         staff_per_week=9)
    assert fast.proven_optimal and weekly.proven_optimal
    assert fast.attendance == pytest.approx(weekly.attendance, rel=1e-6)
    for plan in (fast, weekly):
        _assert_rules_hold(plan, counts, 12_000, 9)
    # the layout spreads events: no week holds more than the staff allows, none is empty
    assert (fast.staff_by_week > 0).all()


def test_week_factor_and_unavailable_weeks() -> None:
    venues, communities, travel = two_towns()
    # week 1 is a holiday (half the draw) and V1 is closed in week 3: one event goes to
    # week 2 at V1; the second-best slot is V1 in week 1 (37.5 x repeat) vs V2
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=3,
                       week_factor={1: 0.5}, unavailable=[("V1", 3)])
    assert plan.schedule[["venue_id", "week"]].values.tolist() == [["V1", 2]]
    assert plan.attendance == pytest.approx(75.0)
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=3,
                       week_factor={1: 0.5, 2: 0.5}, unavailable=[("V1", 3)])
    assert plan.attendance == pytest.approx(37.5)


def test_infeasible_inputs_name_the_limit() -> None:
    venues, communities, travel = two_towns()
    with pytest.raises(PlanInfeasibleError, match=r"asks for 5 events but the venues offer "
                                                  r"only 4 venue-weeks"):
        plan_events(venues, communities, travel, events={"anti_fraud": 5}, weeks=2)
    # the cheapest: V2 in both weeks, 2 x (100 + 300)
    with pytest.raises(PlanInfeasibleError, match=r"events.budget = 700 is too small for 2 "
                                                  r"events: the cheapest venues need at least "
                                                  r"800"):
        plan_events(venues, communities, travel, events={"anti_fraud": 2}, weeks=2,
                    budget=700)
    with pytest.raises(PlanInfeasibleError, match=r"events.staff_per_week allows at most 2 "
                                                  r"events"):
        plan_events(venues, communities, travel, events={"anti_fraud": 3}, weeks=2,
                    staff_per_week=2)
    # 4 staff a week: an anti-fraud session at V1 needs 2 + 2 (75 people, one per 50),
    # at V2 2 + 1: one event a week, so four events in two weeks cannot be staffed
    with pytest.raises(PlanInfeasibleError, match=r"events.count.anti_fraud = 4 cannot all be "
                                                  r"held within .*events.staff_per_week = 4: "
                                                  r"at most 2 fit"):
        plan_events(venues, communities, travel, events={"anti_fraud": 4}, weeks=2,
                    staff_per_week=4)


def test_bad_inputs() -> None:
    venues, communities, travel = two_towns()
    with pytest.raises(OptimizerInputError, match="unknown event type"):
        plan_events(venues, communities, travel, events={"yoga": 1})
    with pytest.raises(OptimizerInputError, match=r"events.count.anti_fraud = -1"):
        plan_events(venues, communities, travel, events={"anti_fraud": -1})
    with pytest.raises(OptimizerInputError, match="capacity of 'V1'"):
        plan_events(venues.assign(capacity=["many", 3]), communities, travel,
                    events={"anti_fraud": 1})
    with pytest.raises(OptimizerInputError, match="lacks column"):
        plan_events(venues, communities.drop(columns="pop_56_plus"), travel,
                    events={"anti_fraud": 1})
    custom = {"talk": EventType((1.0, 1.0, 1.0), staff=1)}
    plan = plan_events(venues, communities, travel, events={"talk": 1}, event_types=custom)
    assert plan.schedule["event_type"].tolist() == ["talk"]
