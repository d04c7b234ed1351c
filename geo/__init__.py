"""Geospatial layers: study areas, street networks, travel times, accessibility, scoring."""

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
from geo.network import load_network
from geo.synth import synthesize_area

__all__ = [
    "AreaConfig",
    "AreaError",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "Problem",
    "SitesimError",
    "SitesimWarning",
    "StudyArea",
    "check_area",
    "load_area",
    "load_network",
    "synthesize_area",
]
