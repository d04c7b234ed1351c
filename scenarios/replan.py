"""``sitesim replan``: the mid-course re-plan (docs/calibration.md, "Re-plan mid-course").

At week W the bank has spent (its history) and seen (its observations) weeks 1 to W. The
re-plan:

1. takes the original plan: the scenario's latest complete run (run now if it has none);
2. recalibrates the model on weeks 1 to W (:func:`scenarios.calibrate.calibrate` with
   the weeks after W left out of both files), unless given a calibration;
3. keeps what was spent: weeks 1 to W are the history's campaigns, as the calibration saw
   them;
4. re-optimizes the rest: what is left of ``budget.total`` (less what the history spent
   beyond the scenario's own campaigns) over weeks W + 1 to the budget's last, on
   response curves swept on top of the history; the events the original plan held after
   week W, placed again in those weeks with what the events' budget has left;
5. runs that as any scenario (the plan checked by its own simulation, the simple rules,
   and the original plan's split of the same weeks at the same money simulated beside it
   with the same random numbers), and writes into the run folder what changed against
   the original plan and why (``replan_changes.parquet``, ``calibration.toml`` and the
   manifest's ``summary.replan``; :mod:`scenarios.replan_report`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo import load_area
from geo.errors import InfeasibleError, InputError
from scenarios._fingerprint import file_digest
from scenarios._fit_size import MIN_FITTED_WEEKS, ROUNDS
from scenarios.bank_data import read_bank
from scenarios.calibrate import calibrate, campaigns_from_history
from scenarios.calibration_file import read_calibration
from scenarios.plan_check import campaigns_from_budget
from scenarios.plans import scenario_campaigns
from scenarios.plans_budget import budget_weeks
from scenarios.preflight import event_weeks
from scenarios.replan_report import ReplanFacts, finish_replan
from scenarios.run import RunExtras, RunResult, run_scenario
from scenarios.schema import Scenario
from scenarios.store import resolve_run
from simulation import Campaign

__all__ = ["Replanned", "replan", "replan_scenario", "spend_split"]

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    del message


@dataclass(frozen=True)
class Replanned:
    """The re-plan's run, the original run it re-plans, and the calibration it used."""

    run: RunResult
    original: Path
    calibration: Path
    facts: ReplanFacts


def _after(campaign: Campaign, week: int) -> Campaign | None:
    """The part of ``campaign`` in the weeks after ``week``, its spend prorated by weeks
    (a campaign spreads its spend evenly over its weeks); None when it is over."""
    first, last = campaign.weeks
    start = max(first, week + 1)
    if start > last:
        return None
    return dataclasses.replace(campaign, spend=campaign.spend * (last - start + 1)
                               / (last - first + 1), weeks=(start, last))


def spend_split(campaigns: Sequence[Campaign], adults: pd.Series, week: int
                ) -> tuple[float, pd.DataFrame]:
    """What ``campaigns`` spend in weeks 1 to ``week`` in all, and in the weeks after it
    by community and channel (``community_id, channel, spend``): a campaign spreads its
    spend evenly over its weeks and over its communities' adults (all communities when
    it names none), as the model spends it."""
    before = 0.0
    rows: list[pd.DataFrame] = []
    every = adults.set_axis(adults.index.astype(str)).astype(float)
    for c in campaigns:
        part = _after(c, week)
        before += c.spend - (part.spend if part is not None else 0.0)
        if part is None:
            continue
        members = every.reindex(list(c.communities)).fillna(0.0) if c.communities else every
        if members.sum() <= 0:
            continue
        rows.append(pd.DataFrame({"community_id": members.index, "channel": c.channel,
                                  "spend": part.spend * (members / members.sum()).to_numpy()}))
    if not rows:
        return before, pd.DataFrame(columns=["community_id", "channel", "spend"])
    split = pd.concat(rows, ignore_index=True).groupby(
        ["community_id", "channel"])["spend"].sum().reset_index()
    return before, split


def _schema_campaigns(campaigns: Sequence[Campaign | None]) -> list[dict[str, Any]]:
    return [{"channel": c.channel, "spend": c.spend, "weeks": list(c.weeks),
             "segments": list(c.segments), "communities": list(c.communities)}
            for c in campaigns if c is not None]


def _policy_left(sc: Scenario, total: float) -> dict[str, float]:
    """The policy's shares of the re-plan's ``total`` (what is left to spend plus the
    year's whole reserve): the reserve held back is the year's, ``policy.reserve`` x
    ``budget.total``, and the rest splits by purpose as the year's policy says."""
    policy = sc.budget.policy.model_dump()
    reserve = float(sc.budget.total) * policy["reserve"] / total
    rest = 1 - policy["reserve"]
    out = {k: v * (1 - reserve) / rest for k, v in policy.items() if k != "reserve"}
    return {**out, "reserve": 1 - sum(out.values())}


def replan_scenario(sc: Scenario, history: pd.DataFrame, week: int, *,
                    original_budget: Sequence[Campaign], original_events: pd.DataFrame | None,
                    adults: pd.Series, calibration: str, original_run: str,
                    note: str = "") -> tuple[Scenario, ReplanFacts]:
    """The re-plan as a scenario of its own, and the figures it rests on (see the
    module): weeks 1 to ``week`` are the ``history``'s campaigns; what is left to spend
    runs in the weeks after; ``original_budget``: the original plan's budget campaigns;
    ``original_events``: its event schedule (None: no events); ``note``: added to the
    description (what the re-plan read, so that the run's hash changes with it)."""
    first, last = budget_weeks(sc)
    if last <= week:
        raise InputError(f"--week {week}: the budget's weeks ({first} to {last}) end by "
                         "then, so there is nothing left to re-plan; give an earlier week")
    own = scenario_campaigns(sc)
    own_before, _ = spend_split(own, adults, week)
    planned_before, original_after = spend_split(original_budget, adults, week)
    spent = float(history.loc[history["week"] <= week, "spend"].sum())
    from_budget = max(spent - own_before, 0.0)
    total = float(sc.budget.total)
    reserve = total * sc.budget.policy.reserve
    left = total - reserve - from_budget  # the year's spendable less what it spent
    if left <= 0:
        raise InfeasibleError(
            f"by week {week} the history spent {spent:,.0f}, of which {from_budget:,.0f} "
            f"beyond the scenario's own campaigns ({own_before:,.0f}): budget.total = "
            f"{total:,.0f} less its reserve ({reserve:,.0f}) has nothing left for weeks "
            f"{week + 1} to {last}; raise budget.total to what the year may still spend")
    span = [max(first, week + 1), last]
    raw = sc.model_dump(mode="json")
    raw["name"] = f"{sc.name}-replan-w{week}"
    raw["description"] = (f"{sc.name} re-planned at week {week} (original run "
                          f"{original_run}): the history's spend in weeks 1 to {week}, "
                          f"the {left:,.0f} left to spend re-optimized over weeks "
                          f"{span[0]} to {span[1]}{note}")
    # the past as the history spent it; the scenario's own campaigns' weeks after it
    raw["campaigns"] = (_schema_campaigns(campaigns_from_history(history, week))
                        + _schema_campaigns([_after(c, week) for c in own]))
    # the curves are swept again on the recalibrated model (a curves file is a year's)
    raw["budget"] = {**raw["budget"], "total": left + reserve, "weeks": span,
                     "curves": None, "policy": _policy_left(sc, left + reserve),
                     "quarterly": sc.budget.quarterly and span[1] - span[0] >= 3}
    raw["outlets"] = {**raw["outlets"], "enabled": False}
    raw["calibration"] = {"file": calibration, "fixed": sc.calibration.fixed}
    raw["sweep"] = {}
    events_left = _events_after(sc, original_events, week)
    raw["events"] = {**raw["events"], **events_left}
    facts = ReplanFacts(week=week, weeks=(span[0], span[1]), spent=spent,
                        spent_from_budget=from_budget,
                        planned_before=planned_before + own_before, remaining=left,
                        reserve=reserve, total=total, original_run=original_run,
                        original_after=original_after,
                        events_left=dict(events_left.get("count") or {}))
    return Scenario.model_validate(raw), facts


def _events_after(sc: Scenario, schedule: pd.DataFrame | None, week: int) -> dict[str, Any]:
    """The ``[events]`` of the re-plan: the original plan's events after ``week`` by
    type, in the weeks left of its window, with what the events' budget has left after
    the events held by then (none when none are left)."""
    if schedule is None or schedule.empty or not sc.events.enabled:
        return {"enabled": False}
    later = schedule[schedule["week"] > week]
    window = event_weeks(sc)
    if later.empty or window[-1] <= week:
        return {"enabled": False}
    held = float(schedule.loc[schedule["week"] <= week, "cost"].sum())
    budget = None if sc.events.budget is None else max(sc.events.budget - held, 0.0)
    counts = later["event_type"].value_counts()
    return {"count": {str(k): int(v) for k, v in counts.items()},
            "weeks": [max(window[0], week + 1), window[-1]], "budget": budget}


def _original(sc: Scenario, original: str | None, runs_dir: Path,
              progress: Progress) -> tuple[Path, dict[str, Any], list[str]]:
    """The original plan's run folder and manifest: ``original`` (a run id, name or
    folder), else the scenario's latest complete run, else a run made now."""
    notes: list[str] = []
    try:
        folder = resolve_run(original or sc.name, runs_dir)
    except InputError:
        if original is not None:
            raise
        progress(f"replan: no run of {sc.name} in {runs_dir}; running the original plan")
        folder = run_scenario(sc, runs_dir=runs_dir, progress=progress).path
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("scenario") != sc.model_dump(mode="json"):
        notes.append(f"the original run {folder.name} was made from another version of "
                     f"{sc.name}'s scenario: its plan is the one compared")
    if not (folder / "plan_budget.parquet").exists():
        raise InputError(f"run {folder.name}: no budget plan (plan_budget.parquet) to "
                         "re-plan; give a scenario whose budget is planned "
                         "(budget.enabled = true)")
    return folder, manifest, notes


def _original_budget(manifest: dict[str, Any], folder: Path, adults: pd.Series
                     ) -> list[Campaign]:
    """The original run's budget plan as the campaigns its simulation ran."""
    ran = Scenario.model_validate(manifest["scenario"])
    plan = pd.read_parquet(folder / "plan_budget.parquet")
    first, last = budget_weeks(ran)
    return campaigns_from_budget(plan, adults, last, ran.budget.quarterly, first=first)


def _read_bank(history_path: str | Path, observed_path: str | Path, communities: pd.Index,
               week: int) -> tuple[pd.DataFrame, float, list[str]]:
    """The history to ``week`` and the new customers observed by then, both files
    checked before any work starts; a history whose spend stops before ``week`` is said
    (its last weeks spent nothing, or were not exported)."""
    history, observed = read_bank(history_path, observed_path, communities, last_week=week,
                                  what="the re-plan's data")
    seen = float(observed["new_customers"].sum())
    last = int(history["week"].max()) if len(history) else 0
    if last < week:
        return history, seen, [f"the history's last spend is in week {last}: weeks "
                               f"{last + 1} to {week} are taken as spending nothing"]
    return history, seen, []


def replan(sc: Scenario, history_path: str | Path, observed_path: str | Path, *, week: int,
           runs_dir: str | Path = "runs", calibration: str | Path | None = None,
           original: str | None = None, holdout: int = 0, rounds: int = ROUNDS,
           progress: Progress = _quiet) -> Replanned:
    """Re-plan ``sc`` at ``week`` on the bank's history and observations (see the
    module). ``calibration``: a calibration already fitted on weeks up to ``week`` (else
    fitted here, ``holdout`` weeks held out, at most ``rounds`` rounds); ``original``:
    the run to re-plan (default: the scenario's latest complete run, made now if there
    is none).

    Raises
    ------
    InputError
        Bad files, a week outside the run, a scenario without a budget (exit code 2).
    InfeasibleError
        No budget left, or no plan within the scenario's limits (exit code 3).
    """
    runs = Path(runs_dir)
    if not (sc.budget.enabled and sc.simulation.enabled):
        raise InputError(f"{sc.name}: budget.enabled and simulation.enabled must be true to "
                         "re-plan: the re-plan re-optimizes the budget and simulates it")
    if sc.budget.includes_outlets:
        raise InputError(f"{sc.name}: budget.includes_outlets = true: a re-plan keeps the "
                         "outlets and re-splits the marketing money; give a scenario with "
                         "includes_outlets = false and budget.total the marketing's money")
    fewest = MIN_FITTED_WEEKS + (holdout if calibration is None else 0)
    if not fewest <= week < sc.simulation.weeks:
        raise InputError(f"--week {week}: give a week from {fewest} (a calibration fits "
                         f"at least {MIN_FITTED_WEEKS} weeks, and --holdout-weeks {holdout} "
                         f"more) to {sc.simulation.weeks - 1} (before the run's last)")
    area = load_area(sc.area)
    history, observed_so_far, notes = _read_bank(history_path, observed_path,
                                                 area.communities.index, week)
    if calibration is not None:  # checked before any long work
        path = Path(calibration)
        notes += _check_calibration(path, week)
    folder, manifest, said = _original(sc, original, runs, progress)
    notes += said
    adults = area.adults
    if calibration is None:
        progress(f"replan: calibrating on weeks 1 to {week}")
        path = _fitted(sc, history_path, observed_path, week, runs, holdout, rounds, progress)
    events = (pd.read_parquet(folder / "plan_events.parquet")
              if (folder / "plan_events.parquet").exists() else None)
    scenario, facts = replan_scenario(
        sc, history, week, original_budget=_original_budget(manifest, folder, adults),
        original_events=events, adults=adults, calibration=str(path.resolve()),
        original_run=folder.name,
        note=f"; observations sha256 {file_digest(Path(observed_path))[:16]}")
    facts = dataclasses.replace(facts, observed_so_far=observed_so_far).with_notes(notes)
    extras = RunExtras(
        other_rules={"original": (f"the original plan's split of weeks {facts.weeks[0]} to "
                                  f"{facts.weeks[1]}", facts.original_after)},
        finish=lambda tmp, summary: finish_replan(
            tmp, summary, facts=facts, original=folder, original_manifest=manifest,
            calibration=path, area=area, objective=sc.budget.objective))
    progress(f"replan: {facts.remaining:,.0f} left to spend in weeks {facts.weeks[0]} to "
             f"{facts.weeks[1]}; re-planning")
    result = run_scenario(scenario, runs_dir=runs, progress=progress, extras=extras)
    return Replanned(result, folder, path, facts)


def _check_calibration(path: Path, week: int) -> list[str]:
    """A given calibration must not have seen weeks after ``week``; one that stops before
    it is said."""
    fitted = read_calibration(path)
    seen = fitted.held_out.weeks[1] if fitted.held_out else fitted.weeks[1]
    if fitted.weeks[1] > week:
        raise InputError(f"{path}: fitted on weeks up to {fitted.weeks[1]}, after the "
                         f"re-plan's week {week}; give a calibration of weeks 1 to {week} "
                         "(sitesim calibrate ... or leave --calibration out)")
    if seen < week:
        return [f"the calibration {path.name} saw weeks 1 to {seen}, not the "
                f"{week - seen} week(s) since"]
    return []


def _fitted(sc: Scenario, history: str | Path, observed: str | Path, week: int, runs: Path,
            holdout: int, rounds: int, progress: Progress) -> Path:
    """Calibrate on weeks 1 to ``week`` into ``runs``, named by its content (a later
    re-plan never overwrites the calibration an earlier re-plan's run names)."""
    runs.mkdir(parents=True, exist_ok=True)
    tmp = runs / f".{sc.name}-replan-w{week}.calibration.{os.getpid()}.toml"
    try:
        calibrate(sc, history, observed, holdout=holdout, last_week=week, out=tmp,
                  rounds=rounds, progress=progress)
        path = runs / f"{sc.name}-replan-w{week}.calibration-{file_digest(tmp)[:8]}.toml"
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
