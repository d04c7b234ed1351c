"""The agent-based model of residents responding to campaigns (Mesa).

Names are loaded on first use (PEP 562): importing ``simulation`` (or its parameters, for
a scenario file's checks) imports neither mesa (see simulation/_mesa.py) nor scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo import lazy_names

if TYPE_CHECKING:
    from simulation.calibration import AdoptionFit, calibrate_adoption
    from simulation.diffusion import diffusion_model
    from simulation.engine import adopted_share_of_ties, adoption_substep, bass_curve
    from simulation.errors import SimulationError
    from simulation.inference import Fit, Moments, Parameter, fit_parameters, simulated_counts
    from simulation.model import STAGES, CommunityMarketModel
    from simulation.openings import OUTLET_COLUMNS, with_openings
    from simulation.params import (
        CHANNELS,
        CUSTOMER_STAGES,
        FULL_SCALE_AGENTS,
        SEGMENTS,
        Campaign,
        ChannelParams,
        ScheduledEvent,
        SimulationParams,
        full_scale,
        replication_params,
        with_values,
    )
    from simulation.plausibility import ENVELOPE, Envelope, plausibility_warnings
    from simulation.population import Venues, community_inputs, venue_inputs
    from simulation.replications import (
        KPI_NAMES,
        ReplicationResult,
        community_uplift,
        new_customers_by_replication,
        release_freed_memory,
        replication_seeds,
        run_replications,
        t_interval,
    )
    from simulation.ties import erdos_renyi_ties, row_normalize, small_world_ties

__all__ = [
    "CHANNELS",
    "CUSTOMER_STAGES",
    "ENVELOPE",
    "FULL_SCALE_AGENTS",
    "KPI_NAMES",
    "OUTLET_COLUMNS",
    "SEGMENTS",
    "STAGES",
    "AdoptionFit",
    "Campaign",
    "ChannelParams",
    "CommunityMarketModel",
    "Envelope",
    "Fit",
    "Moments",
    "Parameter",
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
    "community_uplift",
    "diffusion_model",
    "erdos_renyi_ties",
    "fit_parameters",
    "full_scale",
    "new_customers_by_replication",
    "plausibility_warnings",
    "release_freed_memory",
    "replication_params",
    "replication_seeds",
    "row_normalize",
    "run_replications",
    "simulated_counts",
    "small_world_ties",
    "t_interval",
    "venue_inputs",
    "with_openings",
    "with_values",
]

#: Where each public name lives.
_WHERE: dict[str, str] = {
    "CHANNELS": "simulation.params",
    "CUSTOMER_STAGES": "simulation.params",
    "ENVELOPE": "simulation.plausibility",
    "FULL_SCALE_AGENTS": "simulation.params",
    "full_scale": "simulation.params",
    "KPI_NAMES": "simulation.replications",
    "SEGMENTS": "simulation.params",
    "STAGES": "simulation.model",
    "AdoptionFit": "simulation.calibration",
    "Campaign": "simulation.params",
    "ChannelParams": "simulation.params",
    "CommunityMarketModel": "simulation.model",
    "Envelope": "simulation.plausibility",
    "Fit": "simulation.inference",
    "Moments": "simulation.inference",
    "Parameter": "simulation.inference",
    "ReplicationResult": "simulation.replications",
    "ScheduledEvent": "simulation.params",
    "SimulationError": "simulation.errors",
    "SimulationParams": "simulation.params",
    "Venues": "simulation.population",
    "adopted_share_of_ties": "simulation.engine",
    "adoption_substep": "simulation.engine",
    "bass_curve": "simulation.engine",
    "calibrate_adoption": "simulation.calibration",
    "community_inputs": "simulation.population",
    "diffusion_model": "simulation.diffusion",
    "erdos_renyi_ties": "simulation.ties",
    "fit_parameters": "simulation.inference",
    "simulated_counts": "simulation.inference",
    "with_values": "simulation.params",
    "community_uplift": "simulation.replications",
    "new_customers_by_replication": "simulation.replications",
    "release_freed_memory": "simulation.replications",
    "replication_params": "simulation.params",
    "replication_seeds": "simulation.replications",
    "plausibility_warnings": "simulation.plausibility",
    "row_normalize": "simulation.ties",
    "run_replications": "simulation.replications",
    "small_world_ties": "simulation.ties",
    "t_interval": "simulation.replications",
    "venue_inputs": "simulation.population",
    "OUTLET_COLUMNS": "simulation.openings",
    "with_openings": "simulation.openings",
}


__getattr__, __dir__ = lazy_names("simulation", _WHERE, globals())
