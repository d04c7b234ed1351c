"""The planning stages from a scenario, and ``sitesim site`` / ``sitesim allocate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.assumptions import VISITS_PER_CUSTOMER_WEEK
from scenarios import plans
from scenarios.curves import simulate_curves
from scenarios.schema import Scenario
from simulation import SimulationParams


def sitesim(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SITESIM_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True,
                          text=True, timeout=600, check=False, env=env)


def scenario_file(tmp_path: Path, area: Path, body: str, name: str = "t") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\narea = "{area}"\n{body}', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prepared(small_synth: Path) -> plans.Prepared:
    return plans.prepare(Scenario(name="t", area=str(small_synth),
                                  outlets={"max_new": {"micro_branch": 1, "smart_atm": 2}},
                                  events={"count": {"financial_literacy": 2, "anti_fraud": 1},
                                          "weeks": (1, 4)}))


def test_stages_chain(prepared: plans.Prepared) -> None:
    siting = plans.outlet_plan(prepared)
    opened = siting.decisions[siting.decisions["action"] == "open"]
    assert (opened["kind"] == "micro_branch").sum() <= 1
    assert (opened["kind"] == "smart_atm").sum() <= 2
    assert siting.coverage_after >= siting.coverage_before
    outlets = plans.open_outlets(prepared, siting)
    assert set(opened["site_id"]) <= set(outlets.index)
    assert (outlets["status"] == "new").sum() == len(opened)
    events = plans.event_plan(prepared, outlets)
    assert events is not None
    assert events.schedule["event_type"].value_counts().to_dict() == {
        "financial_literacy": 2, "anti_fraud": 1}
    assert events.schedule["week"].between(1, 4).all()
    staff = plans.staff_plan(prepared, outlets, events)
    assert staff.weeks["week"].tolist() == list(range(1, 53))
    assert (staff.weeks["outlet_staff"] + staff.weeks["event_staff"] <= 40).all()
    # visits: every customer is counted once, at a staffed outlet
    visits = plans.expected_visits(prepared, outlets)
    c = prepared.area.communities
    customers = (c["customers"].sum() if "customers" in c
                 else prepared.area.adults.sum() * 0.2)
    rate = prepared.scenario.staff.visits_per_customer_week
    assert rate == VISITS_PER_CUSTOMER_WEEK  # the simulation's congestion counts the same
    assert visits.sum() == pytest.approx(customers * rate)
    assert visits[outlets["kind"] == "smart_atm"].sum() == 0


def test_curves_are_per_adult_and_cached(prepared: plans.Prepared, tmp_path: Path) -> None:
    outlets = plans.open_outlets(prepared, None)
    inputs = plans.simulation_inputs(prepared, outlets)
    params = SimulationParams(weeks=12, max_agents=2_000)
    curves = simulate_curves(inputs, params, reference=20_000, channels=("sms", "kol_live"),
                             levels=(0.5, 1.0, 2.0), cache_dir=tmp_path)
    assert set(curves["channel"]) == {"sms", "kol_live"}
    assert (curves["k"] > 0).all() and (curves["rmax"] >= 0).all()
    # reach depends on spend per adult: a community's k is the same per adult everywhere
    adults = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1)
    per_adult = curves["k"] / curves["community_id"].map(adults)
    spread = per_adult.groupby([curves["channel"], curves["segment"]]).agg(["min", "max"])
    assert np.allclose(spread["min"], spread["max"], rtol=1e-9)
    # the fit is kept: replications, multipliers and their quality
    assert curves["sweep_replications"].between(2, 3).all()
    assert (curves["multiplier"] > 0).all() and curves["community_r2"].notna().all()
    # each segment's customers' retention a year and a year's margin per new customer,
    # from which the objective values them (scenarios.lifetime.valued_curves)
    assert curves["retention_year"].between(0.5, 1.0).all()
    assert (curves["margin_per_customer"] >= 0).all()
    again = simulate_curves(inputs, params, reference=20_000, channels=("sms", "kol_live"),
                            levels=(0.5, 1.0, 2.0), cache_dir=tmp_path)
    pd.testing.assert_frame_equal(curves, again)
    assert len(list(tmp_path.glob("curves-*.parquet"))) == 1


def test_site_cli_prints_and_writes(small_synth: Path, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, small_synth, """
[outlets]
max_new = { micro_branch = 1, smart_atm = 2 }
[events]
count = { financial_literacy = 2 }
weeks = [1, 4]
""")
    out = tmp_path / "out"
    result = sitesim("site", str(path), "--out", str(out), cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "Outlet plan: t" in result.stdout and "Event plan: t" in result.stdout
    assert "why: " in result.stdout and "coverage within 15 min" in result.stdout
    # captured output: no solver banner, no styling, every path on one line
    assert "HiGHS" not in result.stdout and "\x1b[" not in result.stdout + result.stderr
    assert f"wrote {out / 'plan_outlets.parquet'}" in result.stdout.splitlines()
    outlets = pd.read_parquet(out / "plan_outlets.parquet")
    assert {"site_id", "kind", "action", "capex", "x", "y"} <= set(outlets.columns)
    assert (outlets["action"] == "open").sum() <= 3
    events = pd.read_parquet(out / "plan_events.parquet")
    assert len(events) == 2 and (events["event_type"] == "financial_literacy").all()


@pytest.mark.parametrize(("body", "expected"), [
    ("[outlets]\nmax_new = { smart_atm = 1 }\nmin_coverage_share = 1.0\n",
     "outlets.min_coverage_share = 100% is out of reach"),
    ("[events]\ncount = { anti_fraud = 500 }\nweeks = [1, 2]\n",
     "events.count asks for 500 events"),
])
def test_site_infeasible_exits_3_and_writes_nothing(small_synth: Path, tmp_path: Path,
                                                    body: str, expected: str) -> None:
    path = scenario_file(tmp_path, small_synth, body)
    out = tmp_path / "out"
    result = sitesim("site", str(path), "--out", str(out), cache=tmp_path / "cache")
    assert result.returncode == 3, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def _curves_csv(prepared: plans.Prepared, path: Path) -> Path:
    rows = [{"community_id": c, "channel": ch, "segment": "36-55/middle", "form": "exponential",
             "rmax": 50.0, "k": 10_000.0 * (1 + i % 3), "h": 1.0}
            for i, c in enumerate(prepared.area.communities.index)
            for ch in ("sms", "social_media", "merchant_alliance")]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_allocate_cli_with_curves(prepared: plans.Prepared, small_synth: Path,
                                  tmp_path: Path) -> None:
    curves = _curves_csv(prepared, tmp_path / "curves.csv")
    path = scenario_file(tmp_path, small_synth, """
[budget]
total = 100000
policy = { maintenance = 0.3, growth = 0.3, brand = 0.4, reserve = 0.0 }
[events]
count = { financial_literacy = 1 }
weeks = [1, 2]
""")
    out = tmp_path / "out"
    result = sitesim("allocate", str(path), "--out", str(out), "--curves", str(curves),
                     cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "Staff plan, week 1" in result.stdout and "Budget by channel" in result.stdout
    assert "one more unit of budget buys" in result.stdout
    budget = pd.read_parquet(out / "plan_budget.parquet")
    assert budget["spend"].sum() == pytest.approx(100_000, rel=1e-6)
    by_channel = budget.groupby("channel")["spend"].sum()
    assert by_channel["sms"] == pytest.approx(30_000, rel=1e-6)  # maintenance, exactly
    staff = pd.read_parquet(out / "plan_staff.parquet")
    assert {"week", "outlet_id", "staff", "visits", "unserved"} <= set(staff.columns)


@pytest.mark.parametrize(("body", "expected"), [
    ("[staff]\nrelationship_managers = 5\n", "minimum staffing takes"),
    ("[budget]\ntotal = 100000\nmin_roi = 1000\n"
     "policy = { maintenance = 0.3, growth = 0.3, brand = 0.4, reserve = 0.0 }\n",
     "budget.min_roi = 1000"),
])
def test_allocate_infeasible_exits_3(prepared: plans.Prepared, small_synth: Path,
                                     tmp_path: Path, body: str, expected: str) -> None:
    curves = _curves_csv(prepared, tmp_path / "curves.csv")
    path = scenario_file(tmp_path, small_synth, "[events]\nenabled = false\n" + body)
    out = tmp_path / "out"
    result = sitesim("allocate", str(path), "--out", str(out), "--curves", str(curves),
                     cache=tmp_path / "cache")
    assert result.returncode == 3, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_allocate_bad_curves_file_exits_2(small_synth: Path, tmp_path: Path) -> None:
    path = scenario_file(tmp_path, small_synth, "")
    result = sitesim("allocate", str(path), "--curves", str(tmp_path / "nope.csv"),
                     cache=tmp_path / "cache")
    assert result.returncode == 2
    assert "nope.csv: no such curves file" in result.stderr


def test_events_without_free_staff_name_the_minimum_staffing(prepared: plans.Prepared) -> None:
    from dataclasses import replace

    from optimizer import PlanInfeasibleError

    tight = replace(prepared, scenario=prepared.scenario.model_copy(
        update={"staff": prepared.scenario.staff.model_copy(
            update={"relationship_managers": 5})}))
    outlets = plans.open_outlets(prepared, None)
    with pytest.raises(PlanInfeasibleError, match=r"the outlets' minimum staffing takes \d+ "
                                                  r"relationship managers .* "
                                                  r"staff.relationship_managers = 5 leaves "
                                                  r"none for the 3 events"):
        plans.event_plan(tight, outlets)


def test_an_event_plan_out_of_time_names_its_time_limit(
        prepared: plans.Prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver found no plan in its time (a large city's many events): the scenario's
    own key to raise is named, with its value; a plan proven infeasible is left as it is."""
    from dataclasses import replace

    from optimizer import PlanInfeasibleError

    seen: dict[str, float] = {}

    def out_of_time(*args: object, **kwargs: object) -> None:
        seen["limit"] = float(kwargs["time_limit_s"])  # type: ignore[arg-type]
        raise PlanInfeasibleError("the solver stopped without an event plan (not solved); "
                                  "raise the time limit", timed_out=True)

    slow = replace(prepared, scenario=prepared.scenario.model_copy(
        update={"events": prepared.scenario.events.model_copy(
            update={"time_limit_s": 240.0})}))
    outlets = plans.open_outlets(prepared, None)
    monkeypatch.setattr(plans, "plan_events", out_of_time)
    with pytest.raises(PlanInfeasibleError, match=r"no plan for \d+ events found within "
                                                  r"events.time_limit_s = 240; raise it"):
        plans.event_plan(slow, outlets)
    assert seen["limit"] == 240.0

    def proven(*args: object, **kwargs: object) -> None:
        raise PlanInfeasibleError("events.budget = 10 is too small")

    monkeypatch.setattr(plans, "plan_events", proven)
    with pytest.raises(PlanInfeasibleError, match=r"events\.budget = 10 is too small"):
        plans.event_plan(slow, outlets)


def test_events_for_some_communities_go_near_them(prepared: plans.Prepared) -> None:
    from dataclasses import replace

    m = prepared.venue_minutes
    target = [str(m.min(axis=1).idxmin())]  # a community with a venue close by
    ev = prepared.scenario.events.model_copy(update={"communities": tuple(target)})
    focused = replace(prepared, scenario=prepared.scenario.model_copy(update={"events": ev}))
    outlets = plans.open_outlets(prepared, None)
    plan = plans.event_plan(focused, outlets)
    assert plan is not None and len(plan.schedule) == 3
    # every event is within the walk of the target, and only its residents are counted
    assert (m.loc[target[0], plan.schedule["venue_id"]] <= ev.max_walk_minutes).all()
    assert set(plan.by_community["community_id"]) == set(target)
    whole = plans.event_plan(prepared, outlets)
    assert whole is not None and plan.attendance < whole.attendance


def test_unknown_community_ids_exit_2_naming_the_key(small_synth: Path, tmp_path: Path) -> None:
    body = ('[events]\ncommunities = ["NOPE1"]\n[[campaigns]]\nchannel = "sms"\nspend = 100\n'
            'communities = ["NOPE2", "NOPE3"]\n')
    path = scenario_file(tmp_path, small_synth, body)
    result = sitesim("run", str(path), "--runs", str(tmp_path / "runs"),
                     cache=tmp_path / "cache")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert any("t: campaigns[0].communities: 2 id(s) are not communities of" in line
               and "NOPE2, NOPE3" in line for line in lines), lines
    assert any("t: events.communities: 1 id(s)" in line and "NOPE1" in line for line in lines)
    assert not list((tmp_path / "runs").glob("t-*"))
