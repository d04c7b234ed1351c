"""``budget.previous``: last year's split of the budget, the simple rule a plan must beat
when the bank has one. A CSV or Parquet file with one row per community and channel:
``community_id``, ``channel``, ``spend`` (a year's spend, >= 0). Every problem is reported
at once, each with the row, the column, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem
from scenarios.bank_data import read_table
from simulation import CHANNELS

__all__ = ["COLUMNS", "read_previous"]

COLUMNS = ("community_id", "channel", "spend")


def read_previous(path: str | Path, communities: pd.Index) -> pd.DataFrame:
    """Last year's split from ``path``, checked against the area's ``communities``.

    Raises
    ------
    InputError
        The file is missing or unreadable, lacks a column, or has rows that name an
        unknown community or channel, a spend that is not a number >= 0, or repeat a
        community and channel (all of them listed).
    """
    path = Path(path)
    where = f"{path} (budget.previous)"
    frame = read_table(path, where, COLUMNS)
    frame = frame[list(COLUMNS)].copy()
    spend = pd.to_numeric(frame["spend"], errors="coerce")
    problems = []
    known = set(map(str, communities))
    first = 1 if path.suffix.lower() == ".parquet" else 2  # a CSV's header is line 1
    for i, row in enumerate(frame.itertuples(index=False)):
        at = f"{where}: row {i + first}"
        if row.community_id not in known:
            problems.append(Problem("error", f"{at}: community_id",
                                    f"{row.community_id!r} is not a community of the area",
                                    "use the ids of the area's communities layer"))
        if row.channel not in CHANNELS:
            problems.append(Problem("error", f"{at}: channel", f"got {row.channel!r}",
                                    f"use one of {', '.join(CHANNELS)}"))
        value = spend.iloc[i]
        if not np.isfinite(value) or value < 0:
            problems.append(Problem("error", f"{at}: spend", f"got {row.spend!r}",
                                    "give a year's spend, a number >= 0"))
    for dup in np.flatnonzero(frame.duplicated(["community_id", "channel"]).to_numpy()):
        i = int(dup)
        problems.append(Problem("error", f"{where}: row {i + first}",
                                f"community {frame['community_id'].iloc[i]!r} and channel "
                                f"{frame['channel'].iloc[i]!r} again",
                                "give one row per community and channel"))
    if problems:
        raise InputError(f"{where}: {len(problems)} problem(s)", problems)
    return frame.assign(spend=spend.astype(float))
