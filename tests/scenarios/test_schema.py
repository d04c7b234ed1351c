"""Scenario files: defaults, extends, and every error at once with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import ScenarioError, load_scenario


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_extends_override(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", """
name = "baseline"
seed = 7
[budget]
total = 2_000_000
online_share = 0.6
[[campaigns]]
channel = "community_event"
segments = ["56+"]
weeks = [1, 12]
spend = 200_000
""")
    child = write(tmp_path, "child.toml", """
name = "youth-digital-push"
extends = "base.toml"
[budget]
total = 3_000_000
[scoring]
weights = { youth_share = 0.5, income = 0.2, access_gap = 0.3 }
""")
    s = load_scenario(child)
    assert s.name == "youth-digital-push" and s.seed == 7
    assert s.budget.total == 3_000_000 and s.budget.online_share.min == 0.6  # merged table
    assert s.campaigns[0].segments == ("56+",)
    assert s.scoring.weights == {"youth_share": 0.5, "income": 0.2, "access_gap": 0.3}
    assert s.area == "builtin:sample-city"
    with pytest.raises(Exception, match="frozen"):
        s.seed = 3  # type: ignore[misc]


def test_every_error_at_once_with_key_paths(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.toml", """
name = "bad"
colour = "red"
[budget]
total = -5
[outlets]
max_new = { kiosk = 2 }
[[campaigns]]
channel = "tv"
segments = ["old"]
spend = "lots"
weeks = [50, 60]
[sweep]
"budget.totl" = [1, 2]
""")
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    lines = info.value.lines()
    expected = [
        "colour: unknown key (got 'red')",
        "budget.total: Input should be greater than or equal to 0 (got -5)",
        "outlets.max_new: unknown outlet kind(s) ['kiosk']",
        "campaigns[0].channel: Input should be 'community_event'",
        "campaigns[0].segments: unknown segment(s) ['old']",
        "campaigns[0].spend: Input should be a valid number",
        "campaigns[0].weeks: [50, 60] ends after the simulation's 52 weeks",
        "sweep.budget.totl: sweeps over a key that does not exist",
    ]
    for text in expected:
        assert any(text in line and str(bad) in line for line in lines), text
    assert len(lines) == len(expected)


def test_cycle_of_extends(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'name = "a"\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", 'name = "b"\nextends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="1 problem") as info:
        load_scenario(tmp_path / "a.toml")
    assert "a cycle of extends: a.toml -> b.toml -> a.toml" in info.value.lines()[0]


def test_missing_area_and_late_campaign(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", """
name = "s"
area = "packs/nowhere"
[simulation]
weeks = 52
[[campaigns]]
channel = "sms"
weeks = [50, 60]
spend = 1000
""")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = "\n".join(info.value.lines())
    assert "area: no study area at" in text and "nowhere" in text
    assert "campaigns[0].weeks: [50, 60] ends after the simulation's 52 weeks" in text


def test_events_within_the_horizon(tmp_path: Path) -> None:
    """events.weeks written beyond the run is an error (as for campaigns); by default the
    events take the first 12 weeks, or the whole of a shorter run."""
    short = write(tmp_path, "short.toml", 'name = "short"\n[simulation]\nweeks = 8\n')
    assert load_scenario(short).events.weeks is None
    late = write(tmp_path, "late.toml", 'name = "late"\n[events]\nweeks = [1, 20]\n'
                 '[simulation]\nweeks = 8\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(late)
    [line] = info.value.lines()
    assert "events.weeks: [1, 20] ends after the simulation's 8 weeks" in line


def test_the_budgets_weeks_are_checked(tmp_path: Path) -> None:
    """budget.weeks within the run, not with one budget for outlets (a year's cost), and
    at least four weeks when quarterly; each one line with its key path."""
    for body, said in (
            ("[budget]\nweeks = [30, 60]\n", "budget.weeks: [30, 60] ends after the "
                                               "simulation's 52 weeks"),
            ("[budget]\nweeks = [30, 52]\nincludes_outlets = true\n",
             "budget: weeks is set with includes_outlets = true"),
            ("[budget]\nweeks = [50, 52]\nquarterly = true\n",
             "budget: weeks [50, 52] with quarterly = true: four quarters need at least 4")):
        path = write(tmp_path, "b.toml", f'name = "b"\n{body}')
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        [line] = info.value.lines()
        assert said in line, line
    ok = write(tmp_path, "ok.toml", 'name = "ok"\n[budget]\nweeks = [49, 52]\n'
               "quarterly = true\n")
    assert load_scenario(ok).budget.weeks == (49, 52)


def test_a_campaigns_default_weeks_past_a_short_run_are_named(tmp_path: Path) -> None:
    """A campaign without weeks runs weeks 1-52; in an 8-week run that is one problem with
    its key path (it was refused with "0 problem(s)" and nothing said)."""
    short = write(tmp_path, "short.toml", 'name = "short"\n[simulation]\nweeks = 8\n'
                  '[[campaigns]]\nchannel = "sms"\nspend = 100\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(short)
    [line] = info.value.lines()
    assert ("campaigns[0].weeks: [1, 52] (the default) ends after the simulation's 8 weeks"
            in line and "end it by week 8" in line)


def test_sweep_values_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", 'name = "s"\n[sweep]\n"budget.total" = [1000, -1]\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [line] = info.value.lines()
    assert "sweep.budget.total[1]: budget.total" in line and "(got -1)" in line


def test_policy_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", 'name = "s"\n[budget]\npolicy = { maintenance = 0.5, '
                 'growth = 0.4, brand = 0.3, reserve = 0.1 }\n')
    with pytest.raises(ScenarioError, match="1 problem") as info:
        load_scenario(path)
    assert "budget.policy: policy shares sum to 1.3" in info.value.lines()[0]


def test_scenario_channels_are_the_simulations() -> None:
    from typing import get_args

    from scenarios.schema import Channel
    from simulation import CHANNELS

    assert get_args(Channel) == CHANNELS


def test_curves_path_is_relative_to_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "plans"
    sub.mkdir()
    (sub / "s.toml").write_text('name = "s"\n[budget]\ncurves = "curves.csv"\n',
                                encoding="utf-8")
    scenario = load_scenario(sub / "s.toml")
    assert scenario.budget.curves == str((sub / "curves.csv").resolve())


def test_a_swept_value_does_not_repeat_the_scenarios_own_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", 'name = "s"\ncolour = "red"\n'
                 '[sweep]\n"budget.total" = [1000, -1, 2000]\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = info.value.lines()
    assert len(lines) == 2, lines
    assert "colour: unknown key" in lines[1] and "sweep.budget.total[1]" in lines[0]


def test_latin_hypercube_problems_each_with_its_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", """
name = "s"
[sweep]
"budget.total" = [1000, 2000]
[sweep.latin_hypercube]
samples = 0
seed = -3
"budget.total" = [1000, 3000]
"events.budget" = [30000, 10000]
"outlets.objective" = [1, 2]
"budget.totl" = [1, 2]
"simulation.replications" = [2.5, 8]
"staff.minutes_per_visit" = [-1, 8]
""")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = info.value.lines()
    expected = [
        "sweep.latin_hypercube.samples: got 0",
        "sweep.latin_hypercube.seed: got -3",
        "sweep.latin_hypercube.budget.total: is also in the grid of [sweep]",
        "sweep.latin_hypercube.events.budget: got [30000, 10000]; give the range to draw "
        "from as [low, high], low <= high",
        "sweep.latin_hypercube.outlets.objective: a Latin hypercube varies numbers",
        "sweep.latin_hypercube.budget.totl: sweeps over a key that does not exist",
        "sweep.latin_hypercube.simulation.replications: got [2.5, 8]; "
        "simulation.replications takes whole numbers",
        "sweep.latin_hypercube.staff.minutes_per_visit[0]: staff.minutes_per_visit: "
        "Input should be greater than 0 (got -1)",
    ]
    for text in expected:
        assert sum(text in line for line in lines) == 1, (text, lines)
    assert len(lines) == len(expected), lines


def test_a_latin_hypercube_needs_a_range(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", 'name = "s"\n[sweep.latin_hypercube]\nsamples = 4\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [line] = info.value.lines()
    assert "sweep.latin_hypercube: names no key to vary" in line


def test_the_model_checks_a_sweep_built_in_python() -> None:
    from scenarios import Scenario

    with pytest.raises(ValueError, match=r"sweep\.budget\.totl: sweeps over a key"):
        Scenario.model_validate({"name": "s", "sweep": {"budget.totl": [1, 2]}})
    ok = Scenario.model_validate({"name": "s", "sweep": {
        "latin_hypercube": {"samples": 3, "budget.total": [1, 2]}}})
    assert ok.sweep["latin_hypercube"]["samples"] == 3


def test_target_share_needs_its_share() -> None:
    base = {"name": "t", "area": "builtin:sample-city"}
    with pytest.raises(ScenarioError) as info:
        load_scenario({**base, "outlets": {"objective": "target_share"}})
    assert "needs target_share" in str(info.value.problems[0])
    with pytest.raises(ScenarioError):
        load_scenario({**base, "outlets": {"objective": "target_share", "target_share": 1.5}})
    sc = load_scenario({**base, "outlets": {"objective": "target_share", "target_share": 0.3}})
    assert sc.outlets.target_share == 0.3


def test_min_cost_needs_its_costs() -> None:
    base = {"name": "t", "area": "builtin:sample-city"}
    with pytest.raises(ScenarioError) as info:
        load_scenario({**base, "outlets": {"objective": "min_cost",
                                           "cost_per_adult_minute": 0.5}})
    assert "cost_per_unserved_adult" in str(info.value.problems[0])
    sc = load_scenario({**base, "outlets": {"objective": "min_cost", "cost_per_adult_minute": 0.5,
                                            "cost_per_unserved_adult": 20}})
    assert sc.outlets.cost_per_unserved_adult == 20


def test_capacity_rows_where_an_objective_takes_them() -> None:
    base = {"name": "t", "area": "builtin:sample-city"}
    with pytest.raises(ScenarioError) as info:
        load_scenario({**base, "outlets": {"objective": "max_share", "visits_per_adult": 0.02,
                                           "max_new": {"smart_atm": 2}}})
    assert "does not take visits_per_adult" in str(info.value.problems[0])
    with pytest.raises(ScenarioError):
        load_scenario({**base, "outlets": {"visits_per_adult": 0}})
    sc = load_scenario({**base, "outlets": {"objective": "p_center", "visits_per_adult": 0.02}})
    assert sc.outlets.visits_per_adult == 0.02


def test_value_per_covered_adult_where_it_is_weighed() -> None:
    base = {"name": "t", "area": "builtin:sample-city"}
    for outlets, said in (({"objective": "p_median", "value_per_covered_adult": 30},
                           "not 'p_median'"),
                          ({"value_per_covered_adult": 30, "quarters": 2,
                            "capex_per_quarter": 10}, "rollout")):
        with pytest.raises(ScenarioError) as info:
            load_scenario({**base, "outlets": outlets})
        assert said in str(info.value.problems[0])
    sc = load_scenario({**base, "outlets": {"value_per_covered_adult": 30}})
    assert sc.outlets.value_per_covered_adult == 30
