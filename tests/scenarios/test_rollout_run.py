"""A rollout over quarters in a run: the plan's quarters within the money, each site open in
the simulation from the first week of its quarter and not before, and the tables a user
reads (plan_outlets.parquet's quarter, the manifest's row a quarter)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios import plans
from scenarios.rollout import opening_week, rollout_inputs
from scenarios.run import run_scenario
from scenarios.schema import Scenario, ScenarioError, load_scenario
from simulation import OUTLET_COLUMNS

BASE = {"name": "rollout", "seed": 3, "events": {"enabled": False},
        "budget": {"total": 30_000},
        "simulation": {"weeks": 52, "replications": 2, "max_agents": 2_000},
        "outlets": {"max_new": {"smart_atm": 4}, "quarters": 4, "capex_budget": 10_000_000}}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _scenario(area: Path, per_quarter: object) -> Scenario:
    outlets = {**BASE["outlets"], "capex_per_quarter": per_quarter}  # type: ignore[dict-item]
    return Scenario.model_validate({**BASE, "area": str(area), "outlets": outlets})


def test_each_site_opens_in_the_simulation_in_its_quarter(small_synth: Path) -> None:
    prep = plans.prepare(_scenario(small_synth, 60_000))
    siting = plans.outlet_plan(prep)
    opened = siting.decisions[siting.decisions["action"] == "open"]
    assert len(opened) and opened["quarter"].notna().all()
    table = siting.by_quarter
    assert table is not None
    # the capex to date within the money to date (60,000 a quarter, carried over)
    assert (table["capex_to_date"] <= 60_000 * table["quarter"] + 1e-6).all()
    assert table["demand_covered"].sum() == pytest.approx(siting.objective)
    assert table["demand_covered"].is_monotonic_increasing
    outlets = plans.open_outlets(prep, siting)
    inputs = rollout_inputs(prep, siting, outlets)
    quarter_of = opened.set_index("site_id")["quarter"].astype(int)
    # every phase is the simulation's inputs for the outlets open by then, built here
    # from the network without the later sites
    for q in range(1, 5):
        now = plans.simulation_inputs(prep, outlets.drop(
            index=quarter_of.index[quarter_of > q]))
        suffix = "" if q == 1 else f"@{opening_week(q)}"
        if q > 1 and f"outlet@{opening_week(q)}" not in inputs:
            assert not (quarter_of == q).any()  # nothing opens in it
            continue
        for column in OUTLET_COLUMNS:
            got = inputs[f"{column}{suffix}"]
            if column == "outlet":
                assert got.tolist() == now[column].tolist()
            else:
                assert got.to_numpy(float) == pytest.approx(now[column].to_numpy(float))
    # nearer, never farther, as sites open
    weeks = sorted(int(c.split("@")[1]) for c in inputs if c.startswith("outlet_min@"))
    series = [inputs["outlet_min"]] + [inputs[f"outlet_min@{w}"] for w in weeks]
    for before, after in itertools.pairwise(series):
        assert (after.to_numpy() <= before.to_numpy() + 1e-9).all()


def test_a_rollout_run_writes_its_quarters(small_synth: Path, tmp_path: Path) -> None:
    run = run_scenario(_scenario(small_synth, [20_000, 60_000, 0, 60_000]),
                       runs_dir=tmp_path)
    table = pd.read_parquet(run.path / "plan_outlets.parquet")
    opened = table[table["action"] == "open"]
    assert opened["quarter"].notna().all() and set(opened["quarter"]) <= {1, 2, 4}
    manifest = json.loads((run.path / "manifest.json").read_text())
    quarters = manifest["summary"]["outlets"]["by_quarter"]
    assert [q["week"] for q in quarters] == [1, 14, 27, 40]
    assert sorted(s for q in quarters for s in q["sites"]) == sorted(opened["site_id"])
    kpis = pd.read_parquet(run.path / "kpis.parquet")
    assert np.isfinite(kpis["new_customers"]).all()
    # the ramp-up year: a site opened in quarter q pays opex for weeks 13 (q - 1) + 1 to 52
    weeks_open = 52 - 13 * (opened["quarter"].astype(int) - 1)
    opex = float((opened["opex_per_year"] * weeks_open / 52).sum())
    assert kpis["outlet_opex_per_year"].iloc[0] == pytest.approx(opex)
    assert any("ramp-up year" in w for w in manifest["warnings"])


@pytest.mark.parametrize(("outlets", "simulation", "match"), [
    ({"quarters": 4}, {}, "needs capex_per_quarter"),
    ({"quarters": 3, "capex_per_quarter": [1, 2]}, {}, "2 figures for 3 quarters"),
    ({"capex_per_quarter": 5}, {}, "set quarters > 1"),
    ({"quarters": 2, "capex_per_quarter": 5, "objective": "p_median"}, {},
     "not 'p_median'"),
    ({"quarters": 2, "capex_per_quarter": 5, "allow_closures": True}, {}, "allow_closures"),
    ({"quarters": 6, "capex_per_quarter": 5}, {"weeks": 52}, "quarter 6 starts in week 66"),
])
def test_a_rollout_the_run_cannot_hold_is_refused_by_key(outlets: dict, simulation: dict,
                                                          match: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"name": "r", "outlets": outlets, "simulation": simulation})
    lines = info.value.lines()
    assert len(lines) == 1 and match in lines[0], lines
    assert "outlets" in lines[0] or "quarter" in lines[0]
