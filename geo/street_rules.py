"""Which files hold streets, which streets a mode may use and how fast: shared rules.

``geo.network`` (street files into osmnx graphs) and ``geo.streets`` (street files
straight into routing arrays) apply these same rules, so that their graphs are equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from geo.errors import NetworkError

__all__ = ["DEFAULT_DRIVE_SPEEDS_KMH", "AnyMode", "first_value", "network_format",
           "parse_maxspeed", "road_speed_kmh", "usable"]

#: "walk" or "drive"; "all": every street either may use (what a pack import stores)
AnyMode = Literal["walk", "drive", "all"]

#: Speed per OSM ``highway`` class where no ``maxspeed`` is posted, km/h. *Assumption*:
#: typical urban limits (docs/geo.md, "Travel speeds").
DEFAULT_DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0, "trunk": 70.0, "primary": 50.0, "secondary": 40.0, "tertiary": 40.0,
    "residential": 30.0, "living_street": 20.0, "service": 20.0, "unclassified": 30.0,
}

# Ways a pedestrian cannot use, and ways a car cannot use (osmnx's own filters, in short).
_NOT_WALK = {"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed",
             "raceway", "bus_guideway", "abandoned", "platform", "escape", "busway"}
_NOT_DRIVE = {"footway", "pedestrian", "path", "steps", "cycleway", "bridleway", "corridor",
              "track", "construction", "proposed", "raceway", "bus_guideway", "abandoned",
              "platform", "elevator", "escape", "busway", "sidewalk", "crossing"}
_NO_ACCESS = {"private", "no"}


def usable(tags: Mapping[str, str], mode: AnyMode) -> bool:
    """Whether a way with these OSM tags is a street ``mode`` may use."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return False
    if tags.get("access") in _NO_ACCESS:
        return False
    walk = highway not in _NOT_WALK and tags.get("foot") not in _NO_ACCESS
    drive = highway not in _NOT_DRIVE and tags.get("motor_vehicle") not in _NO_ACCESS
    return walk if mode == "walk" else drive if mode == "drive" else walk or drive


def first_value(value: object) -> str:
    """An edge attribute as one string: the first of a merged edge's list of values."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)


def road_speed_kmh(highway: str, maxspeed: object, speeds: Mapping[str, float],
                   fallback: float) -> float:
    """The posted ``maxspeed`` where it parses, else the speed of the road class."""
    parsed = parse_maxspeed(maxspeed)
    if parsed is not None:
        return parsed
    base = highway.removesuffix("_link")
    return float(speeds.get(highway, speeds.get(base, fallback)))


def parse_maxspeed(value: object) -> float | None:
    """km/h from an OSM ``maxspeed`` ("50", "30 mph"); None where it does not parse."""
    if value is None:
        return None
    text = first_value(value).strip().lower()
    try:
        if text.endswith("mph"):
            return float(text[:-3].strip()) * 1.609344
        speed = float(text)
    except ValueError:
        return None
    return speed if speed > 0 else None


_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")


def network_format(path: Path) -> str:
    """"osm", "graphml" or "gpkg" by the file's name; NetworkError otherwise."""
    name = path.name.lower()
    if name.endswith(_OSM_SUFFIXES):
        return "osm"
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith(".gpkg"):
        return "gpkg"
    raise NetworkError(f"{path}: unknown network format; expected .osm.pbf, .osm, .osm.bz2, "
                       ".graphml or an osmnx .gpkg export")
