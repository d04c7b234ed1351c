"""A mobile van in a run: its week planned on the area's streets, written and summarized,
and given to the simulation as each community's share of the week in its reach; its
stops and home checked against the area by key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import load_area
from geo.errors import InputError
from scenarios import plans
from scenarios.run import run_scenario
from scenarios.schema import Scenario
from scenarios.van import van_inputs, van_plan

BASE = {"name": "van", "seed": 3, "events": {"enabled": False}, "outlets": {"enabled": False},
        "budget": {"total": 30_000},
        "simulation": {"weeks": 8, "replications": 2, "max_agents": 2_000}}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _scenario(area: Path, **van: object) -> Scenario:
    return Scenario.model_validate({**BASE, "area": str(area),
                                    "van": {"enabled": True, "days": 3, **van}})


def test_the_vans_reach_is_what_its_week_serves(small_synth: Path) -> None:
    prep = plans.prepare(_scenario(small_synth))
    week = van_plan(prep)
    assert week.proven_optimal and len(week.schedule)
    assert set(week.schedule["day"]) <= {1, 2, 3}
    inputs = van_inputs(prep, plans.simulation_inputs(prep, plans.open_outlets(prep, None)),
                        week)
    # the adult-days of the plan, from its demand points, equal the share of the week
    # in reach times the adults, summed over the communities of the inputs
    adults = prep.area.adults.astype(float).reindex(inputs.index).to_numpy()
    assert float((inputs["van_share"] * adults).sum()) * 7 == pytest.approx(week.adult_days)
    reached = inputs["van_share"] > 0
    assert reached.any() and np.isfinite(inputs.loc[reached, "van_min"]).all()
    # the van's minutes are those of the residents it reaches: within the walk, even in a
    # community the van reaches only in part
    assert (inputs.loc[reached, "van_min"] <= 15 + 1e-6).all()
    assert (~np.isfinite(inputs.loc[~reached, "van_min"])).all()
    assert (inputs["van_share"] <= 3 / 7 + 1e-12).all()


def test_a_run_with_a_van_writes_its_week(small_synth: Path, tmp_path: Path) -> None:
    run = run_scenario(_scenario(small_synth), runs_dir=tmp_path)
    table = pd.read_parquet(run.path / "plan_van.parquet")
    assert {"day", "day_name", "stop_id", "stop_name", "arrive_min"} <= set(table.columns)
    summary = json.loads((run.path / "manifest.json").read_text())["summary"]["van"]
    assert summary["stops"] == table["stop_id"].nunique() and summary["weekly_reach"] > 0


def test_the_vans_sites_are_checked_by_key(small_synth: Path) -> None:
    with pytest.raises(InputError) as info:
        van_plan(plans.prepare(_scenario(small_synth, stops=["S001", "NOPE"])))
    assert "van.stops" in info.value.lines()[0] and "NOPE" in info.value.lines()[0]
    with pytest.raises(InputError) as info:
        van_plan(plans.prepare(_scenario(small_synth, home="NOPE")))
    assert "van.home" in info.value.lines()[0]
    candidates = load_area(small_synth).candidates
    assert (candidates["kinds"] == "mobile_van").any()  # the default stops exist here


def test_the_vans_stops_by_day_on_the_map(small_synth: Path, tmp_path: Path) -> None:
    from dashboard.app import map_view
    from dashboard.map_layers import map_layers
    from dashboard.report_figures import map_png

    run = run_scenario(_scenario(small_synth), runs_dir=tmp_path)
    table = pd.read_parquet(run.path / "plan_van.parquet")
    _, fig = map_view(run.run_id, "score", tmp_path)
    days = {t.name: t for t in fig.data if str(t.name).startswith("van stops, ")}
    assert sorted(days) == sorted(f"van stops, {d}" for d in table["day_name"].unique())
    for name, trace in days.items():
        here = table[table["day_name"] == name.removeprefix("van stops, ")]
        assert len(trace.x) == len(here)
        assert all(h.startswith("van stop ") for h in trace.hovertext)
    assert len(map_png(map_layers(run.run_id, tmp_path))) > 1000  # the report's map too
