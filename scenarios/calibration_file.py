"""The calibration file ``sitesim calibrate`` writes and scenarios read
(``[calibration] file = ...``; docs/calibration.md, "The calibration file").

A TOML file: the fitted weeks and the files fitted to, each parameter's prior, estimate,
standard deviation on the log scale, 95% interval and whether the data identified it,
the covariance of the log-parameters, the community effects, and the forecast of the
held-out weeks against what was observed.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from scipy import optimize, special

from geo.errors import InputError
from scenarios._fingerprint import file_digest
from simulation import (
    Campaign,
    Fit,
    Parameter,
    SimulationError,
    SimulationParams,
    with_values,
)

__all__ = ["CALIBRATION_FORMAT", "PRIOR_SD", "CalibrationFile", "HeldOut",
           "calibrated_params", "extrapolation_warnings", "parameter_draws", "prior_draws",
           "read_calibration", "with_community_effects", "write_calibration"]

CALIBRATION_FORMAT = 1
#: The prior's spread on the log scale: a default may be off by a factor e (2.7) either
#: way at one sd (an assumption: the defaults are literature ranges, docs/simulation.md).
PRIOR_SD = 1.0
#: Parameter draws a calibrated scenario carries at least.
MIN_DRAWS = 64
#: The z of a two-sided 95% interval.
Z95 = 1.959964


@dataclass(frozen=True)
class HeldOut:
    """The fitted model's forecast of weeks it was not fitted on, against the bank's."""

    weeks: tuple[int, int]
    observed: float
    forecast: float
    low: float
    high: float
    communities: pd.DataFrame  # community_id, observed, forecast, error

    @classmethod
    def from_runs(cls, weeks: tuple[int, int], observed: pd.Series,
                  runs: np.ndarray) -> HeldOut:
        """``runs``: the forecast new customers per community, one run (with its own
        parameter draw and seed) per row; the interval is the runs' spread."""
        totals = runs.sum(axis=1)
        mean, sd = float(totals.mean()), float(totals.std(ddof=1))
        forecast = runs.mean(axis=0)
        table = pd.DataFrame({"community_id": observed.index.astype(str),
                              "observed": observed.to_numpy(float),
                              "forecast": forecast,
                              "error": forecast - observed.to_numpy(float)})
        return cls(weeks, float(observed.sum()), mean, mean - Z95 * sd, mean + Z95 * sd,
                   table)

    @property
    def error_share(self) -> float:
        """The total's error as a share of what was observed."""
        return (self.forecast - self.observed) / max(self.observed, 1.0)

    @property
    def covered(self) -> bool:
        return self.low <= self.observed <= self.high

    @property
    def community_mae(self) -> float:
        return float(self.communities["error"].abs().mean())


@dataclass(frozen=True)
class CalibrationFile:
    """A calibration as written and read (see the module)."""

    scenario: str
    weeks: tuple[int, int]
    files: dict[str, str]
    parameters: list[dict[str, Any]]
    covariance: np.ndarray
    dispersion: float
    simulations: int
    effects: pd.Series
    held_out: HeldOut | None = None
    digests: dict[str, str] = field(default_factory=dict)
    #: The most the history spent on each channel per adult of a community in a week
    #: (the fitted weeks): the range the fitted response has seen.
    spend: dict[str, float] = field(default_factory=dict)
    #: The pilots' lifts fitted too: file, observed, se, fitted (the model's value).
    lifts: list[dict[str, Any]] = field(default_factory=list)
    #: Whether the fit's rounds settled, and the last round's move (posterior sd).
    converged: bool = True
    moved: float = 0.0
    rounds: int = 0

    @classmethod
    def from_fit(cls, fit: Fit, parameters: list[Parameter], effects: pd.Series,
                 held_out: HeldOut | None, *, scenario: str, weeks: tuple[int, int],
                 files: dict[str, str], spend: dict[str, float] | None = None,
                 lifts: list[dict[str, Any]] | None = None) -> CalibrationFile:
        rows = []
        for p in parameters:
            estimate, sd = fit.estimate[p.name], fit.sd_log[p.name]
            rows.append({"name": p.name, "prior": p.prior, "prior_sd_log": p.prior_sd,
                         "upper": p.upper if p.upper is not None else float("inf"),
                         "estimate": estimate, "sd_log": sd,
                         "low": estimate * float(np.exp(-Z95 * sd)),
                         "high": estimate * float(np.exp(Z95 * sd)),
                         "identified": fit.identified[p.name]})
        return cls(scenario, weeks, files, rows, fit.covariance, fit.dispersion,
                   fit.simulations, effects, held_out,
                   {k: file_digest(v) if Path(v).is_file() else ""
                    for k, v in files.items()}, dict(spend or {}), list(lifts or []),
                   fit.converged, fit.moved, fit.iterations)

    @property
    def names(self) -> list[str]:
        return [p["name"] for p in self.parameters]

    @property
    def estimate(self) -> dict[str, float]:
        return {p["name"]: float(p["estimate"]) for p in self.parameters}

    def table(self) -> pd.DataFrame:
        """One row per parameter (for the terminal and the docs)."""
        return pd.DataFrame(self.parameters).drop(columns=["upper"])


def write_calibration(calibration: CalibrationFile, path: str | Path) -> Path:
    """Write ``calibration`` as TOML (whole or not at all: a temporary file replaced)."""
    path = Path(path)
    body: dict[str, Any] = {
        "format": CALIBRATION_FORMAT, "scenario": calibration.scenario,
        "weeks": list(calibration.weeks),
        "files": {k: {"path": v, "sha256": calibration.digests.get(k, "")}
                  for k, v in calibration.files.items()},
        "method": "surrogate-assisted quasi-likelihood with log-normal priors; "
                  "docs/calibration.md",
        "dispersion": calibration.dispersion, "simulations": calibration.simulations,
        "rounds": calibration.rounds, "converged": calibration.converged,
        "last_move_sd": calibration.moved if np.isfinite(calibration.moved) else 1e9,
        "parameter": [{k: (v if k != "upper" or np.isfinite(v) else 0.0)
                       for k, v in p.items()} for p in calibration.parameters],
        "covariance": {"names": calibration.names,
                       "log_scale": [list(map(float, row)) for row in calibration.covariance]},
        "community_effects": {str(k): float(v) for k, v in calibration.effects.items()},
        "spend_per_adult_week": {k: float(v) for k, v in calibration.spend.items()},
        "lift": calibration.lifts,
    }
    held = calibration.held_out
    if held is not None:
        body["held_out"] = {
            "weeks": list(held.weeks), "observed": held.observed, "forecast": held.forecast,
            "low": held.low, "high": held.high, "error_share": held.error_share,
            "covered": held.covered, "community_mean_absolute_error": held.community_mae,
            "community": held.communities.to_dict("records")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(tomli_w.dumps(body), encoding="utf-8")
    tmp.replace(path)
    return path


def read_calibration(path: str | Path) -> CalibrationFile:
    """Read a calibration file (once per path and modification: a run's stages, its
    checks and the preflight share one read).

    Raises
    ------
    InputError
        The file is missing, not TOML or not one ``sitesim calibrate`` wrote.
    """
    target = Path(path)
    info = target.stat() if target.is_file() else None
    stamp = (info.st_mtime_ns, info.st_size) if info else (-1, -1)
    return _read_calibration(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _read_calibration(path: str, stamp: tuple[int, int]) -> CalibrationFile:
    where = f"{path} (calibration.file)"
    target = Path(path)
    if not target.is_file():
        raise InputError(f"{where}: no such file; write one with sitesim calibrate "
                         "SCENARIO --history H --observed O --out FILE")
    try:
        raw = tomllib.loads(target.read_text(encoding="utf-8"))
        names = list(raw["covariance"]["names"])
        rows = [dict(p) for p in raw["parameter"]]
        for p in rows:
            p["upper"] = float(p["upper"]) if p.get("upper") else float("inf")
            for key in ("estimate", "sd_log", "low", "high", "prior"):
                p[key] = float(p[key])
            p["identified"] = bool(p["identified"])
            if not p["estimate"] > 0:
                raise ValueError(f"{p['name']}: estimate {p['estimate']} is not > 0")
        cov = np.asarray(raw["covariance"]["log_scale"], dtype=float)
        if raw.get("format") != CALIBRATION_FORMAT or cov.shape != (len(names),) * 2 or (
                names != [p["name"] for p in rows]):
            raise ValueError("format, names or covariance do not match")
        with_values(SimulationParams(), {p["name"]: p["estimate"] for p in rows})
        effects = pd.Series(raw.get("community_effects", {}), dtype=float,
                            name="adoption_effect")
        weeks = (int(raw["weeks"][0]), int(raw["weeks"][1]))
        files = {str(k): str(v["path"]) for k, v in raw.get("files", {}).items()}
        spend = {str(k): float(v) for k, v in raw.get("spend_per_adult_week", {}).items()}
        lifts = [{"file": str(x["file"]), **{k: float(x[k]) for k in ("observed", "se",
                                                                       "fitted")}}
                 for x in raw.get("lift", [])]
        held = raw.get("held_out")
        held_out = None if held is None else HeldOut(
            (int(held["weeks"][0]), int(held["weeks"][1])), float(held["observed"]),
            float(held["forecast"]), float(held["low"]), float(held["high"]),
            pd.DataFrame(held.get("community", []),
                         columns=["community_id", "observed", "forecast", "error"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, IndexError,
            SimulationError) as exc:
        raise InputError(f"{where}: not a calibration file sitesim can read ({exc}); "
                         "write it again with sitesim calibrate") from None
    return CalibrationFile(str(raw.get("scenario", "")), weeks, files, rows, cov,
                           float(raw.get("dispersion", 1.0)), int(raw.get("simulations", 0)),
                           effects, held_out=held_out, spend=spend, lifts=lifts,
                           converged=bool(raw.get("converged", True)),
                           moved=float(raw.get("last_move_sd", 0.0)),
                           rounds=int(raw.get("rounds", 0)))


def parameter_draws(calibration: CalibrationFile, count: int, seed: int
                    ) -> tuple[tuple[tuple[str, float], ...], ...]:
    """``count`` draws of the parameters from the calibration's posterior (log-normal:
    normal on the log scale with its covariance), each held below its upper bound."""
    rng = np.random.default_rng([seed, 18])
    mean = np.log([p["estimate"] for p in calibration.parameters])
    upper = np.log([p["upper"] for p in calibration.parameters])
    draws = rng.multivariate_normal(mean, calibration.covariance, size=count,
                                    method="eigh")
    return tuple(tuple((n, float(v)) for n, v in zip(calibration.names,
                                                      np.exp(np.minimum(row, upper)),
                                                      strict=True))
                 for row in draws)


def calibrated_params(params: SimulationParams, calibration: CalibrationFile, *,
                      fixed: bool, replications: int, seed: int) -> SimulationParams:
    """``params`` at the calibration's estimates (with ``fixed``) or with one parameter
    draw per replication."""
    out = with_values(params, calibration.estimate)
    if fixed:
        return out
    # more draws than replications: a stage with more replications (the outlet options'
    # measurements) gets draws of its own before they repeat; the first are the same
    count = max(replications, MIN_DRAWS)
    fitted = parameter_draws(calibration, count, seed)
    unfitted = prior_draws(out, set(calibration.names), count, seed)
    return dataclasses.replace(out, draws=tuple(
        a + b for a, b in zip(fitted, unfitted, strict=True)))


def _centre(mean: float, upper: float | None) -> float:
    """The log-scale centre c of a log-normal X (sd ``PRIOR_SD``) whose mean, held at
    ``upper`` (min(X, upper)), is ``mean``: E[min(X, u)] = e^(c + s^2/2) Phi((ln u - c -
    s^2) / s) + u (1 - Phi((ln u - c) / s)), solved for c."""
    s = PRIOR_SD
    if upper is None:
        return float(np.log(mean) - s ** 2 / 2)
    if mean >= upper:
        raise SimulationError(f"a default of {mean} at its upper bound {upper} has no "
                              "spread below it")
    log_u = np.log(upper)

    def gap(c: float) -> float:
        return float(np.exp(c + s ** 2 / 2) * special.ndtr((log_u - c - s ** 2) / s)
                     + upper * (1 - special.ndtr((log_u - c) / s)) - mean)

    return float(optimize.brentq(gap, np.log(mean) - 10, log_u + 10 * s))


def prior_draws(params: SimulationParams, fitted: set[str], count: int, seed: int
                ) -> tuple[tuple[tuple[str, float], ...], ...]:
    """``count`` draws of each channel's adoption effect and spend for 63% reach that
    the calibration did not fit (the history never spent on the channel), from their
    prior's width: log-normal with sd ``PRIOR_SD`` on the log scale and the default as
    its mean (the adoption effect held at 1, its mean with the hold the default), so the
    parameter's expected value stays the default's and only its spread widens (a
    log-normal with the default as its median would lift the mean of every channel
    parameter the bank never tried by 65%, and an optimizer would favour those channels
    for being unknown). What the bank's data say nothing of keeps its width in every run, rather
    than sitting at its default as if known."""
    names = [f"channels.{channel}.{field}" for channel in params.channels
             for field in ("awareness_gain", "spend_per_resident")]
    names = [n for n in names if n not in fitted]
    if not names:
        return tuple(() for _ in range(count))
    rng = np.random.default_rng([seed, 19])
    defaults = [getattr(params.channels[n.split(".")[1]], n.split(".")[2]) for n in names]
    bounded = [n.endswith("awareness_gain") for n in names]
    centre = np.array([_centre(d, 1.0 if b else None) for d, b in zip(defaults, bounded,
                                                                     strict=True)])
    upper = np.where(bounded, 0.0, np.inf)
    rows = np.exp(np.minimum(centre + PRIOR_SD * rng.standard_normal((count, len(names))),
                             upper))
    return tuple(tuple((n, float(v)) for n, v in zip(names, row, strict=True))
                 for row in rows)


def with_community_effects(inputs: pd.DataFrame, calibration: CalibrationFile
                           ) -> pd.DataFrame:
    """``inputs`` with the calibration's community effects (1 for a community it did not
    see)."""
    effects = calibration.effects.reindex(inputs.index.astype(str)).fillna(1.0)
    return inputs.assign(adoption_effect=effects.to_numpy(float))


#: A plan spending more than this many times the history's most per adult and week on a
#: channel is said to stretch the calibration (an assumption: within twice the range a
#: fitted saturating response is still near its data).
STRETCH = 2.0


def extrapolation_warnings(calibration: CalibrationFile, campaigns: Sequence[Campaign],
                           adults: pd.Series) -> list[str]:
    """What a calibrated run's campaigns ask of the calibration beyond its data: a
    channel the history never spent on (its response is the prior's), and a channel
    spent at more than ``STRETCH`` times the history's most per adult and week (a
    campaign's spend spread evenly over its weeks and the adults of its communities)."""
    most: dict[str, float] = {}
    total = float(adults.sum())
    for c in campaigns:
        if c.spend <= 0:
            continue
        reach = float(adults.reindex(list(c.communities)).sum()) if c.communities else total
        per = c.spend / max(c.weeks[1] - c.weeks[0] + 1, 1) / max(reach, 1.0)
        most[c.channel] = max(most.get(c.channel, 0.0), per)
    out = []
    fitted = {n.split(".")[1] for n in calibration.names if n.startswith("channels.")}
    for channel, per in sorted(most.items()):
        seen = calibration.spend.get(channel, 0.0)
        if channel not in fitted:
            out.append(f"calibration: {channel}: the bank's history never spent on it, so "
                       "its response is the prior's, drawn wide in each replication; a "
                       "pilot would measure it (docs/calibration.md)")
        elif seen > 0 and per > STRETCH * seen:
            out.append(f"calibration: {channel}: the plan spends up to {per:.3g} per adult "
                       f"a week, {per / seen:.1f} times the most the history spent "
                       f"({seen:.3g}): the fitted response is stretched beyond its data")
    return out
