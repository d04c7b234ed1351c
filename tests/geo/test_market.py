"""Huff shares by hand, and calibration recovering parameters it generated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import InputError, TravelTimes, calibrate_huff, huff_shares


@pytest.fixture
def three_outlets() -> tuple[TravelTimes, pd.DataFrame]:
    minutes = pd.DataFrame({"A": [2.0, 10.0], "B": [4.0, 5.0], "C": [8.0, 0.5]},
                           index=pd.Index(["north", "south"], name="community_id"))
    outlets = pd.DataFrame({"kind": ["branch", "micro_branch", "smart_atm"],
                            "owner": ["own", "competitor", "competitor"],
                            "brand": ["Us", "Them", "Them"]}, index=["A", "B", "C"])
    return TravelTimes.from_community_minutes(minutes), outlets


def test_huff_by_hand(three_outlets) -> None:
    travel, outlets = three_outlets
    shares = huff_shares(travel, outlets, beta=2.0,
                         attractiveness={"branch": 1.0, "micro_branch": 0.6, "smart_atm": 0.25})
    # north: 1/2² = 0.25, 0.6/4² = 0.0375, 0.25/8² = 0.00390625
    north = np.array([0.25, 0.0375, 0.00390625])
    assert shares.loc["north"].to_numpy() == pytest.approx(north / north.sum())
    # south: C is 0.5 min away, floored at 1 minute: 0.25/1
    south = np.array([1 / 100, 0.6 / 25, 0.25 / 1])
    assert shares.loc["south"].to_numpy() == pytest.approx(south / south.sum())
    assert np.allclose(shares.sum(axis=1), 1.0)
    by_owner = huff_shares(travel, outlets, by="owner")
    assert by_owner.loc["north", "own"] == pytest.approx(north[0] / north.sum())
    assert list(huff_shares(travel, outlets, by="brand").columns) == ["Them", "Us"]


def test_huff_errors(three_outlets) -> None:
    travel, outlets = three_outlets
    with pytest.raises(InputError, match="beta"):
        huff_shares(travel, outlets, beta=0)
    bad = outlets.assign(kind=["branch", "kiosk", "smart_atm"])
    with pytest.raises(InputError, match="kiosk"):
        huff_shares(travel, bad)


def test_calibration_recovers_known_parameters() -> None:
    rng = np.random.default_rng(8)
    n_comm, n_out = 80, 12
    minutes = pd.DataFrame(rng.uniform(1, 30, size=(n_comm, n_out)),
                           index=pd.Index([f"c{i}" for i in range(n_comm)], name="community_id"),
                           columns=[f"o{j}" for j in range(n_out)])
    kinds = np.array(["branch", "micro_branch", "smart_atm"] * 4)
    outlets = pd.DataFrame({"kind": kinds, "owner": ["own"] * 4 + ["competitor"] * 8},
                           index=minutes.columns)
    travel = TravelTimes.from_community_minutes(minutes)
    true = {"branch": 1.0, "micro_branch": 0.5, "smart_atm": 0.2}
    shares = huff_shares(travel, outlets, beta=1.6, attractiveness=true, by="owner")["own"]
    adults = pd.Series(rng.integers(2_000, 8_000, n_comm), index=minutes.index)
    customers = (0.7 * adults * shares).round()
    fit = calibrate_huff(travel, outlets, customers, adults)
    assert fit.converged
    assert fit.beta == pytest.approx(1.6, rel=0.05)
    assert fit.attractiveness["micro_branch"] == pytest.approx(0.5, rel=0.1)
    assert fit.attractiveness["smart_atm"] == pytest.approx(0.2, rel=0.15)
    assert fit.market_scale == pytest.approx(0.7, rel=0.05)
    assert fit.r2 > 0.99 and fit.communities == n_comm
