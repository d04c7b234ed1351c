"""A mobile van's days (simulation.openings.van_reach): on its share of the week a
resident's access and the distance part of churn use the van's stop when it is nearer.
A van there no day changes nothing; a van there every day is an outlet at its stop."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from simulation import Campaign, CommunityMarketModel, SimulationError, SimulationParams
from simulation.replications import run_replications

PARAMS = SimulationParams(weeks=26, campaigns=(
    Campaign("outlet_promo", 20_000, (1, 26)), Campaign("social_media", 8_000, (3, 20))))


def _with_van(inputs: pd.DataFrame, share: float) -> pd.DataFrame:
    """A van stop 3 minutes from the first four communities, there ``share`` of the week;
    none in reach of the others."""
    near = np.isin(np.arange(len(inputs)), range(4))
    return inputs.assign(van_min=np.where(near, 3.0, np.inf), van_share=share)


def _series(inputs: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    return CommunityMarketModel(inputs, PARAMS, seed=seed).run().timeseries()


def test_a_van_there_no_day_changes_nothing(small_inputs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(_series(_with_van(small_inputs, 0.0)),
                                  _series(small_inputs))


def test_a_van_there_every_day_is_an_outlet_at_its_stop(small_inputs: pd.DataFrame) -> None:
    stop = small_inputs.copy()
    stop.loc[stop.index[:4], "outlet_min"] = np.minimum(stop["outlet_min"].iloc[:4], 3.0)
    pd.testing.assert_frame_equal(_series(_with_van(small_inputs, 1.0)), _series(stop))


def test_more_van_days_win_and_keep_more_where_it_stops(small_inputs: pd.DataFrame) -> None:
    """8 paired replications, from no day to 2 days to 7 days a week: the customers lost
    in the van's communities fall (each step by more than 3 SE) and the new customers
    won there are never fewer (within 3 SE)."""
    near = set(small_inputs.index[:4])
    totals = []
    for share in (0.0, 2 / 7, 1.0):
        run = run_replications(_with_van(small_inputs, share), PARAMS, replications=8,
                               seed=17)
        ts = run.timeseries[run.timeseries["community_id"].isin(near)]
        totals.append(ts.groupby("replication")[["new_customers", "churned"]].sum()
                      .to_numpy())
    for fewer, more in itertools.pairwise(totals):
        gain = more - fewer
        se = gain.std(axis=0, ddof=1) / np.sqrt(len(gain))
        assert gain[:, 0].mean() > -3 * se[0]
        assert gain[:, 1].mean() < -3 * se[1]


def test_van_columns_are_checked(small_inputs: pd.DataFrame) -> None:
    with pytest.raises(SimulationError, match="give both"):
        CommunityMarketModel(small_inputs.assign(van_min=3.0), PARAMS, seed=1)
    with pytest.raises(SimulationError, match="shares in"):
        CommunityMarketModel(_with_van(small_inputs, 1.5), PARAMS, seed=1)
