"""The planning commands: score (communities), site (outlets and events) and allocate
(staff and the marketing budget), with the tables they print and the Parquet they write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from scenarios._cli_plan_extras import plan_table as _plan_table
from scenarios._cli_plan_extras import rollout_table, van_week
from scenarios._cli_progress import _progress
from scenarios._console import console, guarded

if TYPE_CHECKING:
    import pandas as pd

    from geo.scoring import Normalization
    from optimizer import EventPlan, SitingResult
    from scenarios.plans import Prepared


def _read_weights(path: Path) -> tuple[dict[str, float], Normalization, float | None]:
    """Weights, normalization and min_adults from a TOML file: a scenario's [scoring]
    table or top-level keys."""
    from pydantic import ValidationError

    from geo._pydantic import read_toml, validation_problems
    from geo.errors import InputError
    from scenarios.schema import Scoring

    raw = read_toml(path, "weights file")
    table = raw.get("scoring", raw)
    try:
        scoring = Scoring.model_validate({k: v for k, v in table.items()
                                          if k in ("weights", "normalization",
                                                   "min_adults")})
    except ValidationError as exc:
        problems = validation_problems(exc, str(path), "see docs/scoring.md", Scoring)
        raise InputError(f"{path}: {len(problems)} problem(s)", problems) from None
    return dict(scoring.weights), scoring.normalization, scoring.min_adults


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
    min_adults: Annotated[float | None, typer.Option(
        "--min-adults", help="Fewest adults a community needs to be scored (default: "
                             "the weights file's [scoring] min_adults, else a tenth of the "
                             "median community's adults).")] = None,
) -> None:
    """Score the communities of an area; print the best with their explanation."""
    import os
    import warnings

    from geo import load_area, off_network_note, score_communities, travel_times
    from geo.errors import InputError
    from geo.scoring import MIN_ADULTS_SHARE
    from scenarios.names import label as place_label
    from scenarios.schema import Scoring

    if mode not in ("walk", "drive"):
        raise InputError(f"--mode {mode}: expected walk or drive")
    if weights is not None:
        w, normalization, least = _read_weights(weights)
    else:
        default = Scoring()
        w, normalization, least = dict(default.weights), default.normalization, (
            default.min_adults)
    least = least if min_adults is None else min_adults
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_area(area, progress=_progress)
    _progress(f"travel times ({mode}) from {len(study.communities)} communities to "
              f"{len(study.outlets)} outlets")
    travel = travel_times(study, study.outlets, mode=mode)  # type: ignore[arg-type]
    _progress("scoring")
    scores = score_communities(study, w, travel=travel, normalization=normalization,
                               coverage_minutes=minutes, min_adults=least)
    adults = study.adults
    overall = float((scores["coverage_share"] * adults).sum() / adults.sum())
    contrib = [c for c in scores.columns if c.startswith("contrib_")]
    table = Table(title=f"Top {min(top, len(scores))} of {len(scores)} communities: {study.name}")
    for col in ("#", "community", "adults", "score", "tier", "why: largest contributions",
                "moves"):
        table.add_column(col, overflow="fold")
    for cid, row in scores.head(top).iterrows():
        parts = sorted(((row[c], c.removeprefix("contrib_")) for c in contrib), reverse=True)
        why = ", ".join(f"{name} {value:.2f}" for value, name in parts[:3])
        label = place_label(row.get("name"), cid)
        table.add_row(str(row["rank"]), label, f"{row['adults']:,.0f}", f"{row['score']:.3f}",
                      str(row["tier"]), why, f"±{row['rank_shift_max']}")
    console.print(table)
    weights_text = ", ".join(f"{k} {v:+g}" for k, v in w.items())
    console.print(f"weights: {weights_text} ({normalization}); tier 5 is the best; "
                  "moves: the largest rank change when any weight moves by 20%")
    console.print(f"own outlets within {minutes:g} min ({mode}): {overall:.1%} of adults")
    few = scores[scores["too_few_adults"]]
    if len(few):
        rule = (f"{least:,.0f}" if least is not None else
                f"{MIN_ADULTS_SHARE * float(study.adults.median()):,.0f} (a tenth of the "
                "median community)")
        console.print(f"note: {len(few)} of {len(scores)} communities have fewer than {rule} "
                      f"adults and are not scored: {', '.join(map(str, few.index[:6]))} "
                      "(they rank last; --min-adults sets the threshold)")
    note = off_network_note(study, len(travel.fallback_communities))
    if note:
        console.print(f"note: {note}")
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


def _why_sites(decisions: pd.DataFrame, adults: float) -> pd.DataFrame:
    """The outlet plan's rows as a planner reads them: the site by name with its id, and
    why (the adults it newly brings within reach with their share of the area's adults,
    and those no other outlet of the plan reaches)."""
    from scenarios.names import labels

    share = decisions["adults_newly_covered"] / max(adults, 1.0)
    return decisions.assign(
        site=labels(decisions["name"], decisions["site_id"]),
        why=[f"{new:,.0f} ({sh:.1%})" for new, sh in zip(
            decisions["adults_newly_covered"], share, strict=True)],
        only_here=decisions["adults_only_here"])


def _share_lines(siting: SitingResult) -> None:
    """max_share: the demand captured, and where each new site's customers come from."""
    src = siting.share_sources
    assert src is not None
    console.print(f"expected demand captured under the Huff rule: "
                  f"{siting.share_captured or 0.0:,.0f} ({siting.share_of_demand or 0.0:.1%} "
                  "of the demand weight)")
    for site, rows in src.groupby("site_id", sort=False):
        total = float(rows["captured"].sum())
        parts = ", ".join(f"{source} {value / total:.0%}" for source, value in zip(
            rows["source"], rows["captured"].astype(float), strict=True)
            if total > 0 and value > 0.005 * total)
        console.print(f"  {site} ({rows['kind'].iloc[0]}): {total:,.0f}, taken from {parts}")


def _optimality(result: object) -> str:
    proven = getattr(result, "proven_optimal", False)
    gap = getattr(result, "gap", None)
    if proven:
        return "proven optimal"
    said = (f"within {gap:.2%} of the best possible (proven bound)" if gap is not None
            else "optimality not proven (no bound)")
    if getattr(result, "found_by", "solver") == "greedy":
        said += "; the greedy plan (the solver found none better)"
    return said


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
    from scenarios.names import VENUES, labels, place_names, with_places

    prep, siting, outlets, events = _site_and_events(scenario)
    name = prep.scenario.name
    places = place_names(prep.area)
    frames: dict[str, pd.DataFrame] = {}
    note = plans.travel_note(prep)
    if note:
        console.print(f"note: {note}")
    if siting is not None:
        table = plans.outlet_table(siting, outlets, places)
        rollout = {"quarter": "quarter"} if siting.by_quarter is not None else {}
        _plan_table(f"Outlet plan: {name}", _why_sites(table[table["action"] != "keep"],
                                                       float(prep.area.adults.sum())),
                    {"site": "site", "community": "in", "kind": "kind", "action": "action",
                     **rollout, "why": "adults newly in reach",
                     "only_here": "only it reaches", "capex": "capex",
                     "opex_per_year": "opex a year"})
        if siting.by_quarter is not None:
            rollout_table(siting.by_quarter, name, siting.objective_name,
                          prep.scenario.outlets.carry_over)
        d = siting.decisions
        kept = int((d["action"] == "keep").sum())
        console.print(
            f"{siting.objective_name}: coverage within "
            f"{prep.scenario.outlets.coverage_minutes:g} min "
            f"{siting.coverage_before:.1%} -> {siting.coverage_after:.1%} of adults; "
            f"{kept} outlets kept; capex {siting.capex:,.0f}, opex "
            f"{siting.opex_per_year:,.0f} a year; {_optimality(siting)}")
        idle = ("no limit binds: the cheapest plan that captures the target"
                if siting.objective_name == "target_share"
                else "no limit binds: every worthwhile site is open")
        console.print("why: " + ("; ".join(siting.binding) or idle))
        frames["plan_outlets.parquet"] = table
        if siting.share_sources is not None:
            _share_lines(siting)
            frames["plan_share_sources.parquet"] = siting.share_sources
        valued = prep.scenario.outlets.value_per_covered_adult
        if valued is not None:
            staying = ("the outlets that may close count their opex when kept"
                       if prep.scenario.outlets.allow_closures
                       else "the outlets kept count their adults, not their cost")
            console.print(f"a year's value of the adults covered ({valued:g} each) less the "
                          f"openings' yearly cost: {siting.objective:,.0f} ({staying})")
        if siting.objective_name == "min_cost":
            console.print(f"a year's cost of opening, travel and adults unserved: "
                          f"{siting.objective:,.0f} (the outlets kept as they are not counted)")
        if siting.objective_name == "p_center":
            console.print(f"longest travel time from a demand point to the outlets serving it: "
                          f"{siting.objective:g} minutes" + (
                              f" ({siting.unserved_points} demand points with "
                              f"{siting.unserved_adults:,.0f} adults are beyond every site "
                              "of the travel table)" if siting.unserved_points else ""))
    else:
        console.print("outlets.enabled = false: the current outlets are kept as they are")
    if prep.scenario.van.enabled:
        van_week(prep, places, frames)
    if events is not None:
        sched = with_places(events.schedule, "venue_id", place_names(prep.area, VENUES),
                        prefix="venue_")
        _plan_table(f"Event plan: {name}",
                    sched.assign(venue=labels(sched["venue_name"], sched["venue_id"])),
                    {"week": "week", "venue": "venue", "venue_community": "in",
                     "event_type": "event",
                     "attendance": "expected attendance", "capacity": "capacity",
                     "cost": "cost", "staff": "staff"})
        console.print(f"{len(sched)} events, expected attendance "
                      f"{events.attendance:,.0f}, cost {events.cost:,.0f}; "
                      f"{_optimality(events)}")
        console.print("why: " + ("; ".join(events.binding)
                                 or "no limit binds"))
        frames["plan_events.parquet"] = sched
    _write_parquet(out or Path("plans") / name, frames)


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
    from scenarios import plans, plans_budget
    from scenarios.lifetime import VALUE_NAMES
    from scenarios.names import community_names, labels, place_names, with_places

    prep, _, outlets, events = _site_and_events(scenario)
    sc = prep.scenario
    places = place_names(prep.area)
    frames: dict[str, pd.DataFrame] = {}
    if sc.staff.enabled:
        _progress("allocating staff")
        staff = plans.staff_plan(prep, outlets, events)
        weeks = staff.weeks
        named = with_places(staff.plan, "outlet_id", places)
        first = named[named["week"] == named["week"].min()]
        _plan_table(f"Staff plan, week {int(first['week'].iloc[0])}: {sc.name}",
                    first.assign(outlet=labels(first["name"], first["outlet_id"])),
                    {"outlet": "outlet", "community": "in", "kind": "kind", "staff": "RMs",
                     "visits": "visits", "unserved": "unserved"})
        console.print(f"{sc.staff.relationship_managers} RMs: at outlets "
                      f"{weeks['outlet_staff'].min()}-{weeks['outlet_staff'].max()}, at events "
                      f"up to {weeks['event_staff'].max()}, spare "
                      f"{weeks['spare'].min()}-{weeks['spare'].max()} a week; "
                      f"{staff.served_share:.1%} of visits served; {_optimality(staff)}")
        console.print("why: " + ("; ".join(staff.binding) or "no limit binds"))
        frames["plan_staff.parquet"] = named
    if sc.budget.enabled:
        table = plans_budget.response_curves(
            prep, plans.simulation_inputs(prep, outlets), curves_file=curves,
            progress=_progress, background=plans.scenario_campaigns(sc))
        _progress("allocating the budget")
        budget = plans_budget.budget_plan(prep, table)
        _plan_table(f"Budget by channel: {sc.name}", budget.by_channel.reset_index(),
                    {"channel": "channel", "spend": "spend", "customers": "new customers",
                     "value": f"value ({VALUE_NAMES[sc.budget.objective]})"})
        top = budget.by_community.sort_values("spend", ascending=False).reset_index()
        names = community_names(prep.area)
        top["community"] = labels(top["community_id"].map(names), top["community_id"])
        _plan_table("Communities with the most spend", top,
                    {"community": "community", "spend": "spend",
                     "customers": "new customers"}, limit=10)
        mv = budget.marginal_value
        reserve = sc.budget.policy.reserve * sc.budget.total
        held = f" ({reserve:,.0f} policy reserve held back)" if reserve > 0 else ""
        console.print(f"spend {budget.spend:,.0f} of {sc.budget.total:,.0f}{held}; "
                      f"{budget.customers:,.0f} new customers over the "
                      f"{sc.simulation.weeks} weeks; {_optimality(budget)}")
        if mv is not None:
            unit = ("new customers" if sc.budget.objective == "customers"
                    else f"of {VALUE_NAMES[sc.budget.objective]}")
            console.print(f"one more unit of budget buys {mv:.4f} {unit}")
        console.print("why: " + ("; ".join(budget.binding) or "no limit binds"))
        for note in budget.notes:
            console.print(f"note: {note}")
        frames["plan_budget.parquet"] = budget.plan.assign(
            community=budget.plan["community_id"].map(names))
    _write_parquet(out or Path("plans") / sc.name, frames)
