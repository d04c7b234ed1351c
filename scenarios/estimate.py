"""How long a scenario will take, said before it starts.

The simulation dominates a long run: each replication simulates the campaign and its
counterfactual, so a run is ``agents x weeks x replications x 2`` resident-weeks; a
budget's response curves (on first use; they are cached) add ``channels x levels + 1``
sweep runs of up to 20,000 agents in each of up to three sweep replications; a budget
plan checked by its simulation adds one campaign run a replication for each simple rule
(two, three with ``budget.previous``) and one for the scenario without the plan where it
has campaigns or events of its own, and four runs of the plan at 10% more budget (a round
that disagrees adds more: not counted).
The rate is measured, not guessed: the sample city's
baseline (200,000 agents x 52 weeks x 4 replications x 2 arms = 83 M resident-weeks)
simulates in 14.1 s on two cores, 5.9 M resident-weeks a second; the travel stage and the
plans add seconds to tens of seconds by the size of the street network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scenarios._models import Scenario
from scenarios._sweep_size import LEVELS, LOCAL_REPLICATIONS, MAX_REPLICATIONS, SWEEP_AGENTS
from simulation.params import CHANNELS

__all__ = ["LONG_SECONDS", "RESIDENT_WEEKS_PER_SECOND", "Estimate", "estimate_runs",
           "estimate_scenarios"]

#: Simulated resident-weeks a second on two cores (measured, see the module docstring).
RESIDENT_WEEKS_PER_SECOND = 5.9e6
#: A run is announced with its estimate when it would take longer than this.
LONG_SECONDS = 60.0
#: Runs of a response-curve sweep: each channel at each level, and one counterfactual.
_SWEEP_RUNS = len(CHANNELS) * len(LEVELS) + 1


@dataclass(frozen=True)
class Estimate:
    """The simulation work of one or more scenarios and the time it takes."""

    resident_weeks: float
    seconds: float
    scenarios: int

    @property
    def long(self) -> bool:
        return self.seconds > LONG_SECONDS

    def text(self, workers: int = 1) -> str:
        seconds = self.seconds / max(1, min(workers, self.scenarios))
        span = (f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
                if seconds < 7200 else f"{seconds / 3600:.1f} h")
        on = f" on {workers} workers" if workers > 1 else ""
        return (f"about {span} of simulation{on} ({self.resident_weeks / 1e6:,.0f} M "
                f"resident-weeks at {RESIDENT_WEEKS_PER_SECOND / 1e6:.1f} M a second on two "
                "cores), plus the travel stage")


def estimate_runs(scenarios: Sequence[Scenario], adults: Sequence[float]) -> Estimate:
    """The estimate for ``scenarios``, the adults of each one's area beside it."""
    work = 0.0
    for sc, n in zip(scenarios, adults, strict=True):
        agents = min(float(n), sc.simulation.max_agents)
        reps = sc.simulation.replications
        if sc.simulation.enabled:
            work += agents * sc.simulation.weeks * reps * 2
        if sc.budget.enabled and sc.budget.curves is None:  # the curves' own sweep
            work += (min(agents, SWEEP_AGENTS) * sc.simulation.weeks * _SWEEP_RUNS
                     * MAX_REPLICATIONS)
        if sc.budget.enabled and sc.simulation.enabled:  # the simple rules, the plan's base
            arms = 2 + (sc.budget.previous is not None) + bool(
                sc.campaigns or sum(sc.events.count.values()))
            work += agents * sc.simulation.weeks * (reps * arms + min(reps, LOCAL_REPLICATIONS))
        if sc.budget.includes_outlets:  # each option alone, today's network, the opened
            options = sum(sc.outlets.max_new.values())  # together and its base again
            work += agents * sc.simulation.weeks * LOCAL_REPLICATIONS * (options + 3)
    return Estimate(work, work / RESIDENT_WEEKS_PER_SECOND, len(scenarios))


def estimate_scenarios(scenarios: Sequence[Scenario]) -> Estimate:
    """The estimate for ``scenarios``, each area's adults read from its pack (ids and counts
    only, :func:`geo.read_area_index`; each area once). A pack that cannot be read counts
    no work here: its run reports the pack's problems."""
    from geo import AreaError, read_area_index

    adults: dict[str, float] = {}
    for area in dict.fromkeys(sc.area for sc in scenarios):
        try:
            adults[area] = read_area_index(area).adults
        except AreaError:
            adults[area] = 0.0
    return estimate_runs(scenarios, [adults[sc.area] for sc in scenarios])
