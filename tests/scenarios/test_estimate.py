"""A long scenario says its estimated time before it starts, then its progress by stage
and by replication. How close the estimate is to the time taken is measured in
tests/benchmarks/test_bench_estimate.py (no timing is asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import estimate as estimate_module
from scenarios import run_scenario
from scenarios.estimate import estimate_runs
from scenarios.schema import load_scenario


def _resident_weeks(text: str) -> float:
    return float(re.search(r"\(([\d,]+) M resident-weeks", text).group(1).replace(",", ""))


def test_the_estimate_scales_with_the_work(tmp_path: Path) -> None:
    """Twice the replications, twice the weeks or a sweep of three: the simulated
    resident-weeks (the campaign and its counterfactual) double, double and triple; a
    scenario without simulation has none; agents are capped by simulation.max_agents."""
    def work(body: str, adults: float = 10_000) -> float:
        path = tmp_path / "s.toml"
        path.write_text('name = "s"\n[budget]\nenabled = false\n' + body)
        return estimate_runs([load_scenario(path)], [adults]).resident_weeks

    base = work("[simulation]\nreplications = 3\nweeks = 10\n")
    assert base == 10_000 * 10 * 3 * 2
    assert work("[simulation]\nreplications = 6\nweeks = 10\n") == 2 * base
    assert work("[simulation]\nreplications = 3\nweeks = 20\n") == 2 * base
    assert work("[simulation]\nreplications = 3\nweeks = 10\nmax_agents = 5000\n") == base / 2
    assert work("[simulation]\nenabled = false\n") == 0
    swept = tmp_path / "swept.toml"
    swept.write_text('name = "w"\n[budget]\nenabled = false\n[simulation]\nreplications = 3\n'
                     'weeks = 10\n[sweep]\n"staff.hours_per_week" = [30, 35, 40]\n')
    from scenarios.batch import expand_sweep

    runs = expand_sweep(load_scenario(swept))
    assert estimate_runs(runs, [10_000] * 3).resident_weeks == 3 * base


def test_validate_prints_the_estimate(tmp_path: Path) -> None:
    one = tmp_path / "one.toml"
    one.write_text('name = "one"\n')
    three = tmp_path / "three.toml"
    three.write_text('name = "three"\n[sweep]\n"staff.hours_per_week" = [30, 35, 40]\n')
    out = [subprocess.run([sys.executable, "-m", "scenarios", "validate", str(p)],
                          capture_output=True, text=True, timeout=120, check=True).stdout
           for p in (one, three)]
    assert "of simulation" in out[0] and "its sweep makes 3 scenarios" in out[1]
    assert _resident_weeks(out[1]) == pytest.approx(3 * _resident_weeks(out[0]), rel=0.01)


def test_a_long_run_says_its_estimate_first_then_each_replication(
        small_synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimate_module, "LONG_SECONDS", 0.0)
    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\narea = "{small_synth}"\n[budget]\nenabled = false\n'
                    '[events]\nenabled = false\n[simulation]\nreplications = 2\nweeks = 4\n')
    said: list[str] = []
    run_scenario(load_scenario(path), runs_dir=tmp_path / "runs", progress=said.append)
    assert "of simulation" in said[0], said
    stages = [m for m in said if m.startswith("s: ")]
    assert stages.index("s: area, travel times and scores") > 0
    assert [m for m in said if "replication" in m and " of 2" in m] == [
        "s: simulation, replication 1 of 2", "s: simulation, replication 2 of 2"]
