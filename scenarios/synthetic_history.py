"""A bank's history and observations from a known truth that is NOT sitesim's model, so
that every user can try calibration and pilots on data whose answer is known
(``sitesim area synth --history-weeks N``; docs/calibration.md), and the tests can check
sitesim against a process it did not produce (issue 18's acceptance).

The truth is a per-community Poisson count process with saturating channel effects,
community random effects and an optional season common to every community:

    new_customers[c, w] ~ Poisson(exp(u_c) x s_w x adults_c x (base + sum_ch lift_ch x
                                  (1 - exp(-spend[c, ch, w] / (adults_c x scale_ch)))))

with u_c ~ Normal(-sd^2 / 2, sd) (mean effect 1) and s_w = 1 + season x sin(2 pi (w - 1)
/ 52). Its figures are assumptions chosen to be of the sample city's order (a few new
customers a community and week), not estimates of any bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

__all__ = ["Synthetic", "Truth", "generate", "spend_plan", "write_synthetic_history"]


def _lift() -> dict[str, float]:
    return {"social_media": 4e-4, "sms": 1.5e-4}


def _scale() -> dict[str, float]:
    return {"social_media": 0.01, "sms": 0.004}


@dataclass(frozen=True)
class Truth:
    """The generator's parameters (per adult and week; ``scale``: spend per adult and
    week for 63% of a channel's ``lift``)."""

    base: float = 2e-4
    lift: dict[str, float] = field(default_factory=_lift)
    scale: dict[str, float] = field(default_factory=_scale)
    effect_sd: float = 0.3
    season: float = 0.0

    def rate(self, adults: np.ndarray, spend: dict[str, np.ndarray]) -> np.ndarray:
        """Expected new customers per community (rows) and week (columns), without the
        community effects; ``spend[channel]`` communities x weeks (a channel the truth
        has no lift for brings nothing)."""
        weeks = next(iter(spend.values())).shape[1]
        season = 1 + self.season * np.sin(2 * np.pi * np.arange(weeks) / 52)
        out = np.full((adults.size, weeks), self.base)
        for channel, s in spend.items():
            x = s / (adults[:, None] * self.scale.get(channel, 1.0))
            out += self.lift.get(channel, 0.0) * -np.expm1(-x)
        return out * adults[:, None] * season[None, :]


@dataclass(frozen=True)
class Synthetic:
    """What the generator made: the bank's two files, the expected counts (communities x
    weeks, with the community effects) and the community effects exp(u_c)."""

    history: pd.DataFrame
    observed: pd.DataFrame
    expected: np.ndarray
    effects: pd.Series


def spend_plan(communities: pd.Index, weeks: int, *, per_adult_week: float,
               adults: np.ndarray, seed: int, channels: tuple[str, ...] = ("social_media",)
               ) -> dict[str, np.ndarray]:
    """Each channel spent in half of the communities (drawn at random, each channel its
    own half), ``per_adult_week`` per adult and week, with a pause in weeks 7 to 9."""
    rng = np.random.default_rng(seed)
    out = {}
    for channel in channels:
        on = rng.permutation(len(communities)) % 2 == 0
        spend = np.outer(on * adults * per_adult_week, np.ones(weeks))
        spend[:, 6:9] = 0.0
        out[channel] = spend
    return out


def generate(communities: pd.Index, adults: np.ndarray, truth: Truth,
             spend: dict[str, np.ndarray], seed: int) -> Synthetic:
    """Draw the community effects and the counts (the history lists the weeks with
    spend)."""
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
    history = history[history["spend"] > 0].sort_values(
        ["week", "community_id", "channel"]).reset_index(drop=True)
    return Synthetic(history, observed, expected,
                     pd.Series(np.exp(u), index=communities.astype(str), name="effect"))


#: The synthetic history's spend per adult and week in the communities a channel runs in.
PER_ADULT_WEEK = 0.02


def write_synthetic_history(folder: str | Path, communities: pd.Index, adults: np.ndarray,
                            *, weeks: int, seed: int, truth: Truth | None = None
                            ) -> dict[str, Path]:
    """Write ``history.csv``, ``observed.csv``, ``expected.csv`` (the truth's expected
    new customers by week and community) and ``truth.toml`` (its parameters and each
    community's effect) into ``folder``."""
    truth = truth or Truth()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spend = spend_plan(communities, weeks, per_adult_week=PER_ADULT_WEEK, adults=adults,
                       seed=seed, channels=tuple(truth.lift))
    made = generate(communities, adults, truth, spend, seed)
    paths = {name: folder / f"{name}.csv" for name in ("history", "observed", "expected")}
    made.history.to_csv(paths["history"], index=False)
    made.observed.to_csv(paths["observed"], index=False)
    # the observed rows run community by community, week by week, as expected.ravel()
    expected = made.observed[["week", "community_id"]].assign(
        expected_new_customers=made.expected.ravel().round(4))
    expected.to_csv(paths["expected"], index=False)
    body = {"about": "the known truth of sitesim's synthetic bank history "
                     "(scenarios/synthetic_history.py; not sitesim's model)",
            "weeks": weeks, "seed": seed, "per_adult_week": PER_ADULT_WEEK,
            "base": truth.base, "lift": truth.lift, "scale": truth.scale,
            "effect_sd": truth.effect_sd, "season": truth.season,
            "expected_new_customers": round(float(made.expected.sum()), 2),
            "community_effects": {str(k): round(float(v), 4)
                                  for k, v in made.effects.items()}}
    paths["truth"] = folder / "truth.toml"
    paths["truth"].write_text(tomli_w.dumps(body))
    return paths
