"""The counting reasons no event plan can exist, in plain Python (no pandas, no solver), so
that ``sitesim validate`` says them in a fraction of a second and the planner says the same
before it builds a model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from geo.assumptions import EventType

__all__ = ["event_count_reason"]


def event_count_reason(events: Mapping[str, int], types: Mapping[str, EventType],
                       slots: Sequence[tuple[object, int]], cost_by_venue: Mapping[object, float],
                       budget: float | None, staff_cap: Mapping[int, float]) -> str | None:
    """Why ``events`` (type -> count) cannot be held in the open venue-weeks ``slots``
    (one event per venue a week) within ``budget`` and the staff free per week
    (``staff_cap``, weeks not listed unlimited); None when the counts allow a plan."""
    events = {t: int(n) for t, n in events.items() if int(n) > 0}
    total = sum(events.values())
    if total > len(slots):
        return (f"events.count asks for {total} events but the venues offer only {len(slots)} "
                "venue-weeks (one event per venue a week); lower events.count, add weeks or "
                "venues")
    if budget is not None and total:
        # the type's cost is the same anywhere: the cheapest plan uses the cheapest slots
        slot_cost = sorted(float(cost_by_venue[v]) for v, _ in slots)
        need = sum(slot_cost[:total]) + sum(n * types[t].cost for t, n in events.items())
        if need > budget + 1e-6:
            return (f"events.budget = {budget:,.0f} is too small for {total} events: the "
                    f"cheapest venues need at least {need:,.0f}; raise the budget or ask for "
                    "fewer events")
    if staff_cap and total:
        fewest = min(types[t].staff for t in events)
        room = sum(math.floor(c / fewest) for c in staff_cap.values()) if fewest else total
        room += sum(1 for _, w in slots if w not in staff_cap) if fewest else 0
        if room < total:
            return (f"events.staff_per_week allows at most {room} events in {len(staff_cap)} "
                    f"weeks (an event needs at least {fewest} staff); events.count asks for "
                    f"{total}: raise staff_per_week, add weeks or ask for fewer events")
    return None
