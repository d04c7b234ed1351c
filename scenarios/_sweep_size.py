"""The size of the simulation sweeps that fit a budget's response curves: defined here once
for the sweeps themselves (scenarios.curves, scenarios.plans) and for the estimate of how
long a run takes (scenarios.estimate), which must not import pandas."""

from __future__ import annotations

__all__ = ["LEVELS", "LOCAL_REPLICATIONS", "MAX_REPLICATIONS", "MIN_REPLICATIONS",
           "SWEEP_AGENTS"]

#: Spend levels of the sweep, as multiples of the reference spend per channel.
LEVELS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Agents in the sweeps that fit response curves (a scenario's own runs use its
#: ``simulation.max_agents``).
SWEEP_AGENTS = 20_000
#: Replications a sweep runs at least (a standard error needs two) and at most (it stops
#: between them once each channel's uplift is known well enough, scenarios.curves).
MIN_REPLICATIONS, MAX_REPLICATIONS = 2, 3
#: Replications of each run of the budget plan's local checks (each channel left out in
#: turn, the plan at 10% more budget): the first ones of the scenario's, so the pairs
#: share their random numbers (scenarios.plan_check).
LOCAL_REPLICATIONS = 4
