"""Events at venues: capacity, attendance falling with walking time, staff, budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import Campaign, CommunityMarketModel, SimulationParams
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
    # exp(-minutes / 10): 0 -> 1, 5 -> 0.61, 25 -> 0.08 of the nearest community's rate
    assert rate[1] / rate[0] == pytest.approx(np.exp(-0.5), rel=0.15)
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
