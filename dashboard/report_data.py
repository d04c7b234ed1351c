"""What the budget-review report shows, collected once from the results store for the HTML
page (dashboard.report_html) and the workbook (dashboard.report_xlsx): the comparison of
``sitesim compare`` itself, the targets and the plan's checks, and per run the question it
asks, its plans, all its money, its uplift by segment and community, its assumptions and
its warnings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.plan_checks import plan_checks
from scenarios.store import DEFAULT_KPIS, compare_runs, percentiles, resolve_run
from scenarios.targets import target_checks

__all__ = ["Report", "RunReport", "collect"]

#: What each figure's uncertainty includes (docs/report.md says the same).
UNCERTAINTY = ("Intervals (±95%) and P10/P50/P90 are over the simulation's replications: "
               "the residents' random responses and the word of mouth between them. They "
               "leave out the uncertainty of the response curves' parameters, of the "
               "published figures behind the defaults and of the area's data; the warnings "
               "below say where a curve or a figure is less certain.")
_SEGMENT = "uplift_"


@dataclass(frozen=True)
class RunReport:
    """One run's part of the report."""

    run_id: str
    name: str
    question: str
    folder: Path
    currency: str
    outlets: pd.DataFrame  # the outlets opened or closed, with why (adults covered)
    events: pd.DataFrame
    staff: pd.DataFrame  # per outlet: staff a week on average, visits, served, unserved
    budget: pd.DataFrame  # per community and channel, summed over quarters
    channels: pd.DataFrame  # per channel: spend, forecast customers
    segments: pd.DataFrame  # per segment: mean, p10, p50, p90 of the uplift
    communities: pd.DataFrame  # uplift by community: mean, low, high, p10, p90
    money: dict[str, float]
    assumptions: pd.DataFrame  # key, value
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """The whole report: the runs compared with the baseline."""

    baseline: str
    kpis: pd.DataFrame  # scenarios.store.compare_runs, as sitesim compare prints it
    targets: pd.DataFrame  # scenarios.targets.target_checks
    checks: pd.DataFrame  # scenarios.plan_checks.plan_checks
    runs: tuple[RunReport, ...]
    uncertainty: str = UNCERTAINTY


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def _outlets(folder: Path) -> pd.DataFrame:
    plan = _read(folder, "plan_outlets")
    columns = ["site_id", "name", "community", "kind", "action", "capex", "opex_per_year",
               "adults_newly_covered", "adults_only_here"]
    if plan.empty:
        return pd.DataFrame(columns=columns)
    if "quarter" in plan and plan["quarter"].notna().any():  # a rollout: when each opens
        columns.insert(columns.index("action") + 1, "quarter")
    changed = plan[plan["action"].isin(["open", "close"])]
    return changed.reindex(columns=columns).sort_values(
        ["action", "adults_newly_covered"], ascending=[False, False]).reset_index(drop=True)


def _events(folder: Path) -> pd.DataFrame:
    plan = _read(folder, "plan_events")
    columns = ["week", "event_type", "venue_id", "venue_name", "venue_community",
               "attendance", "cost", "staff"]
    return (plan.reindex(columns=columns).sort_values(["week", "venue_id"])
            .reset_index(drop=True) if not plan.empty else pd.DataFrame(columns=columns))


def _staff(folder: Path) -> pd.DataFrame:
    plan = _read(folder, "plan_staff")
    columns = ["outlet_id", "name", "community", "kind", "staff_per_week", "visits",
               "served", "unserved"]
    if plan.empty:
        return pd.DataFrame(columns=columns)
    out = plan.groupby(["outlet_id", "name", "community", "kind"], as_index=False,
                       dropna=False).agg(staff_per_week=("staff", "mean"),
                                         visits=("visits", "sum"), served=("served", "sum"),
                                         unserved=("unserved", "sum"))
    return out.sort_values("staff_per_week", ascending=False).reset_index(drop=True)


def _budget(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    plan = _read(folder, "plan_budget")
    if plan.empty:
        return (pd.DataFrame(columns=["community_id", "community", "channel", "spend",
                                      "customers"]),
                pd.DataFrame(columns=["channel", "spend", "customers"]))
    plan = plan.assign(community=plan["community"].fillna(plan["community_id"]))
    by_place = plan.groupby(["community_id", "community", "channel"], as_index=False)[
        ["spend", "customers"]].sum()
    by_place = by_place[by_place["spend"] > 0].sort_values(
        ["spend", "community_id", "channel"], ascending=[False, True, True])
    channels = plan.groupby("channel", as_index=False)[["spend", "customers"]].sum()
    return (by_place.reset_index(drop=True),
            channels.sort_values("spend", ascending=False).reset_index(drop=True))


def _segments(folder: Path) -> pd.DataFrame:
    kpis = pd.read_parquet(folder / "kpis.parquet")
    rows = []
    for column in kpis.columns:
        if not column.startswith(_SEGMENT) or column in ("uplift_new_customers",
                                                         "uplift_deposits"):
            continue
        x = kpis[column].to_numpy(float)
        p10, p50, p90 = percentiles(x)
        rows.append({"segment": _segment_label(column.removeprefix(_SEGMENT)), "kpi": column,
                     "mean": float(np.nanmean(x)), "p10": p10, "p50": p50, "p90": p90})
    return pd.DataFrame(rows, columns=["segment", "kpi", "mean", "p10", "p50", "p90"])


def _segment_label(segment: str) -> str:
    """18_35 -> 18-35, 56_plus_low -> 56+ / low, income_low -> income low."""
    for code, said in (("18_35", "18-35"), ("36_55", "36-55"), ("56_plus", "56+"),
                       ("income_", "income ")):
        segment = segment.replace(code, said)
    return segment.replace("_", " / ")


def _flatten(value: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}.{k}")]
    return [(prefix, json.dumps(value) if isinstance(value, list) else str(value))]


def _assumptions(scenario: dict[str, Any]) -> pd.DataFrame:
    """The resolved scenario's finance, simulation and targets (the defaults filled in)."""
    rows = [pair for part in ("finance", "simulation", "targets")
            for pair in _flatten(scenario.get(part) or {}, part)]
    return pd.DataFrame(rows, columns=["key", "value"])


def _run(folder: Path) -> RunReport:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scenario = manifest.get("scenario") or {}
    summary = manifest.get("summary") or {}
    budget, channels = _budget(folder)
    money = {k: float(v) for k, v in (summary.get("money") or {}).items()
             if isinstance(v, int | float)}
    communities = _read(folder, "uplift_by_community")
    if not communities.empty:
        communities = communities.sort_values("mean", ascending=False).reset_index(drop=True)
    return RunReport(
        run_id=folder.name, name=str(manifest.get("name") or folder.name),
        question=str(scenario.get("description") or ""), folder=folder,
        currency=_currency(scenario), outlets=_outlets(folder), events=_events(folder),
        staff=_staff(folder), budget=budget, channels=channels, segments=_segments(folder),
        communities=communities, money=money, assumptions=_assumptions(scenario),
        warnings=tuple(str(w) for w in manifest.get("warnings") or []))


def _currency(scenario: dict[str, Any]) -> str:
    try:
        from geo import read_area_index

        return str(read_area_index(str(scenario.get("area", "builtin:sample-city")))
                   .config.currency)
    except Exception:  # noqa: BLE001 (an area moved since the run: say EUR, the default)
        return "EUR"


def collect(runs: Sequence[str], *, runs_dir: str | Path = "runs", baseline: str | None = None,
            kpis: Sequence[str] = DEFAULT_KPIS) -> Report:
    """Everything the report shows, for ``runs`` (run ids, folders or scenario names)
    compared with ``baseline`` (default: the first), KPIs as ``sitesim compare``."""
    frame = compare_runs(list(runs), runs_dir=runs_dir, baseline=baseline, kpis=tuple(kpis))
    ids = list(dict.fromkeys(frame["run_id"]))
    folders = [resolve_run(r, runs_dir) for r in ids]
    return Report(baseline=str(frame["baseline"].iloc[0]), kpis=frame,
                  targets=target_checks(folders), checks=plan_checks(folders),
                  runs=tuple(_run(f) for f in folders))
