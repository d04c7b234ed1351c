"""One scenario end to end, into a run folder (DESIGN.md, "The flow of one scenario run").

area -> scores -> outlet plan -> event plan -> staff plan -> response curves (cached
sweeps) -> budget plan -> simulation with replications and the no-campaign counterfactual
-> KPIs -> ``runs/<name>-<hash8>/``. The folder is written under a temporary name and
renamed when complete, so a crash never leaves a half run that looks whole. Each planning
stage can be switched off in the scenario (``enabled = false``): a scenario then simulates
its given campaigns on the current outlets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from geo.area import resolve_area_path
from scenarios import money, plans
from scenarios._fingerprint import code_fingerprint, file_digest
from scenarios._run_budget import budget_stage
from scenarios.combined_budget import combined_report, combined_stage
from scenarios.estimate import estimate_scenarios
from scenarios.lifetime import lifetime_kpis, value_check
from scenarios.names import VENUES, community_names, place_names, with_places
from scenarios.rollout import rollout_inputs, rollout_summary
from scenarios.run_tables import weekly_spend, write_timeseries
from scenarios.scale import scale_note
from scenarios.schema import Scenario, load_scenario
from scenarios.van import van_inputs, van_plan

__all__ = ["RunExtras", "RunResult", "area_hash", "named_files", "run_id", "run_scenario",
           "scenario_hash"]

Progress = Callable[[str], None]
RUN_FORMAT = "sitesim-run-3"


def _quiet(message: str) -> None:
    del message


@dataclass(frozen=True)
class RunResult:
    """Where a run went and how: ``status`` is ``complete`` or ``skipped`` (already
    complete, with ``resume``)."""

    path: Path
    run_id: str
    name: str
    status: str
    seconds: float


@dataclass(frozen=True)
class RunExtras:
    """What a caller adds to a run (``sitesim replan``): further splits of the budget's
    money simulated beside the plan (name: description and ``community_id, channel,
    spend``), and ``finish(folder, summary)``, called with the run's folder before it is
    complete, to write files of its own and add to the manifest's summary; it returns
    warnings. The scenario must say what they depend on (its hash is the run's id)."""

    other_rules: Mapping[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    finish: Callable[[Path, dict[str, object]], list[str]] | None = None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("sitesim", "numpy", "pandas", "mesa", "pulp", "highspy", "geopandas",
                "osmnx", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def area_hash(area: str) -> str:
    """The hash of an area pack's files (names and contents)."""
    root = resolve_area_path(area)
    h = hashlib.sha256()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()
                                                 and not p.name.startswith("."))
    for p in files:
        h.update(str(p.relative_to(root) if p != root else p.name).encode())
        h.update(file_digest(p).encode())
    return h.hexdigest()


def named_files(scenario: Scenario) -> dict[str, str]:
    """The hash of each file the scenario names besides its area (``budget.curves``,
    ``budget.previous``, ``calibration.file``), by key path."""
    files = {"budget.curves": scenario.budget.curves,
             "budget.previous": scenario.budget.previous,
             "calibration.file": scenario.calibration.file}
    return {key: file_digest(path) for key, path in files.items()
            if path is not None and Path(path).is_file()}


def scenario_hash(scenario: Scenario, area_digest: str) -> str:
    """The hash of the resolved scenario, its area, the files it names, the run format and
    sitesim's own code (a fingerprint of its sources, not only its version number)."""
    payload = json.dumps({"scenario": scenario.model_dump(mode="json"), "area": area_digest,
                          "files": named_files(scenario), "format": RUN_FORMAT,
                          "sitesim": _versions()["sitesim"], "code": code_fingerprint()},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def run_id(scenario: Scenario, area_digest: str) -> str:
    """``<name>-<hash8>``: the run folder's name."""
    return f"{scenario.name}-{scenario_hash(scenario, area_digest)[:8]}"


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def run_scenario(scenario: Scenario | str | Path, *, runs_dir: str | Path = "runs",
                 resume: bool = True, progress: Progress = _quiet,
                 extras: RunExtras | None = None) -> RunResult:
    """Run one scenario end to end; return its run folder.

    With ``resume`` a run folder that is already complete (same scenario, same inputs) is
    kept and reported as ``skipped``. ``extras``: see :class:`RunExtras`.

    Raises
    ------
    InputError
        A bad scenario file or area (exit code 2 on the command line).
    InfeasibleError
        No plan meets the scenario's limits (exit code 3).
    """
    from simulation import community_uplift, plausibility_warnings, run_replications

    start = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    runs = Path(runs_dir)
    digest = area_hash(sc.area)
    hashed = scenario_hash(sc, digest)  # of the scenario as asked, before any [scale]
    rid = f"{sc.name}-{hashed[:8]}"  # as run_id
    final = runs / rid
    if resume and (final / "manifest.json").exists():
        return RunResult(final, rid, sc.name, "skipped", time.perf_counter() - start)
    estimate = estimate_scenarios([sc])
    if estimate.long:  # said before the work starts, then progress by stage
        progress(f"{sc.name}: {estimate.text()}")
    runs.mkdir(parents=True, exist_ok=True)
    _remove_stale(runs, rid)
    tmp = runs / f".{rid}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    timings: dict[str, float] = {}
    summary: dict[str, object] = {}
    warnings: list[str] = []

    def stage(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()
        progress(f"{sc.name}: {name}")
        return lambda: timings.__setitem__(name, round(time.perf_counter() - t0, 3))

    try:
        done = stage("area, travel times and scores")
        prep = plans.prepare(sc, progress=progress)
        sc = prep.scenario  # with its [scale] applied to the area's adults
        scaled = scale_note(sc)
        if scaled is not None:
            summary["scale"] = scaled
            progress(f"{sc.name}: {scaled}")
        # what the pack leaves to assumptions changes the numbers: said with the run's
        warnings += [f"area: {p.message}" for p in prep.area.warnings]
        note = plans.travel_note(prep)
        if note and prep.area.network_file is not None:  # without one, the area says it
            warnings.append(f"travel times: {note}")
        prep.scores.reset_index().to_parquet(tmp / "scores.parquet", index=False)
        done()
        siting, combined = None, None
        if sc.outlets.enabled:
            done = stage("outlet plan")
            siting = plans.outlet_plan(prep)
            done()
            if sc.budget.includes_outlets:  # its sites are options: one budget decides
                combined = combined_stage(prep, siting, stage=stage, progress=progress)
                siting = combined.siting
            outlet_summary: dict[str, object] = {
                "status": siting.status, "proven_optimal": siting.proven_optimal,
                "gap": siting.gap, "coverage_before": siting.coverage_before,
                "coverage_after": siting.coverage_after, "capex": siting.capex,
                "opex_per_year": siting.opex_per_year, "binding": list(siting.binding)}
            summary["outlets"] = outlet_summary
            if siting.by_quarter is not None:  # a rollout: what opens when
                outlet_summary["by_quarter"] = rollout_summary(siting)
                warnings.append(
                    "outlet plan: the rollout opens its sites through the year simulated, "
                    "so the outlets' worth a year, payback and NPV are those of this "
                    "ramp-up year (each site's opex counted for the weeks it is open): "
                    "they understate a year with every site open")
            if siting.share_sources is not None:  # max_share: whom the new sites draw from
                outlet_summary["share_captured"] = siting.share_captured
                outlet_summary["share_of_demand"] = siting.share_of_demand
                _write(siting.share_sources, tmp / "plan_share_sources.parquet")
        outlets = plans.open_outlets(prep, siting)
        places = place_names(prep.area)
        _write(plans.outlet_table(siting, outlets, places), tmp / "plan_outlets.parquet")
        van = None
        if sc.van.enabled:  # the van's week: its stops by day
            done = stage("the van's week")
            van = van_plan(prep)
            done()
            _write(with_places(van.schedule, "stop_id", places, prefix="stop_"),
                   tmp / "plan_van.parquet")
            summary["van"] = {"status": van.status, "gap": van.gap,
                              "weekly_reach": van.weekly_reach, "adult_days": van.adult_days,
                              "stops": int(van.schedule["stop_id"].nunique()),
                              "routes": van.routes}
        done = stage("event plan")
        events = plans.event_plan(prep, outlets)
        done()
        if events is not None:
            _write(with_places(events.schedule, "venue_id", place_names(prep.area, VENUES),
                        prefix="venue_"),
                   tmp / "plan_events.parquet")
            summary["events"] = {"status": events.status, "gap": events.gap,
                                 "found_by": events.found_by,
                                 "events": len(events.schedule),
                                 "attendance": events.attendance, "cost": events.cost,
                                 "binding": list(events.binding)}
        if sc.staff.enabled:
            done = stage("staff plan")
            staff = plans.staff_plan(prep, outlets, events)
            done()
            _write(with_places(staff.plan, "outlet_id", places), tmp / "plan_staff.parquet")
            summary["staff"] = {"status": staff.status, "served_share": staff.served_share,
                                "unserved_visits": staff.unserved_visits,
                                "binding": list(staff.binding)}
        inputs = rollout_inputs(prep, siting, outlets)  # sites open in their quarter
        if van is not None:  # the van's stops, on its days
            inputs = van_inputs(prep, inputs, van)
        campaigns = plans.scenario_campaigns(sc)
        venues = plans.event_venues(prep)
        base_params = plans.simulation_params(sc, events=plans.scheduled_events(events))
        calibration = plans.calibration_summary(sc)  # the bank's own parameters, if any
        if calibration is not None:
            summary["calibration"] = calibration
        result = None
        if sc.budget.enabled:
            checked = budget_stage(
                sc, prep, inputs, explicit=campaigns, params=base_params, venues=venues,
                stage=stage, progress=progress,
                curves=combined.curves if combined else None,
                total=combined.plan.marketing_budget if combined else None,
                other_rules=extras.other_rules if extras else None)
            warnings += checked.warnings
            if combined is not None:
                summary["combined"], said = combined_report(prep, combined, checked.curves)
                warnings += said
            budget = checked.budget
            _write(budget.plan.assign(community=budget.plan["community_id"].map(
                community_names(prep.area))), tmp / "plan_budget.parquet")
            _write(checked.curves, tmp / "curves.parquet")
            summary["budget"] = checked.summary()
            campaigns, result = checked.campaigns, checked.result
        if sc.calibration.file is not None:  # what the plan asks beyond the bank's data
            from scenarios.calibration_file import extrapolation_warnings, read_calibration

            warnings += extrapolation_warnings(read_calibration(sc.calibration.file),
                                               campaigns, prep.area.adults)
        if sc.simulation.enabled:
            params = dataclasses.replace(base_params, campaigns=tuple(campaigns))
            if result is None:
                done = stage(f"simulation ({sc.simulation.replications} replications)")
                result = run_replications(
                    inputs, params, replications=sc.simulation.replications, seed=sc.seed,
                    venues=venues, on_replication=(lambda i, n: progress(
                        f"{sc.name}: simulation, replication {i} of {n}")) if estimate.long
                    else None)
                done()
            write_timeseries(result.timeseries, result.counterfactual,
                             weekly_spend(campaigns, params.events, sc.simulation.weeks, prep),
                             tmp / "timeseries.parquet")
            _write(community_uplift(result.timeseries, result.counterfactual).reset_index()
                   .assign(community=lambda f: f["community_id"].map(
                       community_names(prep.area))), tmp / "uplift_by_community.parquet")
            kpis = result.per_replication.reset_index()
            kpis.insert(0, "run_id", rid)
            kpis, summary["money"] = _money(sc, prep, siting, kpis, result, params, venues,
                                            stage, van)
            kpis, segments = lifetime_kpis(
                kpis, result.timeseries, result.counterfactual,
                margin=float(params.net_interest_margin), rate=float(sc.finance.discount_rate),
                horizon=int(sc.finance.horizon_years))
            summary["lifetime"] = segments.reset_index().to_dict("records")
            planned = summary.get("budget")
            if isinstance(planned, dict):  # the plan's value per new customer, simulated
                worth = value_check(budget.value, budget.customers, kpis, sc.budget.objective)
                planned["value_check"] = worth
                if worth is not None and not worth["agrees"]:
                    warnings.append(
                        f"budget plan: its {worth['value']} per new customer, "
                        f"{worth['forecast']:,.0f} on the curves, is not the simulated "
                        f"{worth['simulated']:,.0f} ({worth['low']:,.0f} to "
                        f"{worth['high']:,.0f}); the simulated figure is the one to use")
            _write(kpis, tmp / "kpis.parquet")
            summary["kpis"] = {k: {c: float(v) for c, v in row.items()}
                               for k, row in result.summary.iterrows()}
            by_channel = result.channels.groupby("channel", sort=False)[
                ["spend", "exposed", "won"]].mean().reset_index()
            summary["channels"] = by_channel.to_dict("records")
            warnings += plausibility_warnings(
                {str(k): float(v) for k, v in result.summary["mean"].items()},
                weeks=sc.simulation.weeks,
                adults=float(prep.area.adults.sum()), channels=by_channel)
        if extras is not None and extras.finish is not None:
            warnings += extras.finish(tmp, summary)
        manifest = {
            "format": RUN_FORMAT, "run_id": rid, "name": sc.name, "status": "complete",
            "scenario": sc.model_dump(mode="json"),
            "inputs": {"area": sc.area, "area_hash": digest, "files": named_files(sc),
                       "scenario_hash": hashed,
                       "code_fingerprint": code_fingerprint()},
            "seed": sc.seed, "versions": _versions(), "timings": timings,
            "seconds": round(time.perf_counter() - start, 3), "summary": summary,
            "warnings": warnings,
            "campaigns": [dataclasses.asdict(c) for c in campaigns],
        }
        (tmp / "manifest.json").write_text(json.dumps(_strict(manifest), indent=2, default=str,
                                                      allow_nan=False),
                                           encoding="utf-8")
        if final.exists():  # an older run of the same hash, not resumed: replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(final, rid, sc.name, "complete", time.perf_counter() - start)


def _money(sc: Scenario, prep: plans.Prepared, siting: object, kpis: pd.DataFrame,
           result: object, params: object, venues: object,
           stage: Callable[[str], Callable[[], None]], van: object = None
           ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The KPIs with all the money (scenarios.money); today's network simulated beside
    the plan's when the plan changes it (with the plan's van in both, so the difference
    is the outlets')."""
    from simulation import replication_seeds

    costs = money.plan_costs(sc, getattr(siting, "decisions", None))
    plan_network = today = None
    if costs.changes_network:
        done = stage("today's network, for the outlets' worth")
        seeds = replication_seeds(sc.seed, sc.simulation.replications)
        now = plans.simulation_inputs(prep, plans.open_outlets(prep, None))
        if van is not None:
            now = van_inputs(prep, now, van)  # type: ignore[arg-type]
        today = money.network_year(now, params, seeds, venues=venues)
        plan_network = money.replication_years(result.counterfactual)  # type: ignore[attr-defined]
        done()
    out = money.money_kpis(kpis, costs, margin=float(params.net_interest_margin),  # type: ignore[attr-defined]
                           finance=sc.finance, weeks=sc.simulation.weeks,
                           plan_network=plan_network, today=today)
    return out, {k: v for k, v in dataclasses.asdict(costs).items() if k != "changes_network"}


def _strict(value: object) -> object:
    """The manifest as strict JSON: NaN and infinities (an undefined KPI) become null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def _remove_stale(runs: Path, rid: str) -> None:
    """Remove temporary folders of this run left by processes that were killed."""
    for leftover in runs.glob(f".{rid}.tmp-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except PermissionError:
            continue  # another user's live process
