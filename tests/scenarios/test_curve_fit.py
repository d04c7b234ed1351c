"""Community response curves: recovered from a sweep made by the documented model, and
different where the simulation's communities differ (docs/scenarios.md, "Response
curves")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.response import curves_response
from scenarios._curve_fit import fit_curves
from scenarios.curves import simulate_curves
from simulation import SEGMENTS, SimulationParams
from tests.simulation.cities import city

LEVELS = np.array([0.25, 0.5, 1.0, 2.0, 4.0])


def _segment_shares(inputs: pd.DataFrame) -> dict[str, pd.Series]:
    """Each community's share of each segment's adults (age band x income tier)."""
    low, high = inputs["income_low_share"], inputs["income_high_share"]
    tiers = {"low": low, "middle": 1 - low - high, "high": high}
    bands = {"18-35": inputs["pop_18_35"], "36-55": inputs["pop_36_55"],
             "56+": inputs["pop_56_plus"]}
    out = {}
    for segment in SEGMENTS:
        band, tier = segment.split("/")
        adults = bands[band] * tiers[tier]
        out[segment] = adults / adults.sum()
    return out


def _city_curve(i: int, spend: float) -> float:
    """Segment i's city curve: rmax (1 - exp(-S / k))."""
    return (300.0 + 40 * i) * -np.expm1(-spend / (40_000.0 * (1 + i % 3)))


def _sweep_from_the_documented_model(inputs: pd.DataFrame, multiplier: pd.Series,
                                     reps: int, rng: np.random.Generator) -> pd.DataFrame:
    """A sweep written from the equations of docs/scenarios.md, not from the fit: a
    community's uplift at a city-wide spend S is m_c x (its share of the segment's
    adults) x the segment's city curve; Poisson counts."""
    rows = []
    for i, (segment, share) in enumerate(_segment_shares(inputs).items()):
        for spend in 20_000 * LEVELS:
            mean = multiplier * share * _city_curve(i, spend)
            for rep in range(reps):
                new = rng.poisson(mean.to_numpy())
                rows.append(pd.DataFrame({"community_id": inputs.index, "segment": segment,
                                          "new": new.astype(float), "deposits": 1_000.0 * new,
                                          "channel": "sms", "spend": spend,
                                          "replication": rep}))
    return pd.concat(rows, ignore_index=True)


def test_community_curves_recover_the_model_that_made_the_sweep() -> None:
    rng = np.random.default_rng(5)
    inputs = city(60, 3_000)
    z = (inputs["digital_adoption"] - inputs["digital_adoption"].mean()) / inputs[
        "digital_adoption"].std()
    truth = np.exp(0.3 * z - 0.2 * (inputs["competitor_share"] - 0.6) / 0.17)
    sweep = _sweep_from_the_documented_model(inputs, truth, reps=3, rng=rng)
    curves = fit_curves(sweep, inputs, margin=0.02, balance_base=5_000, reference=20_000)
    # each community's curve at the spend a city-wide campaign of 20,000 makes there
    adults = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1)
    spend = 20_000 * curves["community_id"].map(adults / adults.sum()).to_numpy()
    fitted = pd.Series(curves_response(curves, spend), index=curves.index).groupby(
        curves["community_id"]).sum()
    truth_curve = sum(truth * share * _city_curve(i, 20_000)
                      for i, share in enumerate(_segment_shares(inputs).values()))
    error = (fitted / truth_curve.reindex(fitted.index) - 1).abs()
    assert error.median() < 0.05 and error.max() < 0.15
    # the multipliers order the communities as the truth does
    m = curves.drop_duplicates("community_id").set_index("community_id")["multiplier"]
    assert np.corrcoef(np.log(m), np.log(truth.reindex(m.index)))[0, 1] > 0.95
    assert curves["community_r2"].iloc[0] > 0.5


def test_equal_communities_get_equal_multipliers() -> None:
    inputs = city(30, 2_000).assign(digital_adoption=0.8, competitor_share=0.5,
                                    outlet_min=10.0, median_income=30_000.0)
    sweep = _sweep_from_the_documented_model(inputs, pd.Series(1.0, index=inputs.index),
                                             reps=3, rng=np.random.default_rng(2))
    curves = fit_curves(sweep, inputs, margin=0.02, balance_base=5_000, reference=20_000)
    m = curves.drop_duplicates("community_id")["multiplier"]
    assert m.min() > 0.9 and m.max() < 1.1


@pytest.fixture(scope="module")
def two_communities() -> pd.DataFrame:
    """Two communities alike in everything but their residents' digital propensity."""
    inputs = city(2, 6_000).assign(median_income=30_000.0, outlet_min=12.0,
                                   competitor_share=0.6, outlet="O0")
    inputs["digital_adoption"] = [0.55, 0.95]
    return inputs


def test_digital_propensity_makes_the_digital_channels_respond_more(
        two_communities: pd.DataFrame, tmp_path: object) -> None:
    curves = simulate_curves(two_communities, SimulationParams(weeks=26, max_agents=12_000),
                             reference=30_000, channels=("social_media", "kol_live"),
                             seed=3)
    low, high = two_communities.index
    per_adult = 15_000 / 6_000  # the same spend per adult in each
    for channel in ("social_media", "kol_live"):
        c = curves[curves["channel"] == channel]
        won = {cid: float(curves_response(g, np.full(len(g), per_adult * 6_000)).sum())
               for cid, g in c.groupby("community_id")}
        assert won[high] > 1.3 * won[low], (channel, won)
        m = c.drop_duplicates("community_id").set_index("community_id")["multiplier"]
        assert m[high] > m[low]


def test_each_segment_keeps_its_retention_and_a_years_margin() -> None:
    # the campaign arms' churn set by hand: segment i loses 5% + 2% x i of its customers a
    # year; over 26 weeks that is half of it, so 100 held lose (0.05 + 0.02 i) x 50
    rng = np.random.default_rng(2)
    inputs = city(6, 3_000)
    sweep = _sweep_from_the_documented_model(inputs, pd.Series(1.0, index=inputs.index),
                                             reps=2, rng=rng)
    churn = {s: 0.05 + 0.02 * i for i, s in enumerate(SEGMENTS)}
    sweep["held"] = 100.0
    sweep["churned"] = sweep["segment"].map(churn) * 50.0
    curves = fit_curves(sweep, inputs, margin=0.02, balance_base=5_000, reference=20_000,
                        weeks=26)
    per = curves.drop_duplicates("segment").set_index("segment")
    for segment, rate in churn.items():
        if segment in per.index:
            assert per.loc[segment, "retention_year"] == pytest.approx(1 - rate)
    # a year's margin on 1,000 of deposits a new customer, at 2%
    assert np.allclose(curves["margin_per_customer"], 20.0)
    assert np.allclose(curves["value_per_customer"], 20.0)
    # a sweep without churn (a curves file's kind) has no retention to value it by
    assert "retention_year" not in fit_curves(sweep.drop(columns=["held", "churned"]), inputs,
                                              margin=0.02, balance_base=5_000,
                                              reference=20_000).columns
