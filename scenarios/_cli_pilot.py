"""``sitesim pilot design`` and ``sitesim pilot readout``: pilot communities against
matched controls (docs/calibration.md, "Pilots")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.errors import InputError
from scenarios._cli_progress import _progress
from scenarios._console import console, guarded

__all__ = ["pilot_design", "pilot_readout"]


@guarded
def pilot_design(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (its area, scoring "
                                                  "and model).")],
    treated: Annotated[str, typer.Option(
        help="How many communities to treat (the best-scored), or their ids, "
             "comma-separated.")],
    weeks: Annotated[int, typer.Option(help="The pilot's weeks.", min=1, max=104)],
    out: Annotated[Path, typer.Option(
        help="The assignment to write (CSV: community_id, arm, matched_to, adults, "
             "score); its balance table and design are written beside it.")]
    = Path("pilot.csv"),
    pre_weeks: Annotated[int | None, typer.Option(
        help="Weeks before the pilot that the readout compares with (default: as many as "
             "the pilot's, at least 4).", min=2, max=260)] = None,
    pool: Annotated[int | None, typer.Option(
        help="Choose the treated among this many of the best-scored communities (default: "
             "3 x --treated; wider balances better).", min=1)] = None,
    controls_per: Annotated[int, typer.Option(
        help="Control communities per treated community.", min=1, max=10)] = 2,
    channel: Annotated[str, typer.Option(help="The pilot campaign's channel.")]
    = "social_media",
    spend: Annotated[float | None, typer.Option(
        help="The pilot campaign's whole spend (default: the scenario's budget per adult "
             "and week in the treated communities).", min=0)] = None,
    effect: Annotated[float | None, typer.Option(
        help="A wanted relative uplift (0.3: +30%) to size the pilot for (default: the "
             "forecast's).", min=0)] = None,
    observed: Annotated[Path | None, typer.Option(
        help="Observations of the weeks before the pilot (week, community_id, "
             "new_customers), to match on their level and trend.")] = None,
) -> None:
    """Choose treated communities and matched controls that are not their neighbours;
    say the balance, the forecast and the smallest uplift the pilot can detect."""
    from scenarios.pilot_design import design_pilot, write_design
    from scenarios.schema import load_scenario
    from simulation import CHANNELS

    if channel not in CHANNELS:
        raise InputError(f"--channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    design = design_pilot(load_scenario(scenario), treated=treated, weeks=weeks,
                          pre_weeks=pre_weeks, controls_per=controls_per, channel=channel,
                          spend=spend, effect=effect, observed=observed, pool=pool,
                          progress=_progress)
    paths = write_design(design, out)
    arms = design.assignment["arm"]
    f, p, n = design.forecast, design.power, design.needs
    lines = [
        f"pilot of weeks {design.pilot_weeks[0]} to {design.pilot_weeks[1]} after weeks "
        f"{design.pre_weeks[0]} to {design.pre_weeks[1]}: {int((arms == 'treated').sum())} "
        f"treated, {int((arms == 'control').sum())} controls "
        f"({len(design.excluded_neighbours)} neighbours of the treated left out); "
        f"{design.channel} {design.spend:,.0f}",
        "balance (standardized mean difference, |smd| < 0.1 balanced): " + ", ".join(
            f"{name} {row.smd:+.2f}{'' if row.balanced else ' (NOT balanced)'}"
            for name, row in design.balance.iterrows()),
        f"forecast: {f['did']:+.3f} new customers per 1,000 adults a week in the treated "
        f"communities ({f['low']:+.3f} to {f['high']:+.3f}; {f['relative']:+.1%} of "
        f"{f['without']:.3f}), of which word of mouth lifts the controls {f['spillover']:+.3f}",
        f"smallest detectable uplift (80% power, 5% two-sided): {p['mde']:.3f} "
        f"({p['mde_relative']:+.1%}); power for the forecast {p['power_of_forecast']:.0%}",
    ]
    if "treated_communities" in n:
        weeks_said = (f"or {n['pilot_weeks']} pilot weeks" if n.get("pilot_weeks")
                      else "(more weeks alone do not reach it)")
        more = n["treated_communities"] + n["control_communities"]
        beyond = (f" (more than the area's {n['communities_available']} communities that "
                  "can take part)" if more > n["communities_available"] else "")
        lines.append(f"to detect {n['effect_relative']:+.1%}: {n['treated_communities']} "
                     f"treated and {n['control_communities']} controls{beyond} "
                     f"{weeks_said}")
    lines += [f"note: {note}" for note in design.notes + ([n["note"]] if "note" in n else [])]
    lines.append("wrote " + ", ".join(str(path) for path in paths.values()))
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


@guarded
def pilot_readout(
    assignment: Annotated[Path, typer.Option(
        help="The pilot's assignment (CSV or Parquet: community_id, arm, and adults where "
             "known), as pilot design writes it.")],
    observed: Annotated[Path, typer.Option(
        help="Observations from week 1 (week, community_id, new_customers).")],
    start: Annotated[int | None, typer.Option(
        help="The pilot's first week (default: the design's).", min=2, max=520)] = None,
    end: Annotated[int | None, typer.Option(
        help="The pilot's last week (default: the last observed).", min=2, max=520)] = None,
    out: Annotated[Path, typer.Option(help="The readout to write (TOML).")]
    = Path("readout.toml"),
) -> None:
    """Estimate the pilot's uplift by difference in differences, with its interval,
    against what the design forecast."""
    from scenarios.pilot_estimate import readout, write_readout

    result = readout(assignment, observed, start=start, end=end)
    u = result.uplift
    verdict = ("an uplift" if u.significant and u.estimate > 0 else "a fall"
               if u.significant else "no uplift that the pilot can tell from noise")
    lines = [
        f"pilot weeks {result.pilot_weeks[0]} to {result.pilot_weeks[1]} against weeks "
        f"{result.pre_weeks[0]} to {result.pre_weeks[1]}, {u.treated} treated and "
        f"{u.control} control communities:",
        f"  uplift {u.estimate:+.3f} {result.unit} (95% {u.low:+.3f} to {u.high:+.3f}; "
        f"p = {u.p_value:.3f}): {verdict}",
        f"  relative to the treated communities without the pilot: {u.relative:+.1%} "
        f"({u.relative_low:+.1%} to {u.relative_high:+.1%})",
        f"  extra new customers in the treated communities: {result.extra_customers[0]:,.0f}"
        f" ({result.extra_customers[1]:,.0f} to {result.extra_customers[2]:,.0f})",
    ]
    if result.forecast is not None and "did" in result.forecast:
        f = result.forecast
        inside = u.low <= f["did"] <= u.high
        lines.append(f"  the design forecast {f['did']:+.3f}: "
                     f"{'inside' if inside else 'OUTSIDE'} the readout's interval")
    write_readout(result, out)
    lines.append(f"wrote {out}")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
