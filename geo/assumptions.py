"""Assumptions that the simulation and the optimizer share, defined once.

The resident model (simulation/) and the planners (optimizer/) must describe the same
world: the event planner forecasts the attendance that the simulation then produces, and
the staff plan serves the outlet visits that the simulation's congestion counts. Neither
package may import the other, so what they share lives here, on the ground floor. Each
value's source, or the word *assumption* with its reasoning, is in docs/simulation.md
("Assumptions").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ATTENDEES_PER_STAFF",
    "CAMPAIGN_EVENT",
    "CUSTOMER_SHARE",
    "EVENT_MAX_WALK_MIN",
    "EVENT_REPEAT_DECAY",
    "EVENT_TYPES",
    "EVENT_WALK_DECAY_MIN",
    "MINUTES_PER_VISIT",
    "SELF_SERVICE",
    "VENUE_COST_PER_EVENT",
    "VISITS_PER_CUSTOMER_WEEK",
    "EventType",
]

#: The share of a community's adults who are the bank's customers where a pack has no
#: ``customers`` column (assumption: a mid-sized bank in a city that several banks serve;
#: the sample city's 13%). area.toml ``customer_share`` or the scenario's
#: ``simulation.customer_share`` set another.
CUSTOMER_SHARE = 0.13
#: Outlet kinds that take no relationship manager (self-service): their visits are not
#: staffed and their minimum staffing does not count.
SELF_SERVICE: tuple[str, ...] = ("smart_atm",)
#: Outlet visits per customer per week: about 2.6 a year. Nordic customers rarely go to
#: a branch (TNS Gallup Norway: only 25% visit more than once in six months); in the US,
#: J.D. Power (2017) counts 14 visits a year among the 71% who visit at all.
VISITS_PER_CUSTOMER_WEEK = 0.05
#: Relationship-manager minutes per outlet visit (assumption: a teller handles 14.9
#: transactions an hour, FMSI 2017, 4 minutes each; an advice visit takes longer).
MINUTES_PER_VISIT = 6.0
#: Walking minutes over which the pull of an event falls by a factor e.
EVENT_WALK_DECAY_MIN = 10.0
#: Nobody walks further than this to an event.
EVENT_MAX_WALK_MIN = 30.0
#: One more member of staff per this many attendees ("one staff member per 50 attendees
#: generally works well as a starting point", Meetings & Conventions, 2005).
ATTENDEES_PER_STAFF = 50
#: A venue's cost per event where the venues layer gives none (assumption: the sample
#: city's venues cost 200 to 3,000 an event, docs/sample-city.md).
VENUE_COST_PER_EVENT = 800.0
#: A community offered the same type of event again comes this many times as much as the
#: time before (assumption: those interested came the first time).
EVENT_REPEAT_DECAY = 0.5


@dataclass(frozen=True)
class EventType:
    """What one type of event draws and costs.

    ``affinity``: multiplier by age band (18-35, 36-55, 56+); ``low_income_boost``: added
    to the affinity per unit of low income (a resident's tier in the simulation, a
    community's low-income share in the planner); ``attend_rate``: the share of
    well-fitted adults next door who come; ``cost``: materials and speakers on top of the
    venue's ``cost_per_event``; ``staff``: relationship managers at the event; ``hours``:
    each one's hours for it (preparation included).
    """

    affinity: tuple[float, float, float]
    low_income_boost: float = 0.0
    attend_rate: float = 0.01
    cost: float = 400.0
    staff: int = 2
    hours: float = 6.0


#: The planner's event types (assumptions, docs/optimizer.md); pass your own to the planner.
EVENT_TYPES: dict[str, EventType] = {
    "financial_literacy": EventType((1.0, 0.8, 0.7), low_income_boost=1.0, cost=400.0),
    "parent_child": EventType((0.7, 1.3, 0.3), cost=600.0, staff=3, hours=7.0),
    "anti_fraud": EventType((0.3, 0.7, 1.5), low_income_boost=0.3, cost=300.0),
}
#: The events a community_event campaign holds: an open day at a venue for its targets.
CAMPAIGN_EVENT = EventType((0.7, 1.0, 1.4), cost=0.0)
