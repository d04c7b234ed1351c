"""The budget optimizer's inputs checked, and the sentences its limits give when they
cannot hold (optimizer.budget)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from optimizer.errors import OptimizerInputError

__all__ = ["CURVE_COLUMNS", "bound_text", "check_total", "inclusion_text", "matches",
           "policy_text", "require", "validate_curves"]

CURVE_COLUMNS = ("community_id", "channel", "segment", "form", "rmax", "k")


def matches(target: str, segment: str) -> bool:
    return segment == target or target in segment.split("/")


def require(frame: pd.DataFrame, columns: Sequence[str], what: str, more: str = "") -> None:
    """``frame`` (``what``: curves, options) holds ``columns``, or an error naming those
    it lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OptimizerInputError(f"{what} lack column(s) {missing}; expected "
                                  f"{', '.join(columns)}{more}")


def check_total(total: float) -> None:
    """A budget total is a finite amount, 0 or more."""
    if total < 0 or not np.isfinite(total):
        raise OptimizerInputError(f"total = {total}: expected a budget >= 0")


def validate_curves(curves: pd.DataFrame, total: float) -> pd.DataFrame:
    require(curves, CURVE_COLUMNS, "curves", " (and h, value_per_customer)")
    check_total(total)
    c = curves.copy()
    if "h" not in c.columns:
        c["h"] = 1.0
    if "value_per_customer" not in c.columns:
        c["value_per_customer"] = 1.0
    bad_form = ~c["form"].isin(["hill", "exponential"])
    if bad_form.any():
        raise OptimizerInputError(f"curves row {int(np.flatnonzero(bad_form)[0])}: form = "
                                  f"{c['form'][bad_form].iloc[0]!r}; expected hill or "
                                  "exponential")
    for col, ok, want in (("rmax", c["rmax"] >= 0, ">= 0"), ("k", c["k"] > 0, "> 0"),
                          ("h", (c["h"] > 0) & (c["h"] <= 1),
                           "in (0, 1]: an S-shaped curve is not concave"),
                          ("value_per_customer", c["value_per_customer"] >= 0, ">= 0")):
        bad = ~ok.fillna(False).astype(bool)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise OptimizerInputError(f"curves row {i}: {col} = {c[col].iloc[i]}; expected "
                                      f"{want}")
    dup = c.duplicated(["community_id", "channel", "segment"])
    if dup.any():
        row = c[dup].iloc[0]
        raise OptimizerInputError(f"curves repeat community {row['community_id']!r}, channel "
                                  f"{row['channel']!r}, segment {row['segment']!r}; give one "
                                  "curve per cell and segment")
    return c



def policy_text(group: str, share: float, amount: float) -> Callable[[float], str]:
    return lambda s: (f"budget.policy.{group} = {share:.0%} ({amount:,.0f}) cannot be spent "
                      f"under the other limits (off by {s:,.0f})")


def inclusion_text(key: str, share: float) -> Callable[[float], str]:
    return lambda s: (f"inclusion[{key!r}] = {share:.0%} of new customers cannot hold with "
                      f"the other limits (short by {s:,.1f} customers)")


def bound_text(name: str, cid: object, amount: float, word: str
                ) -> Callable[[float], str]:
    return lambda s: (f"budget.{name}[{cid!r}] = {amount:,.0f} cannot hold with the other "
                      f"limits ({word} by {s:,.0f})")
