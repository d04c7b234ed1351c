"""Errors of the simulation package."""

from __future__ import annotations

from geo.errors import InputError

__all__ = ["SimulationError"]


class SimulationError(InputError):
    """Simulation parameters that cannot be used; the message names the field."""
