"""All the money (scenarios/money.py): figures worked out by hand, and a run whose plan
opens outlets against one whose plan does not."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from scenarios.money import MONEY_KPIS, PlanCosts, money_kpis, plan_costs
from scenarios.run import run_scenario
from scenarios.schema import Scenario

FINANCE = SimpleNamespace(discount_rate=0.10, horizon_years=2, capex_life_years=7,
                          staff_cost_per_year=50.0)


def _kpis() -> pd.DataFrame:
    return pd.DataFrame({"replication": [0, 1], "spend": [300.0, 300.0],
                         "uplift_new_customers": [10.0, 0.0],
                         "uplift_deposits": [20_000.0, 10_000.0]})


def test_the_money_of_a_plan_by_hand() -> None:
    # capex 1,000 (a year: 1,000 x 0.1 / (1 - 1.1^-7) = 205.41), opex 100, staff 50;
    # margin 2%: the campaigns' value 400 and 200, the outlets' (deposits +15,000 and
    # +5,000 on today's network) 300 and 100, 4 and 1 more new customers
    costs = PlanCosts(1_000.0, 205.405, 100.0, 50.0)
    today = np.array([[100.0, 50.0, 1e6], [100.0, 50.0, 1e6]])
    plan = np.array([[104.0, 45.0, 1e6 + 15_000], [101.0, 50.0, 1e6 + 5_000]])
    out = money_kpis(_kpis(), costs, margin=0.02, finance=FINANCE, plan_network=plan,
                     today=today)
    assert set(MONEY_KPIS) <= set(out.columns)
    r0, r1 = out.iloc[0], out.iloc[1]
    assert r0["all_costs"] == pytest.approx(300 + 205.405 + 100 + 50)  # 655.405
    assert r0["network_new_customers"] == 4 and r0["network_churn_avoided"] == 5
    assert (r0["value_campaigns"], r0["value_outlets"]) == pytest.approx((400, 300))
    assert r0["roi_all_costs"] == pytest.approx(700 / 655.405)
    assert r0["cost_per_acquisition_all_costs"] == pytest.approx(655.405 / 14)
    assert r0["net_value_all_costs"] == pytest.approx(700 - 655.405)
    # NPV over 2 years at 10%: -1,000 + (700 - 300 - 150) x (1/1.1 + 1/1.21) = -566.12
    assert r0["npv_all_costs"] == pytest.approx(-1_000 + 250 / 1.1 + 250 / 1.21)
    # payback: 1,000 / (300 - 100) = 5 years; the second replication's outlets bring
    # 100 a year against 100 of opex: never
    assert r0["payback_years"] == pytest.approx(5.0)
    assert r1["payback_years"] == np.inf
    assert r0["outlets_net_per_year"] == pytest.approx(300 - 100 - 205.405)
    # no outlets changed: their worth is zero and there is no payback
    none = money_kpis(_kpis(), PlanCosts(0.0, 0.0, 0.0, 50.0), margin=0.02,
                      finance=FINANCE)
    assert (none["value_outlets"] == 0).all() and none["payback_years"].isna().all()
    assert none["npv_all_costs"].iloc[0] == pytest.approx(
        (400 - 300 - 50) * (1 / 1.1 + 1 / 1.21))


def test_plan_costs_count_what_opens_less_what_closes() -> None:
    sc = Scenario.model_validate({"name": "x", "finance": {"discount_rate": 0.0,
                                                           "capex_life_years": 4},
                                  "staff": {"relationship_managers": 3}})
    decisions = pd.DataFrame({"site_id": ["a", "b", "c"], "action": ["open", "keep", "close"],
                              "capex": [800.0, 0.0, 0.0],
                              "opex_per_year": [120.0, 900.0, 70.0]})
    costs = plan_costs(sc, decisions)
    assert costs == PlanCosts(800.0, 200.0, 50.0, 3 * 55_000.0, changes_network=True)
    assert plan_costs(sc, None) == PlanCosts(0.0, 0.0, 0.0, 165_000.0)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_a_run_that_opens_outlets_counts_their_money_and_worth(small_synth: Path,
                                                               tmp_path: Path) -> None:
    base = {"name": "m", "area": str(small_synth), "seed": 3,
            "events": {"enabled": False}, "budget": {"total": 30_000},
            "simulation": {"weeks": 8, "replications": 3, "max_agents": 2_000}}
    opens = run_scenario(Scenario.model_validate(
        {**base, "outlets": {"max_new": {"smart_atm": 2}}}), runs_dir=tmp_path)
    stays = run_scenario(Scenario.model_validate(
        {**base, "name": "s", "outlets": {"enabled": False}}), runs_dir=tmp_path)
    k = pd.read_parquet(opens.path / "kpis.parquet")
    table = pd.read_parquet(opens.path / "plan_outlets.parquet")
    capex = float(table.loc[table["action"] == "open", "capex"].sum())
    assert capex > 0 and (k["capex"] == capex).all()
    assert k["capex_per_year"].iloc[0] == pytest.approx(capex * 0.1 / (1 - 1.1 ** -7))
    manifest = json.loads((opens.path / "manifest.json").read_text())
    assert manifest["summary"]["money"]["capex"] == pytest.approx(capex)
    assert "today's network, for the outlets' worth" in manifest["timings"]
    assert np.isfinite(k["network_uplift_deposits"]).all()
    # a plan that keeps today's network: no capex, no outlets' worth, no payback
    s = pd.read_parquet(stays.path / "kpis.parquet")
    assert (s["capex"] == 0).all() and (s["network_uplift_deposits"] == 0).all()
    assert s["payback_years"].isna().all()
    # the staff's year prorated to the 8 weeks simulated, as the spend is theirs
    assert s["all_costs"].to_numpy() == pytest.approx(
        (s["spend"] + s["staff_cost_per_year"] * 8 / 52).to_numpy())


def test_todays_network_pairs_with_the_runs_counterfactual(small_synth: Path) -> None:
    # the outlets' worth is the plan's counterfactual less today's, replication by
    # replication: on an unchanged network the two arms are the same draws, so the same
    from scenarios import plans
    from scenarios.money import network_year, replication_years
    from simulation import replication_seeds, run_replications

    sc = Scenario.model_validate({"name": "p", "area": str(small_synth), "seed": 5,
                                  "simulation": {"weeks": 6, "max_agents": 1_500}})
    prep = plans.prepare(sc)
    inputs = plans.simulation_inputs(prep, plans.open_outlets(prep, None))
    venues = plans.event_venues(prep)
    # with a calibration's parameter draws too: replication i of both runs uses draw i
    for draws in ((), ((("base_adoption", 0.002),), (("base_adoption", 0.0002),))):
        params = plans.simulation_params(sc, draws=draws)
        result = run_replications(inputs, params, replications=3, seed=5, venues=venues)
        today = network_year(inputs, params, replication_seeds(5, 3), venues=venues)
        assert np.array_equal(today, replication_years(result.counterfactual))
