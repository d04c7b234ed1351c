"""Input checks the models share: required columns, and numbers that must be >= 0.

A natural but incomplete input (a list instead of a frame, a wide matrix where pairs are
expected, a column left out) gets :class:`~optimizer.errors.OptimizerInputError` naming
what is missing and what it means, never a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from optimizer.errors import OptimizerInputError

__all__ = ["COLUMN_MEANING", "require_columns", "require_non_negative"]

#: What each column the models read holds, for the messages of a missing one.
COLUMN_MEANING = {
    "weight": "what the objective counts per demand point, such as adults x score",
    "adults": "adults per demand point or community (coverage shares, capacity, p-median)",
    "status": "'candidate' or 'existing' per site",
    "kinds": "the outlet kinds a candidate site allows, '|'-separated "
             "(micro_branch|smart_atm)",
    "kind": "the outlet kind (branch, micro_branch, smart_atm, mobile_van)",
    "capex": "the one-off cost of opening the site",
    "opex_per_year": "the yearly running cost",
    "origin_id": "the demand point or community of a pair",
    "dest_id": "the site, outlet or venue of a pair",
    "cost": "the travel time of a pair, in minutes",
    "demand_id": "the demand point of a pair within reach",
    "site_id": "the site of a pair within reach",
    "visits_per_week": "the visits an outlet serves a week",
    "capacity": "the attendees a venue holds",
    "pop_18_35": "adults aged 18-35", "pop_36_55": "adults aged 36-55",
    "pop_56_plus": "adults aged 56 and over",
}

_PAIRS = (("origin_id", "dest_id"), ("demand_id", "site_id"))


def _wide_hint(frame: pd.DataFrame, cols: Sequence[str]) -> str:
    """How to make a wide matrix (a row per origin, a column per destination) into the
    pairs the models take, when ``frame`` looks like one."""
    for origin, dest in _PAIRS:
        if origin in cols and dest in cols and not set(cols) & set(frame.columns):
            if all(pd.api.types.is_bool_dtype(t) for t in frame.dtypes) and len(frame.columns):
                return (f"; it looks like a boolean matrix (a row per {origin}, a column per "
                        f"{dest}): give the pairs within reach, m.rename_axis(index="
                        f"'{origin}', columns='{dest}').stack().loc[lambda s: s]"
                        ".reset_index()")
            if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes) and len(
                    frame.columns):
                return (f"; it looks like a wide matrix (a row per {origin}, a column per "
                        f"{dest}): make it long, m.rename_axis(index='{origin}', columns="
                        f"'{dest}').stack().rename('cost').reset_index() (missing pairs are "
                        "out of reach)")
    return ""


def require_columns(*tables: tuple[str, pd.DataFrame, Sequence[str]]) -> None:
    """Each (name, frame, columns) is a DataFrame with those columns, else the first miss
    is named with what the column holds."""
    for name, frame, cols in tables:
        if not isinstance(frame, pd.DataFrame):
            raise OptimizerInputError(
                f"{name}: expected a pandas DataFrame with column(s) {', '.join(cols)}; got "
                f"{type(frame).__name__}")
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            meaning = "; ".join(f"{c}: {COLUMN_MEANING[c]}" for c in missing
                                if c in COLUMN_MEANING)
            raise OptimizerInputError(
                f"{name} lacks column(s) {', '.join(missing)}"
                + (f" ({meaning})" if meaning else "") + _wide_hint(frame, cols))


def require_non_negative(frame: pd.DataFrame, column: str, where: str,
                         expected: str = "a number >= 0") -> None:
    """Every value of ``frame[column]`` is a number >= 0, else the first bad row is named
    with the value as given."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        row = frame.index[bad][0]
        raw = frame[column][row]
        shown = repr(raw) if isinstance(raw, str) else str(raw)
        raise OptimizerInputError(f"{where}: {column} of {row!r} = {shown}; expected "
                                  f"{expected}")
