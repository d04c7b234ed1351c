"""Benchmark (issue 19, item 7b): a metropolis of 2,000 communities and 5 million adults,
four of the library's scenarios as one batch on a Dask LocalCluster of two worker
processes (one thread each), under 40 minutes; the same batch on two local processes
gives byte-identical KPIs (each run draws from its own seed, whatever runs it).

The scenarios are the library's as written (they scale with the area: `[scale]`), on the
synthetic metropolis; each batch starts with an empty cache, so its response sweeps are
timed too.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from geo import synthesize_area
from scenarios import run_batch

pytestmark = pytest.mark.slow

TARGET_S = 40 * 60.0
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
NAMES = ("baseline", "digital-push-18-35", "one-budget", "outlet-expansion")


def _batch(tmp_path: Path, label: str, pack: Path, **how: object) -> tuple[float, list]:
    files = []
    for name in NAMES:
        path = tmp_path / f"{name}.toml"
        path.write_text(f'extends = "{LIBRARY / name}.toml"\nname = "{name}"\n'
                        f'area = "{pack}"\n', encoding="utf-8")
        files.append(path)
    start = time.perf_counter()
    items = run_batch(files, runs_dir=tmp_path / f"runs-{label}", resume=False,
                      **how)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    failed = [(i.name, i.error) for i in items if i.status == "failed"]
    assert not failed, failed
    return seconds, items


def test_metropolis_batch_on_a_dask_cluster(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    start = time.perf_counter()
    pack = synthesize_area(tmp_path / "metropolis", communities=2000, adults=5_000_000,
                           seed=7)
    made = time.perf_counter() - start
    # each batch with its own empty cache (workers take the environment they start with)
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path / "cache-dask"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        on_dask, dask_items = _batch(tmp_path, "dask", pack,
                                     scheduler=cluster.scheduler_address)
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path / "cache-local"))
    local, local_items = _batch(tmp_path, "local", pack, workers=2)
    lines = []
    for a, b in zip(dask_items, local_items, strict=True):
        left = pd.read_parquet(Path(a.path) / "kpis.parquet").drop(columns="run_id")
        right = pd.read_parquet(Path(b.path) / "kpis.parquet").drop(columns="run_id")
        pd.testing.assert_frame_equal(left, right, check_exact=True)
        assert a.run_id == b.run_id  # the same inputs, the same run
        lines.append(f"  {a.name}: {a.seconds / 60:.1f} min on a Dask worker, "
                     f"{b.seconds / 60:.1f} min on a local process")
    print(f"\nBENCH metropolis (2,000 communities, 5 million adults, made in {made:.0f} s): "
          f"a batch of 4 on a Dask LocalCluster of 2 workers {on_dask / 60:.1f} min, on 2 "
          f"local processes {local / 60:.1f} min ({on_dask / local:.2f}x); KPIs identical\n"
          + "\n".join(lines))
    assert on_dask < TARGET_S, f"{on_dask / 60:.1f} min (target 40)"
