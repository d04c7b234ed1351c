"""The checks in the terminal, for ``sitesim run``, ``compare`` and ``demo``: the budget
plan's (the rounds of the loop, the simple rules) and each run against its targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from scenarios._console import console

__all__ = ["print_plan_checks", "print_targets"]


def print_plan_checks(folders: Sequence[str | Path], names: Mapping[str, str] | None = None,
                      *, markdown: bool = False) -> None:
    """A table of each run's checks (scenarios.plan_checks); nothing without checks."""
    from scenarios.plan_checks import check_cells, plan_checks

    frame = plan_checks(folders)
    if frame.empty:
        return
    title = ("The budget plan checked: each round's forecast against the plan's simulated "
             "uplift (new customers), and the plan's paired advantage over simple rules "
             "with the same money (±95% interval, same random numbers); with one budget "
             "for outlets and marketing, its split and what 1,000 more buys in each")
    header = ["scenario", "check", "plan", "other", "difference (±95%)", "verdict"]
    rows = [[(names or {}).get(cells[0], cells[0]), *cells[1:]]
            for cells in check_cells(frame)]
    if markdown:
        lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=title)
    for col in header:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_targets(folders: Sequence[str | Path], names: Mapping[str, str] | None = None,
                  *, markdown: bool = False) -> None:
    """A table of each run against its scenario's targets (scenarios.targets); nothing
    when no run has targets."""
    from scenarios.targets import target_cell, target_checks

    frame = target_checks(folders)
    if frame.empty:
        return
    runs = list(dict.fromkeys(frame["run_id"]))
    header = ["target", *[(names or {}).get(r, r) for r in runs]]
    rows = []
    for target, g in frame.groupby("target", sort=False):
        by_run = {str(r["run_id"]): target_cell({str(k): v for k, v in r.items()})
                  for r in g.to_dict("records")}
        rows.append([str(target), *[by_run.get(r, "") for r in runs]])
    title = ("Against the targets ([targets] of each scenario; the mean over replications, "
             "P: the share of replications that meet it; a split is the plan's)")
    if markdown:
        lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=escape(title))
    for col in header:
        table.add_column(escape(col), overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
