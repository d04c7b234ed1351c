"""Calibration recovers the adoption parameters that generated the customer stock."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import SimulationError, SimulationParams
from simulation.calibration import calibrate_adoption, simulate_customer_stock
from tests.simulation.cities import city


def test_recovers_level_and_distance_decay() -> None:
    inputs = city(12, 500)
    inputs["outlet_min"] = np.linspace(2, 60, 12)  # communities differ in access
    inputs["digital_adoption"] = 0.25  # few residents bank online, so access matters
    truth = SimulationParams(base_adoption=0.0015, access_minutes=15.0)
    observed = simulate_customer_stock(inputs, truth, years=3, seed=99)
    assert observed.iloc[0] > 3 * observed.iloc[-1]  # near communities have more customers
    start = SimulationParams(base_adoption=0.0005, access_minutes=40.0)
    fit = calibrate_adoption(inputs.assign(customers=observed), start, years=3, seed=1)
    assert fit.converged
    assert fit.base_adoption == pytest.approx(0.0015, rel=0.2)
    assert fit.access_minutes == pytest.approx(15.0, rel=0.2)
    # the observed stock comes from another seed: its noise (about sqrt(45) = 7) bounds
    # the fit
    assert fit.r2 > 0.9 and fit.rmse < 0.2 * observed.mean()
    assert fit.params(start).base_adoption == fit.base_adoption


def test_needs_observed_customers() -> None:
    with pytest.raises(SimulationError, match="observed customers"):
        calibrate_adoption(city(3, 300).assign(customers=0), SimulationParams(), years=1)
