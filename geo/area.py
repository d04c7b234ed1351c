"""Study area packs: find, read, validate and reproject the layers of DESIGN.md."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo._pack_files import find_layers
from geo._validate import (
    ID_COLUMN,
    far_outside_tolerance_m,
    metric_crs,
    validate_layer,
    validate_placement,
)
from geo.config import AreaConfig, read_area_config
from geo.contract import CONTRACT_COLUMNS, LAYERS, NETWORK_FILES
from geo.errors import AreaError, NetworkError, Problem, SitesimWarning
from geo.network import Mode, load_network
from geo.routing import RoutingGraph
from geo.streets import read_routing
from geo.synth import builtin_area_path

__all__ = ["StudyArea", "check_area", "inspect_area", "load_area", "resolve_area_path"]

log = logging.getLogger("sitesim.geo")



@dataclass(frozen=True)
class StudyArea:
    """A validated study area in one metric CRS.

    Layers are GeoDataFrames indexed by their id (an index named ``community_id``,
    ``outlet_id``, ``site_id`` or ``venue_id``).
    """

    name: str
    crs: CRS
    config: AreaConfig
    communities: gpd.GeoDataFrame
    outlets: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    venues: gpd.GeoDataFrame
    source: Path
    network_file: Path | None
    notes: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()
    _routings: dict[str, RoutingGraph] = field(default_factory=dict, repr=False,
                                               compare=False)
    _networks: dict[str, nx.MultiDiGraph] = field(default_factory=dict, repr=False,
                                                  compare=False)

    @property
    def adults(self) -> pd.Series:
        """Adults (18+) per community."""
        c = self.communities
        return (c["pop_18_35"] + c["pop_36_55"] + c["pop_56_plus"]).rename("adults")

    @property
    def customer_share(self) -> float:
        """The share of adults taken to be customers where there is no ``customers``
        column: area.toml ``customer_share``, else geo.assumptions.CUSTOMER_SHARE."""
        return self.config.assumed_customer_share

    @property
    def customers(self) -> pd.Series:
        """The bank's customers per community: the ``customers`` column, else the adults
        times :attr:`customer_share` (one assumption for the simulation and the staff
        plan alike; the pack says so in a warning when it is loaded)."""
        c = self.communities
        if "customers" in c:
            return c["customers"].astype(float).fillna(0.0).rename("customers")
        return (self.adults.astype(float) * self.customer_share).rename("customers")

    def routing(self, mode: Mode = "walk") -> RoutingGraph:
        """The street network for ``mode`` as a routing graph in the area's CRS (read once,
        cached, straight into arrays: what every travel time of a run uses).

        Raises
        ------
        AreaError
            When the pack has no network file.
        NetworkError
            When the file cannot be read.
        """
        if self.network_file is None:
            raise AreaError(f"{self.source}: the pack has no network file "
                            f"({', '.join(NETWORK_FILES)})")
        if mode not in self._routings:
            self._routings[mode] = read_routing(
                self.network_file, mode=mode, walk_speed_kmh=self.config.walk_speed_kmh,
                drive_speeds_kmh=self.config.drive_speed_kmh,
                drive_fallback_kmh=self.config.drive_fallback_kmh, crs=self.crs)
        return self._routings[mode]

    def network(self, mode: Mode = "walk") -> nx.MultiDiGraph:
        """The street network for ``mode`` as an osmnx graph, projected to the area's CRS
        (read once, cached); runs use :meth:`routing`, which reads it without networkx.

        Raises
        ------
        AreaError
            When the pack has no network file.
        """
        if self.network_file is None:
            raise AreaError(f"{self.source}: the pack has no network file "
                            f"({', '.join(NETWORK_FILES)})")
        if mode not in self._networks:
            import osmnx as ox

            G = load_network(self.network_file, mode=mode,
                             walk_speed_kmh=self.config.walk_speed_kmh,
                             drive_speeds_kmh=self.config.drive_speed_kmh,
                             drive_fallback_kmh=self.config.drive_fallback_kmh)
            if CRS(G.graph["crs"]) != self.crs:
                G = ox.project_graph(G, to_crs=self.crs)
            self._networks[mode] = G
        return self._networks[mode]

    def communities_off_network(self, mode: Mode = "walk") -> pd.Index:
        """Communities with a demand point more than 500 m from the network (all of them
        without a network): their travel times use straight-line distance times
        ``config.detour_factor``. The same communities as ``travel_times(...)
        .fallback_communities``: the same demand points, snapped the same way."""
        from geo.access import off_network_communities  # geo.access builds on StudyArea

        return off_network_communities(self, mode=mode)

    def summary(self, *, with_network: bool = True) -> dict[str, Any]:
        """Counts a user checks first: communities, adults by segment, outlets, network."""
        c = self.communities
        out: dict[str, Any] = {
            "name": self.name,
            "crs": self.crs.to_string(),
            "communities": len(c),
            "adults": int(self.adults.sum()),
            "adults_by_age": {band: int(c[col].sum()) for band, col in
                              (("18-35", "pop_18_35"), ("36-55", "pop_36_55"),
                               ("56+", "pop_56_plus"))},
            "households": int(c["households"].sum()),
            "outlets": {f"{o} {k}": int(n) for (o, k), n in
                        self.outlets.groupby(["owner", "kind"]).size().items()},
            "candidates": len(self.candidates),
            "venues": len(self.venues),
        }
        if "median_income" in c:
            inc = c["median_income"]
            out["median_income_range"] = (float(inc.min()), float(inc.max()))
        if with_network and self.network_file is not None:
            routing = self.routing("walk")
            out["network"] = {"file": self.network_file.name,
                              "nodes": len(routing.node_ids), "edges": routing.edge_count}
            out["communities_off_network"] = len(self.communities_off_network("walk"))
        return out


def resolve_area_path(path_or_builtin: str | Path,
                      progress: Callable[[str], None] | None = None) -> Path:
    """A pack path, generating ``builtin:`` areas on first use."""
    text = str(path_or_builtin)
    if text.startswith("builtin:"):
        return builtin_area_path(text.removeprefix("builtin:"), progress=progress)
    return Path(text)


def _read_layer(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if path.suffix in (".parquet", ".geoparquet"):
        return gpd.read_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    if path.suffix.lower() == ".shp":
        # shapefiles cut column names to 10 characters: pop_56_plus arrives as pop_56_plu
        cut = {c[:10]: c for c in CONTRACT_COLUMNS if len(c) > 10}
        gdf = gdf.rename(columns={c: cut[c] for c in gdf.columns if c in cut})
    return gdf


def _network_file(folder: Path) -> Path | None:
    """The pack's street network file (the first of NETWORK_FILES present), or None."""
    return next((folder / n for n in NETWORK_FILES if (folder / n).exists()), None)


def customers_assumed(share: float, where: str) -> Problem:
    """The warning of a pack whose communities have no ``customers`` column."""
    return Problem("warning", f"{where}: layer 'communities'",
                   f"no 'customers' column: {share:.0%} of each community's adults are taken "
                   "to be the bank's customers (the simulation's starting customers and the "
                   "staff plan's visits)",
                   "add the column, or set customer_share in area.toml or the scenario's "
                   "simulation.customer_share")


def _licence_problems(config: AreaConfig, path: Path) -> list[Problem]:
    """A warning for a pack that does not say under which licence its data may be used."""
    fix = 'give each source a licence: [[sources]] name = "...", licence = "CC BY 4.0"'
    if not config.sources:
        return [Problem("warning", f"{path}: sources", "the pack names no sources, so no "
                        "licence says how its data may be used", fix)]
    missing = [s.name for s in config.sources if not s.licence.strip()]
    if missing:
        return [Problem("warning", f"{path}: sources", f"{len(missing)} source(s) without a "
                        f"licence ({', '.join(missing)})", fix)]
    return []


def _read_pack(root: Path) -> tuple[StudyArea | None, list[Problem]]:
    problems: list[Problem] = []
    if not root.exists():
        problems.append(Problem("error", str(root), "no such file or folder",
                                "give the path of a pack folder, a .gpkg or builtin:sample-city"))
        return None, problems
    folder = root if root.is_dir() else root.parent
    config_path = folder / "area.toml"
    config: AreaConfig | None = None
    if config_path.exists():
        try:
            config = read_area_config(config_path)
        except AreaError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_licence_problems(config, config_path))
    else:
        problems.append(Problem("warning", str(config_path), "no area.toml: name and currency "
                                "are assumed (EUR), speeds are the defaults",
                                "add area.toml (see docs/area-pack.md)"))
        config = AreaConfig(name=root.stem)

    found = find_layers(root, problems)
    raw: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYERS:
        if layer not in found:
            problems.append(Problem(
                "error", f"{root}", f"layer '{layer}' is missing",
                f"add {layer}.parquet, .gpkg, .geojson or .shp (it may have no rows)"))
            continue
        path, name = found[layer]
        try:
            raw[layer] = _read_layer(path, name)
        except Exception as exc:  # noqa: BLE001 - an unreadable file is a user problem
            problems.append(Problem("error", f"{path}", f"cannot read layer '{layer}': {exc}",
                                    "check the file"))
    checked: dict[str, gpd.GeoDataFrame] = {}
    for layer, gdf in raw.items():
        out = validate_layer(layer, gdf, found[layer][0].name, problems)
        if out is not None:
            checked[layer] = out

    if "communities" in checked and "customers" not in checked["communities"]:
        share = (config or AreaConfig(name=root.stem)).assumed_customer_share
        problems.append(customers_assumed(share, f"{found['communities'][0].name}"))
    network_file = _network_file(folder)
    if network_file is None:
        problems.append(Problem(
            "warning", str(folder), "no street network file; every travel time will be the "
            "straight-line distance times the detour factor",
            f"add one of {', '.join(NETWORK_FILES)}"))
    if "communities" not in checked or not np.isfinite(
            checked["communities"].total_bounds).all():  # none, or no row with a shape
        return None, problems
    # every check that does not depend on a broken part runs: with an unreadable area.toml
    # the positions are checked in the default CRS (the local UTM zone)
    usable = config is not None and not any(p.severity == "error" for p in problems)
    config = config or AreaConfig(name=root.stem)

    notes: list[str] = []
    comm_raw = checked["communities"]
    crs = metric_crs(comm_raw, config.crs)
    source_crs = CRS(comm_raw.crs)
    if source_crs != crs:
        notes.append(f"reprojected from {source_crs.to_string()} to {crs.to_string()} "
                     f"({crs.name})")
    else:
        notes.append(f"working CRS {crs.to_string()} ({crs.name})")
    layers = {name: gdf.to_crs(crs) for name, gdf in checked.items()}
    # an unrepaired polygon still says where the area is: make_valid only for this shape
    shape = shapely.union_all(shapely.make_valid(layers["communities"].geometry.to_numpy()))
    tolerance = far_outside_tolerance_m(layers["communities"])
    for layer in ("outlets", "candidates", "venues"):
        if layer in layers:
            validate_placement(layer, checked[layer], layers[layer], shape, crs, source_crs,
                               tolerance, found[layer][0].name, problems)
    if not usable or any(p.severity == "error" for p in problems):
        return None, problems
    indexed = {name: gdf.set_index(ID_COLUMN[name]) for name, gdf in layers.items()}
    area = StudyArea(
        name=config.name, crs=crs, config=config, communities=indexed["communities"],
        outlets=indexed["outlets"], candidates=indexed["candidates"], venues=indexed["venues"],
        source=root, network_file=network_file, notes=tuple(notes),
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )
    return area, problems


def inspect_area(path_or_builtin: str | Path,
                 progress: Callable[[str], None] | None = None
                 ) -> tuple[StudyArea | None, list[Problem]]:
    """Read a pack once: the area (None when any problem is an error) and every problem."""
    try:
        root = resolve_area_path(path_or_builtin, progress)
    except AreaError as exc:
        return None, list(exc.problems) or [Problem("error", str(path_or_builtin), str(exc))]
    area, problems = _read_pack(root)
    if any(p.severity == "error" for p in problems):
        area = None
    network_file = (area.network_file if area is not None else
                    _network_file(root if root.is_dir() else root.parent)
                    if root.exists() else None)
    if network_file is not None:  # read whatever else is wrong: a garbage file is reported too
        try:
            if area is not None:
                area.routing("walk")
            else:  # the same reader, so that a file is judged alike either way
                read_routing(network_file, mode="walk")
        except NetworkError as exc:
            text = str(exc).removeprefix(f"{network_file}: ")
            # the reader's own fix, where it names one, then the pack's way out
            text = text.removesuffix("; export it again with osmnx")
            problems.append(Problem("error", str(network_file), text,
                                    "export it again (osmnx GraphML, GeoPackage or an OSM "
                                    "extract), or remove it to use straight-line distances"))
            area = None
    return area, problems


def check_area(path_or_builtin: str | Path) -> list[Problem]:
    """Every problem of a pack, errors and warnings, without raising."""
    return inspect_area(path_or_builtin)[1]


def load_area(path_or_builtin: str | Path,
              progress: Callable[[str], None] | None = None) -> StudyArea:
    """Read and validate a study area pack.

    Parameters
    ----------
    path_or_builtin
        A pack folder, a GeoPackage with the pack's layers, or ``"builtin:sample-city"``
        (generated on first use and cached, see :func:`geo.synth.cache_dir`).

    Returns
    -------
    StudyArea
        Every layer reprojected to one metric CRS (``area.toml``'s ``crs``, else the local
        UTM zone); ``notes`` says which.

    Raises
    ------
    AreaError
        With every problem found when any is an error. Warnings (repairs, assumptions)
        are issued as :class:`~geo.errors.SitesimWarning` and kept in ``warnings``.
    """
    root = resolve_area_path(path_or_builtin, progress)
    area, problems = _read_pack(root)
    errors = [p for p in problems if p.severity == "error"]
    if area is None or errors:
        raise AreaError(f"{root}: {len(errors)} problem(s) in the study area pack", problems)
    for p in area.warnings:
        warnings.warn(p.line(), SitesimWarning, stacklevel=2)
    for note in area.notes:
        log.info("%s: %s", root, note)
    return area
