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
    assert s.budget.total == 3_000_000 and s.budget.online_share == 0.6  # merged table
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
    assert "campaigns[0].weeks = [50, 60] ends after the simulation's 52 weeks" in text


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
