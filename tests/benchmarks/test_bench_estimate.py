"""How close a run's announced estimate is to the time its simulation takes (issue: a
long scenario says its estimated time before it starts). The sample city's baseline
without the budget stage (so no response-curve sweep, which may be cached): the estimate
against the simulation stage's own timing in the run's manifest, measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import run_scenario
from scenarios.estimate import estimate_scenarios
from scenarios.schema import load_scenario

pytestmark = pytest.mark.slow


def test_the_estimate_is_within_a_factor_two(tmp_path: Path) -> None:
    path = tmp_path / "timed.toml"
    path.write_text('name = "timed"\n[budget]\nenabled = false\n[simulation]\n'
                    'replications = 4\n')
    sc = load_scenario(path)
    estimate = estimate_scenarios([sc])
    run = run_scenario(sc, runs_dir=tmp_path / "runs")
    timings = json.loads((run.path / "manifest.json").read_text())["timings"]
    taken = timings["simulation (4 replications)"]
    ratio = estimate.seconds / taken
    print(f"\nBENCH estimate: {estimate.resident_weeks / 1e6:.0f} M resident-weeks estimated "
          f"at {estimate.seconds:.1f} s; the simulation took {taken:.1f} s (estimate / "
          f"taken = {ratio:.2f})")
    assert 0.5 <= ratio <= 2.0
