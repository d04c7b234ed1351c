"""One budget for outlets and marketing from a scenario (scenarios/combined_budget.py):
the split against every subset of the options tried by brute force, the yearly cost from
the annuity formula, the coverage of a partial plan against the siting's own, and the
scenario's errors."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from optimizer import PlanInfeasibleError, allocate_budget
from scenarios import plans, plans_budget
from scenarios.combined_budget import _value_years, with_opened
from scenarios.plan_checks import check_cells, plan_checks
from scenarios.run import run_scenario
from scenarios.schema import Scenario

TOTAL = 60_000


def _one_budget(area: Path, **finance: object) -> Scenario:
    return Scenario.model_validate({
        "name": "one", "area": str(area), "seed": 3,
        "outlets": {"max_new": {"smart_atm": 3}},
        "events": {"enabled": False},
        "budget": {"total": TOTAL, "includes_outlets": True}, "finance": finance,
        "simulation": {"weeks": 26, "replications": 3, "max_agents": 4_000}})


#: The kinds' costs of area.toml's defaults, but a smart ATM costs only its site's.
KINDS = """
[kinds.branch]
capex = 1_200_000
opex_per_year = 900_000
capacity_per_week = 1500
staff = 8
[kinds.micro_branch]
capex = 300_000
opex_per_year = 220_000
capacity_per_week = 500
staff = 2
[kinds.mobile_van]
capex = 250_000
opex_per_year = 160_000
capacity_per_week = 250
staff = 2
[kinds.smart_atm]
capex = 0
opex_per_year = 0
capacity_per_week = 700
staff = 0
"""


@pytest.fixture(scope="module")
def cheap_sites(small_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small pack with sites whose yearly cost spans what the marketing's marginal
    value makes worth it or not: capex 700 each, opex 300, 3,000 and 30,000 in turn."""
    pack = tmp_path_factory.mktemp("cheap") / "pack"
    shutil.copytree(small_synth, pack)
    (pack / "area.toml").write_text((pack / "area.toml").read_text() + KINDS)
    sites = gpd.read_parquet(pack / "candidates.parquet")
    sites["capex"] = 700.0
    sites["opex_per_year"] = np.resize([300.0, 3_000.0, 30_000.0], len(sites))
    sites.to_parquet(pack / "candidates.parquet")
    return pack


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_one_budget_is_the_best_split_over_every_subset(cheap_sites: Path,
                                                        tmp_path: Path) -> None:
    sc = _one_budget(cheap_sites, capex_life_years=7, discount_rate=0.1)
    result = run_scenario(sc, runs_dir=tmp_path)
    manifest = json.loads((result.path / "manifest.json").read_text())
    combined = manifest["summary"]["combined"]
    options = pd.DataFrame(combined["options"])
    assert len(options) >= 2
    # the yearly cost: the annuity of 700 over 7 years at 10%, plus opex
    annuity = 700 * 0.1 / (1 - 1.1 ** -7)  # 143.78
    assert options["yearly_cost"].to_numpy() == pytest.approx(
        (annuity + options["opex_per_year"]).to_numpy())
    opened = set(combined["opened"])
    assert 0 < len(opened) < len(options), "the case is meant to open some, not all"
    assert opened <= set(options["option_id"])
    assert combined["outlet_cost"] == pytest.approx(
        options.loc[options["option_id"].isin(opened), "yearly_cost"].sum())
    assert combined["outlet_cost"] + combined["marketing_budget"] == pytest.approx(TOTAL)
    # the marketing plan spends the marketing's money, no more; the outlets opened are the
    # ones the run's outlet plan holds
    spent = pd.read_parquet(result.path / "plan_budget.parquet")["spend"].sum()
    assert spent <= combined["marketing_budget"] * (1 + 1e-6)
    table = pd.read_parquet(result.path / "plan_outlets.parquet")
    assert set(table.loc[table["action"] == "open", "site_id"]) == opened
    # brute force: every subset's worth, the marketing valued by its own plan at what the
    # subset leaves, on the curves the split used (the first round's: the run's own file
    # holds the corrected ones, so the sweep is fitted again from the cache)
    prep = plans.prepare(sc)
    every = plans.outlet_plan(prep)
    curves = plans_budget.response_curves(prep, plans.simulation_inputs(
        prep, plans.open_outlets(prep, every)))
    rules = plans_budget.budget_rules(prep)
    gain = options.set_index("option_id")["customers"]
    cost = options.set_index("option_id")["yearly_cost"]

    def worth(subset: tuple[str, ...]) -> float:
        left = TOTAL - float(cost[list(subset)].sum())
        if left < 0:
            return float("-inf")
        try:
            return float(gain[list(subset)].sum()) + allocate_budget(
                curves, left, marginal=False, **rules).customers
        except PlanInfeasibleError:
            return float("-inf")

    ids = list(options["option_id"])
    best = max(worth(s) for n in range(len(ids) + 1) for s in itertools.combinations(ids, n))
    # exact when one outlet or none opens; otherwise within the grid's interpolation
    assert worth(tuple(sorted(opened))) >= best * (1 - 1e-3)
    # the marginal values: marketing's slope, and the best option left closed per unit
    marginal = combined["marginal"]
    assert marginal["marketing"]["customers"] > 0
    closed = options[~options["option_id"].isin(opened)]
    if len(closed):
        assert marginal["outlets"]["customers"] == pytest.approx(
            (closed["customers"] / closed["yearly_cost"]).max())
    checks = plan_checks([result.path])
    ours = checks[checks["check"].str.startswith("one budget")]
    assert len(ours) >= 3
    split = ours.iloc[0]
    assert split["plan"] == pytest.approx(combined["outlet_cost"])
    assert split["other"] == pytest.approx(combined["marketing_budget"])
    # as the terminal and the dashboard show them: no interval where there is none
    cells = check_cells(ours)
    assert cells[0][4] == "" and all("±" not in c[4] for c in cells[1:] if "together" not in c[1])


def test_a_partial_plan_covers_what_the_siting_computes(small_synth: Path) -> None:
    prep = plans.prepare(_one_budget(small_synth))
    every = plans.outlet_plan(prep)
    new = every.decisions.loc[every.decisions["action"] == "open", "site_id"]
    assert len(new) >= 2
    whole = with_opened(prep, every, tuple(new))
    assert whole.coverage_after == pytest.approx(every.coverage_after)
    assert whole.mean_minutes_after == pytest.approx(every.mean_minutes_after)
    none = with_opened(prep, every, ())
    assert none.coverage_after == pytest.approx(every.coverage_before)
    assert none.capex == 0 and "open" not in set(none.decisions["action"])
    one = with_opened(prep, every, (str(new.iloc[0]),))
    assert every.coverage_before <= one.coverage_after <= every.coverage_after
    assert one.capex == pytest.approx(float(every.decisions.loc[
        every.decisions["site_id"] == new.iloc[0], "capex"].iloc[0]))


def test_one_budget_without_an_outlet_plan_is_an_error(small_synth: Path,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\narea = "{small_synth}"\n[outlets]\nenabled = false\n'
                    '[budget]\nincludes_outlets = true\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scenarios", "validate", str(path)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert "budget.includes_outlets" in said and "outlets.enabled = true" in said


@pytest.mark.parametrize(("objective", "weeks", "years"), [
    ("value", 52, 1 + 0.9 / 1.1 + (0.9 / 1.1) ** 2),   # 10% churn a year: kept 0.9
    ("value", 26, 1 + 0.8 / 1.1 + (0.8 / 1.1) ** 2),   # the same churn in half a year
    ("customers", 52, 1 + 0.9 / 1.1 + (0.9 / 1.1) ** 2),
    ("margin", 52, 1.0),                                # a year's margin, by name
])
def test_an_outlets_value_counts_the_years_its_customers_stay(
        small_synth: Path, objective: str, weeks: int, years: float) -> None:
    # today's network in two replications: 5 churn events over 50 customers held in each
    # (columns: new customers, churn events, deposits, mean customers held)
    today = np.array([[3.0, 5.0, 1_000.0, 50.0], [4.0, 5.0, 1_100.0, 50.0]])
    sc = Scenario(name="t", area=str(small_synth),
                  finance={"discount_rate": 0.10, "horizon_years": 3},
                  budget={"objective": objective})
    assert _value_years(sc, today, weeks) == pytest.approx(years)
