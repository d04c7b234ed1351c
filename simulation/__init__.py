"""The agent-based model of residents responding to campaigns (Mesa).

This first part holds the shared mechanisms and their validation against theory:
social ties, the adoption kernel, and :func:`diffusion_model` against the Bass curve.
"""

from simulation.diffusion import diffusion_model
from simulation.engine import adopted_share_of_ties, adoption_substep, bass_curve
from simulation.errors import SimulationError
from simulation.ties import erdos_renyi_ties, row_normalize, small_world_ties

__all__ = [
    "SimulationError",
    "adopted_share_of_ties",
    "adoption_substep",
    "bass_curve",
    "diffusion_model",
    "erdos_renyi_ties",
    "row_normalize",
    "small_world_ties",
]
