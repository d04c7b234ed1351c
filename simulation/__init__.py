"""The agent-based model of residents responding to campaigns (Mesa).

``CommunityMarketModel`` is loaded on first use, so that importing ``simulation`` does
not import mesa (see simulation/_mesa.py).
"""

from typing import Any

from simulation.calibration import AdoptionFit, calibrate_adoption
from simulation.diffusion import diffusion_model
from simulation.engine import adopted_share_of_ties, adoption_substep, bass_curve
from simulation.errors import SimulationError
from simulation.params import (
    CHANNELS,
    SEGMENTS,
    Campaign,
    ChannelParams,
    ScheduledEvent,
    SimulationParams,
)
from simulation.plausibility import ENVELOPE, Envelope, plausibility_warnings
from simulation.population import Venues, community_inputs, venue_inputs
from simulation.replications import KPI_NAMES, ReplicationResult, run_replications
from simulation.ties import erdos_renyi_ties, row_normalize, small_world_ties

__all__ = [
    "CHANNELS",
    "ENVELOPE",
    "KPI_NAMES",
    "SEGMENTS",
    "STAGES",
    "AdoptionFit",
    "Campaign",
    "ChannelParams",
    "CommunityMarketModel",
    "Envelope",
    "ReplicationResult",
    "ScheduledEvent",
    "SimulationError",
    "SimulationParams",
    "Venues",
    "adopted_share_of_ties",
    "adoption_substep",
    "bass_curve",
    "calibrate_adoption",
    "community_inputs",
    "diffusion_model",
    "erdos_renyi_ties",
    "plausibility_warnings",
    "row_normalize",
    "run_replications",
    "small_world_ties",
    "venue_inputs",
]


def __getattr__(name: str) -> Any:
    if name in ("CommunityMarketModel", "STAGES"):
        from simulation import model

        return getattr(model, name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")
