"""Fit the adoption parameters to observed own customers per community.

Method (docs/simulation.md): the observed ``customers`` column is a stock, the outcome of
years of adoption and churn. Starting from no customers, the model runs ``years``
without campaigns; the customer stock per community at the end is compared with the
observed one. A stock at one point in time identifies the level of adoption and how it
falls with distance to an outlet (communities differ in distance), but not organic
adoption apart from word of mouth (both raise the level), so ``base_adoption`` and
``access_minutes`` are fitted and ``word_of_mouth`` stays at its given value. The fit is
Nelder-Mead on log-parameters minimizing the squared Pearson residuals
(obs - sim) / sqrt(sim + 1), with one seed for every evaluation (common random numbers
keep the objective smooth).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from simulation.errors import SimulationError
from simulation.params import CUSTOMER_STAGES, SimulationParams

__all__ = ["AdoptionFit", "calibrate_adoption", "simulate_customer_stock"]


@dataclass(frozen=True)
class AdoptionFit:
    """Fitted ``base_adoption`` and ``access_minutes``, and how well they fit."""

    base_adoption: float
    access_minutes: float
    r2: float
    rmse: float
    evaluations: int
    converged: bool
    simulated: pd.Series

    def params(self, base: SimulationParams) -> SimulationParams:
        """``base`` with the fitted parameters."""
        return dataclasses.replace(base, base_adoption=self.base_adoption,
                                   access_minutes=self.access_minutes)


def simulate_customer_stock(inputs: pd.DataFrame, params: SimulationParams, *, years: int,
                            seed: int, capacity: pd.Series | None = None) -> pd.Series:
    """Own customers per community after ``years`` from none, without campaigns."""
    from simulation.model import CommunityMarketModel

    start = inputs.assign(customers=0)
    run = dataclasses.replace(params, weeks=52 * years, campaigns=())
    model = CommunityMarketModel(start, run, capacity=capacity, seed=seed).run()
    stock = model.timeseries()
    last = stock[stock["week"] == run.weeks]
    return (last.groupby("community_id", sort=False)[list(CUSTOMER_STAGES)].sum()
            .sum(axis=1).reindex(inputs.index).rename("customers"))


def calibrate_adoption(inputs: pd.DataFrame, params: SimulationParams, *, years: int = 5,
                       seed: int = 0, capacity: pd.Series | None = None,
                       max_evaluations: int = 80) -> AdoptionFit:
    """Fit ``base_adoption`` and ``access_minutes`` to ``inputs["customers"]``.

    Returns
    -------
    AdoptionFit
        The parameters, R² and RMSE of customers per community, the simulated stock.
    """
    observed = inputs["customers"].astype(np.float64)
    if observed.sum() <= 0 or (observed < 0).any():
        raise SimulationError("calibration needs observed customers (the 'customers' "
                              "column) >= 0 and not all 0")

    def simulate(theta: np.ndarray) -> pd.Series:
        trial = dataclasses.replace(params, base_adoption=float(np.exp(theta[0])),
                                    access_minutes=float(np.exp(theta[1])))
        return simulate_customer_stock(inputs, trial, years=years, seed=seed,
                                       capacity=capacity)

    def loss(theta: np.ndarray) -> float:
        if not -14 < theta[0] < 0 or not 0 < theta[1] < 7:
            return 1e30
        sim = simulate(theta).to_numpy()
        return float((((observed.to_numpy() - sim) ** 2) / (sim + 1)).sum())

    theta0 = np.log([max(params.base_adoption, 1e-5), max(params.access_minutes, 2.0)])
    result = minimize(loss, theta0, method="Nelder-Mead",
                      options={"maxfev": max_evaluations, "xatol": 0.02, "fatol": 1e-3})
    best = simulate(result.x)
    o, s = observed.to_numpy(), best.to_numpy()
    ss_tot = float(((o - o.mean()) ** 2).sum())
    return AdoptionFit(base_adoption=float(np.exp(result.x[0])),
                       access_minutes=float(np.exp(result.x[1])),
                       r2=1 - float(((o - s) ** 2).sum()) / ss_tot if ss_tot else float("nan"),
                       rmse=float(np.sqrt(((o - s) ** 2).mean())),
                       evaluations=int(result.nfev), converged=bool(result.success),
                       simulated=best)
