"""Each run against its scenario's ``[targets]`` (docs/scenarios.md, "Targets"): met or
missed, and the probability of meeting it over the replications.

KPI targets (``min_roi`` on ``targets.roi_kpi``, or ``roi`` for runs written before it;
``max_cac``; ``min_retention`` on a year's retention, ``1 - yearly_attrition``) are
judged on the mean over replications; their probability is the share of replications
that meet them (a replication without a cost per acquisition, no uplift, does not).
Spend targets are the split of the money the simulation spent (``summary.channels``):
each purpose of ``policy`` as a share of the budget (``budget.total``, less the outlets'
yearly cost with one budget for outlets and marketing, as the optimizer holds it; the
reserve is what was left unspent; no rows without a budget) within
``policy_tolerance``, and the online channels' share of the spend within
``online_tolerance`` of ``online_share``. A run's split is its plan's, the same in every
replication: its probability is 1 or 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios._models import Targets

__all__ = ["TARGET_COLUMNS", "target_cell", "target_checks"]

TARGET_COLUMNS = ("run_id", "target", "value", "goal", "tolerance", "sense", "met",
                  "probability")


def _kpi_rows(run_id: str, targets: Targets, kpis: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    kpis = kpis.copy()
    if "yearly_attrition" in kpis.columns:  # a year's retention, whatever the horizon
        kpis["yearly_retention"] = 1 - kpis["yearly_attrition"]
    # runs written before lifetime value judge the ROI on a year's margin, and say so
    roi = targets.roi_kpi if targets.roi_kpi in kpis.columns else "roi"
    keep = "yearly_retention" if "yearly_retention" in kpis.columns else "retention"
    for name, kpi, sense, goal in (("min_roi", roi, ">=", targets.min_roi),
                                   ("max_cac", "cost_per_acquisition", "<=",
                                    targets.max_cac),
                                   ("min_retention", keep, ">=", targets.min_retention)):
        if name in targets.ignore or kpi not in kpis.columns:
            continue
        x = kpis[kpi].to_numpy(float)
        finite = x[np.isfinite(x)]
        value = float(finite.mean()) if finite.size else float("nan")
        meets = (x >= goal) if sense == ">=" else (x <= goal)  # NaN meets neither
        rows.append({"run_id": run_id, "target": f"{name} ({kpi})", "value": value,
                     "goal": float(goal), "tolerance": 0.0, "sense": sense,
                     "met": bool(np.isfinite(value) and (value >= goal if sense == ">="
                                                         else value <= goal)),
                     "probability": float(meets.mean()) if x.size else float("nan")})
    return rows


def _spend_rows(run_id: str, targets: Targets, manifest: dict[str, Any]
                ) -> list[dict[str, Any]]:
    from optimizer import DEFAULT_CHANNEL_GROUPS, ONLINE_CHANNELS

    channels = [c for c in (manifest.get("summary") or {}).get("channels") or []
                if c.get("channel") != "organic"]
    if not channels:
        return []
    spend = {str(c["channel"]): float(c.get("spend") or 0.0) for c in channels}
    spent = sum(spend.values())
    budget = (manifest.get("scenario") or {}).get("budget") or {}
    planned = bool(budget.get("enabled", True)) and float(budget.get("total") or 0.0) > 0
    # with one budget for outlets and marketing, the policy holds on what the outlets
    # leave to marketing (as the optimizer holds it)
    outlets = float(((manifest.get("summary") or {}).get("combined") or {}).get(
        "outlet_cost") or 0.0)
    total = max(float(budget.get("total") or 0.0) - outlets, spent)
    rows = []

    def share_row(target: str, value: float, goal: float, tol: float) -> dict[str, Any]:
        met = bool(abs(value - goal) <= tol + 1e-9)
        return {"run_id": run_id, "target": target, "value": value, "goal": goal,
                "tolerance": tol, "sense": "=", "met": met, "probability": float(met)}

    if "policy" not in targets.ignore and planned and total > 0:  # a split needs a budget
        for purpose, goal in targets.policy.model_dump().items():
            used = (total - spent if purpose == "reserve" else
                    sum(spend.get(ch, 0.0) for ch in DEFAULT_CHANNEL_GROUPS.get(purpose, ())))
            rows.append(share_row(f"policy.{purpose} (share of the budget)", used / total,
                                  float(goal), targets.policy_tolerance))
    if "online_share" not in targets.ignore and spent > 0:
        online = sum(spend.get(ch, 0.0) for ch in ONLINE_CHANNELS)
        rows.append(share_row("online_share (share of the spend)", online / spent,
                              targets.online_share, targets.online_tolerance))
    return rows


def target_checks(folders: Sequence[str | Path]) -> pd.DataFrame:
    """One row per target of each run (``TARGET_COLUMNS``): ``value`` against ``goal``
    (``sense`` ``>=``, ``<=``, or ``=`` within ``tolerance``), ``met``, ``probability``.
    A run whose scenario sets ``targets.enabled = false`` has no rows; runs written
    before targets existed are judged on the defaults."""
    rows: list[dict[str, Any]] = []
    for folder in folders:
        path = Path(folder)
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            kpis = pd.read_parquet(path / "kpis.parquet")
        except (OSError, ValueError):
            continue
        targets = Targets.model_validate(
            (manifest.get("scenario") or {}).get("targets") or {})
        if not targets.enabled:
            continue
        run_id = str(manifest.get("run_id", path.name))
        rows += _kpi_rows(run_id, targets, kpis) + _spend_rows(run_id, targets, manifest)
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


def target_cell(row: Mapping[str, object]) -> str:
    """A target's cell: the value, met or MISSED, the goal, and the probability of meeting
    it over the replications (for the terminal, the dashboard and the report)."""
    from scenarios.store import format_kpi

    value, goal, tol = (float(row[k]) for k in ("value", "goal", "tolerance"))  # type: ignore[arg-type]
    share = row["sense"] == "="
    shown = f"{value:.0%}" if share else format_kpi(value)
    aim = (f"{goal:.0%} ±{tol * 100:.0f} points" if share
           else f"{'≥' if row['sense'] == '>=' else '≤'} {format_kpi(goal)}")
    return (f"{shown} {'met' if row['met'] else 'MISSED'} (goal {aim}; "
            f"P {float(row['probability']):.0%})")  # type: ignore[arg-type]
