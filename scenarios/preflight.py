"""What can be known to be wrong with a scenario on its area before any heavy work.

``sitesim validate`` and the first step of :func:`scenarios.run_scenario` (and ``site``,
``allocate``) run the same checks, on the pack's ids and counts alone
(:class:`geo.area_index.AreaIndex`, read without geometry): every community id the
scenario names exists; the own outlets' minimum staffing fits the relationship managers;
events asked for have venues, and the venue-weeks, the events budget and the staff free
for events can hold them. A problem found here is found in a second, not after the travel
stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from geo import AreaIndex
from geo.assumptions import EVENT_TYPES, SELF_SERVICE, VENUE_COST_PER_EVENT
from geo.errors import InputError, Problem
from optimizer import PlanInfeasibleError, event_count_reason
from scenarios._models import Scenario

__all__ = ["Preflight", "event_weeks", "preflight", "staff_floor_reason",
           "unknown_communities"]


@dataclass(frozen=True)
class Preflight:
    """What the checks found: ``problems``, bad input (exit 2), and ``infeasible``, the
    reasons no plan can exist (exit 3)."""

    problems: list[Problem] = field(default_factory=list)
    infeasible: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.problems or self.infeasible)

    def raise_first(self, where: str) -> None:
        """Raise what was found: an InputError with every problem (the infeasibilities as
        further lines), else a PlanInfeasibleError with every reason."""
        if self.problems:
            extra = [Problem("error", where, f"infeasible: {r}") for r in self.infeasible]
            raise InputError(f"{where}: {len(self.problems)} problem(s)",
                             [*self.problems, *extra])
        if self.infeasible:
            raise PlanInfeasibleError("; ".join(self.infeasible))


def event_weeks(sc: Scenario) -> list[int]:
    """The weeks the events are planned in: ``events.weeks``, else the first 12 (or the
    whole run when it is shorter)."""
    first, last = sc.events.weeks or (1, min(12, sc.simulation.weeks))
    return list(range(first, last + 1))


def staff_floor_reason(kinds: Iterable[str], least: dict[str, int], rms: int,
                       events: int, *, staffed: bool = True) -> tuple[int, str | None]:
    """The relationship managers outlets of ``kinds`` need at least (self-service kinds
    none, whatever area.toml says, as in :func:`optimizer.allocate_staff`), and why that leaves
    no plan: more than ``rms`` in all (when the staff are ``staffed``), or, with ``events``
    to hold on what the outlets leave free, none free for them."""
    # as allocate_staff: self-service outlets take no RM
    counts = Counter(k for k in kinds if k not in SELF_SERVICE)
    floor = sum(n * least.get(k, 0) for k, n in counts.items())
    parts = ", ".join(f"{n} {k} x {least[k]}" for k, n in sorted(counts.items())
                      if least.get(k, 0))
    if staffed and floor > rms:
        return floor, (f"the outlets' minimum staffing takes {floor} relationship managers "
                       f"({parts}) and staff.relationship_managers = {rms}; raise "
                       "staff.relationship_managers or lower the kinds' staff in area.toml")
    if events and floor >= rms:
        return floor, (f"the outlets' minimum staffing takes {floor} relationship managers "
                       f"({parts}) and staff.relationship_managers = {rms} leaves none for "
                       f"the {events} events of events.count; raise "
                       "staff.relationship_managers, set events.staff_per_week or "
                       "events.enabled = false")
    return floor, None


def unknown_communities(where: str, ids: Iterable[str], index: AreaIndex,
                        known: set[str] | None = None) -> Problem | None:
    """The problem of the ids that are not communities of ``index`` (None when all are)."""
    known = set(index.communities) if known is None else known
    bad = [c for c in ids if c not in known]
    if not bad:
        return None
    return Problem("error", where, f"{len(bad)} id(s) are not communities of {index.name}",
                   "use community_id values of the area (sitesim score AREA lists them)",
                   ids=tuple(bad))


def _community_problems(sc: Scenario, index: AreaIndex) -> list[Problem]:
    known = set(index.communities)
    named = [(f"campaigns[{i}].communities", c.communities) for i, c in enumerate(sc.campaigns)]
    named.append(("events.communities", sc.events.communities))
    out = []
    if sc.budget.enabled and sc.simulation.enabled and sc.simulation.replications < 2:
        out.append(Problem("error", f"{sc.name}: simulation.replications",
                           "got 1: the budget plan is checked by its simulation, and an "
                           "interval needs 2 replications or more",
                           "set simulation.replications = 2 or more (8 for the library)"))
    if sc.budget.includes_outlets:  # the options come from the siting, their gain from
        needs = [f"{table}.enabled = true" for table, on in (  # the simulation
            ("budget", sc.budget.enabled), ("outlets", sc.outlets.enabled),
            ("simulation", sc.simulation.enabled)) if not on]
        if needs:
            out.append(Problem("error", f"{sc.name}: budget.includes_outlets",
                               "true: one budget for outlets and marketing needs the outlet "
                               "plan (its sites are the options), the budget plan and the "
                               "simulation (it measures what each site brings)",
                               f"set {' and '.join(needs)}, or includes_outlets = false"))
    out += [p for key, ids in named
            if (p := unknown_communities(f"{sc.name}: {key}", ids, index, known))]
    if sc.budget.enabled and sc.budget.previous is not None:  # pandas only then
        import pandas as pd

        from geo.errors import InputError
        from scenarios.previous import read_previous
        try:
            read_previous(sc.budget.previous, pd.Index(index.communities))
        except InputError as exc:
            out += list(exc.problems) or [Problem("error", f"{sc.name}: budget.previous",
                                                  str(exc))]
    if sc.calibration.file is not None:  # a calibration that cannot be read fails first
        from geo.errors import InputError
        from scenarios.calibration_file import read_calibration
        try:
            calibration = read_calibration(sc.calibration.file)
        except InputError as exc:
            out.append(Problem("error", f"{sc.name}: calibration.file", str(exc),
                               "write it with sitesim calibrate, or remove the key"))
        else:
            seen = set(calibration.effects.index) & known
            if len(calibration.effects) and not seen:
                out.append(Problem("error", f"{sc.name}: calibration.file",
                                   f"{sc.calibration.file} was fitted on other communities "
                                   f"than the area {index.name}'s",
                                   "calibrate on this scenario's area"))
    return out


def preflight(sc: Scenario, index: AreaIndex) -> Preflight:
    """Every problem of ``sc`` on ``index`` that needs no travel time or model (its
    ``[scale]`` applied to the area's adults first, as a run applies it)."""
    from scenarios.scale import scaled_to_area

    sc = scaled_to_area(sc, index.adults)
    problems = _community_problems(sc, index)
    infeasible: list[str] = []
    ev = sc.events
    asked = sum(ev.count.values()) if ev.enabled else 0
    kept = () if sc.outlets.allow_closures else index.own_outlet_kinds
    rms = sc.staff.relationship_managers
    shared = asked if ev.staff_per_week is None else 0  # events on what outlets leave
    floor, reason = staff_floor_reason(kept, index.config.min_staff, rms, shared,
                                       staffed=sc.staff.enabled)
    if reason is not None:
        infeasible.append(reason)
    if asked and not index.venues:
        problems.append(Problem("error", f"{sc.name}: events.count",
                                f"asks for {asked} events but the area {index.name} has no "
                                "venues", "add a venues layer or set events.enabled = false"))
    elif asked:
        weeks = event_weeks(sc)
        slots = [(v, w) for v in index.venues for w in weeks]
        costs: dict[object, float] = {
            v: VENUE_COST_PER_EVENT if c is None else c
            for v, c in zip(index.venues, index.venue_costs, strict=True)}
        # without events.staff_per_week the events get what the kept outlets leave (at
        # most: new outlets take more), so a plan ruled out here is ruled out for real
        free = ev.staff_per_week if ev.staff_per_week is not None else max(rms - floor, 0)
        # (not again when the staffing floor already said that none are free)
        caps = {} if reason is not None else dict.fromkeys(weeks, float(free))
        counted = event_count_reason({str(k): n for k, n in ev.count.items()}, EVENT_TYPES,
                                     slots, costs, ev.budget, caps)
        if counted is not None:
            infeasible.append(counted)
    return Preflight(problems, infeasible)
