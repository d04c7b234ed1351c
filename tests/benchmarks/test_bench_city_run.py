"""Benchmark (issue 19, item 7a): the library's baseline run end to end on synthetic
cities of 125, 250 and 500 communities (300,000 / 600,000 / 1.2 million adults), with
200,000 agents and 20 replications, as `sitesim run` in a fresh process with an empty
cache. Target at 500 communities: under 10 minutes on two cores and a peak under 4 GB.

Each size prints its time per stage (the run's manifest) and its peak resident memory;
the growth between sizes is the cost of a larger city, each size's ratio taken against
the smallest, measured in the same run (docs/scaling.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo import synthesize_area

pytestmark = pytest.mark.slow

TARGET_S = 600.0
TARGET_GB = 4.0
SIZES = ((125, 300_000), (250, 600_000), (500, 1_200_000))
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library" / "baseline.toml"

# the CLI in this process, reporting its own peak resident memory when it exits
_RUN = """
import atexit, resource, sys
atexit.register(lambda: print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              file=sys.stderr))
from scenarios.cli import main
sys.argv = ["sitesim", "run", sys.argv[1], "--runs", sys.argv[2]]
main()
"""


def _run_city(tmp_path: Path, communities: int, adults: int) -> dict[str, object]:
    pack = synthesize_area(tmp_path / f"city{communities}", communities=communities,
                           adults=adults, seed=7)
    scenario = tmp_path / f"city{communities}.toml"
    scenario.write_text(f'extends = "{LIBRARY}"\nname = "city-{communities}"\n'
                        f'area = "{pack}"\n[simulation]\nreplications = 20\n'
                        "max_agents = 200_000\n", encoding="utf-8")
    env = {**os.environ, "SITESIM_CACHE_DIR": str(tmp_path / f"cache{communities}")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RUN, str(scenario), str(tmp_path / "runs")],
                          capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    folder = Path(done.stdout.strip().splitlines()[-1])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    peak_kb = next(int(line.split()[1]) for line in done.stderr.splitlines()
                   if line.startswith("PEAK_KB"))
    kpis = manifest["summary"]["kpis"]
    return {"communities": communities, "adults": adults, "seconds": seconds,
            "peak_gb": peak_kb / 1024 ** 2, "stages": manifest["timings"],
            "uplift": kpis["uplift_new_customers"]["mean"]}


def test_city_runs_at_three_sizes(tmp_path: Path) -> None:
    runs = [_run_city(tmp_path, communities, adults) for communities, adults in SIZES]
    stages = list(runs[-1]["stages"])  # type: ignore[arg-type]
    width = max(len(s) for s in stages)
    lines = [f"{'stage':<{width}}  " + "  ".join(f"{r['communities']:>5} comm."
                                                 for r in runs)]
    for stage in stages:
        lines.append(f"{stage:<{width}}  " + "  ".join(
            f"{r['stages'].get(stage, 0.0):>9.1f} s" for r in runs))  # type: ignore[union-attr]
    lines.append(f"{'end to end':<{width}}  " + "  ".join(f"{r['seconds']:>9.1f} s"
                                                         for r in runs))
    lines.append(f"{'peak memory':<{width}}  " + "  ".join(f"{r['peak_gb']:>8.2f} GB"
                                                          for r in runs))
    lines.append(f"{'x the smallest':<{width}}  " + "  ".join(
        f"{r['seconds'] / runs[0]['seconds']:>9.2f}x" for r in runs))  # type: ignore[operator]
    print("\nBENCH city run (baseline, 200,000 agents, 20 replications):\n"
          + "\n".join(lines))
    city = runs[-1]
    assert city["uplift"] > 0
    assert city["seconds"] < TARGET_S, f"{city['seconds']:.0f} s (target {TARGET_S:.0f})"
    assert city["peak_gb"] < TARGET_GB, f"{city['peak_gb']:.2f} GB (target {TARGET_GB})"
