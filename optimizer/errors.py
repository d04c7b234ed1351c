"""Errors of the optimizer package."""

from __future__ import annotations

from geo.errors import InfeasibleError, InputError

__all__ = ["OptimizerInputError", "PlanInfeasibleError"]


class OptimizerInputError(InputError):
    """Inputs to an optimization model that cannot be used."""


class PlanInfeasibleError(InfeasibleError):
    """No plan meets every constraint; the message names the binding one in user units."""
