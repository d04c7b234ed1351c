"""Scenario files: typed, frozen pydantic models; ``extends``; every error at once.

The layout follows DESIGN.md. A scenario is read with :func:`load_scenario`, which resolves
``extends`` chains (detecting cycles), merges tables (a child's keys win; lists are
replaced whole), resolves the area path relative to the file, and validates the result.

This module is the schema's one place to import from: the section models and
:class:`Scenario` live in ``scenarios._models``, loading in ``scenarios._loading``, the
sweep's keys and checks in ``scenarios._sweep``.
"""

from __future__ import annotations

from geo.contract import INDICATORS
from scenarios._loading import ScenarioError, load_scenario
from scenarios._models import (
    Budget,
    Campaign,
    Channel,
    EventKind,
    Events,
    Money,
    Outlets,
    Policy,
    Scenario,
    Scoring,
    Share,
    Simulation,
    Staff,
    Van,
    WeekRange,
)
from scenarios._sweep import LHS, MAX_SAMPLES, number_type, set_dotted, sweep_problems
from simulation.params import CHANNELS

__all__ = [
    "CHANNELS",
    "INDICATORS",
    "LHS",
    "MAX_SAMPLES",
    "Budget",
    "Campaign",
    "Channel",
    "EventKind",
    "Events",
    "Money",
    "Outlets",
    "Policy",
    "Scenario",
    "ScenarioError",
    "Scoring",
    "Share",
    "Simulation",
    "Staff",
    "Van",
    "WeekRange",
    "load_scenario",
    "number_type",
    "set_dotted",
    "sweep_problems",
]
