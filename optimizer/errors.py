"""Errors of the optimizer package."""

from __future__ import annotations

from geo.errors import InfeasibleError, InputError

__all__ = ["OptimizerInputError", "PlanInfeasibleError"]


class OptimizerInputError(InputError):
    """Inputs to an optimization model that cannot be used."""


class PlanInfeasibleError(InfeasibleError):
    """No plan meets every constraint; the message names the binding one in user units.
    ``timed_out``: the solver ran out of time before it found any plan (not proven
    infeasible)."""

    def __init__(self, *args: object, timed_out: bool = False) -> None:
        super().__init__(*args)
        self.timed_out = timed_out
