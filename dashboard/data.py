"""What the dashboard shows, read from the results store: plain functions of run ids.

Every run is named by its id and found through :func:`scenarios.store.resolve_run`, which
checks the id against the run-id pattern, so no request can name a path. Results are
cached by run folder and modification time: a run folder is written once (under a
temporary name, renamed when complete), so a cached answer stays right.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import special  # stdtrit: the t quantile (scipy.stats takes 0.6 s to import)

from scenarios.store import compare_runs, list_runs, resolve_run
from simulation import CUSTOMER_STAGES

__all__ = ["COMPARE_KPIS", "budget_by_channel", "kpi_table", "manifest", "runs_table",
           "scenario_differences", "staff_by_week", "warm", "weekly_band"]

#: KPIs on the compare page's cards, in order.
COMPARE_KPIS = ("uplift_new_customers", "uplift_18_35", "uplift_56_plus", "spend",
                "cost_per_acquisition", "roi", "roi_clv", "retention", "uplift_deposits",
                "event_attendance", "capex", "all_costs", "roi_all_costs",
                "outlets_net_per_year", "payback_years")
#: Curves over weeks: label -> (timeseries columns summed, cumulative).
WEEKLY = {
    "new customers (cumulative)": (("new_customers",), True),
    "customers": (CUSTOMER_STAGES, False),
    "deposits": (("deposits",), False),
}


def _stamp(folder: Path) -> float:
    return (folder / "manifest.json").stat().st_mtime


def runs_table(runs_dir: str | Path) -> pd.DataFrame:
    """The complete runs, newest first: id, name, description, seed, replications, agents,
    seconds, the slowest stage, when it finished."""
    runs = list_runs(runs_dir)
    rows = []
    for r in runs.itertuples(index=False):
        m = manifest(str(r.run_id), runs_dir)
        timings = m.get("timings") or {}
        slowest = max(timings.items(), key=lambda kv: kv[1]) if timings else ("", 0.0)
        sim = (m.get("scenario") or {}).get("simulation", {})
        rows.append({
            "run_id": r.run_id, "name": r.name,
            "description": (m.get("scenario") or {}).get("description", ""),
            "status": m.get("status"), "seed": r.seed, "replications": r.replications,
            "agents": sim.get("max_agents"), "seconds": r.seconds,
            "slowest stage": f"{slowest[0]} ({slowest[1]:.1f} s)" if slowest[0] else "",
            "finished": pd.Timestamp(_stamp(Path(str(r.path))), unit="s").strftime(
                "%Y-%m-%d %H:%M")})
    columns = ["run_id", "name", "description", "status", "seed", "replications", "agents",
               "seconds", "slowest stage", "finished"]
    return pd.DataFrame(rows, columns=columns).iloc[::-1].reset_index(drop=True)


def manifest(run_id: str, runs_dir: str | Path) -> dict[str, Any]:
    """A run's manifest (resolved scenario, inputs, timings, summaries)."""
    folder = resolve_run(run_id, runs_dir)
    return _manifest(str(folder), _stamp(folder))


@functools.lru_cache(maxsize=256)
def _manifest(folder: str, stamp: float) -> dict[str, Any]:
    del stamp
    data: dict[str, Any] = json.loads((Path(folder) / "manifest.json").read_text("utf-8"))
    return data


def kpi_table(run_ids: Sequence[str], runs_dir: str | Path, baseline: str | None = None,
              kpis: Sequence[str] = COMPARE_KPIS) -> pd.DataFrame:
    """:func:`scenarios.store.compare_runs` for the KPIs every run has."""
    folders = [resolve_run(r, runs_dir) for r in run_ids]
    have = set.intersection(*(set(_kpi_columns(str(f), _stamp(f))) for f in folders))
    return compare_runs(list(run_ids), runs_dir=runs_dir, baseline=baseline,
                        kpis=[k for k in kpis if k in have])


@functools.lru_cache(maxsize=256)
def _kpi_columns(folder: str, stamp: float) -> tuple[str, ...]:
    del stamp
    import pyarrow.parquet as pq

    return tuple(pq.read_schema(Path(folder) / "kpis.parquet").names)


def weekly_band(run_id: str, runs_dir: str | Path, curve: str,
                level: float = 0.95) -> pd.DataFrame:
    """A curve over weeks (a key of ``WEEKLY``): ``week``, ``mean``, ``low``, ``high``, a
    Student-t interval over replications, for the campaign arm."""
    folder = resolve_run(run_id, runs_dir)
    return _weekly_band(str(folder), _stamp(folder), curve, level).copy()


@functools.lru_cache(maxsize=512)
def _weekly_band(folder: str, stamp: float, curve: str, level: float) -> pd.DataFrame:
    columns, cumulative = WEEKLY[curve]
    frame = _weekly_totals(folder, stamp)
    wide = frame.pivot(index="week", columns="replication",
                       values=list(columns)).T.groupby(level=1).sum().T.sort_index()
    if cumulative:
        wide = wide.cumsum()
    values = wide.to_numpy(float)
    n = values.shape[1]
    mean = values.mean(axis=1)
    half = (special.stdtrit(n - 1, 0.5 + level / 2) * values.std(axis=1, ddof=1) / np.sqrt(n)
            if n > 1 else np.zeros_like(mean))
    return pd.DataFrame({"week": wide.index.to_numpy(), "mean": mean, "low": mean - half,
                         "high": mean + half})


@functools.lru_cache(maxsize=256)
def _weekly_totals(folder: str, stamp: float) -> pd.DataFrame:
    """The campaign arm's totals per replication and week: one scan of the time series."""
    del stamp
    path = str(Path(folder) / "timeseries.parquet").replace("'", "''")
    sums = ", ".join(f"sum({c}) AS {c}" for c in
                     sorted({c for cols, _ in WEEKLY.values() for c in cols}))
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT replication, week, {sums} FROM read_parquet('{path}') "
            "WHERE arm = 'campaign' GROUP BY replication, week ORDER BY replication, week"
        ).df()


def warm(runs_dir: str | Path) -> int:
    """Read every complete run's KPIs, weekly totals and plans into the caches, so that
    the first comparison of a run is as quick as the next; returns the runs read."""
    runs = list_runs(runs_dir)
    for run_id, path in zip(runs["run_id"], runs["path"], strict=True):
        folder = Path(str(path))
        stamp = _stamp(folder)
        _manifest(str(folder), stamp)
        compare_runs([str(run_id)], runs_dir=runs_dir, kpis=("spend",))  # reads its KPIs
        if (folder / "timeseries.parquet").exists():
            for curve in WEEKLY:
                _weekly_band(str(folder), stamp, curve, 0.95)
        _budget_by_channel(str(folder), stamp)
        _staff_by_week(str(folder), stamp)
    return len(runs)


def budget_by_channel(run_id: str, runs_dir: str | Path) -> pd.DataFrame:
    """The budget plan's spend and forecast new customers per channel (empty without a
    budget plan)."""
    folder = resolve_run(run_id, runs_dir)
    return _budget_by_channel(str(folder), _stamp(folder)).copy()


@functools.lru_cache(maxsize=256)
def _budget_by_channel(folder: str, stamp: float) -> pd.DataFrame:
    del stamp
    path = Path(folder) / "plan_budget.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["channel", "spend", "customers"])
    return pd.read_parquet(path).groupby("channel", as_index=False)[
        ["spend", "customers"]].sum()


def staff_by_week(run_id: str, runs_dir: str | Path) -> pd.DataFrame:
    """Relationship managers per week: ``outlets`` (the staff plan) and ``events`` (the
    event plan's staff); empty without a staff plan."""
    folder = resolve_run(run_id, runs_dir)
    return _staff_by_week(str(folder), _stamp(folder)).copy()


@functools.lru_cache(maxsize=256)
def _staff_by_week(folder: str, stamp: float) -> pd.DataFrame:
    del stamp
    path = Path(folder) / "plan_staff.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["week", "outlets", "events"])
    out = pd.read_parquet(path).groupby("week")["staff"].sum().rename("outlets").to_frame()
    events = Path(folder) / "plan_events.parquet"
    at_events = (pd.read_parquet(events).groupby("week")["staff"].sum() if events.exists()
                 else pd.Series(dtype=float))
    out["events"] = at_events.reindex(out.index).fillna(0.0)
    return out.reset_index()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(value) if isinstance(value, list | dict) else value}


def scenario_differences(run_ids: Sequence[str], runs_dir: str | Path) -> pd.DataFrame:
    """The scenario keys whose values differ between the runs: one row per key, one
    column per run (``name`` and ``description`` left out)."""
    flat = {r: _flatten(manifest(r, runs_dir).get("scenario") or {}) for r in run_ids}
    keys = sorted(set().union(*flat.values()) - {"name", "description"})
    rows = []
    for key in keys:
        values = [flat[r].get(key, "(not set)") for r in run_ids]
        if len({json.dumps(v, default=str) for v in values}) > 1:
            rows.append({"key": key, **{r: v for r, v in zip(run_ids, values, strict=True)}})
    return pd.DataFrame(rows, columns=["key", *run_ids])
