"""A bank's history and observations from a known truth that is NOT sitesim's model: a
per-community Poisson count process with saturating channel effects and community random
effects (the acceptance of issue 18 asks for data sitesim's own model did not produce).

    new_customers[c, w] ~ Poisson(exp(u_c) x adults_c x (base + sum_ch lift_ch x
                                  (1 - exp(-spend[c, ch, w] / (adults_c x scale_ch)))))

u_c ~ Normal(-sd^2 / 2, sd) (mean effect 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Truth:
    base: float = 2e-4  # a week's organic adoption per adult
    lift: dict[str, float] = field(default_factory=lambda: {"social_media": 4e-4})
    scale: dict[str, float] = field(default_factory=lambda: {"social_media": 0.01})
    effect_sd: float = 0.3

    def rate(self, adults: np.ndarray, spend: dict[str, np.ndarray]) -> np.ndarray:
        """Expected new customers per community (rows) and week (columns), without the
        community effects; ``spend[channel]`` communities x weeks."""
        out = np.full(next(iter(spend.values())).shape, self.base) * adults[:, None]
        for channel, lift in self.lift.items():
            x = spend[channel] / (adults[:, None] * self.scale[channel])
            out += lift * adults[:, None] * -np.expm1(-x)
        return out


def spend_plan(communities: pd.Index, weeks: int, *, per_adult_week: float,
               adults: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Spend on social media in every second community (chosen at random), with a pause
    in weeks 7 to 9, per adult and week."""
    rng = np.random.default_rng(seed)
    on = rng.permutation(len(communities)) % 2 == 0
    spend = np.outer(on * adults * per_adult_week, np.ones(weeks))
    spend[:, 6:9] = 0.0
    return {"social_media": spend}


def generate(communities: pd.Index, adults: np.ndarray, truth: Truth,
             spend: dict[str, np.ndarray], seed: int
             ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(history, observed, the expected counts with the community effects)."""
    rng = np.random.default_rng(seed)
    u = rng.normal(-truth.effect_sd ** 2 / 2, truth.effect_sd, len(communities))
    expected = truth.rate(adults, spend) * np.exp(u)[:, None]
    counts = rng.poisson(expected)
    weeks = expected.shape[1]
    ids = np.repeat(communities.astype(str).to_numpy(), weeks)
    week = np.tile(np.arange(1, weeks + 1), len(communities))
    observed = pd.DataFrame({"week": week, "community_id": ids,
                             "new_customers": counts.ravel()})
    rows = [pd.DataFrame({"week": week, "community_id": ids, "channel": channel,
                          "spend": s.ravel()}) for channel, s in spend.items()]
    history = pd.concat(rows, ignore_index=True)
    return history[history["spend"] > 0], observed, expected
