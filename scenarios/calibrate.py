"""``sitesim calibrate``: the model's parameters fitted to the bank's own history
(docs/calibration.md).

The bank's spend (history) becomes the campaigns it ran: each run of weeks with the same
spend in one community and channel is one campaign there. The scenario's area, with its
current outlets, gives the residents. :func:`simulation.fit_parameters` fits the
parameters of :func:`default_parameters` on the first weeks; the last ``holdout`` weeks
are then forecast by the fitted model and compared with what was observed, per
community and in total. Community effects (how far each community's adoption stands
from the fitted model's, shrunk towards 1 by empirical Bayes, gamma-Poisson moments as in
Clayton and Kaldor 1987, Biometrics 43:671) are fitted on the same weeks and kept for
the forecasts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from scenarios import plans
from scenarios._fit_size import MIN_FITTED_WEEKS, ROUNDS
from scenarios._models import Calibration, Scenario
from scenarios.bank_data import read_bank
from scenarios.calibration_file import (
    PRIOR_SD,
    CalibrationFile,
    HeldOut,
    calibrated_params,
    with_community_effects,
    write_calibration,
)
from scenarios.pilot_estimate import Lift, read_lift
from simulation import (
    Campaign,
    Moments,
    Parameter,
    SimulationParams,
    Venues,
    fit_parameters,
    full_scale,
    replication_params,
    replication_seeds,
    simulated_counts,
    with_values,
)

__all__ = ["calibrate", "campaigns_from_history", "community_effects", "default_parameters",
           "forecast_history"]

#: Runs for the community effects (the model's own spread of each community's total).
EFFECT_RUNS = 8
#: Runs for the held-out weeks' forecast (one parameter draw and seed each).
HOLDOUT_RUNS = 24


def campaigns_from_history(history: pd.DataFrame, weeks: int) -> list[Campaign]:
    """One campaign per run of consecutive weeks with the same spend in a community and
    channel, up to ``weeks`` (a campaign spreads its spend evenly over its weeks, so the
    weekly spend is the history's exactly)."""
    rows = history[(history["week"] <= weeks) & (history["spend"] > 0)]
    out = []
    for (channel, community), group in rows.groupby(["channel", "community_id"], sort=True):
        week = group["week"].to_numpy(int)
        spend = group["spend"].to_numpy(float)
        breaks = np.flatnonzero((np.diff(week) != 1) | (np.diff(spend) != 0)) + 1
        for part_weeks, part_spend in zip(np.split(week, breaks), np.split(spend, breaks),
                                          strict=True):
            out.append(Campaign(str(channel), float(part_spend.sum()),
                                (int(part_weeks[0]), int(part_weeks[-1])),
                                communities=(str(community),)))
    return out


def default_parameters(params: SimulationParams, channels: list[str],
                       churn: bool) -> list[Parameter]:
    """What a history can inform: organic adoption and word of mouth, each spent
    channel's adoption effect (``awareness_gain``) and its spend for 63% reach
    (``spend_per_resident``), and the base churn where churn was observed."""
    out = [Parameter("base_adoption", params.base_adoption, PRIOR_SD, upper=1.0),
           Parameter("word_of_mouth", params.word_of_mouth, PRIOR_SD)]
    for channel in channels:
        spec = params.channels[channel]
        out.append(Parameter(f"channels.{channel}.awareness_gain", spec.awareness_gain,
                             PRIOR_SD, upper=1.0))
        out.append(Parameter(f"channels.{channel}.spend_per_resident",
                             spec.spend_per_resident, PRIOR_SD))
    if churn:
        out.append(Parameter("churn_base", params.churn_base, PRIOR_SD, upper=1.0))
    return out


def community_effects(observed: pd.Series, runs: np.ndarray, *,
                      agent_scale: float = 1.0) -> pd.Series:
    """Each community's adoption relative to the model's (``runs``: the model's totals
    per community, one run per row), shrunk towards 1: u = 1 + B (y / mu - 1), with
    B = tau^2 / (tau^2 + v / mu^2), v the count's own variance and tau^2 the variance
    between communities beyond it (moments; 0: no effects). v is the model's variance
    of the total over ``agent_scale`` (the residents an agent stands for: an agent's
    adoption moves the count by that many, so the model's variance exceeds a bank's by
    that factor), and at least Poisson (mu)."""
    mu = np.maximum(runs.mean(axis=0), 1e-9)
    own = np.maximum(runs.var(axis=0, ddof=1) / agent_scale, mu)
    y = observed.to_numpy(float)
    tau2 = max(float(((y - mu) ** 2 - own).sum() / (mu ** 2).sum()), 0.0)
    shrink = tau2 / (tau2 + own / mu ** 2)
    return pd.Series(np.maximum(1 + shrink * (y / mu - 1), 0.05), index=observed.index,
                     name="adoption_effect")


@dataclass(frozen=True)
class _Setup:
    inputs: pd.DataFrame
    params: SimulationParams
    venues: Venues | None
    history: pd.DataFrame
    observed: pd.DataFrame
    columns: list[str]


def _setup(sc: Scenario, history_path: Path, observed_path: Path,
           progress: Callable[[str], None], last_week: int | None = None) -> _Setup:
    # the scenario's own [calibration] is not read: it may be the file being written
    prep = plans.prepare(sc.model_copy(update={"calibration": Calibration()}),
                         progress=progress)
    history, observed = read_bank(history_path, observed_path, prep.area.communities.index,
                                  last_week=last_week)
    weeks = int(observed["week"].max())
    # from the defaults: a calibration the scenario already names is not the prior
    inputs = plans.simulation_inputs(prep, plans.open_outlets(prep, None), calibrated=False)
    params = plans.simulation_params(sc, calibrated=False, weeks=weeks,
                                     campaigns=tuple(campaigns_from_history(history, weeks)))
    columns = ["new_customers", *(["churned"] if "churned" in observed else [])]
    return _Setup(inputs, params, plans.event_venues(prep), history, observed, columns)


def calibrate(sc: Scenario, history_path: str | Path, observed_path: str | Path, *,
              holdout: int | None = None, out: str | Path | None = None,
              lifts: Sequence[str | Path] = (), last_week: int | None = None,
              rounds: int = ROUNDS, progress: Callable[[str], None] = lambda _: None
              ) -> CalibrationFile:
    """Fit, check on the held-out weeks (default: the last quarter, at least 4 weeks;
    0: none) and, with ``out``, write the calibration file; ``lifts``: pilot readouts
    (``sitesim pilot readout``) fitted as further measurements; ``last_week``: the
    weeks after it are left out of both files (as if it were that week now);
    ``rounds``: the fit's most rounds (the file says whether they settled)."""
    setup = _setup(sc, Path(history_path), Path(observed_path), progress, last_week)
    weeks = setup.params.weeks
    held = max(weeks // 4, 4) if holdout is None else holdout
    if held < 0 or weeks - held < MIN_FITTED_WEEKS:
        raise InputError(f"{observed_path}: {weeks} observed week(s) with {held} held out "
                         f"leave fewer than {MIN_FITTED_WEEKS} weeks to fit; give more weeks "
                         "of observations or a smaller --holdout-weeks")
    fitted_weeks = (1, weeks - held)
    spent = sorted(set(setup.history.loc[(setup.history["spend"] > 0)
                                         & (setup.history["week"] <= weeks - held),
                                         "channel"]))
    parameters = default_parameters(setup.params, spent, "churned" in setup.columns)
    progress(f"calibration: {len(parameters)} parameters on weeks {fitted_weeks[0]} to "
             f"{fitted_weeks[1]}, {len(setup.params.campaigns)} campaigns from the history")
    measured = [read_lift(p) for p in lifts]
    fit = fit_parameters(setup.inputs, setup.params, setup.observed, parameters,
                         weeks=fitted_weeks, columns=setup.columns, seed=sc.seed,
                         venues=setup.venues, progress=progress, rounds=rounds,
                         extra=_lift_moments(measured, setup.inputs, fitted_weeks))
    estimated = with_values(setup.params, fit.estimate)
    seeds = replication_seeds(sc.seed + 1, EFFECT_RUNS)
    runs = np.array([_community_totals(setup.inputs, estimated, s, fitted_weeks, setup.venues)
                     for s in seeds])
    observed_totals = fit.observed["new_customers"].iloc[:len(setup.inputs)]
    observed_totals.index = setup.inputs.index
    effects = community_effects(
        observed_totals, runs,
        agent_scale=max(_adults(setup.inputs) / setup.params.max_agents, 1.0))
    result = CalibrationFile.from_fit(fit, parameters, effects, None, scenario=sc.name,
                                      weeks=fitted_weeks,
                                      files={"history": str(history_path),
                                             "observed": str(observed_path)},
                                      spend=_spend_range(setup, fitted_weeks[1]),
                                      lifts=[{"file": m.path, "observed": m.estimate,
                                              "se": m.se, "fitted": float(v)}
                                             for m, v in zip(measured, fit.extra_fitted,
                                                             strict=True)])
    if held:
        progress(f"calibration: forecasting the {held} held-out weeks")
        drawn = _drawn(setup.params, result, HOLDOUT_RUNS, sc.seed)
        result = dataclasses.replace(result, held_out=_held_out(
            setup, drawn, effects, (weeks - held + 1, weeks), sc.seed))
    if out is not None:
        write_calibration(result, out)
    return result


def _held_out(setup: _Setup, params: SimulationParams, effects: pd.Series,
              weeks: tuple[int, int], seed: int) -> HeldOut:
    """The fitted model's forecast of the held-out weeks against what was observed: one
    run per parameter draw of ``params``, each with a seed of its own."""
    inputs = setup.inputs.assign(adoption_effect=effects)
    rows = setup.observed[(setup.observed["week"] >= weeks[0])
                          & (setup.observed["week"] <= weeks[1])]
    observed = rows.groupby("community_id")["new_customers"].sum().reindex(
        inputs.index, fill_value=0.0)
    return HeldOut.from_runs(weeks, observed, _forecast_runs(inputs, params, setup.venues,
                                                             weeks, seed))


def _lift_moments(lifts: list[Lift], inputs: pd.DataFrame, weeks: tuple[int, int]
                  ) -> Moments | None:
    """The pilots' readouts as further measurements of the fit: each the same
    difference in differences of the model's weekly new customers."""
    if not lifts:
        return None
    for lift in lifts:
        unknown = sorted(set(lift.treated + lift.control) - set(map(str, inputs.index)))
        if unknown:
            raise InputError(f"{lift.path} (lift): {len(unknown)} of its communities are "
                             f"not the area's ({', '.join(unknown[:3])}); give a readout "
                             "of a pilot in this area")
        if not (weeks[0] <= lift.pre_weeks[0] and lift.pilot_weeks[1] <= weeks[1]):
            raise InputError(f"{lift.path} (lift): weeks {lift.pre_weeks[0]} to "
                             f"{lift.pilot_weeks[1]} are not all fitted (weeks {weeks[0]} "
                             f"to {weeks[1]}); give fewer --holdout-weeks, or a history "
                             "and observations that cover the pilot")
    adults = _adults_by_community(inputs)

    def of(weekly: pd.DataFrame) -> np.ndarray:
        return np.array([lift.of(weekly, adults) for lift in lifts])

    return Moments(of, np.array([lift.estimate for lift in lifts]),
                   np.array([lift.se for lift in lifts]))


def _spend_range(setup: _Setup, last: int) -> dict[str, float]:
    """The most the history spent on each channel per adult of a community in a week,
    up to week ``last``."""
    adults = _adults_by_community(setup.inputs)
    rows = setup.history[setup.history["week"] <= last]
    per = rows["spend"] / adults.reindex(rows["community_id"]).clip(lower=1.0).to_numpy()
    return {str(k): float(v) for k, v in per.groupby(rows["channel"]).max().items()}


def _adults_by_community(inputs: pd.DataFrame) -> pd.Series:
    adults = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1).astype(float)
    return adults.set_axis(adults.index.map(str))


def _adults(inputs: pd.DataFrame) -> float:
    return float(_adults_by_community(inputs).sum())


def _drawn(params: SimulationParams, calibration: CalibrationFile, runs: int,
           seed: int) -> SimulationParams:
    """``params`` at the calibration with ``runs`` draws: the fitted parameters' and, for
    channels it did not fit, their prior's (as a calibrated scenario's runs draw)."""
    drawn = calibrated_params(params, calibration, fixed=False, replications=runs,
                              seed=seed)
    return dataclasses.replace(drawn, draws=drawn.draws[:runs])


def _forecast_runs(inputs: pd.DataFrame, params: SimulationParams, venues: Venues | None,
                   weeks: tuple[int, int], seed: int) -> np.ndarray:
    """New customers per community over ``weeks``, one run per parameter draw, one agent
    per adult (:func:`simulation.full_scale`: the interval is then a bank's noise and
    the parameters' uncertainty, not the agents' granularity)."""
    seeds = replication_seeds(seed + 2, len(params.draws))
    params = full_scale(params, _adults(inputs))
    return np.array([_community_totals(inputs, replication_params(params, i), s, weeks, venues)
                     for i, s in enumerate(seeds)])


def forecast_history(sc: Scenario, calibration: CalibrationFile, history: pd.DataFrame,
                     weeks: tuple[int, int], *, observed: pd.Series | None = None,
                     runs: int = HOLDOUT_RUNS) -> HeldOut:
    """What the calibrated model forecasts for ``weeks`` of a spend ``history`` (rows as
    the history file's, from week 1: the weeks before ``weeks`` give the customers the
    forecast starts from), one run per parameter draw of the calibration, against
    ``observed`` (new customers per community; 0 where not given)."""
    prep = plans.prepare(sc.model_copy(update={"calibration": Calibration()}))
    inputs = with_community_effects(
        plans.simulation_inputs(prep, plans.open_outlets(prep, None), calibrated=False),
        calibration)
    params = plans.simulation_params(
        sc, calibrated=False, weeks=weeks[1],
        campaigns=tuple(campaigns_from_history(history, weeks[1])))
    params = _drawn(params, calibration, runs, sc.seed)
    seen = (pd.Series(0.0, index=inputs.index) if observed is None
            else observed.reindex(inputs.index, fill_value=0.0))
    return HeldOut.from_runs(weeks, seen, _forecast_runs(inputs, params,
                                                         plans.event_venues(prep), weeks,
                                                         sc.seed))


def _community_totals(inputs: pd.DataFrame, params: SimulationParams, seed: int,
                      weeks: tuple[int, int], venues: Venues | None) -> np.ndarray:
    """One run's new customers per community over ``weeks`` (the first rows of
    :func:`simulation.simulated_counts`)."""
    counts = simulated_counts(inputs, params, [seed], weeks, ["new_customers"], venues)
    return counts.to_numpy(float)[:len(inputs), 0]
