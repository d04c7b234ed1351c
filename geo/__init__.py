"""Geospatial layers: study areas, street networks, travel times, accessibility, scoring."""

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
)
from geo.area import StudyArea, check_area, load_area
from geo.config import AreaConfig
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
from geo.scoring import (
    INDICATORS,
    community_indicators,
    rank_stability,
    score_communities,
    score_indicators,
)
from geo.synth import synthesize_area
from geo.travel import RoutingGraph, TravelTimeMatrix, routing_graph, travel_time_matrix

__all__ = [
    "INDICATORS",
    "AreaConfig",
    "AreaError",
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
    "isochrones",
    "load_area",
    "load_network",
    "nearest_outlet_min",
    "off_network_communities",
    "off_network_note",
    "own_share",
    "rank_stability",
    "routing_graph",
    "score_communities",
    "score_indicators",
    "synthesize_area",
    "travel_time_matrix",
    "travel_times",
]
