"""The ``sitesim`` command line (typer + rich); exit codes as in DESIGN.md."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geo.scoring import Normalization
from scenarios._console import EXIT_BAD_INPUT, console, err, guarded, set_debug, setup_logging

if TYPE_CHECKING:
    import pandas as pd

    from optimizer import EventPlan, SitingResult
    from scenarios.batch import BatchItem
    from scenarios.plans import Prepared
    from scenarios.schema import Scenario

__all__ = ["app", "main"]

app = typer.Typer(
    name="sitesim",
    help="Where a retail bank puts its community outlets and events, and how it splits its "
         "marketing budget. Exit codes: 0 done, 2 bad input, 3 no feasible plan, 1 internal "
         "error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
area_app = typer.Typer(help="Study area packs: generate, check, import.", no_args_is_help=True)
app.add_typer(area_app, name="area")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    set_debug(debug)
    setup_logging(verbose)


def _progress(message: str) -> None:
    err.print(f"[dim]... {message}[/dim]")


def _print_summary(summary: dict[str, object]) -> None:
    table = Table(title=f"Study area: {summary['name']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in summary.items():
        if key == "name":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}"
                              for k, v in value.items())
        elif isinstance(value, int):
            value = f"{value:,}"
        elif isinstance(value, tuple):
            value = " to ".join(f"{v:,.0f}" for v in value)
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


#: KPIs the demo compares, in the order printed.
DEMO_KPIS = ("uplift_new_customers", "uplift_18_35", "uplift_56_plus", "cost_per_acquisition",
             "uplift_deposits", "retention", "event_attendance", "spend")


@app.command()
@guarded
def demo(
    library: Annotated[Path | None, typer.Option(
        help="Folder of scenario files (default: the scenario library shipped with "
             "sitesim, scenarios/library).")] = None,
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: the CPUs, at most one per scenario).")] = None,
) -> None:
    """The main job on the embedded default: the scenario library (a baseline and three
    strategies on the sample city) run in parallel, then compared with the baseline."""
    from geo.errors import InputError
    from scenarios.batch import load_batch
    from scenarios.store import compare_runs

    start = time.perf_counter()
    folder = library if library is not None else Path(__file__).parent / "library"
    files = sorted(folder.glob("*.toml"), key=lambda p: (p.stem != "baseline", p.name))
    if not files:
        raise InputError(f"{folder}: no scenario files (*.toml); give --library a folder "
                         "of scenario files")
    todo = load_batch(files)
    console.print(f"sitesim demo: {len(todo)} scenarios from {folder}, run in parallel "
                  f"into {runs_dir}/")
    for sc in todo:
        console.print(f"  [bold]{sc.name}[/bold]: {sc.description}")
    items = _run_with_progress(todo, runs_dir=runs_dir, workers=workers or min(
        len(todo), os.cpu_count() or 1), scheduler=None, resume=True)
    _print_batch(items)
    _exit_on_failures(items)
    ids = [it.run_id for it in items if it.run_id]
    _print_plans(items)
    frame = compare_runs(ids, runs_dir=runs_dir, baseline=ids[0], kpis=DEMO_KPIS)
    names = {it.run_id: it.name for it in items}
    frame["run_id"] = frame["run_id"].map(names)
    frame["baseline"] = frame["baseline"].map(names)
    _print_comparison(frame)
    console.print(f"done in {time.perf_counter() - start:.0f} s. Again, as markdown: "
                  f"sitesim compare {' '.join(ids)} --runs {runs_dir} --format markdown",
                  soft_wrap=True)
    console.print(f"See them side by side in a browser: sitesim serve --runs {runs_dir} , "
                  "then open http://127.0.0.1:8050/", soft_wrap=True)


@area_app.command("synth")
@guarded
def area_synth(
    out: Annotated[Path, typer.Option("--out", help="Pack folder to write.")],
    communities: Annotated[int, typer.Option(help="Number of communities.")] = 150,
    adults: Annotated[int, typer.Option(help="Adults in total.")] = 350_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    name: Annotated[str | None, typer.Option(help="Area name (default from size and seed).")]
    = None,
) -> None:
    """Generate a synthetic study area pack of any size."""
    from geo.synth import synthesize_area

    start = time.perf_counter()
    path = synthesize_area(out, communities=communities, adults=adults, seed=seed, name=name,
                           progress=_progress)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"wrote {path} ({communities:,} communities, {adults:,} adults) in "
                  f"{time.perf_counter() - start:.1f} s, peak memory {peak_mb:,.0f} MB")


@area_app.command("check")
@guarded
def area_check(
    area: Annotated[str, typer.Argument(help="Pack folder, .gpkg, or builtin:sample-city.")],
    summary: Annotated[bool, typer.Option(help="Print the summary when it passes.")] = True,
) -> None:
    """Validate a pack; print every problem; exit 2 if any is an error."""
    from geo.area import inspect_area

    study, problems = inspect_area(area, _progress)
    for p in problems:
        err.print(p.line(), markup=False, highlight=False, soft_wrap=True)
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        err.print(f"{errors} error(s), {len(problems) - errors} warning(s)")
        raise typer.Exit(EXIT_BAD_INPUT)
    if summary and study is not None:
        _print_summary(study.summary())
    console.print(f"ok: no errors, {len(problems)} warning(s)")


@area_app.command("import")
@guarded
def area_import(
    mapping: Annotated[Path, typer.Option("--mapping", help="Mapping TOML (docs/import.md).")],
    out: Annotated[Path, typer.Option("--out", help="Pack folder to write.")],
    source: Annotated[Path | None, typer.Option(
        "--source", help="Folder of the mapped files (default: the mapping's source_dir).")]
    = None,
) -> None:
    """Build a pack from your own files through a mapping."""
    import warnings

    from geo import load_area
    from geo.importer import import_area

    path = import_area(mapping, out, source_dir=source, progress=_progress)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_area(path)
    summary = study.summary()
    _print_summary(summary)
    for p in study.warnings:
        err.print(p.line(), markup=False, highlight=False, soft_wrap=True)
    off = summary.get("communities_off_network", 0)
    if off:
        console.print(f"note: {off} of {len(study.communities)} communities lie more than "
                      f"500 m from the street network; their travel times use straight-line "
                      f"distance x {study.config.detour_factor}")
    console.print(f"wrote {path}")


def _read_weights(path: Path) -> tuple[dict[str, float], Normalization]:
    """Weights from a TOML file: a scenario's [scoring] table or a top-level weights table."""
    from pydantic import ValidationError

    from geo._pydantic import read_toml, validation_problems
    from geo.errors import InputError
    from scenarios.schema import Scoring

    raw = read_toml(path, "weights file")
    table = raw.get("scoring", raw)
    try:
        scoring = Scoring.model_validate({k: v for k, v in table.items()
                                          if k in ("weights", "normalization")})
    except ValidationError as exc:
        problems = validation_problems(exc, str(path), "see docs/scoring.md")
        raise InputError(f"{path}: {len(problems)} problem(s)", problems) from None
    return dict(scoring.weights), scoring.normalization


@app.command()
@guarded
def score(
    area: Annotated[str, typer.Argument(help="Pack folder, .gpkg, or builtin:sample-city.")],
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="TOML with [scoring] weights (a scenario file will do).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="GeoParquet file to write.")]
    = None,
    top: Annotated[int, typer.Option(help="How many communities to print.")] = 10,
    minutes: Annotated[float, typer.Option(help="Coverage time, minutes.")] = 15.0,
    mode: Annotated[str, typer.Option(help="walk or drive.")] = "walk",
) -> None:
    """Score the communities of an area; print the best with their explanation."""
    import os
    import warnings

    from geo import load_area, score_communities, travel_times
    from geo.errors import InputError
    from scenarios.schema import Scoring

    if mode not in ("walk", "drive"):
        raise InputError(f"--mode {mode}: expected walk or drive")
    if weights is not None:
        w, normalization = _read_weights(weights)
    else:
        default = Scoring()
        w, normalization = dict(default.weights), default.normalization
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_area(area, progress=_progress)
    _progress(f"travel times ({mode}) from {len(study.communities)} communities to "
              f"{len(study.outlets)} outlets")
    travel = travel_times(study, study.outlets, mode=mode)  # type: ignore[arg-type]
    _progress("scoring")
    scores = score_communities(study, w, travel=travel, normalization=normalization,
                               coverage_minutes=minutes)
    adults = study.adults
    overall = float((scores["coverage_share"] * adults).sum() / adults.sum())
    contrib = [c for c in scores.columns if c.startswith("contrib_")]
    table = Table(title=f"Top {top} of {len(scores)} communities: {study.name}")
    for col in ("#", "community", "score", "tier", "why: largest contributions", "moves"):
        table.add_column(col, overflow="fold")
    for cid, row in scores.sort_values("rank").head(top).iterrows():
        parts = sorted(((row[c], c.removeprefix("contrib_")) for c in contrib), reverse=True)
        why = ", ".join(f"{name} {value:.2f}" for value, name in parts[:3])
        label = f"{cid} {row['name']}" if row.get("name") else str(cid)
        table.add_row(str(row["rank"]), label, f"{row['score']:.3f}", str(row["tier"]), why,
                      f"±{row['rank_shift_max']}")
    console.print(table)
    weights_text = ", ".join(f"{k} {v:+g}" for k, v in w.items())
    console.print(f"weights: {weights_text} ({normalization}); tier 5 is the best; "
                  "moves: the largest rank change when any weight moves by 20%")
    console.print(f"own outlets within {minutes:g} min ({mode}): {overall:.1%} of adults")
    off = len(travel.fallback_communities)
    if off:
        console.print(f"note: {off} of {len(scores)} communities are off the street network; "
                      f"their times use straight-line distance x {study.config.detour_factor}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        scores.to_parquet(tmp)
        os.replace(tmp, out)
        console.print(f"wrote {out}")


def _write_parquet(out: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write each frame to ``out/NAME`` through a temporary name: a failure leaves no
    half-written file under the final name."""
    import os

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        tmp = out / f".{name}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, out / name)
        console.print(f"wrote {out / name}")


def _plan_table(title: str, frame: pd.DataFrame, columns: dict[str, str],
                limit: int = 30) -> None:
    table = Table(title=title)
    for label in columns.values():
        table.add_column(label, overflow="fold")
    for _, row in frame.head(limit).iterrows():
        cells = []
        for col in columns:
            v = row[col]
            cells.append(f"{v:,.0f}" if isinstance(v, float) else str(v))
        table.add_row(*cells)
    console.print(table)
    if len(frame) > limit:
        console.print(f"... and {len(frame) - limit} more rows (all in the Parquet file)")


def _optimality(result: object) -> str:
    proven = getattr(result, "proven_optimal", False)
    gap = getattr(result, "gap", None)
    if proven:
        return "proven optimal"
    return (f"within {gap:.2%} of the best possible (proven bound)" if gap is not None
            else "optimality not proven (no bound)")


def _site_and_events(scenario: Path
                     ) -> tuple[Prepared, SitingResult | None, pd.DataFrame, EventPlan | None]:
    from scenarios import plans
    from scenarios.schema import load_scenario

    resolved = load_scenario(scenario)
    prep = plans.prepare(resolved, progress=_progress)
    siting = None
    if resolved.outlets.enabled:
        _progress(f"siting outlets ({resolved.outlets.objective})")
        siting = plans.outlet_plan(prep)
    outlets = plans.open_outlets(prep, siting)
    _progress("planning events")
    events = plans.event_plan(prep, outlets)
    return prep, siting, outlets, events


@app.command()
@guarded
def site(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for plan_outlets.parquet and plan_events.parquet "
                      "(default plans/<scenario name>).")] = None,
) -> None:
    """Choose outlet sites and event venues and weeks for a scenario; print the plans and
    the limits that bind; write Parquet. Exit 3 when no plan meets the limits."""
    from scenarios import plans

    prep, siting, outlets, events = _site_and_events(scenario)
    name = prep.scenario.name
    frames: dict[str, pd.DataFrame] = {}
    if siting is not None:
        d = siting.decisions
        _plan_table(f"Outlet plan: {name}", d[d["action"] != "keep"],
                    {"site_id": "site", "kind": "kind", "action": "action", "capex": "capex",
                     "opex_per_year": "opex a year"})
        kept = int((d["action"] == "keep").sum())
        console.print(
            f"{siting.objective_name}: coverage within "
            f"{prep.scenario.outlets.coverage_minutes:g} min "
            f"{siting.coverage_before:.1%} -> {siting.coverage_after:.1%} of adults; "
            f"{kept} outlets kept; capex {siting.capex:,.0f}, opex "
            f"{siting.opex_per_year:,.0f} a year; {_optimality(siting)}")
        console.print("why: " + ("; ".join(siting.binding)
                                 or "no limit binds: every worthwhile site is open"))
        frames["plan_outlets.parquet"] = plans.outlet_table(siting, outlets)
    else:
        console.print("outlets.enabled = false: the current outlets are kept as they are")
    if events is not None:
        sched = events.schedule
        _plan_table(f"Event plan: {name}", sched,
                    {"week": "week", "venue_id": "venue", "event_type": "event",
                     "attendance": "expected attendance", "capacity": "capacity",
                     "cost": "cost", "staff": "staff"})
        console.print(f"{len(sched)} events, expected attendance "
                      f"{events.attendance:,.0f}, cost {events.cost:,.0f}; "
                      f"{_optimality(events)}")
        console.print("why: " + ("; ".join(events.binding)
                                 or "no limit binds"))
        frames["plan_events.parquet"] = sched
    _write_parquet(out or Path("plans") / name, frames)


@app.command()
@guarded
def allocate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for plan_staff.parquet and plan_budget.parquet "
                      "(default plans/<scenario name>).")] = None,
    curves: Annotated[Path | None, typer.Option(
        "--curves", help="Response curves (CSV or Parquet: community_id, channel, segment, "
                         "form, rmax, k, h); default: fitted to simulation sweeps, cached.")]
    = None,
) -> None:
    """Allocate relationship managers to outlets and events, and the marketing budget to
    communities and channels; print the plans, what binds and the marginal value of
    budget; write Parquet. Exit 3 when no plan meets the limits."""
    from scenarios import plans

    prep, _, outlets, events = _site_and_events(scenario)
    sc = prep.scenario
    frames: dict[str, pd.DataFrame] = {}
    if sc.staff.enabled:
        _progress("allocating staff")
        staff = plans.staff_plan(prep, outlets, events)
        weeks = staff.weeks
        first = staff.plan[staff.plan["week"] == staff.plan["week"].min()]
        _plan_table(f"Staff plan, week {int(first['week'].iloc[0])}: {sc.name}", first,
                    {"outlet_id": "outlet", "kind": "kind", "staff": "RMs",
                     "visits": "visits", "unserved": "unserved"})
        console.print(f"{sc.staff.relationship_managers} RMs: at outlets "
                      f"{weeks['outlet_staff'].min()}-{weeks['outlet_staff'].max()}, at events "
                      f"up to {weeks['event_staff'].max()}, spare "
                      f"{weeks['spare'].min()}-{weeks['spare'].max()} a week; "
                      f"{staff.served_share:.1%} of visits served; {_optimality(staff)}")
        console.print("why: " + ("; ".join(staff.binding) or "no limit binds"))
        frames["plan_staff.parquet"] = staff.plan
    if sc.budget.enabled:
        table = plans.response_curves(prep, plans.simulation_inputs(prep, outlets),
                                      curves_file=curves, progress=_progress)
        _progress("allocating the budget")
        budget = plans.budget_plan(prep, table)
        _plan_table(f"Budget by channel: {sc.name}", budget.by_channel.reset_index(),
                    {"channel": "channel", "spend": "spend", "customers": "new customers",
                     "value": "value"})
        top = budget.by_community.sort_values("spend", ascending=False).reset_index()
        _plan_table("Communities with the most spend", top,
                    {"community_id": "community", "spend": "spend",
                     "customers": "new customers"}, limit=10)
        mv = budget.marginal_value
        reserve = sc.budget.policy.reserve * sc.budget.total
        held = f" ({reserve:,.0f} policy reserve held back)" if reserve > 0 else ""
        console.print(f"spend {budget.spend:,.0f} of {sc.budget.total:,.0f}{held}; "
                      f"{budget.customers:,.0f} new customers a year; {_optimality(budget)}")
        if mv is not None:
            console.print(f"one more unit of budget buys {mv:.4f} "
                          f"{'new customers' if sc.budget.objective == 'customers' else 'value'}")
        console.print("why: " + ("; ".join(budget.binding) or "no limit binds"))
        for note in budget.notes:
            console.print(f"note: {note}")
        frames["plan_budget.parquet"] = budget.plan
    _write_parquet(out or Path("plans") / sc.name, frames)


@app.command()
@guarded
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    runs: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")] = Path("runs"),
    force: Annotated[bool, typer.Option(
        "--force", help="Run again even if a complete run of the same inputs exists.")]
    = False,
) -> None:
    """Run one scenario end to end (plans, response curves, simulation, KPIs); print the
    run folder."""
    from scenarios.run import run_scenario

    result = run_scenario(scenario, runs_dir=runs, resume=not force, progress=_progress)
    if result.status == "skipped":
        console.print(f"{result.path} is already complete (same scenario and inputs); "
                      "--force runs it again")
    else:
        console.print(f"done in {result.seconds:.1f} s")
    console.print(str(result.path))


@app.command()
@guarded
def batch(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files.")],
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Local worker processes (default: the CPUs).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address, such as tcp://10.0.0.5:8786.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume/--no-resume", help="Skip scenarios whose run is already complete.")]
    = True,
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
) -> None:
    """Run many scenarios (sweeps expanded) in parallel; one failing does not stop the
    others. Exit 0 when all are done; else the code of the worst failure (1 internal,
    2 bad input, 3 infeasible)."""
    from scenarios.batch import load_batch

    todo = load_batch(scenarios)
    items = _run_with_progress(todo, runs_dir=runs_dir, workers=workers, scheduler=scheduler,
                               resume=resume)
    _print_batch(items)
    _exit_on_failures(items)
    ids = " ".join(it.run_id for it in items if it.run_id)
    console.print(f"compare them: sitesim compare {ids} --runs {runs_dir}")


def _print_plans(items: list[BatchItem]) -> None:
    """What each run planned: outlets opened and coverage, events, the budget's forecast."""
    import pandas as pd

    table = Table(title="The plans", show_lines=False)
    for col in ("scenario", "new outlets", "adults within reach", "events (planned visits)",
                "budget forecast: new customers"):
        table.add_column(col, overflow="fold")
    for it in items:
        if it.path is None:
            continue
        manifest = json.loads((Path(it.path) / "manifest.json").read_text(encoding="utf-8"))
        summary = manifest.get("summary", {})
        opened = ""
        reach = ""
        if "outlets" in summary:
            plan = pd.read_parquet(Path(it.path) / "plan_outlets.parquet")
            new = plan[plan["action"] == "open"]["kind"].value_counts()
            opened = ", ".join(f"{n} {k}" for k, n in new.items()) or "none"
            o = summary["outlets"]
            reach = f"{o['coverage_before']:.0%} -> {o['coverage_after']:.0%}"
        e = summary.get("events")
        events = f"{e['events']} ({e['attendance']:,.0f})" if e else "none"
        b = summary.get("budget")
        budget = f"{b['customers']:,.0f}" if b else ""
        table.add_row(it.name, opened or "none (not planned)", reach, events, budget)
    console.print(table)


def _run_with_progress(todo: list[Scenario], *, runs_dir: Path, workers: int | None,
                       scheduler: str | None, resume: bool) -> list[BatchItem]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scenarios.batch import run_batch

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task(f"{len(todo)} scenario(s)", total=len(todo))
        return run_batch(todo, runs_dir=runs_dir, workers=workers, scheduler=scheduler,
                         resume=resume, on_done=lambda _: bar.advance(task))


def _print_batch(items: list[BatchItem]) -> None:
    table = Table(title=f"Batch: {len(items)} scenario(s)")
    for col in ("scenario", "status", "seconds", "run folder or error"):
        table.add_column(col, overflow="fold")
    for it in items:
        table.add_row(it.name, it.status, f"{it.seconds:.1f}", it.path or it.error or "")
    console.print(table)


def _exit_on_failures(items: list[BatchItem]) -> None:
    """Report failed scenarios and exit with the code of the worst failure."""
    failed = [it for it in items if it.status == "failed"]
    if failed:
        for it in failed:
            err.print(f"failed: {it.name}: {it.error}", markup=False, highlight=False,
                      soft_wrap=True)
        kinds = {str(it.error).split(":")[0] for it in failed}
        code = 1 if "internal error" in kinds else 2 if "bad input" in kinds else 3
        raise typer.Exit(code)


@app.command()
@guarded
def compare(
    runs: Annotated[list[str], typer.Argument(help="Run ids (or run folders).")],
    baseline: Annotated[str | None, typer.Option(
        "--baseline", help="The run the others are compared with (default: the first).")]
    = None,
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
    fmt: Annotated[str, typer.Option("--format", help="table, markdown, csv or json.")]
    = "table",
    kpi: Annotated[list[str] | None, typer.Option(
        "--kpi", help="A KPI to compare (repeat; default the main ones).")] = None,
) -> None:
    """KPI deltas against a baseline with 95% intervals, and whether each difference is
    larger than the replication noise."""
    from geo.errors import InputError
    from scenarios.store import DEFAULT_KPIS, compare_runs

    if fmt not in ("table", "markdown", "csv", "json"):
        raise InputError(f"--format {fmt}: expected table, markdown, csv or json")
    frame = compare_runs(runs, runs_dir=runs_dir, baseline=baseline,
                         kpis=tuple(kpi) if kpi else DEFAULT_KPIS)
    if fmt == "csv":
        console.print(frame.to_csv(index=False), end="", markup=False, highlight=False,
                      soft_wrap=True)
        return
    if fmt == "json":
        console.print(frame.to_json(orient="records", indent=2), markup=False,
                      highlight=False, soft_wrap=True)
        return
    if fmt == "markdown":
        text = _compare_rows(frame, sep="; ")
        header = ["KPI", *[r for r in frame["run_id"].unique()]]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in text]
        console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
    else:
        _print_comparison(frame)


def _print_comparison(frame: pd.DataFrame) -> None:
    table = Table(title=f"Compared with {frame['baseline'].iloc[0]}: mean over replications "
                        "±95% interval; below, the difference ±95% interval, * where it is "
                        "larger than the replication noise", show_lines=True)
    table.add_column("KPI", no_wrap=True)
    for r in frame["run_id"].unique():
        table.add_column(r, overflow="fold")
    for row in _compare_rows(frame):
        table.add_row(*row)
    console.print(table)


def _compare_rows(frame: pd.DataFrame, sep: str = "\n") -> list[list[str]]:
    """Cells "mean ±half-width of the 95% interval"; for the other runs, then the difference
    from the baseline with its half-width, and * where it is larger than the noise."""
    from scenarios.store import format_kpi

    rows = []
    for k, g in frame.groupby("kpi", sort=False):
        cells = [str(k)]
        for _, r in g.iterrows():
            cell = f"{format_kpi(r['mean'])} ±{format_kpi((r['high'] - r['low']) / 2)}"
            if r["run_id"] != r["baseline"]:
                mark = " *" if r["significant"] else ""
                sign = "+" if r["delta"] >= 0 else ""
                half = (r["delta_high"] - r["delta_low"]) / 2
                cell += f"{sep}{sign}{format_kpi(r['delta'])} ±{format_kpi(half)}{mark}"
            cells.append(cell)
        rows.append(cells)
    return rows


@app.command()
@guarded
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    show: Annotated[bool, typer.Option(help="Print the resolved scenario as JSON.")] = False,
) -> None:
    """Check a scenario file; every problem on its own line with its key path."""
    from scenarios.batch import expand_sweep
    from scenarios.schema import load_scenario

    resolved = load_scenario(scenario)
    if show:
        console.print_json(json.dumps(resolved.model_dump(mode="json")))
    runs = expand_sweep(resolved)
    sweep = f"; its sweep makes {len(runs)} scenarios" if resolved.sweep else ""
    console.print(f"ok: {scenario} ({resolved.name}){sweep}")


@app.command()
@guarded
def serve(
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")]
    = Path("runs"),
    host: Annotated[str, typer.Option(
        help="Address to listen on; the default serves this machine only. 0.0.0.0 serves "
             "the network: anyone who reaches it sees the runs.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8050,
) -> None:
    """The dashboard: compare runs of the results store in a browser."""
    from dashboard.app import create_app

    if not runs_dir.is_dir():
        from geo.errors import InputError

        raise InputError(f"--runs {runs_dir}: no such folder; run sitesim demo or sitesim "
                         "run first, or name the folder of your runs")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"note: serving on {host}: other machines can open the dashboard")
    console.print(f"sitesim dashboard on http://{host}:{port}/ (runs from {runs_dir}); "
                  "Ctrl+C stops it")
    create_app(runs_dir).run(host=host, port=port, debug=False)


def main() -> None:
    """Entry point of the ``sitesim`` console script."""
    app()
