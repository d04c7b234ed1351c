"""The commands that run scenarios and compare their runs: demo, run, batch, compare;
with the progress bar, the batch and plan tables and the comparison they print."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from scenarios._cli_checks import print_plan_checks, print_targets
from scenarios._cli_progress import _progress
from scenarios._console import console, err, guarded

if TYPE_CHECKING:
    import pandas as pd

    from scenarios.batch import BatchItem
    from scenarios.schema import Scenario


#: KPIs the demo compares, in the order printed.
DEMO_KPIS = ("uplift_new_customers", "uplift_18_35", "uplift_56_plus", "cost_per_acquisition",
             "roi", "roi_clv", "uplift_deposits", "retention", "event_attendance", "spend", "capex",
             "all_costs", "roi_all_costs", "outlets_net_per_year", "payback_years")


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
    """The main job on the embedded default: the scenario library (a baseline and four
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
    names = {it.run_id: it.name for it in items if it.run_id}
    frame["run_id"] = frame["run_id"].map(names)
    frame["baseline"] = frame["baseline"].map(names)
    _print_comparison(frame)
    print_targets([runs_dir / i for i in ids], names)
    print_plan_checks([runs_dir / i for i in ids], names)
    _print_warnings(ids, runs_dir, names)
    from dashboard import write_report

    report = write_report(ids, runs_dir / "report.html", runs_dir=runs_dir)
    console.print(f"The report for a budget review: {report} "
                  f"({report.stat().st_size / 1e6:.1f} MB, opens offline); as a workbook: "
                  f"sitesim report {' '.join(ids)} --runs {runs_dir} --out report.xlsx",
                  soft_wrap=True)
    console.print(f"done in {time.perf_counter() - start:.0f} s. Again, as markdown: "
                  f"sitesim compare {' '.join(ids)} --runs {runs_dir} --format markdown",
                  soft_wrap=True)
    console.print(f"See them side by side in a browser: sitesim serve --runs {runs_dir} , "
                  "then open http://127.0.0.1:8050/", soft_wrap=True)


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
    _print_headline(result.path)
    print_targets([result.path])
    print_plan_checks([result.path])
    _print_warnings([result.run_id], runs)
    console.print(str(result.path))


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
    import os

    from scenarios.batch import load_batch
    from scenarios.estimate import estimate_scenarios

    todo = load_batch(scenarios)
    estimate = estimate_scenarios(todo)
    if estimate.long:  # said before the work starts (on a cluster: as on one worker)
        err.print(f"note: {len(todo)} scenario(s): "
                  f"{estimate.text(1 if scheduler else workers or os.cpu_count() or 1)}",
                  markup=False, highlight=False, soft_wrap=True)
    items = _run_with_progress(todo, runs_dir=runs_dir, workers=workers, scheduler=scheduler,
                               resume=resume)
    _print_batch(items)
    _exit_on_failures(items)
    ids = " ".join(it.run_id for it in items if it.run_id)
    console.print(f"compare them: sitesim compare {ids} --runs {runs_dir}")


#: The KPIs sitesim run ends with.
HEADLINE_KPIS = ("uplift_new_customers", "cost_per_acquisition", "uplift_deposits", "roi",
                 "retention", "yearly_attrition", "event_attendance", "spend")


def _print_headline(folder: Path) -> None:
    """A run's headline KPIs: mean and the half-width of the 95% interval over replications."""
    from scenarios.store import format_kpi

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kpis = (manifest.get("summary") or {}).get("kpis") or {}
    reps = (manifest.get("scenario") or {}).get("simulation", {}).get("replications")
    if not kpis:
        return
    console.print(f"headline KPIs (mean ±95% interval over {reps} replications):")
    for name in HEADLINE_KPIS:
        k = kpis.get(name)
        if not k or k.get("mean") is None:
            continue
        half = ((k["high"] - k["low"]) / 2 if k.get("high") is not None
                and k.get("low") is not None else None)
        spread = f" ±{format_kpi(half)}" if half is not None else ""
        console.print(f"  {name:<22} {format_kpi(k['mean'])}{spread}", markup=False,
                      highlight=False)


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
            err.print(f"error: {it.name} failed: {it.error}", markup=False, highlight=False,
                      soft_wrap=True)
        kinds = {str(it.error).split(":")[0] for it in failed}
        code = 1 if "internal error" in kinds else 2 if "bad input" in kinds else 3
        raise typer.Exit(code)


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
    from scenarios.store import DEFAULT_KPIS, compare_cells, compare_runs, resolve_run

    if fmt not in ("table", "markdown", "csv", "json"):
        raise InputError(f"--format {fmt}: expected table, markdown, csv or json")
    frame = compare_runs(runs, runs_dir=runs_dir, baseline=baseline,
                         kpis=tuple(kpi) if kpi else DEFAULT_KPIS)
    _print_warnings(list(frame["run_id"].unique()), runs_dir)
    if fmt == "csv":
        console.print(frame.to_csv(index=False), end="", markup=False, highlight=False,
                      soft_wrap=True)
        return
    if fmt == "json":
        console.print(frame.to_json(orient="records", indent=2), markup=False,
                      highlight=False, soft_wrap=True)
        return
    if fmt == "markdown":
        text = compare_cells(frame, sep="; ")
        header = ["KPI", *[r for r in frame["run_id"].unique()]]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in text]
        console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
    else:
        _print_comparison(frame)
    folders = [resolve_run(r, runs_dir) for r in frame["run_id"].unique()]
    print_targets(folders, markdown=fmt == "markdown")
    print_plan_checks(folders, markdown=fmt == "markdown")


def _print_warnings(run_ids: list[str], runs_dir: Path,
                    names: dict[str, str] | None = None) -> None:
    """One line on stderr for each warning the runs recorded (outside the envelope of
    published figures, poor curve fits), with the runs that recorded it, so that csv and
    json on stdout stay clean."""
    from scenarios.store import run_warnings

    for line, ids in run_warnings(run_ids, runs_dir):
        labels = ", ".join((names or {}).get(i, i) for i in ids)
        err.print(f"warning: {labels}: {line}", markup=False, highlight=False, soft_wrap=True)


def _print_comparison(frame: pd.DataFrame) -> None:
    from scenarios.store import compare_cells

    table = Table(title=f"Compared with {frame['baseline'].iloc[0]}: mean over replications "
                        "±95% interval; below, the difference ±95% interval, * where it is "
                        "larger than the replication noise; last, the replications' P10 to "
                        "P90 (the downside and upside of one year, not of the mean)",
                  show_lines=True)
    table.add_column("KPI", no_wrap=True)
    for r in frame["run_id"].unique():
        table.add_column(r, overflow="fold")
    for row in compare_cells(frame):
        table.add_row(*row)
    console.print(table)
