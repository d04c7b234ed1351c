"""Street networks: read OSM extracts or GraphML into osmnx graphs with ``travel_min``."""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, cast

import geopandas as gpd
import networkx as nx

from geo.errors import NetworkError
from geo.street_rules import (
    DEFAULT_DRIVE_SPEEDS_KMH,
    AnyMode,
    first_value,
    network_format,
    road_speed_kmh,
    usable,
)

__all__ = [
    "DEFAULT_DRIVE_SPEEDS_KMH", "Mode", "load_network", "network_from_gdfs", "read_streets",
]

log = logging.getLogger("sitesim.geo")

Mode = Literal["walk", "drive"]
_AnyMode = AnyMode  # "all": what import stores, filtered at load


def _osm_to_filtered_xml(path: Path, mode: _AnyMode, out: Path) -> int:
    """Write the ways of ``path`` usable in ``mode`` (and their nodes) to OSM XML at ``out``.

    Node references missing from a clipped extract are dropped, so that ways at the edge of
    the extract end at its last node instead of failing the whole graph.
    """
    import osmium  # imported here: only OSM inputs need it

    ways: list[tuple[int, dict[str, str], list[int]]] = []
    needed: set[int] = set()
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in way.tags}
        if usable(tags, mode):
            refs = [n.ref for n in way.nodes]
            needed.update(refs)
            ways.append((way.id, tags, refs))
    present: set[int] = set()
    written = 0
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
            if node.id in needed:
                present.add(node.id)
                writer.add_node(node)
        for way_id, tags, refs in ways:
            kept = [r for r in refs if r in present]
            if len(kept) >= 2:
                writer.add_way(osmium.osm.mutable.Way(id=way_id, tags=tags, nodes=kept,
                                                      version=1))
                written += 1
    return written


def _read_osm(path: Path, mode: _AnyMode) -> nx.MultiDiGraph:
    import osmnx as ox  # at first use: it takes 1.7 s to import

    with tempfile.TemporaryDirectory(prefix="sitesim-osm-") as tmp:
        xml = Path(tmp) / "filtered.osm"
        try:
            count = _osm_to_filtered_xml(path, mode, xml)
        except RuntimeError as exc:
            raise NetworkError(f"{path}: cannot read as OpenStreetMap data: {exc}") from None
        if count == 0:
            raise NetworkError(
                f"{path}: no streets usable for mode '{mode}' (no ways with a highway tag that "
                f"allows {'walking' if mode == 'walk' else 'driving'}); check the extract"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ox.graph_from_xml(xml, bidirectional=(mode == "walk"), simplify=True,
                                     retain_all=False)


def _read_graphml(path: Path, mode: _AnyMode) -> nx.MultiDiGraph:
    import osmnx as ox  # at first use: it takes 1.7 s to import

    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a user file problem
        raise NetworkError(f"{path}: cannot read as GraphML: {exc}") from None
    return _read_graph_filtered(G, mode)


def _read_gpkg(path: Path, mode: _AnyMode) -> nx.MultiDiGraph:
    """An osmnx GeoPackage export: layers ``nodes`` and ``edges`` (or ``streets``)."""
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(path)}
    edge_layer = "edges" if "edges" in layers else "streets" if "streets" in layers else None
    if "nodes" not in layers or edge_layer is None:
        raise NetworkError(
            f"{path}: a network GeoPackage needs layers 'nodes' and 'edges' (or 'streets'); "
            f"found {sorted(layers)}"
        )
    nodes = gpd.read_file(path, layer="nodes", engine="pyogrio")
    edges = gpd.read_file(path, layer=edge_layer, engine="pyogrio")
    G = network_from_gdfs(nodes, edges, source=str(path))
    return _read_graph_filtered(G, mode)


def _read_graph_filtered(G: nx.MultiDiGraph, mode: _AnyMode) -> nx.MultiDiGraph:
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
            if not usable({"highway": first_value(d.get("highway", "road")),
                            "access": first_value(d.get("access", ""))}, mode)]
    if drop:
        G.remove_edges_from(drop)
        G.remove_nodes_from([n for n, deg in dict(G.degree()).items() if deg == 0])
    return _bidirectional(G) if mode == "walk" else G


def network_from_gdfs(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, source: str = "network"
) -> nx.MultiDiGraph:
    """Build an osmnx graph from node and edge GeoDataFrames (osmnx's export layout).

    ``nodes`` needs an ``osmid`` column or index; ``edges`` needs ``u``, ``v`` and ``key``.
    """
    import osmnx as ox  # at first use: it takes 1.7 s to import

    nodes = nodes.copy()
    if "osmid" in nodes.columns:
        nodes = nodes.set_index("osmid")
    edges = edges.copy()
    missing = [c for c in ("u", "v", "key") if c not in edges.columns]
    if missing:
        raise NetworkError(f"{source}: edges lack column(s) {', '.join(missing)}")
    edges = edges.set_index(["u", "v", "key"])
    nodes["x"] = nodes.geometry.x
    nodes["y"] = nodes.geometry.y
    if "length" not in edges.columns:
        edges["length"] = edges.geometry.length
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ox.graph_from_gdfs(nodes, edges)
    return G


def _bidirectional(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Walking ignores one-way streets: add the reverse of every edge that lacks one."""
    missing = [(v, u, d) for u, v, d in G.edges(data=True) if not G.has_edge(v, u)]
    if missing:
        G = G.copy()
        for v, u, d in missing:
            G.add_edge(v, u, **{**d, "reversed": True})
    return G


def load_network(
    path: str | Path,
    *,
    mode: Mode = "walk",
    walk_speed_kmh: float = 4.8,
    drive_speeds_kmh: Mapping[str, float] | None = None,
    drive_fallback_kmh: float = 30.0,
    extra: Sequence[str | Path] = (),
) -> nx.MultiDiGraph:
    """Read a street network and give every edge its travel time in minutes.

    Parameters
    ----------
    path
        An OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``), a GraphML file
        (as written by osmnx) or an osmnx GeoPackage export (layers ``nodes``, ``edges``).
    mode
        ``"walk"``: every street a pedestrian may use, both directions, at
        ``walk_speed_kmh``. ``"drive"``: streets open to cars, one-way streets respected,
        at the posted ``maxspeed`` or else the speed of the road class.
    walk_speed_kmh
        Walking speed, km/h.
    drive_speeds_kmh
        Speed per OSM ``highway`` class, km/h, where no ``maxspeed`` is posted.
    drive_fallback_kmh
        Speed of classes missing from ``drive_speeds_kmh``, km/h.
    extra
        Further network files to compose with the first (sharing node ids where they meet).

    Returns
    -------
    networkx.MultiDiGraph
        The largest connected part, as an osmnx-compatible graph (graph attribute
        ``crs``, node ``x``/``y``, edge ``length`` in metres) with edge attributes
        ``speed_kph`` and ``travel_min``.

    Raises
    ------
    NetworkError
        When the file is missing, unreadable or holds no usable streets.
    """
    import osmnx as ox  # at first use: it takes 1.7 s to import

    if mode not in ("walk", "drive"):
        raise NetworkError(f"mode = {mode!r}: expected 'walk' or 'drive'")
    G = read_streets([path, *extra], mode=mode)
    before = len(G)
    # islands (a courtyard behind a private gate) would make every point snapped to them
    # unreachable: keep the largest part, as osmnx does for one file
    G = cast(nx.MultiDiGraph, ox.truncate.largest_component(G, strongly=False))
    if len(G) < before:
        log.info("network %s: dropped %d nodes outside its largest connected part",
                 path, before - len(G))
    speeds = {**DEFAULT_DRIVE_SPEEDS_KMH, **(drive_speeds_kmh or {})}
    for _, _, data in G.edges(data=True):
        if mode == "walk":
            speed = walk_speed_kmh
        else:
            speed = road_speed_kmh(first_value(data.get("highway", "")),
                                   data.get("maxspeed"), speeds, drive_fallback_kmh)
        data["speed_kph"] = float(speed)
        data["travel_min"] = float(data["length"]) / (speed * 1000.0 / 60.0)
    G.graph["mode"] = mode
    log.info("network %s (%s): %d nodes, %d edges", path, mode, len(G), G.number_of_edges())
    return G


def read_streets(paths: Sequence[str | Path], *, mode: _AnyMode = "all") -> nx.MultiDiGraph:
    """Read and compose street files without travel times; ``"all"`` keeps every street a
    pedestrian or a car may use, one-way streets as they are (what a pack stores)."""
    import osmnx as ox  # at first use: it takes 1.7 s to import

    graphs = [_read_one(Path(p), mode) for p in paths]
    G = graphs[0]
    crs = G.graph.get("crs")
    for other in graphs[1:]:
        if other.graph.get("crs") != crs:
            other = ox.project_graph(other, to_crs=crs)
        G = cast(nx.MultiDiGraph, nx.compose(G, other))
        G.graph["crs"] = crs
    return G


def _read_one(path: Path, mode: _AnyMode) -> nx.MultiDiGraph:
    if not path.exists():
        raise NetworkError(f"{path}: network file not found")
    kind = network_format(path)
    G = (_read_osm(path, mode) if kind == "osm" else _read_graphml(path, mode)
         if kind == "graphml" else _read_gpkg(path, mode))
    if len(G) == 0:
        raise NetworkError(f"{path}: no streets usable for mode '{mode}'")
    return G
