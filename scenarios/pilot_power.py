"""What a pilot should show and what it can detect (``sitesim pilot design``;
docs/calibration.md, "Forecast and power"): the forecast from the model's runs with and
without the pilot, paired by seed, and the smallest detectable uplift from the readout's
own estimator on the runs without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scenarios.pilot_estimate import difference_in_differences

__all__ = ["ALPHA", "POWER", "forecast_pilot", "minimum_detectable", "pilot_power"]

#: A two-sided test at 5%, with 80% power.
ALPHA, POWER = 0.05, 0.80


def forecast_pilot(with_pilot: list[pd.DataFrame], without: list[pd.DataFrame], arm: pd.Series,
              start: int) -> dict[str, float]:
    """What the simulation expects the readout to show, paired by seed: the uplift in
    the treated communities (att), in the controls by word of mouth (spillover) and the
    difference in differences a readout would estimate."""
    treated, control = arm.index[arm == "treated"], arm.index[arm == "control"]
    att, spill, did, base = [], [], [], []
    for a, b in zip(with_pilot, without, strict=True):
        lift = (a.loc[a.index >= start] - b.loc[b.index >= start]).mean()
        att.append(lift[treated].mean())
        spill.append(lift[control].mean())
        did.append(difference_in_differences(a[arm.index], arm, start).estimate)
        base.append(b.loc[b.index >= start, treated].mean().mean())
    mean = float(np.mean(did))
    half = float(stats.t.ppf(0.975, len(did) - 1) * np.std(did, ddof=1) / np.sqrt(len(did)))
    return {"att": float(np.mean(att)), "spillover": float(np.mean(spill)), "did": mean,
            "low": mean - half, "high": mean + half, "without": float(np.mean(base)),
            "relative": mean / float(np.mean(base)) if np.mean(base) > 0 else 0.0}


def pilot_power(without: list[pd.DataFrame], arm: pd.Series, pre: int, weeks: int, scale: float,
           forecast: dict[str, float], effect: float | None, per: int
           ) -> tuple[dict[str, float], dict[str, Any]]:
    """The smallest detectable uplift, the power for the forecast, and the communities
    or weeks a wanted effect needs (see the module)."""
    placebo = [difference_in_differences(r[arm.index], arm, pre + 1) for r in without]
    se = float(np.sqrt(np.mean([u.se ** 2 for u in placebo]) / scale))
    dof = float(np.mean([u.dof for u in placebo]))
    n_t = int((arm == "treated").sum())
    power = minimum_detectable(se, dof, forecast["did"])
    base = forecast["without"]
    power["mde_relative"] = power["mde"] / base if base > 0 else float("nan")
    wanted = effect if effect is not None else forecast["did"] / base if base > 0 else 0.0
    needs: dict[str, Any] = {"effect_relative": wanted}
    target = wanted * base
    if target <= 0 or se <= 0:
        needs["note"] = ("no positive effect to size the pilot for" if target <= 0 else
                         "the model shows no noise in the readout: any uplift is seen")
        return power, needs
    # se falls as 1 / sqrt(communities) at a fixed ratio of controls to treated, and each
    # community's before/after change has weekly noise v (1 / pre + 1 / weeks) (weeks
    # taken as independent)
    ratio = (power["mde"] / target) ** 2
    needs["treated_communities"] = max(int(np.ceil(n_t * ratio)), 2)
    needs["control_communities"] = needs["treated_communities"] * per
    per_week = se ** 2 / (1 / pre + 1 / weeks)
    room = target ** 2 / (power["multiplier"] ** 2 * per_week) - 1 / pre
    if room > 0:
        needs["pilot_weeks"] = max(int(np.ceil(1 / room)), 1)
    else:
        needs["note"] = (f"more weeks alone cannot detect it with {pre} weeks before the "
                         "pilot: it needs more communities or a longer pre-period")
    return power, needs


def minimum_detectable(se: float, dof: float, effect: float) -> dict[str, float]:
    """The smallest uplift a two-sided test at ``ALPHA`` detects with ``POWER``,
    (t_(1 - alpha/2) + t_power) x se on ``dof`` degrees of freedom, and the power for
    ``effect`` (the far tail left out)."""
    critical = float(stats.t.ppf(1 - ALPHA / 2, dof))
    multiplier = critical + float(stats.t.ppf(POWER, dof))
    power_of = float(stats.t.sf(critical - abs(effect) / se, dof)) if se > 0 else 1.0
    return {"se": se, "dof": dof, "multiplier": multiplier, "mde": multiplier * se,
            "power_of_forecast": power_of, "alpha": ALPHA, "power": POWER}
