"""A pack without a customers column: one stated assumption for the simulation and the
staff plan, said once, overridable, and every KPI defined."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import grid_layers, write_pack
from geo import SitesimWarning, load_area
from geo.assumptions import CUSTOMER_SHARE
from scenarios import plans
from scenarios.schema import Scenario
from simulation import SimulationParams, community_inputs, run_replications

SOURCES = '[[sources]]\nname = "hand"\nlicence = "CC0-1.0"\n'


def pack(tmp_path: Path, extra: str = "") -> Path:
    layers = grid_layers()
    layers["communities"] = layers["communities"].drop(columns="customers")
    return write_pack(tmp_path / "pack", layers,
                      area_toml=f'name = "no-customers"\n{extra}{SOURCES}')


def test_one_share_of_adults_for_the_simulation_and_the_staff_plan(tmp_path: Path) -> None:
    path = pack(tmp_path)
    with pytest.warns(SitesimWarning) as said:
        area = load_area(path)
    lines = [str(w.message) for w in said if "customers" in str(w.message)]
    assert len(lines) == 1 and f"{CUSTOMER_SHARE:.0%} of each community's adults" in lines[0]
    expected = area.adults * CUSTOMER_SHARE
    assert area.customers.tolist() == pytest.approx(expected.tolist())
    inputs = community_inputs(area)
    assert inputs["customers"].tolist() == pytest.approx(expected.tolist())
    # the staff plan counts visits from the same customers
    sc = Scenario(name="t", area=str(path), outlets={"enabled": False})
    prep = plans.prepare(sc)  # the pack's warnings go with the run's (scenarios.run)
    assert any("no 'customers' column" in p.message for p in prep.area.warnings)
    outlets = plans.open_outlets(prep, None)
    visits = plans.expected_visits(prep, outlets)
    assert visits.sum() == pytest.approx(expected.sum() * sc.staff.visits_per_customer_week)
    # every KPI defined: customers at the start, so retention and churn have meaning
    result = run_replications(inputs, SimulationParams(weeks=8), replications=2, seed=1)
    kpis = result.summary["mean"]
    assert kpis["customers_start"] == pytest.approx(expected.sum(), rel=0.1)
    for name in ("retention", "churn_rate", "yearly_attrition", "penetration"):
        assert np.isfinite(kpis[name]), name


def test_the_share_is_set_in_area_toml_or_the_scenario(tmp_path: Path) -> None:
    path = pack(tmp_path, "customer_share = 0.25\n")
    with pytest.warns(SitesimWarning) as said:
        area = load_area(path)
    assert any("25% of each community's adults" in str(w.message) for w in said)
    assert area.customers.tolist() == pytest.approx((area.adults * 0.25).tolist())
    sc = Scenario(name="t", area=str(path), simulation={"customer_share": 0.05})
    prep = plans.prepare(sc)
    assert prep.area.customers.tolist() == pytest.approx((area.adults * 0.05).tolist())
    [said_once] = [p.message for p in prep.area.warnings if "customers" in p.message]
    assert "5% of each community's adults" in said_once
