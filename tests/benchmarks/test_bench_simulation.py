"""Benchmarks of the resident model (issue 4).

Targets: at least 20 million resident-weeks per second in one process for 1,000,000
residents over 52 weeks (issue 19; 10 million before), peak memory under 1 GB per million
residents, and at least 50 times the per-agent reference on the same small city,
measured in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation import Campaign, CommunityMarketModel, SimulationParams
from tests.simulation.cities import SMALL_CITY, city
from tests.simulation.reference import ReferenceModel

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_a_million_residents_for_a_year() -> None:
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks._sim_million", "1000000"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    rate = figures["residents"] * 52 / figures["run_s"]
    print(f"\nBENCH simulation: {figures['residents']:,} residents x 52 weeks in "
          f"{figures['run_s']:.2f} s (+ {figures['build_s']:.2f} s to synthesize residents "
          f"and ties): {rate / 1e6:.1f} million resident-weeks/s, peak memory "
          f"{figures['peak_mb']:,.0f} MB")
    assert rate >= 20e6, f"{rate / 1e6:.1f}M resident-weeks/s (target 20M)"
    assert figures["peak_mb"] < 1024 * figures["residents"] / 1e6


def test_against_the_per_agent_reference() -> None:
    inputs: pd.DataFrame = city(*SMALL_CITY)
    params = SimulationParams(weeks=52, campaigns=(
        Campaign("social_media", 5_000, (1, 12), ("18-35",)),))
    # the 52 weekly steps of each, without building the residents (the same code for both)
    fast = float("inf")
    for seed in range(5):
        model = CommunityMarketModel(inputs, params, seed=seed)
        start = time.perf_counter()
        model.run()
        fast = min(fast, time.perf_counter() - start)
    reference = ReferenceModel(inputs, params, seed=1)
    start = time.perf_counter()
    for _ in range(params.weeks):
        reference.step()
    slow = time.perf_counter() - start
    n = len(reference.residents)
    print(f"\nBENCH small city, {n:,} residents x 52 weekly steps: vectorized {fast:.3f} s "
          f"(best of 5), per-agent reference {slow:.2f} s: {slow / fast:.0f}x")
    assert slow / fast >= 50
