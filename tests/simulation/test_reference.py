"""The vectorized model against the per-agent reference, statistically."""

from __future__ import annotations

import numpy as np
from scipy import stats

from simulation import Campaign, CommunityMarketModel, SimulationParams
from tests.simulation.cities import SMALL_CITY, city
from tests.simulation.reference import ReferenceModel

WEEKS = (13, 26, 52)


def test_vectorized_agrees_with_per_agent_reference() -> None:
    tiny_city = city(*SMALL_CITY)  # 3,000 residents, as in the speed benchmark
    params = SimulationParams(
        weeks=52, base_adoption=0.002, word_of_mouth=0.05, churn_base=0.004,
        campaigns=(Campaign("social_media", 5_000, (1, 12), ("18-35",)),
                   Campaign("referral_bonus", 3_000, (10, 30))))
    reps = 10
    fast = np.array([_cumulative(CommunityMarketModel(tiny_city, params, seed=s).run())
                     for s in range(reps)])
    slow = []
    for s in range(reps):
        ref = ReferenceModel(tiny_city, params, seed=500 + s)
        for _ in range(params.weeks):
            ref.step()
        slow.append(np.concatenate([np.cumsum(ref.new_customers), np.cumsum(ref.churned)]))
    slow_arr = np.array(slow)
    for week in WEEKS:
        for what, offset in (("new customers", 0), ("churned", 52)):
            a, b = fast[:, offset + week - 1], slow_arr[:, offset + week - 1]
            # the difference of the means lies within its 95% interval (Welch)
            diff = a.mean() - b.mean()
            se = np.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
            dof = se**4 / ((a.var(ddof=1) / reps) ** 2 / (reps - 1)
                           + (b.var(ddof=1) / reps) ** 2 / (reps - 1))
            half = stats.t.ppf(0.975, dof) * se
            assert abs(diff) <= half, (f"{what} at week {week}: vectorized {a.mean():.1f}, "
                                       f"reference {b.mean():.1f}, 95% half-width {half:.1f}")
        assert fast[:, week - 1].mean() > 0


def _cumulative(model: CommunityMarketModel) -> np.ndarray:
    ts = model.timeseries().groupby("week")[["new_customers", "churned"]].sum()
    return np.concatenate([ts["new_customers"].cumsum().to_numpy(),
                           ts["churned"].cumsum().to_numpy()])
