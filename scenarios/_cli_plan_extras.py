"""The plan tables the planning commands print: any plan frame as a table, a rollout's
quarters and a van's week."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.table import Table

from scenarios._cli_progress import _progress
from scenarios._console import console

__all__ = ["plan_table", "rollout_table", "van_week"]


def plan_table(title: str, frame: pd.DataFrame, columns: dict[str, str],
                limit: int = 30) -> None:
    table = Table(title=title)
    for heading in columns.values():
        table.add_column(heading, overflow="fold")
    for _, row in frame.head(limit).iterrows():
        cells = []
        for col in columns:
            v = row[col]
            cells.append(f"{v:,.0f}" if isinstance(v, float) else str(v))
        table.add_row(*cells)
    console.print(table)
    if len(frame) > limit:
        console.print(f"... and {len(frame) - limit} more rows (all in the Parquet file)")


def rollout_table(by_quarter: pd.DataFrame, name: str, objective: str,
                  carry_over: bool = True) -> None:
    """A rollout's row a quarter: its first week, what opens, the money to date."""
    from scenarios.rollout import opening_week

    spent, have = (("capex_to_date", "capex_available_to_date") if carry_over
                   else ("capex", "capex_budget"))
    frame = by_quarter.assign(
        week=[opening_week(q) for q in by_quarter["quarter"]],
        money=[f"{a:,.0f} of {b:,.0f}" for a, b in zip(by_quarter[spent], by_quarter[have],
                                                        strict=True)],
        covered=[f"{share:.1%}" for share in by_quarter["adults_covered_share"]])
    money = ("a quarter's unspent capex carries to the next" if carry_over
             else "each quarter spends only its own capex")
    plan_table(f"Rollout by quarter: {name} (each site opens in its quarter's first week; "
               f"{money})", frame,
               {"quarter": "quarter", "week": "opens in week", "opened": "sites opened",
                 "capex": "capex", "money": "capex to date, of the money to date"
                 if carry_over else "capex, of the quarter's budget",
                 "covered": "adults captured" if objective == "max_capture"
                 else "adults covered"})


def van_week(prep: Any, places: pd.DataFrame, frames: dict[str, pd.DataFrame]) -> None:
    """The van's week: its stops by day, what it reaches, plan_van.parquet."""
    from scenarios.names import labels, with_places
    from scenarios.van import van_plan

    _progress("planning the van's week")
    van = van_plan(prep)
    week = with_places(van.schedule, "stop_id", places, prefix="stop_")
    plan_table(f"The van's week: {prep.scenario.name}",
                week.assign(stop=labels(week["stop_name"], week["stop_id"]),
                            arrive=[f"{m / 60:.1f} h" for m in week["arrive_min"]],
                            leave=[f"{m / 60:.1f} h" for m in week["depart_min"]]),
                {"day_name": "day", "order": "stop", "stop": "at", "stop_community": "in",
                 "arrive": "arrives (after leaving home)", "leave": "leaves"})
    console.print(f"{van.weekly_reach:,.0f} adults within {prep.scenario.van.coverage_minutes:g} "
                  f"minutes' walk of a stop at least once a week, {van.adult_days:,.0f} "
                  f"adult-days; {van.routes:,} routes a day could take; "
                  + ("proven" if van.proven_optimal else "not proven (raise the time)"))
    frames["plan_van.parquet"] = week
