"""Outlets that open during a run (simulation.openings): the weeks before an opening are
those of a run without it, an opening that changes nothing changes nothing, and an
opening from the first week is a run with those outlets from the start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import (
    Campaign,
    CommunityMarketModel,
    SimulationError,
    SimulationParams,
    with_openings,
)
from simulation.replications import run_replications

PARAMS = SimulationParams(weeks=26, campaigns=(
    Campaign("outlet_promo", 20_000, (1, 26)), Campaign("social_media", 8_000, (3, 20))))


def _opened(inputs: pd.DataFrame) -> pd.DataFrame:
    """The first four communities with a new outlet O3 two minutes away, of 400 visits
    a week, and a little less of their custom going to competitors."""
    later = inputs.copy()
    near = later.index[:4]
    later.loc[near, "outlet_min"] = 2.0
    later.loc[near, "outlet"] = "O3"
    later.loc[near, "outlet_capacity"] = 400.0
    later.loc[near, "competitor_share"] *= 0.8
    return later


def _series(inputs: pd.DataFrame, seed: int = 5, **kwargs: object) -> pd.DataFrame:
    return CommunityMarketModel(inputs, PARAMS, seed=seed, **kwargs).run().timeseries()


def test_an_opening_that_changes_nothing_changes_nothing(small_inputs: pd.DataFrame) -> None:
    same = with_openings(small_inputs, [(14, small_inputs)])
    pd.testing.assert_frame_equal(_series(same), _series(small_inputs))


def test_an_opening_in_the_first_week_is_a_run_with_the_outlets_from_the_start(
        small_inputs: pd.DataFrame) -> None:
    later = _opened(small_inputs)
    pd.testing.assert_frame_equal(_series(with_openings(small_inputs, [(1, later)])),
                                  _series(later))


def test_the_weeks_before_an_opening_are_those_of_a_run_without_it(
        small_inputs: pd.DataFrame) -> None:
    without = _series(small_inputs)
    opened = _series(with_openings(small_inputs, [(14, _opened(small_inputs))]))
    before = without["week"] < 14
    pd.testing.assert_frame_equal(opened[before].reset_index(drop=True),
                                  without[before].reset_index(drop=True))
    assert not opened[~before].reset_index(drop=True).equals(
        without[~before].reset_index(drop=True))


def test_a_nearer_outlet_wins_and_keeps_more_customers_where_it_opens(
        small_inputs: pd.DataFrame) -> None:
    """Over 8 paired replications, the four communities the new outlet serves gain new
    customers and lose fewer (more than 3 standard errors); the uplift of the campaigns
    is paired with a counterfactual that has the same opening."""
    near = set(small_inputs.index[:4])
    result = {}
    for name, inputs in (("without", small_inputs),
                         ("with", with_openings(small_inputs, [(5, _opened(small_inputs))]))):
        run = run_replications(inputs, PARAMS, replications=8, seed=17)
        ts = run.timeseries[run.timeseries["community_id"].isin(near)]
        result[name] = ts.groupby("replication")[["new_customers", "churned"]].sum()
    gain = (result["with"] - result["without"]).to_numpy()
    se = gain.std(axis=0, ddof=1) / np.sqrt(len(gain))
    assert gain[:, 0].mean() > 3 * se[0]  # more new customers
    assert gain[:, 1].mean() < -3 * se[1]  # fewer leave


def test_openings_are_checked(small_inputs: pd.DataFrame) -> None:
    with pytest.raises(SimulationError, match="weeks start at 1"):
        with_openings(small_inputs, [(0, small_inputs)])
    with pytest.raises(SimulationError, match="other communities"):
        with_openings(small_inputs, [(3, small_inputs.iloc[:5])])
    with pytest.raises(SimulationError, match="after the run's 26 weeks"):
        CommunityMarketModel(with_openings(small_inputs, [(30, small_inputs)]), PARAMS, seed=1)
    with pytest.raises(SimulationError, match="outlet_min@14"):
        CommunityMarketModel(small_inputs.assign(**{"outlet@x": "O1"}), PARAMS, seed=1)
    partial = with_openings(small_inputs, [(9, small_inputs)]).drop(columns="outlet@9")
    with pytest.raises(SimulationError, match="outlet@9"):
        CommunityMarketModel(partial, PARAMS, seed=1)
    # a capacity table without the outlet that opens is refused, by name
    capacity = pd.Series({"O1": 500.0, "O2": 500.0})
    with pytest.raises(SimulationError, match="O3"):
        CommunityMarketModel(with_openings(small_inputs, [(9, _opened(small_inputs))]),
                             PARAMS, seed=1, capacity=capacity)
