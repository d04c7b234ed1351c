"""Batches: sweeps, workers and Dask give the same bytes, failures are reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenarios.batch import expand_sweep, latin_hypercube, run_batch
from scenarios.schema import Scenario
from scenarios.store import list_runs


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def tiny(area: Path, name: str, **over: object) -> Scenario:
    raw: dict[str, object] = {
        "name": name, "area": str(area), "seed": 5,
        "outlets": {"max_new": {"smart_atm": 1}}, "events": {"enabled": False},
        "budget": {"enabled": False},
        "campaigns": [{"channel": "sms", "spend": 3_000, "weeks": (1, 6)}],
        "simulation": {"weeks": 6, "replications": 2, "max_agents": 1_000}}
    raw.update(over)
    return Scenario.model_validate(raw)


def test_expand_sweep_grid(small_synth: Path) -> None:
    sc = tiny(small_synth, "s", sweep={"budget.total": (1_000, 2_000), "seed": (1, 2)})
    out = expand_sweep(sc)
    assert [s.name for s in out] == ["s--total_1000--seed_1", "s--total_1000--seed_2",
                                     "s--total_2000--seed_1", "s--total_2000--seed_2"]
    assert [s.budget.total for s in out] == [1_000, 1_000, 2_000, 2_000]
    assert all(not s.sweep for s in out)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_latin_hypercube_one_point_per_stratum(seed: int) -> None:
    n = 8
    draws = latin_hypercube({"a": (10.0, 30.0), "b": (-1.0, 1.0), "k": (1, 24)}, samples=n,
                            seed=seed, integer={"k"})
    assert len(draws) == n
    for key, (low, high) in {"a": (10.0, 30.0), "b": (-1.0, 1.0)}.items():
        strata = sorted(int((d[key] - low) / (high - low) * n) for d in draws)
        assert strata == list(range(n)), (key, strata)
    # 24 whole numbers in 8 strata of 3: one draw in each
    assert all(isinstance(d["k"], int) for d in draws)
    assert sorted((d["k"] - 1) // 3 for d in draws) == list(range(n))
    assert draws == latin_hypercube({"k": (1, 24), "a": (10.0, 30.0), "b": (-1.0, 1.0)},
                                    samples=n, seed=seed, integer={"k"})
    assert draws != latin_hypercube({"a": (10.0, 30.0), "b": (-1.0, 1.0), "k": (1, 24)},
                                    samples=n, seed=seed + 100, integer={"k"})


def test_latin_hypercube_every_whole_number_reachable() -> None:
    draws = latin_hypercube({"k": (3, 5)}, samples=3_000, seed=2, integer={"k"})
    counts = {v: sum(d["k"] == v for d in draws) for v in (3, 4, 5)}
    assert counts == {3: 1_000, 4: 1_000, 5: 1_000}


def test_expand_sweep_latin_hypercube_crossed_with_grid(small_synth: Path) -> None:
    sc = tiny(small_synth, "s", sweep={
        "seed": (1, 2),
        "latin_hypercube": {"samples": 10, "seed": 4, "budget.total": (1_000, 5_000),
                            "simulation.replications": (2, 11)}})
    out = expand_sweep(sc)
    assert [s.name for s in out[:3]] == ["s--seed_1--lhs_01", "s--seed_1--lhs_02",
                                         "s--seed_1--lhs_03"]
    assert out[-1].name == "s--seed_2--lhs_10" and len(out) == 20
    first, second = out[:10], out[10:]
    assert [s.budget.total for s in first] == [s.budget.total for s in second]
    assert {s.seed for s in first} == {1} and {s.seed for s in second} == {2}
    assert sorted(int((s.budget.total - 1_000) / 4_000 * 10) for s in first) == list(range(10))
    assert sorted(s.simulation.replications for s in first) == list(range(2, 12))
    assert all(not s.sweep for s in out)
    # the design's seed defaults to the scenario's
    again = tiny(small_synth, "s", seed=4, sweep={"latin_hypercube": {
        "samples": 10, "budget.total": (1_000, 5_000), "simulation.replications": (2, 11)}})
    assert [s.budget.total for s in expand_sweep(again)] == [s.budget.total for s in first]


def test_same_bytes_on_1_and_2_workers_and_dask(small_synth: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    batch = [tiny(small_synth, "a"), tiny(small_synth, "b", seed=6)]
    one = run_batch(batch, runs_dir=tmp_path / "one", workers=1)
    two = run_batch(batch, runs_dir=tmp_path / "two", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, processes=True) as cluster:
        dask = run_batch(batch, runs_dir=tmp_path / "dask", scheduler=cluster.scheduler_address)
    for runs in (one, two, dask):
        assert [r.status for r in runs] == ["complete", "complete"], runs
    for a, b, c in zip(one, two, dask, strict=True):
        assert a.run_id == b.run_id == c.run_id
        data = (Path(a.path) / "kpis.parquet").read_bytes()  # type: ignore[arg-type]
        assert (Path(b.path) / "kpis.parquet").read_bytes() == data  # type: ignore[arg-type]
        assert (Path(c.path) / "kpis.parquet").read_bytes() == data  # type: ignore[arg-type]
    again = run_batch(batch, runs_dir=tmp_path / "one", workers=2)
    assert [r.status for r in again] == ["skipped", "skipped"]


def test_a_failing_scenario_does_not_stop_the_others(small_synth: Path, tmp_path: Path) -> None:
    bad = tiny(small_synth, "bad", outlets={"max_new": {"smart_atm": 1},
                                            "min_coverage_share": 1.0})
    done: list[str] = []  # the progress callback: each scenario as it ends
    items = run_batch([bad, tiny(small_synth, "good")], runs_dir=tmp_path, workers=2,
                      on_done=lambda item: done.append(item.name))
    assert sorted(done) == ["bad", "good"]
    assert [i.status for i in items] == ["failed", "complete"]
    assert items[0].error is not None and items[0].error.startswith("infeasible:")
    assert "min_coverage_share" in items[0].error
    assert [p.name for p in tmp_path.iterdir()] == [items[1].run_id]


def _write(tmp_path: Path, area: Path, name: str, extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'''name = "{name}"
area = "{area}"
seed = 5
[outlets]
max_new = {{ smart_atm = 1 }}
{extra}
[events]
enabled = false
[budget]
enabled = false
[[campaigns]]
channel = "sms"
spend = 3000
weeks = [1, 6]
[simulation]
weeks = 6
replications = {2 if name != "slow" else 40}
max_agents = {1000 if name != "slow" else 20000}
''', encoding="utf-8")
    return path


def _sitesim(*args: str, cache: Path, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "SITESIM_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "scenarios", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True, **kw)  # type: ignore[call-overload]


def test_batch_cli_reports_failures_with_exit_3(small_synth: Path, tmp_path: Path) -> None:
    good = _write(tmp_path, small_synth, "good")
    bad = _write(tmp_path, small_synth, "bad", "min_coverage_share = 1.0")
    proc = _sitesim("batch", str(good), str(bad), "--workers", "2", "--runs",
                    str(tmp_path / "runs"), cache=tmp_path / "cache")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 3, out + err
    assert "error: bad failed: infeasible" in err and "complete" in out


def _being_written(runs: Path, name: str) -> bool:
    """Whether a run of ``name`` is being written (its temporary folder exists). A folder
    renamed while the listing is read makes the listing fail: not yet, then."""
    try:
        return any(p.name.startswith(f".{name}-") and ".tmp-" in p.name
                   for p in runs.iterdir())
    except FileNotFoundError:
        return False


def test_killed_batch_leaves_nothing_complete_and_resume_finishes_it(
        small_synth: Path, tmp_path: Path) -> None:
    files = [_write(tmp_path, small_synth, n) for n in ("first", "slow", "third")]
    cache = tmp_path / "cache"
    straight = _sitesim("batch", *map(str, files), "--workers", "1", "--runs",
                        str(tmp_path / "straight"), cache=cache)
    out, err = straight.communicate(timeout=900)
    assert straight.returncode == 0, out + err
    runs = tmp_path / "runs"
    proc = _sitesim("batch", *map(str, files), "--workers", "1", "--runs", str(runs),
                    cache=cache)
    deadline = time.monotonic() + 600
    # kill while the slow one is being written: its temporary folder exists
    while time.monotonic() < deadline and not _being_written(runs, "slow"):
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    listed = set(list_runs(runs)["name"])
    assert "slow" not in listed and "third" not in listed
    resumed = _sitesim("batch", *map(str, files), "--workers", "1", "--runs", str(runs),
                       "--resume", cache=cache)
    out, err = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, out + err
    assert sorted(list_runs(runs)["name"]) == ["first", "slow", "third"]
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]
    for folder in (tmp_path / "straight").iterdir():
        assert (runs / folder.name / "kpis.parquet").read_bytes() == (
            folder / "kpis.parquet").read_bytes()
