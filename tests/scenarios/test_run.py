"""One scenario end to end into a run folder: contents, resume, nothing half written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import scenarios.curves as curves_module
import scenarios.run as run_module
from scenarios._fingerprint import code_fingerprint
from scenarios.curves import sweep_key
from scenarios.run import run_scenario
from scenarios.schema import Scenario, ScenarioError
from simulation import CHANNELS, SimulationParams

FILES = ("manifest.json", "scores.parquet", "plan_outlets.parquet", "plan_events.parquet",
         "plan_staff.parquet", "plan_budget.parquet", "curves.parquet", "timeseries.parquet",
         "kpis.parquet", "uplift_by_community.parquet")


def small(area: Path, **over: object) -> Scenario:
    base: dict[str, object] = {
        "name": "small", "area": str(area), "seed": 3,
        "outlets": {"max_new": {"micro_branch": 1, "smart_atm": 1}},
        "events": {"count": {"financial_literacy": 1}, "weeks": (1, 4)},
        "budget": {"total": 60_000},
        "simulation": {"weeks": 8, "replications": 3, "max_agents": 2_000},
    }
    base.update(over)
    return Scenario.model_validate(base)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_run_folder_contents(small_synth: Path, tmp_path: Path) -> None:
    result = run_scenario(small(small_synth), runs_dir=tmp_path)
    assert result.status == "complete"
    assert result.path.name == result.run_id and result.run_id.startswith("small-")
    for name in FILES:
        assert (result.path / name).exists(), name
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 3
    assert manifest["scenario"]["budget"]["total"] == 60_000
    assert set(manifest["timings"]) >= {"outlet plan", "response curves", "budget plan",
                                        "simple rules"}
    # the plan checked by its simulation: each round, and the simple rules beside it
    checked = manifest["summary"]["budget"]
    assert 1 <= len(checked["rounds"]) <= 3
    last = checked["rounds"][-1]
    assert last["low"] <= last["simulated"] <= last["high"] and last["forecast"] > 0
    assert {r["rule"] for r in checked["rules"]} == {"equal", "adults"}
    assert all(r["low"] <= r["advantage"] <= r["high"] for r in checked["rules"])
    assert set(checked["curves"]) == set(CHANNELS)
    m = checked["marginal_check"]
    assert m["step"] == 0.1 and m["low"] <= m["simulated"] <= m["high"]
    kpis = pd.read_parquet(result.path / "kpis.parquet")
    assert len(kpis) == 3 and (kpis["run_id"] == result.run_id).all()
    # the simulation spends the budget plan over its horizon (8 weeks here) and holds the
    # planned event (its cost in the week planned)
    budget = pd.read_parquet(result.path / "plan_budget.parquet")
    events = pd.read_parquet(result.path / "plan_events.parquet")
    assert len(events) == 1
    total = budget["spend"].sum() + events["cost"].sum()
    # community_event money holds whole events: what is left at the end is not spent
    manifest_campaigns = manifest["campaigns"]
    events_campaigns = sum(c["channel"] == "community_event" for c in manifest_campaigns)
    most = float(small_synth_venue_cost(small_synth)) * events_campaigns
    assert (kpis["spend"] <= total + 1e-6).all()
    assert (kpis["spend"] > total - most - 1e-6).all()
    ts = pd.read_parquet(result.path / "timeseries.parquet")
    assert set(ts["arm"]) == {"campaign", "counterfactual"}
    campaign = ts[(ts["arm"] == "campaign") & (ts["replication"] == 0)]
    assert campaign["spend"].sum() == pytest.approx(total, rel=1e-6)
    week = campaign[campaign["week"] == events["week"].iloc[0]]["spend"].sum()
    assert week == pytest.approx(budget["spend"].sum() / 8 + events["cost"].iloc[0], rel=1e-6)
    assert (kpis["event_attendance"] > 0).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # what the run checked against the envelope of published figures, and the channels
    assert isinstance(manifest["warnings"], list)
    channels = {c["channel"]: c for c in manifest["summary"]["channels"]}
    assert set(channels) == {*CHANNELS, "organic"}
    assert sum(c["spend"] for c in channels.values()) == pytest.approx(kpis["spend"].mean())
    assert manifest["inputs"]["code_fingerprint"] == code_fingerprint()
    # strict JSON: an undefined KPI (a NaN) is null, never the token NaN
    json.loads((result.path / "manifest.json").read_text(),
               parse_constant=lambda token: pytest.fail(f"manifest holds {token}"))


def test_a_scenario_from_a_dict_runs_like_its_file(small_synth: Path, tmp_path: Path) -> None:
    """load_scenario takes the tables as a dict, checked as a file would be, with relative
    paths read from base_dir: the same scenario, the same run id."""
    from scenarios import load_scenario

    text = (f'name = "small"\narea = "{small_synth.name}"\nseed = 3\n[budget]\n'
            'total = 60_000\n[simulation]\nweeks = 8\nreplications = 3\nmax_agents = 2_000\n')
    (small_synth.parent / "small.toml").write_text(text)
    from_file = load_scenario(small_synth.parent / "small.toml")
    from_dict = load_scenario({"name": "small", "area": small_synth.name, "seed": 3,
                               "budget": {"total": 60_000},
                               "simulation": {"weeks": 8, "replications": 3,
                                              "max_agents": 2_000}},
                              base_dir=small_synth.parent)
    assert from_dict == from_file
    digest = run_module.area_hash(from_file.area)
    assert run_module.run_id(from_dict, digest) == run_module.run_id(from_file, digest)
    with pytest.raises(ScenarioError, match="2 problem") as bad:
        load_scenario({"name": "bad", "budget": {"total": -1}, "colour": "red"})
    assert any("<scenario 'bad'>: colour: unknown key" in line for line in bad.value.lines())


def test_the_run_hash_follows_the_code_and_the_files_named(small_synth: Path,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Another version of sitesim's code, or another curves file at the same path, is
    another run (and another curve cache entry), never a stale one taken for it."""
    curves = tmp_path / "curves.csv"
    curves.write_text("community_id,channel,segment,form,rmax,k,h\n")
    sc = small(small_synth, budget={"total": 60_000, "curves": str(curves)})
    digest = run_module.area_hash(sc.area)
    first = run_module.run_id(sc, digest)
    curves.write_text("community_id,channel,segment,form,rmax,k,h\nX,sms,56+/low,hill,1,1,1\n")
    assert run_module.run_id(sc, digest) != first
    key = sweep_key(pd.DataFrame({"a": [1.0]}), SimulationParams(), 1.0, (1.0,), 1, 0)
    monkeypatch.setattr(run_module, "code_fingerprint", lambda: "other code")
    monkeypatch.setattr(curves_module, "code_fingerprint", lambda: "other code")
    assert run_module.run_id(sc, digest) != first
    assert sweep_key(pd.DataFrame({"a": [1.0]}), SimulationParams(), 1.0, (1.0,), 1, 0) != key


def small_synth_venue_cost(area: Path) -> float:
    from geo import load_area

    venues = load_area(area).venues
    return float(venues["cost_per_event"].max()) if "cost_per_event" in venues else 800.0


def test_resume_skips_and_same_seed_same_kpis(small_synth: Path, tmp_path: Path) -> None:
    first = run_scenario(small(small_synth), runs_dir=tmp_path)
    again = run_scenario(small(small_synth), runs_dir=tmp_path)
    assert again.status == "skipped" and again.path == first.path
    kpis = (first.path / "kpis.parquet").read_bytes()
    other = run_scenario(small(small_synth), runs_dir=tmp_path / "elsewhere")
    assert (other.path / "kpis.parquet").read_bytes() == kpis
    changed = run_scenario(small(small_synth, seed=4), runs_dir=tmp_path)
    assert changed.run_id != first.run_id


def test_crash_leaves_no_run_folder(small_synth: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(run_module.plans, "staff_plan", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_scenario(small(small_synth), runs_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_zero_budget_runs_and_checks_nothing_it_cannot(small_synth: Path,
                                                         tmp_path: Path) -> None:
    result = run_scenario(small(small_synth, name="zero", budget={"total": 0},
                                outlets={"enabled": False}), runs_dir=tmp_path)
    budget = json.loads((result.path / "manifest.json").read_text())["summary"]["budget"]
    assert budget["spend"] == 0 and budget["marginal_check"] is None
    assert budget["rounds"][-1]["forecast"] == 0


def test_stages_switched_off(small_synth: Path, tmp_path: Path) -> None:
    sc = small(small_synth, outlets={"enabled": False}, budget={"enabled": False},
               events={"enabled": False}, staff={"enabled": False},
               campaigns=[{"channel": "sms", "spend": 5_000, "weeks": (1, 8)}])
    result = run_scenario(sc, runs_dir=tmp_path)
    assert not (result.path / "plan_budget.parquet").exists()
    kpis = pd.read_parquet(result.path / "kpis.parquet")
    assert kpis["spend"].mean() == pytest.approx(5_000)
    outlets = pd.read_parquet(result.path / "plan_outlets.parquet")
    assert (outlets["action"] == "keep").all()


def test_sitesim_run_ends_with_the_headline_and_the_folder(small_synth: Path,
                                                          tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = tmp_path / "small.toml"
    # last year's split: everything on sms in two communities
    from geo import load_area

    ids = list(load_area(str(small_synth)).communities.index[:2])
    (tmp_path / "last.csv").write_text("community_id,channel,spend\n" + "".join(
        f"{c},sms,20000\n" for c in ids))
    path.write_text(f'name = "small"\narea = "{small_synth}"\nseed = 3\n[outlets]\n'
                    'enabled = false\n[budget]\ntotal = 60_000\nprevious = "last.csv"\n'
                    '[simulation]\nweeks = 8\nreplications = 3\nmax_agents = 2_000\n')
    env = {**os.environ, "SITESIM_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "scenarios", "run", str(path), "--runs",
                          str(tmp_path / "runs")], capture_output=True, text=True,
                         timeout=600, check=False, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    folder = Path(lines[-1])
    assert folder.parent == tmp_path / "runs" and (folder / "manifest.json").exists()
    assert "headline KPIs (mean ±95% interval over 3 replications):" in lines
    kpis = json.loads((folder / "manifest.json").read_text())["summary"]["kpis"]
    row = next(line for line in lines if line.strip().startswith("uplift_new_customers"))
    from scenarios.store import format_kpi

    assert row.split()[1] == format_kpi(kpis["uplift_new_customers"]["mean"])
    assert any(line.strip().startswith("yearly_attrition") for line in lines)
    # the budget plan's checks: the round(s) and the simple rules
    checks = [line for line in lines if "round 1" in line or "vs equal" in line
              or "vs adults" in line or "vs previous" in line]
    assert len(checks) >= 4, out.stdout
    # a bad split of last year is found by validate, every row at once, exit 2
    (tmp_path / "last.csv").write_text("community_id,channel,spend\nnope,sms,1\n"
                                       f"{ids[0]},fax,-1\n")
    bad = subprocess.run([sys.executable, "-m", "scenarios", "validate", str(path)],
                         capture_output=True, text=True, timeout=600, check=False, env=env)
    assert bad.returncode == 2, bad.stderr
    assert "row 2: community_id" in bad.stderr and "row 3: channel" in bad.stderr
    assert "row 3: spend" in bad.stderr
