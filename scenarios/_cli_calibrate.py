"""``sitesim calibrate``: fit the model to the bank's own history (docs/calibration.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scenarios._cli_progress import _progress
from scenarios._console import console, guarded
from scenarios._fit_size import ROUNDS

if TYPE_CHECKING:
    from scenarios.calibration_file import CalibrationFile


def unsettled(fit: CalibrationFile) -> str:
    """What a calibration whose rounds did not settle says of itself."""
    return (f"not settled: the last of {fit.rounds} rounds moved the estimate "
            f"{fit.moved:.1f} posterior sd (settled: under 0.25); its intervals do not hold "
            f"that move (--rounds {fit.rounds + 2} fits longer; on the sample city's "
            "synthetic bank the moves are the simulations' noise and do not shrink)")


#: The bank's two files, as calibrate and replan take them (docs/calibration.md, "Data").
History = Annotated[Path, typer.Option(
    help="What was spent: CSV or Parquet with week, community_id, channel, spend.")]
Observed = Annotated[Path, typer.Option(
    help="What came of it: CSV or Parquet with week, community_id, new_customers "
         "(and churned, where known).")]
#: The fit's most rounds, as calibrate and replan take them.
Rounds = Annotated[int, typer.Option(
    min=1, max=20, help="The fit's most rounds (each about 8 + 4 per parameter points x 4 "
                        "runs); the calibration file says whether they settled.")]


@guarded
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (its area and seed).")],
    history: History,
    observed: Observed,
    out: Annotated[Path, typer.Option(help="The calibration file to write (TOML).")]
    = Path("calibration.toml"),
    holdout_weeks: Annotated[int | None, typer.Option(
        help="The last weeks kept out of the fit and forecast to check it (default: a "
             "quarter of the observed weeks, at least 4; 0: none).")] = None,
    lift: Annotated[list[Path] | None, typer.Option(
        help="A pilot's readout (sitesim pilot readout) to fit as a further measurement; "
             "repeat for several.")] = None,
    rounds: Rounds = ROUNDS,
) -> None:
    """Fit organic adoption, word of mouth, churn and each spent channel's response to
    the bank's history; write the estimates, their uncertainty, what the data could not
    identify and the forecast of the held-out weeks."""
    from scenarios.calibrate import calibrate as fit
    from scenarios.schema import load_scenario

    result = fit(load_scenario(scenario), history, observed, holdout=holdout_weeks, out=out,
                 lifts=lift or (), rounds=rounds, progress=_progress)
    table = result.table()
    console.print(f"calibration of {scenario} on weeks {result.weeks[0]} to "
                  f"{result.weeks[1]} ({result.simulations} simulations, dispersion "
                  f"{result.dispersion:.2f}):", soft_wrap=True)
    for row in table.itertuples():
        said = "" if row.identified else "  (not identified: near its prior)"
        console.print(f"  {row.name}: {row.estimate:.4g} (95% {row.low:.4g} to "
                      f"{row.high:.4g}; prior {row.prior:.4g}){said}", markup=False,
                      soft_wrap=True)
    if not result.converged:
        console.print(f"  {unsettled(result)}", markup=False, soft_wrap=True)
    for measured in result.lifts:
        console.print(f"  pilot lift ({measured['file']}): observed {measured['observed']:+.3f}"
                      f" ±{1.96 * measured['se']:.3f}, the fitted model "
                      f"{measured['fitted']:+.3f}", markup=False, soft_wrap=True)
    effects = result.effects
    console.print(f"  community effects: {int((effects.sub(1).abs() > 0.05).sum())} of "
                  f"{len(effects)} communities differ from the model by more than 5% "
                  f"(from {effects.min():.2f} to {effects.max():.2f})", soft_wrap=True)
    held = result.held_out
    if held is not None:
        console.print(
            f"  held-out weeks {held.weeks[0]} to {held.weeks[1]}: observed "
            f"{held.observed:,.0f} new customers, forecast {held.forecast:,.0f} "
            f"({held.low:,.0f} to {held.high:,.0f}; error {held.error_share:+.1%}, "
            f"{'inside' if held.covered else 'OUTSIDE'} the interval); per community "
            f"{held.community_mae:.1f} on average", markup=False, soft_wrap=True)
    # a scenario's file = ... is read from the scenario's folder
    relative = os.path.relpath(out.resolve(), scenario.resolve().parent)
    console.print(f"wrote {out}; use it with [calibration] file = \"{relative}\" in "
                  f"{scenario} (a path from the scenario's folder)", markup=False,
                  soft_wrap=True)
