"""``sitesim demo``: a library run in parallel and compared; the shipped library itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import load_scenario
from scenarios.batch import load_batch

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def sitesim(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SITESIM_CACHE_DIR": str(cache), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True,
                          text=True, timeout=900, check=False, env=env)


def test_demo_runs_the_library_in_parallel_and_compares(small_synth: Path,
                                                       tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "baseline.toml").write_text(f"""name = "baseline"
description = "the yardstick"
area = "{small_synth}"
seed = 4
[outlets]
enabled = false
[events]
count = {{ anti_fraud = 1 }}
weeks = [1, 4]
[budget]
total = 20_000
[simulation]
weeks = 8
replications = 3
max_agents = 2_000
""")
    (lib / "more.toml").write_text('extends = "baseline.toml"\nname = "more"\n'
                                   'description = "three times the money"\n'
                                   "[budget]\ntotal = 60_000\n")
    runs = tmp_path / "runs"
    result = sitesim("demo", "--library", str(lib), "--runs", str(runs), "--workers", "2",
                     cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2 scenarios from" in out and "three times the money" in out
    assert "Compared with baseline" in out
    assert f"sitesim serve --runs {runs}" in out and "http://127.0.0.1:8050/" in out
    report = runs / "report.html"  # the budget-review report of the demo's runs
    assert f"budget review: {report}" in " ".join(out.split()) and report.stat().st_size > 0
    for kpi in ("uplift_new_customers", "cost_per_acquisition", "event_attendance"):
        assert kpi in out
    ids = re.search(r"sitesim compare (\S+) (\S+) --runs", out)
    assert ids is not None and ids.group(1).startswith("baseline-")
    compared = sitesim("compare", ids.group(1), ids.group(2), "--runs", str(runs),
                       "--format", "json", "--kpi", "spend", cache=tmp_path / "cache")
    rows = {r["run_id"]: r for r in json.loads(compared.stdout)}
    more = rows[ids.group(2)]
    # spend: the budget plan's total plus the event's cost, the same in every replication
    assert more["delta"] > 30_000 and more["significant"]
    again = sitesim("demo", "--library", str(lib), "--runs", str(runs), cache=tmp_path / "cache")
    assert again.returncode == 0 and again.stdout.count("skipped") == 2


def test_demo_with_a_bad_library_exits_2(tmp_path: Path) -> None:
    empty = sitesim("demo", "--library", str(tmp_path), cache=tmp_path / "cache")
    assert empty.returncode == 2 and "no scenario files" in empty.stderr
    (tmp_path / "x.toml").write_text('name = "x"\n[budget]\ntotal = -1\n')
    bad = sitesim("demo", "--library", str(tmp_path), cache=tmp_path / "cache")
    assert bad.returncode == 2 and "x.toml: budget.total" in bad.stderr
    assert not (Path.cwd() / "runs" / "x").exists()


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.toml")), ids=lambda p: p.stem)
def test_library_scenario_is_valid_and_commented(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.area == "builtin:sample-city" and sc.description
    assert path.read_text().lstrip().startswith("#")  # says what it is and why


def test_library_is_a_baseline_and_four_strategies_on_the_same_seed() -> None:
    scenarios = load_batch(sorted(LIBRARY.glob("*.toml")))
    names = {s.name for s in scenarios}
    assert names == {"baseline", "digital-push-18-35", "events-56-plus-old-town",
                     "one-budget", "outlet-expansion"}
    assert len({s.seed for s in scenarios}) == 1
    by = {s.name: s for s in scenarios}
    assert by["digital-push-18-35"].budget.inclusion == {"18-35": 0.42}
    assert by["events-56-plus-old-town"].events.communities
    assert by["outlet-expansion"].outlets.enabled
    assert by["outlet-expansion"].outlets.max_new["mobile_van"] == 1
    # one budget: the baseline's money, the outlet expansion's sites as options
    one = by["one-budget"]
    assert one.budget.includes_outlets and one.budget.total == by["baseline"].budget.total
    assert one.outlets == by["outlet-expansion"].outlets


def test_library_names_communities_of_the_sample_city() -> None:
    from geo import load_area

    known = set(load_area("builtin:sample-city").communities.index)
    for s in load_batch(sorted(LIBRARY.glob("*.toml"))):
        named = set(s.events.communities).union(*(c.communities for c in s.campaigns))
        assert named <= known, (s.name, sorted(named - known))
