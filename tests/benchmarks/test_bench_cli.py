"""How fast the command line answers (issue: sitesim --help and validate under 1.5 s on
two cores): the median of 5 runs of each, beside a bare Python start in the same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TARGET_S = 1.5


def _median_seconds(*args: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=True, timeout=120)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_help_and_validate_answer_quickly(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[budget]\ntotal = 1_000_000\n[sweep]\nseed = [1, 2]\n')
    bare = _median_seconds("-c", "pass")
    helped = _median_seconds("-m", "scenarios", "--help")
    validated = _median_seconds("-m", "scenarios", "validate", str(scenario))
    plain = tmp_path / "plain.toml"  # a pack of GeoJSON files, read without GDAL
    pack = Path(__file__).resolve().parents[1] / "data" / "packs" / "plain-city"
    plain.write_text(f'name = "plain"\narea = "{pack}"\n')
    geojson = _median_seconds("-m", "scenarios", "validate", str(plain))
    print(f"\nBENCH cli: sitesim --help {helped:.2f} s, validate {validated:.2f} s on the "
          f"sample city (GeoParquet), {geojson:.2f} s on a GeoJSON pack (median of 5; a bare "
          f"python start {bare:.2f} s: {helped / bare:.1f}x, {validated / bare:.1f}x and "
          f"{geojson / bare:.1f}x); target {TARGET_S} s")
    assert helped < TARGET_S and validated < TARGET_S and geojson < TARGET_S
