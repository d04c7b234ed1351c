"""The budget plan's checks as a table, from run folders: each round's forecast against
the simulated uplift of the plan, and the plan's paired advantage over each simple rule
(scenarios.plan_check writes them into the manifest's ``summary.budget``). Read by
``sitesim run``, ``compare`` and ``demo`` and by the dashboard."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from scenarios.plan_check import TOLERANCE

__all__ = ["CHECK_COLUMNS", "check_cells", "plan_checks"]

CHECK_COLUMNS = ("run_id", "check", "plan", "other", "difference", "low", "high",
                 "verdict")


def plan_checks(folders: Sequence[str | Path]) -> pd.DataFrame:
    """One row per check of each run's budget plan. ``check`` is ``round N``: ``plan`` is
    the forecast, ``other`` the simulated uplift of the plan's campaigns, ``difference``
    the forecast less it (``low``, ``high``: the range it may take and agree, the
    simulated 95% interval widened by 5% of the simulated mean), ``verdict`` agree or
    disagree (docs/scenarios.md, "Plans that hold up"). Or
    ``vs <rule>``: ``plan`` and ``other`` are the plan's and the rule's simulated uplift,
    ``difference`` the plan's paired advantage with its 95% interval. Or ``+10% budget``:
    new customers per 1,000 more of budget, on the curves (``plan``; the LP's own
    marginal value in the label) and simulated (``other``). Or, for a value objective,
    ``... per new customer``: the plan's value per new customer on the curves against
    the run's simulated one. Or ``one budget``, where one
    budget pays for outlets and marketing: the split (``plan`` the outlets' yearly cost,
    ``other`` the marketing's), the opened outlets' forecast against their simulation
    together, and 1,000 more a year in marketing (``plan``) and in the best outlet left
    closed (``other``), in new customers and in value. Runs without a checked plan have
    no rows."""
    rows = []
    for folder in folders:
        path = Path(folder)
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        budget = (manifest.get("summary") or {}).get("budget") or {}
        run_id = manifest.get("run_id", path.name)
        rounds = budget.get("rounds") or []
        for r in rounds:
            rows.append(_agreement(run_id, f"round {r['round']}", r["forecast"], r))
        simulated = rounds[-1]["simulated"] if rounds else None
        for rule in budget.get("rules") or []:
            rows.append({"run_id": run_id, "check": f"vs {rule['rule']}",
                         "plan": simulated, "other": rule["uplift"],
                         "difference": rule["advantage"], "low": rule["low"],
                         "high": rule["high"], "verdict": rule["verdict"]})
        m = budget.get("marginal_check")
        if m:
            per = 1_000  # new customers per 1,000 more of budget.total
            lp = (f", LP {m['lp'] * per:.2f}" if m.get("lp") is not None
                  and m.get("objective") == "customers" else "")
            rows.append(_agreement(run_id, f"+{m['step']:.0%} budget, per 1,000{lp}",
                                   m["curves"], m, scale=per))
        v = budget.get("value_check")
        if v:
            rows.append(_agreement(run_id, f"{v['value']} per new customer", v["forecast"],
                                   v))
        rows += _one_budget_rows(run_id, (manifest.get("summary") or {}).get("combined"))
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def _agreement(run_id: str, check: str, forecast: float, simulated: dict, *,
               scale: float = 1.0) -> dict:
    """A forecast against its simulation (``simulated``: ``simulated``, ``low``,
    ``high``, ``agrees``): the difference may lie within the simulated 95% interval
    widened by TOLERANCE of the simulated mean; figures times ``scale``."""
    mean, widen = simulated["simulated"], TOLERANCE * abs(simulated["simulated"])
    return {"run_id": run_id, "check": f"{check} (±95% and {TOLERANCE:.0%} allowed)",
            "plan": forecast * scale, "other": mean * scale,
            "difference": (forecast - mean) * scale,
            "low": (forecast - simulated["high"] - widen) * scale,
            "high": (forecast - simulated["low"] + widen) * scale,
            "verdict": "agree" if simulated["agrees"] else "disagree"}


def _one_budget_rows(run_id: str, combined: dict | None) -> list[dict]:
    """One budget for outlets and marketing (scenarios.combined_budget): the split, the
    opened outlets' forecast against their simulation together, and what 1,000 more a
    year buys in each, in new customers and in value."""
    if not combined:
        return []
    nan = float("nan")
    options = combined.get("options") or []
    opened = combined.get("opened") or []
    rows = [{"run_id": run_id,
             "check": f"one budget of {combined['total']:,.0f} a year: outlets (plan) and "
                      f"marketing (other); {len(opened)} of {len(options)} sites open"
                      + (f" ({', '.join(opened)})" if opened else ""),
             "plan": combined["outlet_cost"], "other": combined["marketing_budget"],
             "difference": nan, "low": nan, "high": nan,
             "verdict": "split" if opened else "all to marketing"}]
    c = combined.get("outlets_check")
    if c:
        rows.append(_agreement(run_id, f"one budget: the {len(opened)} outlets opened, "
                                       "together, customers won or kept", c["forecast"], c))
    marginal = combined.get("marginal") or {}
    market, outlet = marginal.get("marketing") or {}, marginal.get("outlets") or {}
    best = marginal.get("best_closed")
    for key, unit, per in (("customers", "customers (marketing: new; outlet: won or kept)",
                             1_000), ("value", "value", 1_000)):
        m, o = market.get(key), outlet.get(key)
        if m is None:
            continue
        m, o = float(m) * per, (float(o) * per if o is not None else nan)
        rows.append({"run_id": run_id,
                     "check": f"one budget: {per:,} more a year buys, in {unit}: marketing "
                              "(plan) vs " + (f"{best}, the best outlet left closed (other)"
                                              if best else "no outlet left closed"),
                     "plan": m, "other": o, "difference": m - o if o == o else nan,
                     "low": nan, "high": nan,
                     "verdict": ("no outlet left" if o != o else
                                 "to marketing" if m >= o else "to an outlet")})
    return rows


def check_cells(frame: pd.DataFrame) -> list[list[str]]:
    """The checks as text, a row each: run id, check, plan, other, "difference ±half of
    its range", verdict (for the terminal and the dashboard)."""
    from scenarios.store import format_kpi

    rows = []
    for r in frame.to_dict("records"):
        difference = float(r["difference"])
        half = (float(r["high"]) - float(r["low"])) / 2
        sign = "+" if difference >= 0 else ""
        text = ("" if difference != difference else f"{sign}{format_kpi(difference)}"
                + ("" if half != half else f" ±{format_kpi(half)}"))
        rows.append([str(r["run_id"]), str(r["check"]), format_kpi(float(r["plan"])),
                     format_kpi(float(r["other"])), text, str(r["verdict"])])
    return rows
