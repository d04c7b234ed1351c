"""The results store: a DuckDB view over the complete run folders, and run comparison.

Only folders whose name is a run id (``<name>-<hash8>``) and that hold a manifest with
status ``complete`` are listed; a run still being written lives under a hidden temporary
name and is never seen.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import special  # stdtrit: the t quantile (scipy.stats takes 0.6 s to import)

from geo.errors import InputError
from scenarios._models import NAME_PATTERN
from simulation.replications import t_interval

__all__ = ["RUN_ID", "compare_cells", "compare_runs", "connect", "format_kpi",
           "group_warnings", "list_runs", "percentiles", "resolve_run", "run_warnings"]

RUN_ID = re.compile(NAME_PATTERN.removesuffix("$") + r"-[0-9a-f]{8}$")
#: A scenario name (it stands for its latest complete run).
NAME = re.compile(NAME_PATTERN)
#: KPIs compared by default, in the order printed.
DEFAULT_KPIS = ("new_customers", "uplift_new_customers", "spend", "cost_per_acquisition",
                "roi", "roi_clv", "clv_per_new_customer", "retention", "churn_rate",
                "penetration", "uplift_deposits",
                "capex", "all_costs", "roi_all_costs", "cost_per_acquisition_all_costs",
                "net_value_all_costs", "outlets_net_per_year", "payback_years")


def format_kpi(v: float) -> str:
    """A KPI value for people: millions as M, counts whole, small values to 3 digits;
    infinity (a payback that never comes) as "never"."""
    if v != v:  # NaN
        return "n/a"
    if v == float("inf"):
        return "never"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.{0 if abs(v) >= 1e8 else 1}f} M"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("status") == "complete" else None


def list_runs(runs_dir: str | Path = "runs") -> pd.DataFrame:
    """The complete runs: ``run_id``, ``name``, ``seed``, ``replications``, ``seconds``,
    ``path``, newest folder last."""
    root = Path(runs_dir)
    rows = []
    if root.is_dir():
        for folder in sorted(root.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
            if not folder.is_dir() or not RUN_ID.match(folder.name):
                continue
            m = _manifest(folder)
            if m is None:
                continue
            scenario = m.get("scenario") or {}
            sim = scenario.get("simulation", {}) if isinstance(scenario, dict) else {}
            rows.append({"run_id": folder.name, "name": m.get("name"), "seed": m.get("seed"),
                         "replications": sim.get("replications"),
                         "seconds": m.get("seconds"), "path": str(folder)})
    return pd.DataFrame(rows, columns=["run_id", "name", "seed", "replications", "seconds",
                                       "path"])


def resolve_run(run: str, runs_dir: str | Path = "runs") -> Path:
    """The folder of a complete run, from its id, a path to it, or a scenario name (its
    latest complete run). Ids and names are checked against their patterns and names are
    looked up among the listed runs, so no path outside ``runs_dir`` can be named."""
    root = Path(runs_dir)
    candidate = Path(run)
    if candidate.is_dir() and (candidate / "manifest.json").exists():
        folder = candidate
    elif RUN_ID.match(run) and (root / run).is_dir():
        folder = root / run
    elif NAME.match(run):
        listed = list_runs(root)
        named = listed[listed["name"] == run]
        if named.empty:
            if RUN_ID.match(run):
                folder = root / run
            else:
                names = sorted(set(listed["name"].dropna()))
                hint = (f"; scenarios with runs in {root}: {', '.join(names[:8])}" if names
                        else f"; {root} holds no complete run")
                raise InputError(f"run {run!r}: no run id or scenario of that name{hint}")
        else:
            folder = Path(str(named["path"].iloc[-1]))  # the newest
    else:
        raise InputError(f"run {run!r}: not a run id (<name>-<8 hex digits>), a scenario name "
                         "or a run folder")
    if _manifest(folder) is None:
        known = list_runs(root)["run_id"].tolist()
        hint = f"; complete runs in {root}: {', '.join(known[-5:])}" if known else (
            f"; {root} holds no complete run")
        raise InputError(f"run {run!r}: no complete run folder{hint}")
    return folder


def run_warnings(runs: Sequence[str], runs_dir: str | Path = "runs"
                 ) -> list[tuple[str, tuple[str, ...]]]:
    """Every warning the runs' manifests record (where a run leaves the envelope of
    published figures, response curves that fit poorly), once each, with the runs that
    recorded it (runs that share response curves share their notes): (line, run ids)."""
    said = {}
    for run in runs:
        folder = resolve_run(run, runs_dir)
        said[folder.name] = (_manifest(folder) or {}).get("warnings")
    return group_warnings(said)


def group_warnings(said: Mapping[str, object]) -> list[tuple[str, tuple[str, ...]]]:
    """Each run's ``warnings`` (a manifest's list) as (line, run ids), each line once, in
    the order first said."""
    found: dict[str, list[str]] = {}
    for run_id, lines in said.items():
        if isinstance(lines, list):
            for line in lines:
                found.setdefault(str(line), []).append(run_id)
    return [(line, tuple(ids)) for line, ids in found.items()]


def connect(runs_dir: str | Path = "runs") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with views ``runs`` and ``kpis`` (one row per run and
    replication) over the complete runs of ``runs_dir``."""
    runs = list_runs(runs_dir)
    con = duckdb.connect()
    con.register("runs_frame", runs)
    con.execute("CREATE VIEW runs AS SELECT * FROM runs_frame")
    files = [str(Path(p) / "kpis.parquet") for p in runs["path"]
             if (Path(p) / "kpis.parquet").exists()]
    if files:
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE VIEW kpis AS SELECT * FROM read_parquet([{listed}], "
                    "union_by_name = true)")
    else:
        con.execute("CREATE VIEW kpis AS SELECT NULL::VARCHAR AS run_id, "
                    "NULL::BIGINT AS replication WHERE false")
    return con


def compare_runs(runs: Sequence[str], *, runs_dir: str | Path = "runs",
                 baseline: str | None = None, kpis: Sequence[str] = DEFAULT_KPIS,
                 level: float = 0.95) -> pd.DataFrame:
    """KPI means with intervals per run, and differences from the baseline.

    One row per run x KPI: ``mean``, ``low``, ``high`` (Student-t interval over
    replications), ``p10``, ``p50``, ``p90`` (order statistics of the replications,
    :func:`percentiles`: the spread of outcomes, not of the mean), ``delta`` (mean minus
    the baseline's), ``delta_low``, ``delta_high`` and ``significant`` (the interval of
    the difference excludes 0, that is the difference is larger than the replication
    noise); the baseline's own delta columns are empty
    (NaN). Runs with the same seed, number of replications and area share their random
    numbers replication by replication, so the difference is paired; otherwise Welch's
    interval is used (``paired`` says which, ``pairing`` why). A run is a run id, a run
    folder, or a scenario name (its latest complete run).
    """
    if not runs:
        raise InputError("compare needs at least one run")
    folders = [resolve_run(r, runs_dir) for r in runs]
    base_folder = resolve_run(baseline, runs_dir) if baseline is not None else folders[0]
    if base_folder not in folders:
        folders.insert(0, base_folder)
    tables = {f.name: _kpis(str(f), (f / "manifest.json").stat().st_mtime) for f in folders}
    manifests = {f.name: _manifest(f) or {} for f in folders}
    t_base = tables[base_folder.name]
    if tuple(kpis) == DEFAULT_KPIS:  # the defaults the runs hold (older runs lack some)
        kpis = tuple(k for k in kpis if all(k in t.columns for t in tables.values()))
    missing = [k for k in kpis if k not in t_base.columns]
    if missing:
        known = [c for c in t_base.columns if c not in ("run_id", "replication")]
        raise InputError(f"unknown KPI(s) {missing}; expected some of {', '.join(known)}")
    rows = []
    for f in folders:
        t = tables[f.name]
        pairing = _pairing(manifests[f.name], manifests[base_folder.name], len(t), len(t_base))
        paired = pairing.startswith("paired")
        for k in kpis:
            x = t[k].to_numpy(float)
            mean, low, high = _interval(x, level)
            p10, p50, p90 = percentiles(x)
            if np.isposinf(x).any():  # a payback that never comes in some replications:
                mean, low, high = p50, float("nan"), float("nan")  # the median says it
            row = {"run_id": f.name, "kpi": k, "mean": mean, "low": low, "high": high,
                   "p10": p10, "p50": p50, "p90": p90,
                   "replications": int(np.isfinite(x).sum()), "baseline": base_folder.name}
            if f == base_folder:
                row.update(delta=float("nan"), delta_low=float("nan"),
                           delta_high=float("nan"), significant=False, paired=False,
                           pairing="the baseline")
            else:
                b = t_base[k].to_numpy(float)
                with np.errstate(invalid="ignore"):  # never - never: no difference known
                    d, dl, dh = (_interval(x - b, level) if paired
                                 else _welch(x, b, level))
                    if paired and _same_but_rounding(x, b):  # 1.8 M summed in another order
                        d, dl, dh = 0.0, 0.0, 0.0
                row.update(delta=d, delta_low=dl, delta_high=dh,
                           significant=bool(np.isfinite(dl) and (dl > 0 or dh < 0)
                                            and abs(d) > 0),
                           paired=paired, pairing=pairing)
            rows.append(row)
    return pd.DataFrame(rows)


def compare_cells(frame: pd.DataFrame, sep: str = "\n") -> list[list[str]]:
    """Cells "mean ±half-width of the 95% interval"; for the other runs, then the difference
    from the baseline with its half-width, and * where it is larger than the noise; then
    the replications' P10 to P90."""
    rows = []
    for k, g in frame.groupby("kpi", sort=False):
        cells = [str(k)]
        for _, r in g.iterrows():
            half = (r["high"] - r["low"]) / 2
            cell = (format_kpi(r["mean"]) if not np.isfinite(half)
                    else f"{format_kpi(r['mean'])} ±{format_kpi(half)}")
            if r["run_id"] != r["baseline"] and np.isfinite(r["delta"]):
                mark = " *" if r["significant"] else ""
                sign = "+" if r["delta"] >= 0 else ""
                half = (r["delta_high"] - r["delta_low"]) / 2
                cell += f"{sep}{sign}{format_kpi(r['delta'])} ±{format_kpi(half)}{mark}"
            if "p10" in r and np.isfinite([r["p10"], r["p90"]]).all() and r["p10"] != r["p90"]:
                cell += f"{sep}P10-P90 {format_kpi(r['p10'])} to {format_kpi(r['p90'])}"
            cells.append(cell)
        rows.append(cells)
    return rows


def percentiles(x: np.ndarray, qs: Sequence[float] = (0.1, 0.5, 0.9)) -> tuple[float, ...]:
    """P10, P50, P90 (or ``qs``) of the values of ``x`` but NaN: order statistics, the
    smallest value with at least that share of the values at or below it (numpy's
    ``inverted_cdf``; of 8 replications P10 is the lowest, P50 the fourth, P90 the
    highest): an outcome a replication showed, never an interpolation between two."""
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]  # an infinity (never) is an outcome, and counts
    if not x.size:
        return tuple(float("nan") for _ in qs)
    return tuple(float(v) for v in np.quantile(x, qs, method="inverted_cdf"))


def _pairing(run: Mapping[str, object], base: Mapping[str, object], n_run: int,
             n_base: int) -> str:
    """Whether a run shares the baseline's random numbers replication by replication, and
    why not: the same seed, replications and area (the same residents and draws)."""
    def area(m: Mapping[str, object]) -> object:
        inputs = m.get("inputs")
        return inputs.get("area_hash") if isinstance(inputs, dict) else None

    why = []
    if run.get("seed") != base.get("seed"):
        why.append(f"seeds differ ({run.get('seed')} vs {base.get('seed')})")
    if n_run != n_base:
        why.append(f"replications differ ({n_run} vs {n_base})")
    if area(run) != area(base):
        why.append("areas differ")
    return "not paired: " + ", ".join(why) if why else "paired: same seed, replications, area"


def _same_but_rounding(x: np.ndarray, y: np.ndarray) -> bool:
    """Paired values that differ only in the last digits of floating point."""
    scale = max(float(np.nanmax(np.abs(np.concatenate([x, y])), initial=0.0)), 1.0)
    diff = np.abs(x - y)
    return bool(np.isfinite(diff).all() and diff.max(initial=0.0) <= 1e-9 * scale)


@functools.lru_cache(maxsize=256)
def _kpis(folder: str, stamp: float) -> pd.DataFrame:
    """A run's kpis.parquet (a run folder is written once; the stamp guards a rewrite)."""
    del stamp
    return pd.read_parquet(Path(folder) / "kpis.parquet")


def _interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    mean, _, low, high, _ = t_interval(x, level)
    return mean, low, high


def _welch(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float, float]:
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size < 2 or y.size < 2:
        d = float(x.mean() - y.mean()) if x.size and y.size else float("nan")
        return d, float("nan"), float("nan")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    d = float(x.mean() - y.mean())
    se = float(np.sqrt(vx + vy))
    if se == 0:
        return d, d, d
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    half = float(special.stdtrit(df, 0.5 + level / 2) * se)
    return d, d - half, d + half
