"""The data a bank brings to calibrate, pilot and re-plan (docs/calibration.md, "Data"):
CSV or Parquet tables, checked against the area's communities with every problem reported
at once (the file, the row, the column, the value and the fix).

- **history**: ``week, community_id, channel, spend``: what was spent, where and when (one
  row per week, community and channel; weeks without a row spent nothing);
- **observed**: ``week, community_id, new_customers`` and, where known, ``churned``,
  ``customers``, ``deposits``, ``event_attendance`` (one row per week and community).

Weeks are 1-based integers; community ids are the area pack's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem
from simulation import CHANNELS

__all__ = ["HISTORY_COLUMNS", "OBSERVED_COLUMNS", "OBSERVED_OPTIONAL", "read_bank",
           "read_history", "read_observed", "read_table"]

HISTORY_COLUMNS = ("week", "community_id", "channel", "spend")
OBSERVED_COLUMNS = ("week", "community_id", "new_customers")
OBSERVED_OPTIONAL = ("churned", "customers", "deposits", "event_attendance")
#: At most this many problems are listed one by one (the rest are counted).
MAX_LISTED = 50
#: The last week a table may hold (ten years of weeks).
MAX_WEEK = 520


def read_table(path: str | Path, where: str, columns: Sequence[str],
               text: Sequence[str] = ("community_id", "channel")) -> pd.DataFrame:
    """A CSV or Parquet table with at least ``columns`` (``text`` columns read as text).

    Raises
    ------
    InputError
        The file is missing or unreadable, or lacks one of ``columns``.
    """
    path = Path(path)
    need = ", ".join(columns)
    if not path.is_file():
        raise InputError(f"{where}: no such file; give a CSV or Parquet file with {need}")
    try:
        frame = (pd.read_parquet(path) if path.suffix.lower() == ".parquet"
                 else pd.read_csv(path, dtype=dict.fromkeys(text, str)))
    except (OSError, ValueError) as exc:
        raise InputError(f"{where}: cannot be read ({exc}); give a CSV or Parquet "
                         "file") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{where}: no column {', '.join(missing)}; the file has "
                         f"{', '.join(map(str, frame.columns)) or 'no columns'} and needs "
                         f"{need}")
    for column in text:
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)  # rows numbered as in the file (a Parquet index too)


def _first_row(path: str | Path) -> int:
    """The number of a table's first data row as a user sees it (a CSV's header is 1)."""
    return 1 if Path(path).suffix.lower() == ".parquet" else 2


def _check_numbers(frame: pd.DataFrame, columns: Sequence[str], where: str, first: int,
                   what: dict[str, str]) -> tuple[pd.DataFrame, list[Problem]]:
    """The ``columns`` as numbers >= 0 (``week``: a whole number >= 1), and a problem
    for each value that is not."""
    problems = []
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        if column == "week":  # a week of the plan, not of the calendar (202401)
            bad = ~(np.isfinite(values) & (values >= 1) & (values <= MAX_WEEK)
                    & (values == np.round(values)))
        else:
            bad = ~(np.isfinite(values) & (values >= 0))
        for i in np.flatnonzero(np.asarray(bad)):
            row = int(frame.index[int(i)]) + first
            problems.append(Problem("error", f"{where}: row {row}: {column}",
                                    f"got {frame[column].iloc[i]!r}", what[column]))
        out[column] = values
    return out, problems


def _check_ids(frame: pd.DataFrame, communities: pd.Index, where: str,
               first: int) -> list[Problem]:
    known = set(map(str, communities))
    return [Problem("error", f"{where}: row {int(frame.index[int(i)]) + first}: "
                            "community_id",
                    f"{frame['community_id'].iloc[i]!r} is not a community of the area",
                    "use the ids of the area's communities layer")
            for i in np.flatnonzero(~frame["community_id"].isin(known).to_numpy())]


def _check_repeats(frame: pd.DataFrame, keys: list[str], where: str,
                   first: int) -> list[Problem]:
    out = []
    for i in np.flatnonzero(frame.duplicated(keys).to_numpy()):
        said = ", ".join(f"{k} {frame[k].iloc[i]!r}" for k in keys)
        out.append(Problem("error", f"{where}: row {int(frame.index[int(i)]) + first}",
                           f"{said} again",
                           f"give one row per {', '.join(keys)}"))
    return out


def _raise(where: str, problems: list[Problem]) -> None:
    if not problems:
        return
    listed = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        listed.append(Problem("error", where, f"and {len(problems) - MAX_LISTED} more "
                                              "problem(s) like these", "mend them alike"))
    raise InputError(f"{where}: {len(problems)} problem(s)", listed)


_WHAT = {"week": "give the week as a whole number from 1 (the history's first week) to "
                 "520, not a calendar week such as 202401",
         "spend": "give the week's spend, a number >= 0",
         "new_customers": "give the week's new customers, a number >= 0",
         "churned": "give the week's customers lost, a number >= 0 (or leave the column out)",
         "customers": "give the customers at the week's end, a number >= 0",
         "deposits": "give the deposits at the week's end, a number >= 0",
         "event_attendance": "give the week's event attendance, a number >= 0"}


def read_history(path: str | Path, communities: pd.Index) -> pd.DataFrame:
    """The bank's spend by week, community and channel, checked (see the module)."""
    where = f"{path} (history)"
    frame = read_table(path, where, HISTORY_COLUMNS)[list(HISTORY_COLUMNS)]
    first = _first_row(path)
    frame, problems = _check_numbers(frame, ("week", "spend"), where, first, _WHAT)
    problems += _check_ids(frame, communities, where, first)
    for i in np.flatnonzero(~frame["channel"].isin(CHANNELS).to_numpy()):
        problems.append(Problem("error", f"{where}: row {int(frame.index[int(i)]) + first}: "
                                "channel",
                                f"got {frame['channel'].iloc[i]!r}",
                                f"use one of {', '.join(CHANNELS)}"))
    problems += _check_repeats(frame, ["week", "community_id", "channel"], where, first)
    _raise(where, problems)
    return frame.astype({"week": int}).sort_values(
        ["week", "community_id", "channel"]).reset_index(drop=True)


def read_observed(path: str | Path, communities: pd.Index, *,
                  others: Literal["error", "drop"] = "error") -> pd.DataFrame:
    """The bank's observations by week and community, checked (see the module); the
    optional columns it has are kept. ``others = "drop"``: rows of communities not in
    ``communities`` are left out (a pilot reads its own communities only)."""
    where = f"{path} (observed)"
    raw = read_table(path, where, OBSERVED_COLUMNS, text=("community_id",))
    if others == "drop":
        kept = raw["community_id"].isin(set(map(str, communities)))
        if len(raw) and not kept.any():
            theirs = ", ".join(raw["community_id"].drop_duplicates().head(3))
            ours = ", ".join(map(str, communities[:3]))
            raise InputError(f"{where}: none of its community ids ({theirs}, ...) is one "
                             f"of the {len(communities)} asked for ({ours}, ...); give the "
                             "observations of the same area, with the same ids")
        raw = raw[kept]
    columns = [*OBSERVED_COLUMNS, *(c for c in OBSERVED_OPTIONAL if c in raw.columns)]
    first = _first_row(path)
    frame, problems = _check_numbers(raw[columns], [c for c in columns if c != "community_id"],
                                     where, first, _WHAT)
    problems += _check_ids(frame, communities, where, first)
    problems += _check_repeats(frame, ["week", "community_id"], where, first)
    if frame.empty:
        problems.append(Problem("error", where, "no rows", "give one row per week and "
                                "community, from week 1"))
    elif not problems:
        if frame["week"].min() != 1:
            problems.append(Problem("error", f"{where}: week", f"the first week is "
                                    f"{int(frame['week'].min())}", "start the observations "
                                    "at week 1, the history's first week"))
        unseen = sorted(set(map(str, communities)) - set(frame["community_id"]))
        if unseen:
            problems.append(Problem("error", f"{where}: community_id",
                                    f"{len(unseen)} of the area's communities have no row",
                                    "give every community's rows (0 where none came); a "
                                    "week without a row counts as 0", ids=tuple(unseen)))
    _raise(where, problems)
    return frame.astype({"week": int}).sort_values(["week", "community_id"]).reset_index(
        drop=True)


def read_bank(history_path: str | Path, observed_path: str | Path, communities: pd.Index,
              *, last_week: int | None = None, what: str = "the calibration data"
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The history and the observations, both checked before either is refused (every
    problem of both at once, under ``what``); with ``last_week``, the observations must
    reach it and both are cut there (as if it were that week now)."""
    problems: list[Problem] = []
    frames: list[pd.DataFrame] = []
    for read, path in ((read_history, history_path), (read_observed, observed_path)):
        try:
            frames.append(read(path, communities))
        except InputError as exc:
            problems += exc.problems or [Problem("error", str(path), str(exc), "")]
    if problems:
        raise InputError(f"{what}: {len(problems)} problem(s)", problems)
    history, observed = frames
    if last_week is None:
        return history, observed
    seen = int(observed["week"].max())
    if seen < last_week:
        raise InputError(f"{observed_path} (observed): the observations end at week {seen}, "
                         f"before week {last_week}; give observations up to week "
                         f"{last_week}, or an earlier week")
    return (history[history["week"] <= last_week].reset_index(drop=True),
            observed[observed["week"] <= last_week].reset_index(drop=True))
