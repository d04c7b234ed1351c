"""``sitesim replan``: re-plan the rest of the year at week W on the bank's data
(docs/calibration.md, "Re-plan mid-course")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scenarios._cli_calibrate import History, Observed, Rounds
from scenarios._cli_progress import _progress
from scenarios._console import console, guarded
from scenarios._fit_size import ROUNDS


def _interval(figure: dict[str, float] | None, outcome: bool = False) -> str:
    """A simulated figure: its mean with the 95% interval of the mean, or with
    ``outcome`` the 95% range of one year's outcome."""
    if not figure:
        return "not simulated"
    low, high = ("outcome_low", "outcome_high") if outcome else ("low", "high")
    said = "95% of years " if outcome else ""
    return f"{figure['mean']:,.0f} ({said}{figure[low]:,.0f} to {figure[high]:,.0f})"


def _pace(observed: float, forecast: dict[str, float] | None) -> str:
    """One observed year against the range of the forecast's years."""
    if not forecast:
        return ""
    if observed < forecast["outcome_low"]:
        return ": behind it"
    if observed > forecast["outcome_high"]:
        return ": ahead of it"
    return ": within its range"


def print_replan(said: dict[str, Any], folder: Path) -> None:
    """The re-plan's summary (its manifest's ``summary.replan``) on the terminal."""
    week, (first, last) = said["week"], said["weeks"]
    money, so_far, rest = said["money"], said["new_customers_so_far"], said["rest_of_year"]

    def line(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    line(f"re-plan at week {week} of {said['original_run']}, into {folder}:")
    line(f"  money: spent {money['spent']:,.0f} by week {week} (the original plan "
         f"{money['original_planned_by_week']:,.0f} by then); of budget.total "
         f"{money['total']:,.0f}, {money['remaining']:,.0f} is left to spend in weeks "
         f"{first} to {last} (the year's reserve of {money['reserve']:,.0f} held back; the "
         f"original plan had {money['original_remaining']:,.0f} for them); the re-plan "
         f"spends {money['replan_spend']:,.0f}")
    observed = so_far["observed"]
    line(f"  new customers in weeks 1 to {week}: observed {observed:,.0f}; the original "
         f"plan forecast {_interval(so_far['original_forecast'], outcome=True)}"
         f"{_pace(observed, so_far['original_forecast'])}; the recalibrated model "
         f"{_interval(so_far['recalibrated'], outcome=True)}")
    text = (f"  weeks {first} to {last}: the re-plan brings "
            f"{_interval(rest['replan'])} new customers")
    rule = rest.get("original_split_same_money")
    if rule:
        text += (f"; against the original plan's split of the same money, "
                 f"{rule['advantage']:+,.0f} ({rule['low']:+,.0f} to {rule['high']:+,.0f}): "
                 f"{rule['verdict']}")
    line(text)
    if said["events_left"]:
        line("  events re-placed after week {}: {}".format(week, ", ".join(
            f"{n} {kind}" for kind, n in sorted(said["events_left"].items()))))
    if not said["calibration"]["converged"]:
        from scenarios._cli_calibrate import unsettled
        from scenarios.calibration_file import read_calibration

        line(f"  the recalibration: {unsettled(read_calibration(folder / 'calibration.toml'))}")
    margin = said.get("marginal_new_customers_per_unit")
    binds = (f"the scenario's rules that bind: {', '.join(said['binding'])}"
             if said["binding"] else "")
    if margin is not None:
        line(f"  at the re-plan, its last 1,000 spent brings {1000 * margin:.2f} new customers"
             + (f"; {binds}" if binds else ""))
    elif binds:
        line(f"  {binds}")
    line("  what changed and why (replan_changes.parquet per community):")
    for why in said["why"]:
        line(f"    {why}")


@guarded
def replan(
    scenario: Annotated[Path, typer.Argument(help="The scenario being carried out.")],
    history: History,
    observed: Observed,
    week: Annotated[int, typer.Option(
        help="The week now: weeks 1 to it are the past, the rest is re-planned.")],
    runs: Annotated[Path, typer.Option("--runs", help="Folder of run folders.")] = Path("runs"),
    original: Annotated[str | None, typer.Option(
        help="The run of the plan being carried out (default: the scenario's latest "
             "complete run; made now if there is none).")] = None,
    calibration: Annotated[Path | None, typer.Option(
        help="A calibration of weeks 1 to --week already fitted (default: fitted now).")]
    = None,
    holdout_weeks: Annotated[int, typer.Option(
        help="Weeks before --week kept out of the fit to check its forecast.")] = 0,
    rounds: Rounds = ROUNDS,
) -> None:
    """Recalibrate on the weeks so far, keep what was spent, and re-optimize the rest of
    the year's budget and events; the run folder says what changed and why."""
    import json

    from scenarios._cli_checks import print_plan_checks
    from scenarios.replan import replan as run_replan
    from scenarios.schema import load_scenario

    done = run_replan(load_scenario(scenario), history, observed, week=week, runs_dir=runs,
                      calibration=calibration, original=original, holdout=holdout_weeks,
                      rounds=rounds, progress=_progress)
    manifest = json.loads((done.run.path / "manifest.json").read_text(encoding="utf-8"))
    print_replan(manifest["summary"]["replan"], done.run.path)
    print_plan_checks([done.run.path])
    for warning in manifest.get("warnings", []):
        console.print(f"  warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    console.print(str(done.run.path), markup=False, highlight=False, soft_wrap=True)
