"""community_inputs from a study area, and a run on the sample city."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from geo import load_area
from simulation import (
    Campaign,
    CommunityMarketModel,
    SimulationError,
    SimulationParams,
    community_inputs,
)
from simulation.population import COMMUNITY_INPUT_COLUMNS


def test_inputs_from_the_sample_city() -> None:
    area = load_area("builtin:sample-city")
    inputs = community_inputs(area)
    assert list(inputs.index) == list(area.communities.index)
    assert set(COMMUNITY_INPUT_COLUMNS) <= set(inputs.columns)
    own = set(area.outlets.index[area.outlets["owner"] == "own"])
    assert set(inputs["outlet"]) <= own
    assert (inputs["outlet_min"] > 0).all() and inputs["competitor_share"].between(0, 1).all()
    capacity = area.outlets.loc[list(own), "capacity_per_week"]
    params = SimulationParams(weeks=8, max_agents=20_000, campaigns=(
        Campaign("kol_live", 50_000, (1, 4), ("18-35",)),))
    model = CommunityMarketModel(inputs, params, capacity=capacity, seed=2).run()
    assert model.residents.scale == pytest.approx(350_000 / 20_000)
    ts = model.timeseries()
    assert np.isclose(ts[ts["week"] == 8][["prospect", "new", "active", "mature", "lapsed"]]
                      .to_numpy().sum(), 350_000)
    assert model.channel_series()["won_kol_live"].sum() > 0


def test_events_on_the_sample_city() -> None:
    from simulation import venue_inputs

    area = load_area("builtin:sample-city")
    venues = venue_inputs(area)
    assert list(venues.minutes.index) == list(area.communities.index)
    assert list(venues.minutes.columns) == list(area.venues.index)
    params = SimulationParams(weeks=6, max_agents=20_000, campaigns=(
        Campaign("community_event", 30_000, (1, 6), ("56+",)),))
    model = CommunityMarketModel(community_inputs(area), params, seed=3, venues=venues).run()
    series = model.channel_series()
    # 5,000 a week; what a week leaves is kept for the next, never more than that in all
    assert (series["spend"].cumsum() <= 5_000 * series["week"]).all()
    assert series["spend"].sum() > 30_000 - area.venues["cost_per_event"].max()
    assert (series["events"] > 0).all()
    assert (series["event_attendance"] > 0).all()


def test_an_area_without_own_outlets(make_pack, tmp_path: Path) -> None:
    from conftest import grid_layers

    outlets = grid_layers()["outlets"]
    outlets["owner"] = "competitor"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(make_pack(outlets=outlets))
    with pytest.raises(SimulationError, match="no own outlet"):
        community_inputs(area)
