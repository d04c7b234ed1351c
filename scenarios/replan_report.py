"""What a re-plan changed against the original plan and why (``sitesim replan``;
:mod:`scenarios.replan`): written into the re-plan's run folder before it is complete.

- ``replan_changes.parquet``: per community and channel, the original plan's spend in
  the weeks re-planned, the re-plan's, and the change;
- ``calibration.toml``: the calibration the re-plan ran on;
- the manifest's ``summary.replan``: the money (spent by the week, what the original
  plan had spent by then, what is left), new customers so far (observed, the original
  plan's forecast of them, the recalibrated model's), the rest of the year (the
  re-plan against the original plan's split at the same money, paired), the scenario's
  rules that bind, and per channel the change with its reasons: what 1,000 more brings
  at the margin on the re-plan's curves at the original split (scaled to the re-plan's
  spend) against the original plan's curves at its own, and the recalibrated response
  against the original's (``why``: one line per channel).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import StudyArea
from optimizer import curves_response
from scenarios.calibration_file import CalibrationFile, read_calibration
from scenarios.names import community_names
from simulation import t_interval

__all__ = ["ReplanFacts", "change_table", "channel_changes", "finish_replan",
           "marginal_per_unit"]

#: A channel whose spend moves by less than this share of the money left is "kept".
KEPT = 0.01


@dataclass(frozen=True)
class ReplanFacts:
    """The figures a re-plan rests on: the week, the weeks re-planned, the money (spent
    by the week, of it from the budget, what the original plan had spent by then, left to
    spend, the year's reserve held back, the year's total), the original run, its split
    of the weeks re-planned (``community_id, channel, spend``), the events left by type,
    notes, and the new customers observed so far."""

    week: int
    weeks: tuple[int, int]
    spent: float
    spent_from_budget: float
    planned_before: float
    remaining: float
    reserve: float
    total: float
    original_run: str
    original_after: pd.DataFrame
    events_left: dict[str, int]
    notes: tuple[str, ...] = field(default=())
    #: The new customers the bank observed in weeks 1 to ``week``.
    observed_so_far: float = 0.0

    def with_notes(self, notes: list[str]) -> ReplanFacts:
        return dataclasses.replace(self, notes=(*self.notes, *notes))


def change_table(original: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """Per community and channel: ``original`` (the original plan's spend in the weeks
    re-planned), ``replan`` (the re-plan's, its quarters summed) and ``change``."""
    keys = ["community_id", "channel"]
    before = original.assign(community_id=original["community_id"].astype(str)).groupby(
        keys)["spend"].sum().rename("original")
    after = plan.assign(community_id=plan["community_id"].astype(str)).groupby(
        keys)["spend"].sum().rename("replan")
    table = pd.concat([before, after], axis=1).fillna(0.0).reset_index()
    table = table[(table["original"] > 1e-6) | (table["replan"] > 1e-6)]
    return table.assign(change=table["replan"] - table["original"]).sort_values(
        keys, ignore_index=True)


def marginal_per_unit(curves: pd.DataFrame, split: pd.DataFrame,
                      step: float = 0.01) -> pd.Series:
    """Per channel of ``split`` (``community_id, channel, spend``), the new customers a
    unit of spend brings at the margin on ``curves``: the channel's spend raised by
    ``step`` in each of its communities, the curves' gain over the money added (each
    community's curves of every segment at the community's spend, as the budget's LP
    counts them). Channels without spend have none."""
    cells = split.assign(community_id=split["community_id"].astype(str)).groupby(
        ["community_id", "channel"])["spend"].sum()
    rows = curves.assign(community_id=curves["community_id"].astype(str))
    at = pd.MultiIndex.from_frame(rows[["community_id", "channel"]])
    spend = cells.reindex(at).fillna(0.0).to_numpy(float)
    gain = curves_response(rows, spend * (1 + step)) - curves_response(rows, spend)
    added = cells.groupby(level="channel").sum() * step
    return (pd.Series(gain).groupby(rows["channel"].to_numpy()).sum()
            / added.where(added > 0)).dropna()


def channel_changes(changes: pd.DataFrame, parameters: pd.DataFrame, *,
                    original_curves: pd.DataFrame, original_split: pd.DataFrame,
                    curves: pd.DataFrame, spend: float) -> pd.DataFrame:
    """Per channel: the spend in the weeks re-planned, before (``original``; and scaled
    to the re-plan's ``spend``, ``scaled``) and after (``replan``), the ``change``; the new
    customers a unit brings at the margin on the original plan's curves at its own split
    (``original_marginal``) and on the re-plan's curves at the original split scaled
    (``replan_marginal``); and the recalibrated adoption effect and spend for 63% reach
    against the original's (``parameters``: ``name, original, estimate, identified``; a
    channel the calibration did not fit has none)."""
    by = changes.groupby("channel")[["original", "replan", "change"]].sum()
    before = float(by["original"].sum())
    scale = spend / before if before > 0 else 0.0
    by.insert(1, "scaled", by["original"] * scale)
    scaled = changes.assign(spend=changes["original"] * scale)
    by["original_marginal"] = marginal_per_unit(original_curves, original_split).reindex(
        by.index)
    by["replan_marginal"] = marginal_per_unit(curves, scaled).reindex(by.index)
    named = parameters.set_index("name")
    for field_name, column in (("awareness_gain", "adoption"),
                               ("spend_per_resident", "reach_spend")):
        found = named.reindex([f"channels.{c}.{field_name}" for c in by.index])
        by[f"{column}_ratio"] = (found["estimate"] / found["original"]).to_numpy()
        by[f"{column}_identified"] = found["identified"].to_numpy()
    return by.reset_index()


def _why(row: Any, spend: float, weeks: tuple[int, int]) -> str:
    moved = abs(row.change) >= KEPT * max(spend, 1.0)
    verb = ("kept" if not moved else "raised" if row.change > 0 else "cut")
    parts = [f"{row.channel}: {verb}, {row.original:,.0f} -> {row.replan:,.0f} "
             f"({row.change:+,.0f}) in weeks {weeks[0]} to {weeks[1]}, "
             f"{row.replan - row.scaled:+,.0f} against the original split scaled to the "
             f"re-plan's money ({row.scaled:,.0f})"]
    if np.isfinite(row.replan_marginal):
        was = (f" (the original plan's curves at its own split: "
               f"{1000 * row.original_marginal:.2f})"
               if np.isfinite(row.original_marginal) else "")
        parts.append(f"at that split 1,000 more on it brings {1000 * row.replan_marginal:.2f}"
                     f" new customers on the re-plan's curves{was}")
    if np.isfinite(row.adoption_ratio):
        said = "" if row.adoption_identified else " (not identified by the data)"
        parts.append(f"the bank's data put its adoption effect at {row.adoption_ratio:.2g} "
                     f"times the original's{said} and its spend for 63% reach at "
                     f"{row.reach_spend_ratio:.2g} times")
    else:
        parts.append("the history never spent on it: its response is the prior's")
    return "; ".join(parts)


def _new_customers(folder: Path, *spans: tuple[int, int]
                   ) -> list[dict[str, float] | None]:
    """A run's simulated new customers in each of ``spans`` of weeks over its
    replications (None without a time series; the file is read once): the mean with its
    95% interval (``low``, ``high``), and the 95% prediction interval of one year's
    outcome (``outcome_low``, ``outcome_high``: mean +- t sd sqrt(1 + 1/n)), against
    which one observed year is judged."""
    path = folder / "timeseries.parquet"
    if not path.exists():
        return [None] * len(spans)
    ts = pd.read_parquet(path, columns=["arm", "replication", "week", "new_customers"],
                         filters=[("arm", "==", "campaign")])
    out: list[dict[str, float] | None] = []
    for weeks in spans:
        within = ts[ts["week"].between(*weeks)]
        mean, _, low, high, n = t_interval(
            within.groupby("replication")["new_customers"].sum().to_numpy(float))
        # the mean's half-width t sd / sqrt(n) times sqrt(n + 1): t sd sqrt(1 + 1/n)
        half = (high - mean) * np.sqrt(n + 1) if n > 1 else float("nan")
        out.append({"mean": mean, "low": low, "high": high, "outcome_low": mean - half,
                    "outcome_high": mean + half})
    return out


def _parameters(calibration: CalibrationFile, original: dict[str, Any]) -> pd.DataFrame:
    """Each recalibrated parameter against the original's value: the original run's
    calibration where it had one, else the default (the new calibration's prior)."""
    before = ((original.get("summary") or {}).get("calibration") or {}).get("parameters", {})
    rows = []
    for p in calibration.parameters:
        known = before.get(p["name"], {}).get("estimate")
        rows.append({"name": p["name"], "original": float(known if known is not None
                                                          else p["prior"]),
                     "estimate": float(p["estimate"]), "low": float(p["low"]),
                     "high": float(p["high"]), "identified": bool(p["identified"])})
    return pd.DataFrame(rows, columns=["name", "original", "estimate", "low", "high",
                                       "identified"])


def _rule(summary: dict[str, Any], name: str) -> dict[str, Any] | None:
    budget = summary.get("budget")
    rules = budget.get("rules", []) if isinstance(budget, dict) else []
    return next((r for r in rules if r.get("rule") == name), None)


def finish_replan(folder: Path, summary: dict[str, Any], *, facts: ReplanFacts,
                  original: Path, original_manifest: dict[str, Any], calibration: Path,
                  area: StudyArea, objective: str) -> list[str]:
    """Write what changed and why into the re-plan's run ``folder`` and ``summary``
    (see the module); return the notes as warnings."""
    shutil.copyfile(calibration, folder / "calibration.toml")
    plan = pd.read_parquet(folder / "plan_budget.parquet")
    original_plan = pd.read_parquet(original / "plan_budget.parquet")
    changes = change_table(facts.original_after, plan)
    changes.assign(community=changes["community_id"].map(community_names(area))).to_parquet(
        folder / "replan_changes.parquet", index=False)
    fitted = read_calibration(calibration)
    parameters = _parameters(fitted, original_manifest)
    spend = float(plan["spend"].sum())
    channels = channel_changes(
        changes, parameters, original_curves=pd.read_parquet(original / "curves.parquet"),
        original_split=original_plan, curves=pd.read_parquet(folder / "curves.parquet"),
        spend=spend)
    said = summary.get("budget")
    budget: dict[str, Any] = said if isinstance(said, dict) else {}
    # the LP's marginal value is per unit of budget.total (the reserve in it), in the
    # objective's units: per unit spent, in new customers, only when it counts them
    lp = budget.get("marginal_value")
    per_spent = (float(lp) * (facts.remaining + facts.reserve) / spend
                 if lp is not None and spend > 0 and objective == "customers" else None)
    so_far, rest = (1, facts.week), facts.weeks
    original_so_far, original_rest = _new_customers(original, so_far, rest)
    replan_so_far, replan_rest = _new_customers(folder, so_far, rest)
    summary["replan"] = {
        "week": facts.week, "weeks": list(rest), "original_run": facts.original_run,
        "calibration": {"weeks": list(fitted.weeks), "converged": fitted.converged,
                        "moved": fitted.moved, "rounds": fitted.rounds},
        "money": {"total": facts.total, "spent": facts.spent,
                  "spent_from_budget": facts.spent_from_budget,
                  "original_planned_by_week": facts.planned_before,
                  "remaining": facts.remaining, "reserve": facts.reserve,
                  "replan_spend": spend,
                  "original_remaining": float(facts.original_after["spend"].sum())},
        "new_customers_so_far": {"observed": facts.observed_so_far,
                                 "original_forecast": original_so_far,
                                 "recalibrated": replan_so_far},
        "rest_of_year": {"replan": replan_rest, "original_on_its_model": original_rest,
                         "original_split_same_money": _rule(summary, "original")},
        "events_left": facts.events_left,
        "parameters": parameters.to_dict("records"),
        "channels": channels.replace({np.nan: None}).to_dict("records"),
        "marginal_new_customers_per_unit": per_spent,
        "binding": list(budget.get("binding") or []),
        "why": [_why(row, spend, rest) for row in channels.sort_values(
            "change", key=lambda c: -c.abs()).itertuples()],
        "notes": list(facts.notes),
    }
    return [f"replan: {note}" for note in facts.notes]
