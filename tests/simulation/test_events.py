"""Events at venues: capacity, attendance falling with walking time, staff, budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import (
    Campaign,
    CommunityMarketModel,
    ScheduledEvent,
    SimulationError,
    SimulationParams,
)
from simulation.population import Venues
from tests.simulation.cities import city


def venues(minutes: list[list[float]], capacity: list[float], cost: list[float],
           communities: pd.Index) -> Venues:
    ids = [f"V{i}" for i in range(len(capacity))]
    return Venues(table=pd.DataFrame({"capacity": capacity, "cost_per_event": cost},
                                     index=ids),
                  minutes=pd.DataFrame(minutes, index=communities, columns=ids))


def test_attendance_falls_with_walking_time_and_never_exceeds_capacity() -> None:
    inputs = city(3, 3000)  # communities 0, 5 and 25 minutes from the one venue
    hall = venues([[0.0], [5.0], [25.0]], [10_000], [500.0], inputs.index)
    params = SimulationParams(weeks=4, event_attend_rate=0.2, campaigns=(
        Campaign("community_event", 2_000, (1, 4)),))
    model = CommunityMarketModel(inputs, params, seed=1, venues=hall).run()
    r = model.residents
    went = model.last_channel == 0  # community_event is channel 0
    rate = np.bincount(r.community[went], minlength=3) / np.bincount(r.community)
    assert rate[0] > rate[1] > rate[2] > 0
    # each week a resident of age band b, m minutes away, comes with probability
    # 0.2 x affinity[b] x exp(-m / 10); over 4 weeks: 1 - (1 - that)^4
    affinity = np.array(params.channels["community_event"].affinity)[r.age]
    weekly_p = 0.2 * affinity * np.exp(-np.array([0.0, 5.0, 25.0]) / 10)[r.community]
    expected = np.bincount(r.community, weights=1 - (1 - weekly_p) ** 4) / np.bincount(
        r.community)
    se = np.sqrt(expected * (1 - expected) / np.bincount(r.community))
    assert (np.abs(rate - expected) < 4 * se).all(), (rate, expected)
    weekly = model.channel_series()
    assert (weekly["events"] == 1).all() and (weekly["spend"] == 500).all()

    small = venues([[0.0], [5.0], [25.0]], [40], [500.0], inputs.index)
    capped = CommunityMarketModel(inputs, params, seed=1, venues=small).run()
    series = capped.channel_series()
    assert (series["event_attendance"] <= 40).all() and series["event_attendance"].max() > 30
    # staff: 2 per event and one per 50 attendees (rounded up)
    assert (series["event_staff"] == 2 + np.ceil(series["event_attendance"] / 50)).all()


def test_venues_are_chosen_within_the_budget_and_reach() -> None:
    inputs = city(2, 2000)
    three = venues([[2.0, 40.0, 8.0], [3.0, 45.0, 6.0]], [500, 500, 500],
                   [900.0, 100.0, 900.0], inputs.index)
    params = SimulationParams(weeks=2, campaigns=(Campaign("community_event", 3_600, (1, 2)),))
    series = CommunityMarketModel(inputs, params, seed=4, venues=three).run().channel_series()
    # 1,800 a week buys the two nearest venues; V1 is beyond a 30-minute walk for all
    assert (series["events"] == 2).all() and (series["spend"] == 1_800).all()


def scheduled(week: int, venue: str, kind: str) -> ScheduledEvent:
    from geo.assumptions import EVENT_TYPES

    t = EVENT_TYPES[kind]
    return ScheduledEvent(week, venue, kind, t.affinity, t.low_income_boost, t.attend_rate,
                          cost=700.0 + t.cost, staff=t.staff)


def test_planned_events_draw_what_the_planner_expects() -> None:
    """The planner's attendance (optimizer.events.event_attendance, with its repeat rule:
    a second event of a type draws repeat_decay times the first) against the mean of the
    simulated attendance: an anti-fraud session twice at V0, a financial-literacy session
    at V1, a parent-child day at V0 in the same week as the second anti-fraud session."""
    from geo.assumptions import EVENT_TYPES
    from optimizer import event_attendance

    inputs = city(4, 6000)
    inputs["pop_56_plus"] = [1000, 2500, 3000, 4000]  # unequal ages: affinities matter
    inputs["income_low_share"] = [0.1, 0.3, 0.5, 0.2]
    minutes = [[0.0, 20.0], [4.0, 9.0], [12.0, 3.0], [35.0, 6.0]]
    hall = venues(minutes, [100_000, 100_000], [700.0, 700.0], inputs.index)
    plan = (scheduled(1, "V0", "anti_fraud"), scheduled(3, "V1", "financial_literacy"),
            scheduled(5, "V0", "anti_fraud"), scheduled(5, "V0", "parent_child"))
    params = SimulationParams(weeks=6, events=plan)
    travel = hall.minutes.stack().rename("cost").rename_axis(["origin_id", "dest_id"])
    draw = event_attendance(inputs, travel.reset_index(), EVENT_TYPES).set_index(
        ["venue_id", "event_type"])["draw"].groupby(level=[0, 1]).sum()
    d = params.event_repeat_decay
    expected = {1: draw["V0", "anti_fraud"], 3: draw["V1", "financial_literacy"],
                5: d * draw["V0", "anti_fraud"] + draw["V0", "parent_child"]}
    runs = [CommunityMarketModel(inputs, params, seed=s, venues=hall).run().channel_series()
            .set_index("week") for s in range(12)]
    attendance = pd.concat([r["event_attendance"] for r in runs], axis=1)
    for week, want in expected.items():
        got = attendance.loc[week]
        se = got.std(ddof=1) / np.sqrt(len(got))
        assert abs(got.mean() - want) < 4 * se + 0.02 * want, (week, got.mean(), want)
    assert (attendance.loc[[2, 4, 6]] == 0).all().all()
    series = runs[0]
    assert series.loc[5, "events"] == 2 and series.loc[5, "spend"] == 700 * 2 + 300 + 600
    # staff: each event's own (2 and 3) and one per 50 of its attendees (rounded up, per
    # event: the two events of week 5 need one or two more than their total would)
    extra = series.loc[5, "event_staff"] - (2 + 3) - np.ceil(series.loc[5, "event_attendance"]
                                                              / 50)
    assert extra in (0, 1)
    # the counterfactual holds none, with the same random numbers
    cf = CommunityMarketModel(inputs, params, seed=0, venues=hall,
                              counterfactual=True).run().channel_series()
    assert (cf["events"] == 0).all() and (cf["spend"] == 0).all()


def test_planned_events_need_known_venues() -> None:
    inputs = city(2, 1000)
    hall = venues([[0.0], [5.0]], [500], [700.0], inputs.index)
    params = SimulationParams(weeks=2, events=(scheduled(1, "V9", "anti_fraud"),))
    with pytest.raises(SimulationError, match=r"venue\(s\) \['V9'\]"):
        CommunityMarketModel(inputs, params, seed=1, venues=hall)
    with pytest.raises(SimulationError, match="give the model venues"):
        CommunityMarketModel(inputs, params, seed=1)
    with pytest.raises(SimulationError, match=r"week in 1\.\.2"):
        SimulationParams(weeks=2, events=(scheduled(3, "V0", "anti_fraud"),))


def test_event_money_too_small_for_a_week_is_kept_for_later() -> None:
    inputs = city(2, 2000)
    hall = venues([[2.0], [3.0]], [500], [1_000.0], inputs.index)
    # 400 a week, 1,000 an event: held when the money kept reaches 1,000 (weeks 3, 5, 8)
    params = SimulationParams(weeks=9, campaigns=(Campaign("community_event", 3_600, (1, 9)),))
    series = CommunityMarketModel(inputs, params, seed=2, venues=hall).run().channel_series()
    assert series["events"].tolist() == [0, 0, 1, 0, 1, 0, 0, 1, 0]
    assert series["spend"].sum() == 3_000  # 600 left, too little for a fourth
