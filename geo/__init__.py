"""Geospatial layers: study areas, street networks, travel times, accessibility, scoring.

Names are loaded on first use (PEP 562), so that importing one light part (the
errors, the assumptions, the parameters) does not import every heavy library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo._lazy import lazy_names

if TYPE_CHECKING:
    from geo.access import (
        TravelTimes,
        coverage,
        demand_points,
        e2sfca,
        isochrones,
        nearest_outlet_min,
        off_network_communities,
        off_network_note,
        travel_times,
        travel_times_to,
    )
    from geo.area import StudyArea, check_area, inspect_area, load_area
    from geo.area_index import AreaIndex, index_of_area, read_area_index
    from geo.config import AreaConfig
    from geo.contract import INDICATORS
    from geo.errors import (
        AreaError,
        InfeasibleError,
        InputError,
        NetworkError,
        Problem,
        SitesimError,
        SitesimWarning,
    )
    from geo.market import HuffFit, calibrate_huff, huff_shares, own_share
    from geo.network import load_network
    from geo.repair import repair_area
    from geo.routing import RoutingGraph, routing_graph
    from geo.scoring import (
        community_indicators,
        rank_stability,
        score_communities,
        score_indicators,
    )
    from geo.streets import read_routing
    from geo.synth import synthesize_area
    from geo.travel import TravelTimeMatrix, travel_time_matrix

__all__ = [
    "INDICATORS",
    "AreaConfig",
    "AreaError",
    "AreaIndex",
    "HuffFit",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "Problem",
    "RoutingGraph",
    "SitesimError",
    "SitesimWarning",
    "StudyArea",
    "TravelTimeMatrix",
    "TravelTimes",
    "calibrate_huff",
    "check_area",
    "community_indicators",
    "coverage",
    "demand_points",
    "e2sfca",
    "huff_shares",
    "index_of_area",
    "inspect_area",
    "isochrones",
    "lazy_names",
    "load_area",
    "load_network",
    "nearest_outlet_min",
    "off_network_communities",
    "off_network_note",
    "own_share",
    "rank_stability",
    "read_area_index",
    "read_routing",
    "repair_area",
    "routing_graph",
    "score_communities",
    "score_indicators",
    "synthesize_area",
    "travel_time_matrix",
    "travel_times",
    "travel_times_to",
]

#: Where each public name lives.
_WHERE: dict[str, str] = {
    "INDICATORS": "geo.contract",
    "AreaConfig": "geo.config",
    "AreaError": "geo.errors",
    "AreaIndex": "geo.area_index",
    "HuffFit": "geo.market",
    "InfeasibleError": "geo.errors",
    "InputError": "geo.errors",
    "NetworkError": "geo.errors",
    "Problem": "geo.errors",
    "RoutingGraph": "geo.routing",
    "SitesimError": "geo.errors",
    "SitesimWarning": "geo.errors",
    "StudyArea": "geo.area",
    "TravelTimeMatrix": "geo.travel",
    "TravelTimes": "geo.access",
    "index_of_area": "geo.area_index",
    "calibrate_huff": "geo.market",
    "check_area": "geo.area",
    "community_indicators": "geo.scoring",
    "coverage": "geo.access",
    "demand_points": "geo.access",
    "e2sfca": "geo.access",
    "huff_shares": "geo.market",
    "inspect_area": "geo.area",
    "isochrones": "geo.access",
    "lazy_names": "geo._lazy",
    "load_area": "geo.area",
    "load_network": "geo.network",
    "read_routing": "geo.streets",
    "nearest_outlet_min": "geo.access",
    "off_network_communities": "geo.access",
    "off_network_note": "geo.access",
    "own_share": "geo.market",
    "rank_stability": "geo.scoring",
    "read_area_index": "geo.area_index",
    "repair_area": "geo.repair",
    "routing_graph": "geo.routing",
    "score_communities": "geo.scoring",
    "score_indicators": "geo.scoring",
    "synthesize_area": "geo.synth",
    "travel_time_matrix": "geo.travel",
    "travel_times": "geo.access",
    "travel_times_to": "geo.access",
}


__getattr__, __dir__ = lazy_names("geo", _WHERE, globals())
