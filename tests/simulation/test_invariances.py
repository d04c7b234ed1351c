"""Properties a correct resident model must have (docs/simulation.md, "Invariances").

Each holds exactly with common random numbers, or within the noise stated in the test.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from simulation import CHANNELS, Campaign, CommunityMarketModel, SimulationParams
from simulation.population import Venues
from simulation.replications import run_replications
from tests.simulation.cities import city

ADULTS = ["pop_18_35", "pop_36_55", "pop_56_plus"]
#: A spend per channel that moves the small city (24,000 adults) without saturating it.
SPEND = {"community_event": 12_000, "social_media": 6_000, "sms": 8_000,
         "merchant_alliance": 20_000, "referral_bonus": 20_000, "outlet_promo": 30_000,
         "kol_live": 6_000}


def _hall(inputs: pd.DataFrame) -> Venues:
    """Three venues 2 to 40 minutes' walk from the communities, 60 to 150 seats."""
    rng = np.random.default_rng(5)
    ids = ["V0", "V1", "V2"]
    minutes = pd.DataFrame(rng.uniform(2, 40, (len(inputs), 3)), index=inputs.index,
                           columns=ids)
    table = pd.DataFrame({"capacity": [60.0, 150.0, 90.0],
                          "cost_per_event": [300.0, 700.0, 450.0]}, index=ids)
    return Venues(table=table, minutes=minutes)


def _totals(model: CommunityMarketModel) -> dict[str, float]:
    ts, ch = model.timeseries(), model.channel_series()
    return {"new": float(ts["new_customers"].sum()), "churned": float(ts["churned"].sum()),
            "deposits": float(ts.loc[ts["week"] == ts["week"].max(), "deposits"].sum()),
            "spend": float(ch["spend"].sum()), "attendance": float(ch["event_attendance"].sum())}


@pytest.mark.parametrize("channel", [*CHANNELS, "community_event at venues"])
def test_a_campaign_split_into_n_is_the_same_campaign(small_inputs: pd.DataFrame,
                                                      channel: str) -> None:
    venues = _hall(small_inputs) if channel.endswith("venues") else None
    name = channel.split()[0]
    results = {}
    for n in (1, 5, 25):
        campaigns = tuple(Campaign(name, SPEND[name] / n, (3, 20), ("18-35", "56+"),
                                   tuple(small_inputs.index[:5])) for _ in range(n))
        params = SimulationParams(weeks=26, campaigns=campaigns)
        results[n] = _totals(CommunityMarketModel(small_inputs, params, seed=21,
                                                  venues=venues).run())
    cf = _totals(CommunityMarketModel(small_inputs, SimulationParams(weeks=26), seed=21,
                                      counterfactual=True).run())
    assert results[1]["new"] > cf["new"]  # the campaign does something
    for n in (5, 25):
        for key, value in results[1].items():
            assert results[n][key] == pytest.approx(value, rel=1e-9, abs=1e-6), (n, key)


def test_splitting_by_weeks_and_segments_keeps_the_intensity(small_inputs: pd.DataFrame
                                                             ) -> None:
    """Other splits with the same spend per targeted adult and week: by age band, and an
    overlapping pair that adds up to the whole."""
    whole = (Campaign("sms", 9_000, (1, 10)),)
    by_age = tuple(Campaign("sms", 9_000 * share, (1, 10), (band,)) for band, share in zip(
        ("18-35", "36-55", "56+"),
        small_inputs[ADULTS].sum().to_numpy() / small_inputs[ADULTS].to_numpy().sum(),
        strict=True))
    runs = [_totals(CommunityMarketModel(small_inputs, SimulationParams(weeks=20, campaigns=c),
                                         seed=4).run()) for c in (whole, by_age)]
    assert runs[1]["new"] == pytest.approx(runs[0]["new"], rel=0.002)
    assert runs[1]["spend"] == pytest.approx(runs[0]["spend"])


def test_zero_spend_is_exactly_the_counterfactual(small_inputs: pd.DataFrame) -> None:
    campaigns = tuple(Campaign(ch, 0.0, (1, 20), (), tuple(small_inputs.index[:3]))
                      for ch in CHANNELS)
    params = SimulationParams(weeks=20, campaigns=campaigns)
    venues = _hall(small_inputs)
    run = CommunityMarketModel(small_inputs, params, seed=8, venues=venues).run()
    cf = CommunityMarketModel(small_inputs, params, seed=8, venues=venues,
                              counterfactual=True).run()
    pd.testing.assert_frame_equal(run.timeseries(), cf.timeseries())
    assert run.channel_series()["spend"].sum() == 0


@pytest.mark.parametrize("channel", CHANNELS)
def test_more_spend_never_fewer_new_customers(small_inputs: pd.DataFrame,
                                              channel: str) -> None:
    """Expected uplift at 0, 1/4, 1 and 4 times a reference spend is non-decreasing:
    each step's paired difference over 6 replications is above -3 standard errors."""
    venues = _hall(small_inputs)
    uplift = []
    for level in (0.0, 0.25, 1.0, 4.0):
        params = SimulationParams(weeks=26, campaigns=(
            Campaign(channel, SPEND[channel] * level, (1, 20)),))
        result = run_replications(small_inputs, params, replications=6, seed=13,
                                  venues=venues)
        uplift.append(result.per_replication["uplift_new_customers"].to_numpy())
    assert (uplift[0] == 0).all()
    for low, high in itertools.pairwise(uplift):
        diff = high - low
        se = diff.std(ddof=1) / np.sqrt(diff.size)
        assert diff.mean() > -3 * se - 1e-9, (channel, [u.mean() for u in uplift])
    assert uplift[-1].mean() > uplift[1].mean()


def _tie_share_leaving(model: CommunityMarketModel, community: int) -> float:
    """The share of the tie weight of a community's residents that points elsewhere."""
    r = model.residents
    rows = np.flatnonzero(r.community == community)
    sub = r.ties[rows]
    outside = r.community[sub.indices] != community
    return float(sub.data[outside].sum() / sub.data.sum())


@pytest.mark.parametrize(("channel", "spend"), [("referral_bonus", 6_000), ("sms", 3_000)])
def test_a_campaign_aimed_at_one_community_stays_there(channel: str, spend: float) -> None:
    """The aimed community gains most per adult; the others together gain at most what
    the ties that leave it can carry: uplift outside <= uplift inside x c / (1 - c) x 1.5
    (c: the share of its residents' ties that leave it; 1.5 allows for second-order word
    of mouth), plus 4 standard errors of the paired difference."""
    inputs = city(16, 1500)
    aimed = 5
    params = SimulationParams(weeks=26, word_of_mouth=0.002, campaigns=(
        Campaign(channel, spend, (1, 20), (), (str(inputs.index[aimed]),)),))
    inside, outside, best = [], [], []
    leaving = 0.0
    for seed in range(8):
        run = CommunityMarketModel(inputs, params, seed=seed).run()
        cf = CommunityMarketModel(inputs, params, seed=seed, counterfactual=True).run()
        gain = (run.timeseries().groupby("community_id", sort=False)["new_customers"].sum()
                - cf.timeseries().groupby("community_id", sort=False)["new_customers"].sum())
        per_adult = gain / inputs[ADULTS].sum(axis=1)
        best.append(int(np.argmax(per_adult.to_numpy())))
        inside.append(float(gain.iloc[aimed]))
        outside.append(float(gain.drop(gain.index[aimed]).sum()))
        leaving = _tie_share_leaving(run, aimed)
    inside_a, outside_a = np.array(inside), np.array(outside)
    assert inside_a.mean() > 0 and best.count(aimed) >= 6, best
    bound = inside_a * leaving / (1 - leaving) * 1.5
    excess = outside_a - bound
    se = excess.std(ddof=1) / np.sqrt(excess.size)
    assert excess.mean() <= 4 * se, (channel, inside_a.mean(), outside_a.mean(), leaving)


def _per_adult(inputs: pd.DataFrame, params: SimulationParams, replications: int,
               seed: int) -> pd.DataFrame:
    result = run_replications(inputs, params, replications=replications, seed=seed)
    per = result.per_replication
    adults = float(inputs[ADULTS].to_numpy().sum())
    return pd.DataFrame({"uplift": per["uplift_new_customers"] / adults,
                         "organic": per["counterfactual_new_customers"] / adults,
                         "attrition": per["yearly_attrition"],
                         "deposits": per["uplift_deposits"] / adults})


def _same_mean(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Each column's means differ by less than 4 standard errors of the difference."""
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        assert abs(x.mean() - y.mean()) < 4 * se + 1e-12, (what, col, x.mean(), y.mean(), se)


CAMPAIGN_MIX = (Campaign("social_media", 30_000, (1, 20), ("18-35",)),
                Campaign("referral_bonus", 40_000, (5, 26)),
                Campaign("sms", 15_000, (10, 26), ("56+",)))


@pytest.mark.slow
def test_results_per_adult_do_not_depend_on_the_agent_count() -> None:
    inputs = city(40, 6000)  # 240,000 adults
    params = SimulationParams(weeks=26, campaigns=CAMPAIGN_MIX)
    few = _per_adult(inputs, dataclasses.replace(params, max_agents=50_000), 8, 1)
    many = _per_adult(inputs, dataclasses.replace(params, max_agents=200_000), 8, 2)
    _same_mean(few, many, "50,000 vs 200,000 agents")


def test_renaming_or_reordering_communities_changes_nothing(small_inputs: pd.DataFrame
                                                            ) -> None:
    aimed = tuple(small_inputs.index[:4])
    params = SimulationParams(weeks=26, campaigns=(
        *CAMPAIGN_MIX, Campaign("outlet_promo", 20_000, (1, 26), (), aimed)))
    base = _per_adult(small_inputs, params, 10, 3)
    renamed_ids = {c: f"renamed-{i:03d}" for i, c in enumerate(reversed(small_inputs.index))}
    moved = small_inputs.iloc[::-1].rename(index=renamed_ids)
    moved_params = dataclasses.replace(params, campaigns=(
        *CAMPAIGN_MIX, Campaign("outlet_promo", 20_000, (1, 26), (),
                                tuple(renamed_ids[c] for c in aimed))))
    _same_mean(base, _per_adult(moved, moved_params, 10, 4), "renamed and reordered")
