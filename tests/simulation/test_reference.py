"""The vectorized model against the per-agent reference (tests/simulation/reference.py,
written from docs/simulation.md alone), statistically: the two share the residents, not
the random numbers.

Each statistic's difference of means must lie within its 99.5% Welch interval; with about
a dozen statistics that keeps the chance of a false alarm for a correct model near 5%
(and the seeds are fixed, so the test is deterministic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from simulation import Campaign, CommunityMarketModel, ScheduledEvent, SimulationParams
from simulation.population import Venues
from tests.simulation.cities import SMALL_CITY, city
from tests.simulation.reference import ReferenceModel

REPLICATIONS = 10


def _agree(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    for col in fast.columns:
        a, b = fast[col].to_numpy(float), slow[col].to_numpy(float)
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = np.sqrt(va + vb)
        if se == 0:
            assert a.mean() == b.mean(), col
            continue
        dof = se**4 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        half = stats.t.ppf(0.9975, dof) * se
        assert abs(a.mean() - b.mean()) <= half, (
            f"{col}: vectorized {a.mean():.1f}, reference {b.mean():.1f}, 99.5% half-width "
            f"{half:.1f}")


def _fast_row(model: CommunityMarketModel, aimed: str | None) -> dict[str, float]:
    ts = model.timeseries()
    weekly = ts.groupby("week")[["new_customers", "churned"]].sum().cumsum()
    ch = model.channel_series()
    row = {f"new by week {w}": float(weekly.loc[w, "new_customers"]) for w in (13, 26, 52)
           if w in weekly.index}
    last = int(weekly.index.max())
    row["churned"] = float(weekly.loc[last, "churned"])
    row["won by referral"] = float(ch["won_referral_bonus"].sum())
    row["spend"] = float(ch["spend"].sum())
    row["event attendance"] = float(ch["event_attendance"].sum())
    row["stayed"] = float(model.stayed.sum() * model.residents.scale)
    if aimed is not None:
        row["new outside the aimed community"] = float(
            ts.loc[ts["community_id"] != aimed, "new_customers"].sum())
    return row


def _slow_row(model: ReferenceModel, aimed: str | None) -> dict[str, float]:
    new = np.cumsum(model.new_customers)
    row = {f"new by week {w}": float(new[w - 1]) for w in (13, 26, 52) if w <= len(new)}
    row["churned"] = float(np.sum(model.churned))
    row["won by referral"] = float(sum(w["referral_bonus"] for w in model.won))
    row["spend"] = float(np.sum(model.spend))
    row["event attendance"] = float(np.sum(model.event_attendance))
    row["stayed"] = float(model.stayed)
    if aimed is not None:
        row["new outside the aimed community"] = float(sum(
            v for week in model.new_by_community for c, v in week.items() if c != aimed))
    return row


def _compare(inputs: pd.DataFrame, params: SimulationParams, *, venues: Venues | None = None,
             aimed: str | None = None) -> None:
    fast = pd.DataFrame([_fast_row(CommunityMarketModel(inputs, params, seed=s,
                                                        venues=venues).run(), aimed)
                         for s in range(REPLICATIONS)])
    slow = pd.DataFrame([_slow_row(ReferenceModel(inputs, params, seed=500 + s,
                                                  venues=venues).run(), aimed)
                         for s in range(REPLICATIONS)])
    assert fast["new by week 13"].mean() > 0
    _agree(fast, slow)


def test_campaigns_and_a_referral_scheme_agree_with_the_reference() -> None:
    """Social media for the young, an SMS campaign written as five, and a referral scheme
    aimed at one community: the referral defect of the old model (its boost applied to
    every resident of the city, once per campaign) shows as new customers outside the
    aimed community and in the referral credit."""
    tiny_city = city(*SMALL_CITY)  # 3,000 residents, as in the speed benchmark
    aimed = str(tiny_city.index[0])
    params = SimulationParams(
        weeks=52, base_adoption=0.002, word_of_mouth=0.05, churn_base=0.004,
        campaigns=(Campaign("social_media", 500, (1, 12), ("18-35",)),
                   *[Campaign("sms", 400, (5, 40), ("56+",)) for _ in range(5)],
                   Campaign("referral_bonus", 1_500, (10, 30), (), (aimed,))))
    _compare(tiny_city, params, aimed=aimed)


def test_events_at_venues_agree_with_the_reference() -> None:
    """community_event campaigns (two with one target, pooling their money) and planned
    events, on three venues with room for fewer than would come."""
    inputs = city(4, 600)
    ids = ["V0", "V1", "V2"]
    minutes = pd.DataFrame([[2.0, 12.0, 25.0], [8.0, 3.0, 20.0], [15.0, 9.0, 4.0],
                            [28.0, 18.0, 6.0]], index=inputs.index, columns=ids)
    venues = Venues(table=pd.DataFrame({"capacity": [30.0, 20.0, 40.0],
                                        "cost_per_event": [300.0, 200.0, 500.0]}, index=ids),
                    minutes=minutes)
    planned = (ScheduledEvent(2, "V1", "anti_fraud", (0.3, 0.7, 1.5), 0.3, 0.03, 600.0, 2),
               ScheduledEvent(6, "V1", "anti_fraud", (0.3, 0.7, 1.5), 0.3, 0.03, 600.0, 2),
               ScheduledEvent(6, "V2", "financial_literacy", (1.0, 0.8, 0.7), 1.0, 0.03,
                              700.0, 2))
    params = SimulationParams(
        weeks=13, base_adoption=0.002, word_of_mouth=0.05, event_attend_rate=0.05,
        events=planned,
        campaigns=(Campaign("community_event", 2_400, (1, 8), ("56+",)),
                   Campaign("community_event", 1_200, (5, 8), ("56+",)),
                   Campaign("community_event", 1_000, (3, 12), ("18-35",),
                            (str(inputs.index[2]), str(inputs.index[3])))))
    _compare(inputs, params, venues=venues)
