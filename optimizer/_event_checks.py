"""Checks of the event planner's inputs, and the plain counting reasons a plan cannot
exist, said before any model is built."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from geo.assumptions import EventType
from optimizer._checks import require_columns, require_non_negative
from optimizer._event_counts import event_count_reason
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

AGE_COLUMNS = ("pop_18_35", "pop_36_55", "pop_56_plus")


def _check(venues: pd.DataFrame, communities: pd.DataFrame, travel: pd.DataFrame,
           events: Mapping[str, int], types: Mapping[str, EventType], weeks: list[int],
           budget: float | None, repeat_decay: float) -> None:
    require_columns(("venues", venues, ("capacity",)),
                    ("communities", communities, AGE_COLUMNS),
                    ("travel", travel, ("origin_id", "dest_id", "cost")))
    unknown = sorted(set(events) - set(types))
    if unknown:
        raise OptimizerInputError(f"events: unknown event type(s) {unknown}; expected "
                                  f"{', '.join(types)}")
    bad = {t: n for t, n in events.items() if not float(n).is_integer() or n < 0}
    if bad:
        t = next(iter(bad))
        raise OptimizerInputError(f"events.count.{t} = {bad[t]}: expected a whole number >= 0")
    if not weeks or min(weeks) < 1:
        raise OptimizerInputError(f"weeks = {weeks}: expected week numbers from 1")
    if budget is not None and budget < 0:
        raise OptimizerInputError(f"events.budget = {budget}: expected >= 0")
    if not 0 <= repeat_decay <= 1:
        raise OptimizerInputError(f"repeat_decay = {repeat_decay}: expected a share in [0, 1]")
    require_non_negative(venues, "capacity", "venues", "a number of people >= 0")


def _staff_caps(staff_per_week: float | Mapping[int, float] | None,
                weeks: list[int]) -> dict[int, float]:
    if staff_per_week is None:
        return {}
    if isinstance(staff_per_week, Mapping):
        caps = {w: float(staff_per_week.get(w, math.inf)) for w in weeks}
    else:
        caps = dict.fromkeys(weeks, float(staff_per_week))
    bad = {w: c for w, c in caps.items() if c < 0}
    if bad:
        w = next(iter(bad))
        raise OptimizerInputError(f"staff_per_week (week {w}) = {bad[w]:g}: expected >= 0")
    return {w: c for w, c in caps.items() if math.isfinite(c)}


def _precheck(events: Mapping[str, int], types: Mapping[str, EventType],
              slots: list[tuple[object, int]], cost_v: pd.Series, budget: float | None,
              staff_cap: Mapping[int, float]) -> None:
    """The plain counting reasons a plan cannot exist, said before any solving."""
    reason = event_count_reason(events, types, slots, cost_v.to_dict(), budget, staff_cap)
    if reason is not None:
        raise PlanInfeasibleError(reason)
