"""Market share: the Huff model of which outlet residents use, and its calibration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from geo.access import TravelTimes
from geo.errors import InputError

__all__ = ["DEFAULT_ATTRACTIVENESS", "HuffFit", "calibrate_huff", "huff_shares", "own_share"]

#: Relative pull of an outlet kind (a branch = 1). Assumptions; calibrate where you can.
DEFAULT_ATTRACTIVENESS: dict[str, float] = {
    "branch": 1.0, "micro_branch": 0.6, "mobile_van": 0.3, "smart_atm": 0.25,
}


def _point_probabilities(minutes: np.ndarray, attract: np.ndarray, beta: float,
                         min_minutes: float) -> np.ndarray:
    t = np.maximum(minutes.astype(np.float64), min_minutes)
    with np.errstate(divide="ignore", over="ignore"):
        utility = np.where(np.isfinite(t), attract[None, :] * t ** (-beta), 0.0)
    total = utility.sum(axis=1, keepdims=True)
    return np.divide(utility, total, out=np.zeros_like(utility), where=total > 0)


def huff_shares(travel: TravelTimes, outlets: pd.DataFrame, *,
                attractiveness: Mapping[str, float] | None = None, beta: float = 2.0,
                by: Literal["outlet", "brand", "owner"] = "outlet",
                min_minutes: float = 1.0) -> pd.DataFrame:
    """Probability that residents of each community use each outlet (Huff 1963).

    P_ij = A_j t_ij^-beta / sum_k A_k t_ik^-beta, with A_j the attractiveness of the
    outlet's kind and t_ij the travel minutes (at least ``min_minutes``, so that a
    resident next door does not divide by zero), computed per demand point and weighted
    by population to the community.

    Parameters
    ----------
    travel
        Travel times from the communities to the outlets (ids as ``outlets.index``).
    outlets
        ``kind`` per outlet; ``brand`` and ``owner`` when grouping by them.
    beta
        Distance-decay exponent (> 0).
    by
        Columns: one per outlet, per brand, or per owner (``own``, ``competitor``).

    Returns
    -------
    DataFrame
        Communities x outlets (or brands, owners); each row sums to 1, or to 0 where no
        outlet is reachable.
    """
    if beta <= 0:
        raise InputError(f"beta = {beta}: expected a positive distance-decay exponent")
    table = {**DEFAULT_ATTRACTIVENESS, **(attractiveness or {})}
    missing = outlets.index.difference(travel.sites)
    if len(missing):
        raise InputError(f"{len(missing)} outlet(s) have no travel times, such as "
                         f"{list(missing[:3])}")
    unknown = sorted(set(outlets["kind"]) - set(table))
    if unknown:
        raise InputError(f"no attractiveness for outlet kind(s) {unknown}")
    cols = travel.sites.get_indexer(outlets.index)
    attract = outlets["kind"].map(table).to_numpy(dtype=np.float64)
    p = _point_probabilities(travel.minutes[:, cols], attract, beta, min_minutes)
    frame = pd.DataFrame(p * travel.points["share"].to_numpy()[:, None], columns=outlets.index)
    frame["community_id"] = travel.points["community_id"].to_numpy()
    shares = frame.groupby("community_id", sort=False).sum().reindex(travel.communities)
    if by == "outlet":
        return shares
    if by not in ("brand", "owner"):
        raise InputError(f"by = {by!r}: expected 'outlet', 'brand' or 'owner'")
    return shares.T.groupby(outlets[by].to_numpy()).sum().T


def own_share(travel: TravelTimes, outlets: pd.DataFrame, **options: object) -> pd.Series:
    """The own bank's expected share per community (the ``own`` column of Huff by owner)."""
    shares = huff_shares(travel, outlets, by="owner", **options)  # type: ignore[arg-type]
    return (shares["own"] if "own" in shares else pd.Series(0.0, index=shares.index)
            ).rename("own_share")


@dataclass(frozen=True)
class HuffFit:
    """Calibrated Huff parameters and how well they reproduce the observed customers.

    ``market_scale`` is the share of adults who bank with any of the outlets' owners;
    predicted own customers = market_scale x adults x own share.
    """

    beta: float
    attractiveness: dict[str, float]
    market_scale: float
    r2: float
    rmse: float
    communities: int
    converged: bool
    predicted: pd.Series


def calibrate_huff(travel: TravelTimes, outlets: pd.DataFrame, customers: pd.Series,
                   adults: pd.Series, *, beta0: float = 2.0, fit_kinds: bool = True,
                   min_minutes: float = 1.0) -> HuffFit:
    """Fit beta, kind attractiveness and the market scale to observed own customers.

    Minimizes the squared Pearson residuals (observed - predicted) / sqrt(predicted + 1)
    over communities with adults, by scipy's trust-region least squares on log-parameters
    (so that they stay positive). A branch's attractiveness is fixed at 1 as the unit.

    Returns
    -------
    HuffFit
        Parameters, R² and RMSE of customers per community, and the predictions.
    """
    obs = customers.reindex(travel.communities).astype(np.float64)
    pop = adults.reindex(travel.communities).astype(np.float64)
    use = obs.notna().to_numpy() & (pop > 0).to_numpy()
    if use.sum() < 3:
        raise InputError("calibration needs observed customers in at least 3 communities "
                         "with adults (the 'customers' column)")
    if (outlets["owner"] == "own").sum() == 0:
        raise InputError("calibration needs at least one own outlet")
    kinds = sorted(k for k in set(outlets["kind"]) if k != "branch") if fit_kinds else []
    base = dict(DEFAULT_ATTRACTIVENESS)
    cols = travel.sites.get_indexer(outlets.index)
    minutes = travel.minutes[:, cols]
    own = (outlets["owner"] == "own").to_numpy()
    share = travel.points["share"].to_numpy()
    point_comm = pd.Index(travel.communities).get_indexer(travel.points["community_id"])
    n_comm = len(travel.communities)

    def unpack(theta: np.ndarray) -> tuple[float, dict[str, float], float]:
        table = dict(base)
        for k, value in zip(kinds, theta[2:], strict=True):
            table[k] = float(np.exp(value))
        return float(np.exp(theta[0])), table, float(1 / (1 + np.exp(-theta[1])))

    def predict(theta: np.ndarray) -> np.ndarray:
        beta, table, scale = unpack(theta)
        attract = outlets["kind"].map(table).to_numpy(dtype=np.float64)
        p = _point_probabilities(minutes, attract, beta, min_minutes)[:, own].sum(axis=1)
        own_c = np.bincount(point_comm, weights=p * share, minlength=n_comm)
        return scale * pop.to_numpy() * own_c

    def residuals(theta: np.ndarray) -> np.ndarray:
        pred = predict(theta)[use]
        return (obs.to_numpy()[use] - pred) / np.sqrt(pred + 1.0)

    penetration = float(obs[use].sum() / pop[use].sum())
    theta0 = np.array([np.log(beta0), np.log(min(0.9, 4 * penetration) /
                                             (1 - min(0.9, 4 * penetration))),
                       *[np.log(base.get(k, 0.5)) for k in kinds]])
    result = least_squares(residuals, theta0, method="trf")
    beta, table, scale = unpack(result.x)
    pred = pd.Series(predict(result.x), index=travel.communities, name="predicted_customers")
    o, p_ = obs.to_numpy()[use], pred.to_numpy()[use]
    ss_res = float(((o - p_) ** 2).sum())
    ss_tot = float(((o - o.mean()) ** 2).sum())
    return HuffFit(beta=beta, attractiveness={k: table[k] for k in ["branch", *kinds]},
                   market_scale=scale, r2=1 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
                   rmse=float(np.sqrt(ss_res / use.sum())), communities=int(use.sum()),
                   converged=bool(result.success), predicted=pred)
