"""CommunityMarketModel: determinism, common random numbers, campaigns, bad parameters."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest

from simulation import (
    STAGES,
    Campaign,
    CommunityMarketModel,
    SimulationError,
    SimulationParams,
)

CAMPAIGNS = (Campaign("social_media", 60_000, (1, 12), ("18-35",)),
             Campaign("community_event", 30_000, (5, 20), ("56+",)))


def run(inputs: pd.DataFrame, seed: int, **options) -> CommunityMarketModel:
    params = SimulationParams(weeks=26, campaigns=CAMPAIGNS, **options)
    return CommunityMarketModel(inputs, params, seed=seed).run()


def test_same_seed_same_frames_other_seed_differs(small_inputs: pd.DataFrame) -> None:
    a, b, c = run(small_inputs, 1), run(small_inputs, 1), run(small_inputs, 2)
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.channel_series(), b.channel_series())
    assert not a.timeseries().equals(c.timeseries())


def test_population_keeps_the_counts(small_inputs: pd.DataFrame) -> None:
    model = CommunityMarketModel(small_inputs, SimulationParams(weeks=1), seed=0)
    r = model.residents
    adults = small_inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1)
    assert len(r) == adults.sum() and r.scale == 1.0
    per_comm = np.bincount(r.community, minlength=len(small_inputs))
    assert (per_comm == adults.to_numpy()).all()
    assert (np.bincount(r.age[r.community == 0], minlength=3)
            == small_inputs.iloc[0][["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy()
            ).all()
    scaled = CommunityMarketModel(small_inputs, SimulationParams(weeks=1, max_agents=5_000),
                                  seed=0).residents
    assert len(scaled) == 5_000 and scaled.agent_scale == pytest.approx(adults.sum() / 5_000)


def test_stage_counts_add_up_every_week(small_inputs: pd.DataFrame) -> None:
    model = run(small_inputs, 4)
    ts = model.timeseries()
    adults = small_inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum().sum()
    totals = ts.groupby("week")[list(STAGES)].sum().sum(axis=1)
    assert np.allclose(totals, adults)
    assert ts["week"].max() == 26 and set(ts["segment"]) == {
        f"{a}/{t}" for a in ("18-35", "36-55", "56+") for t in ("low", "middle", "high")}
    reporters = model.datacollector.get_model_vars_dataframe()
    assert len(reporters) == 27  # week 0 and 26 steps


def test_counterfactual_uses_the_same_random_numbers(small_inputs: pd.DataFrame) -> None:
    # with no campaign at all, the campaign run and its counterfactual are identical
    quiet = SimulationParams(weeks=20)
    a = CommunityMarketModel(small_inputs, quiet, seed=9).run()
    b = CommunityMarketModel(small_inputs, quiet, seed=9, counterfactual=True).run()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    # a campaign adds customers on top of the same organic draws
    with_c = run(small_inputs, 9)
    without = CommunityMarketModel(small_inputs, SimulationParams(weeks=26, campaigns=CAMPAIGNS),
                                   seed=9, counterfactual=True).run()
    assert with_c.timeseries()["new_customers"].sum() > without.timeseries()[
        "new_customers"].sum()
    spend = with_c.channel_series()["spend"].sum()
    assert spend == pytest.approx(90_000)
    assert without.channel_series()["spend"].sum() == 0


def test_targeting_reaches_only_the_segment(small_inputs: pd.DataFrame) -> None:
    params = SimulationParams(weeks=4, campaigns=(Campaign("sms", 50_000, (1, 4), ("56+",)),))
    model = CommunityMarketModel(small_inputs, params, seed=3).run()
    r = model.residents
    assert model.awareness[r.age != 2].max() == 0
    assert model.awareness[r.age == 2].max() > 0


def test_importing_the_model_keeps_the_start_method() -> None:
    assert multiprocessing.get_start_method(allow_none=True) in (None, "fork", "forkserver")


@pytest.mark.parametrize(("options", "message"), [
    ({"base_adoption": -0.1}, "base_adoption = -0.1: expected a value >= 0"),
    ({"awareness_decay": 1.5}, r"awareness_decay = 1.5: expected a share"),
    ({"campaigns": (Campaign("sms", 10, (50, 60)),)},
     r"campaigns\[0\].weeks = \[50, 60\]: week 60 is after the last week of the run \(52\)"),
    ({"campaigns": (Campaign("tv", 10),)}, r"campaigns\[0\].channel = 'tv': unknown channel"),
    ({"campaigns": (Campaign("sms", 10, segments=("teens",)),)},
     r"campaigns\[0\].segments: unknown segment\(s\) \['teens'\]"),
])
def test_bad_parameters_name_the_field(options: dict, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        SimulationParams(**options)
