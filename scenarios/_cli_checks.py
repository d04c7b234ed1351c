"""The budget plan's checks in the terminal: the rounds of the loop and the simple
rules, for ``sitesim run``, ``compare`` and ``demo``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.table import Table

from scenarios._console import console

__all__ = ["print_plan_checks"]


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
