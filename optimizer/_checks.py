"""Input checks the models share: required columns, and numbers that must be >= 0."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from optimizer.errors import OptimizerInputError

__all__ = ["require_columns", "require_non_negative"]


def require_columns(*tables: tuple[str, pd.DataFrame, Sequence[str]]) -> None:
    """Each (name, frame, columns) has its columns, else the first miss is named."""
    for name, frame, cols in tables:
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise OptimizerInputError(f"{name} lacks column(s) {missing}")


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
