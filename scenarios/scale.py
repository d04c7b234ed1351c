"""Scenarios that scale with their area (``[scale] adults = ...``): a scenario written for
one city runs on another with its staff, budgets, campaign spend and event counts scaled
by the ratio of the adults (docs/scenarios.md, "On another area").

What scales, and what does not: money and people in proportion to the adults served
(``staff.relationship_managers``, ``budget.total``, ``outlets.capex_budget``,
``capex_per_quarter`` and ``opex_budget``, ``events.budget``, ``events.staff_per_week``,
``events.count`` per type, each campaign's ``spend``); counts of outlets
(``outlets.max_new``) do not: they depend on the candidate sites, which the area gives.
Whole numbers are rounded (at least 1 where there was one). The scaled scenario says what
it was written for (``scale.written_for``), and scaling it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from scenarios._models import Scenario

__all__ = ["scale_note", "scaled_to_area"]


def _count(value: int, factor: float) -> int:
    return max(round(value * factor), 1) if value > 0 else 0


def scaled_to_area(sc: Scenario, adults: float) -> Scenario:
    """``sc`` with its staff, budgets, spend and event counts scaled from
    ``scale.adults`` to the area's ``adults`` (unchanged without ``[scale]``, or when the
    area has the adults it was written for)."""
    written = sc.scale.adults
    if written is None or adults <= 0 or adults == written:
        return sc
    factor = adults / written
    raw: dict[str, Any] = sc.model_dump(mode="json")
    raw["staff"]["relationship_managers"] = _count(sc.staff.relationship_managers, factor)
    raw["budget"]["total"] = sc.budget.total * factor
    raw["outlets"]["capex_budget"] = sc.outlets.capex_budget * factor
    per_quarter = sc.outlets.capex_per_quarter
    if per_quarter is not None:
        raw["outlets"]["capex_per_quarter"] = ([v * factor for v in per_quarter]
                                               if isinstance(per_quarter, list)
                                               else per_quarter * factor)
    if sc.outlets.opex_budget is not None:
        raw["outlets"]["opex_budget"] = sc.outlets.opex_budget * factor
    events = raw["events"]
    events["count"] = {k: _count(n, factor) for k, n in sc.events.count.items()}
    if sc.events.budget is not None:
        events["budget"] = sc.events.budget * factor
    if sc.events.staff_per_week is not None:
        events["staff_per_week"] = sc.events.staff_per_week * factor
    for campaign in raw["campaigns"]:
        campaign["spend"] = campaign["spend"] * factor
    raw["scale"] = {"adults": adults, "written_for": sc.scale.written_for or written}
    return Scenario.model_validate(raw)


def scale_note(sc: Scenario) -> str | None:
    """One line on a scaled scenario: from how many adults to how many, and the scaled
    figures per 10,000 adults (None when it was not scaled)."""
    written, adults = sc.scale.written_for, sc.scale.adults
    if written is None or adults is None:
        return None
    per = 10_000 / adults
    events = sum(sc.events.count.values()) if sc.events.enabled else 0
    return (f"scaled from the {written:,.0f} adults it was written for to the area's "
            f"{adults:,.0f} (x{adults / written:.3g}): {sc.staff.relationship_managers} "
            f"relationship managers ({sc.staff.relationship_managers * per:.2f} per 10,000 "
            f"adults), budget.total {sc.budget.total:,.0f} ({sc.budget.total * per:,.0f} per "
            f"10,000 adults), {events} events ({events * per:.2f} per 10,000 adults)")
