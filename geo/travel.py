"""Travel times on street networks: multi-source shortest paths on a CSR matrix.

A :class:`RoutingGraph` turns an osmnx graph into a compressed sparse row matrix of edge
minutes once; :func:`travel_time_matrix` runs scipy's Dijkstra from many origins at a
time on it. Points are snapped to their nearest node; the snap distance is reported, and
points farther than a tolerance from the network use the straight-line fallback of
DESIGN.md (distance x detour factor at the access speed).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.errors import InputError

__all__ = ["Places", "RoutingGraph", "TravelTimeMatrix", "routing_graph",
           "travel_time_matrix"]

#: Origins per Dijkstra call: bounds the dense block scipy returns (chunk x nodes float64).
CHUNK = 64

_cache: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, RoutingGraph]] = (
    weakref.WeakKeyDictionary())


@dataclass(frozen=True)
class RoutingGraph:
    """A street graph as a CSR matrix of edge weights (minutes), with node positions.

    Parallel edges keep their smallest weight. Build it once per graph and weight with
    :func:`routing_graph` (which caches it) and reuse it for every query.
    """

    matrix: csr_matrix
    node_ids: np.ndarray
    xy: np.ndarray
    crs: str | None
    weight: str

    @classmethod
    def from_arrays(cls, node_ids: np.ndarray, xy: np.ndarray, u: np.ndarray, v: np.ndarray,
                    minutes: np.ndarray, *, crs: str | None = None,
                    weight: str = "travel_min") -> RoutingGraph:
        """Build from node ids and positions and directed edges (u, v as node ids)."""
        node_ids = np.asarray(node_ids)
        order = np.argsort(node_ids, kind="stable")
        sorted_ids = node_ids[order]
        ui = order[np.searchsorted(sorted_ids, u)]
        vi = order[np.searchsorted(sorted_ids, v)]
        minutes = np.asarray(minutes, dtype=np.float64)
        if (minutes < 0).any() or not np.isfinite(minutes).all():
            raise InputError(f"edge attribute '{weight}' has negative or non-finite values; "
                             "travel times must be finite and >= 0")
        # keep the smallest weight of parallel edges (coo -> csr would add them up)
        keep = np.lexsort((minutes, vi, ui))
        ui, vi, minutes = ui[keep], vi[keep], minutes[keep]
        first = np.ones(ui.size, dtype=bool)
        first[1:] = (ui[1:] != ui[:-1]) | (vi[1:] != vi[:-1])
        ui, vi, minutes = ui[first], vi[first], minutes[first]
        # scipy treats an explicit 0 as "no edge": give zero-length edges a tiny weight
        minutes = np.maximum(minutes, 1e-9)
        n = node_ids.size
        matrix = csr_matrix((minutes, (ui, vi)), shape=(n, n))
        return cls(matrix=matrix, node_ids=node_ids, xy=np.asarray(xy, dtype=np.float64),
                   crs=crs, weight=weight)

    @classmethod
    def from_networkx(cls, G: nx.MultiDiGraph, *, weight: str = "travel_min") -> RoutingGraph:
        """Build from an osmnx graph whose edges carry ``weight`` (minutes)."""
        if G.number_of_nodes() == 0:
            raise InputError("the street network has no nodes")
        nodes = list(G.nodes)
        xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in nodes], dtype=np.float64)
        edges: list[tuple[object, object, float | None]] = list(G.edges(data=weight))
        if any(w is None for _, _, w in edges):
            raise InputError(f"some edges have no '{weight}'; read the network with "
                             "geo.load_network, which adds travel_min")
        u = np.array([e[0] for e in edges])
        v = np.array([e[1] for e in edges])
        w = np.array([e[2] for e in edges], dtype=np.float64)
        return cls.from_arrays(np.array(nodes), xy, u, v, w, crs=G.graph.get("crs"),
                               weight=weight)

    def index_of(self, node_ids: Sequence[object] | np.ndarray) -> np.ndarray:
        """Matrix row of each node id; raises naming the ids that are not in the graph."""
        ids = np.asarray(node_ids)
        order = np.argsort(self.node_ids, kind="stable")
        pos = np.searchsorted(self.node_ids[order], ids)
        pos = np.clip(pos, 0, len(order) - 1)
        found = self.node_ids[order][pos] == ids
        if not found.all():
            missing = ids[~found][:5].tolist()
            raise InputError(f"{int((~found).sum())} node id(s) not in the network, such as "
                             f"{missing}; pass node ids of the graph or points to snap")
        return order[pos]

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.xy)

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node row and its distance (metres, in the graph's CRS) for each point."""
        dist, idx = self._tree.query(np.asarray(xy, dtype=np.float64))
        return idx.astype(np.int64), dist


def routing_graph(G: nx.MultiDiGraph, *, weight: str = "travel_min") -> RoutingGraph:
    """The :class:`RoutingGraph` of ``G``, built once per graph and weight, then reused."""
    per_graph = _cache.setdefault(G, {})
    if weight not in per_graph:
        per_graph[weight] = RoutingGraph.from_networkx(G, weight=weight)
    return per_graph[weight]


@dataclass(frozen=True)
class Places:
    """Origins or destinations: graph rows plus the minutes to reach them off the graph.

    ``access_min`` is the walk from the point to its node; ``fallback`` marks points
    beyond the snap tolerance, which use straight-line times instead of the network.
    """

    ids: pd.Index
    rows: np.ndarray
    snap_m: np.ndarray
    access_min: np.ndarray
    fallback: np.ndarray
    xy: np.ndarray


def _places(rg: RoutingGraph, items: object, *, snap_tolerance_m: float,
            access_speed_kmh: float, what: str) -> Places:
    if isinstance(items, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = items.geometry if isinstance(items, gpd.GeoDataFrame) else items
        if rg.crs is not None and geoms.crs is not None and geoms.crs != rg.crs:
            geoms = geoms.to_crs(rg.crs)
        if not (geoms.geom_type == "Point").all():
            geoms = geoms.representative_point()
        xy = np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])
        rows, dist = rg.snap(xy)
        ids = pd.Index(items.index)
    else:
        node_ids = np.asarray(items)
        if node_ids.ndim == 2 and node_ids.shape[1] == 2 and node_ids.dtype.kind == "f":
            xy = node_ids.astype(np.float64)
            rows, dist = rg.snap(xy)
            ids = pd.RangeIndex(len(xy))
        else:
            rows = rg.index_of(node_ids)
            dist = np.zeros(rows.size)
            xy = rg.xy[rows]
            ids = pd.Index(node_ids)
    if len(rows) == 0:
        raise InputError(f"no {what} given")
    fallback = dist > snap_tolerance_m
    access = np.where(fallback, 0.0, dist / (access_speed_kmh * 1000 / 60))
    return Places(ids=ids, rows=rows, snap_m=dist, access_min=access, fallback=fallback, xy=xy)


@dataclass(frozen=True)
class TravelTimeMatrix:
    """Minutes from every origin to every destination (``inf`` where unreachable or beyond
    the cutoff), with what the snapping did."""

    minutes: pd.DataFrame
    origins: Places
    destinations: Places
    cutoff_min: float | None

    @property
    def fallback_origins(self) -> int:
        """How many origins used the straight-line fallback."""
        return int(self.origins.fallback.sum())

    def to_long(self) -> pd.DataFrame:
        """The finite entries as a table (origin_id, dest_id, travel_min)."""
        values = self.minutes.to_numpy()
        o, d = np.nonzero(np.isfinite(values))
        return pd.DataFrame({"origin_id": self.minutes.index[o],
                             "dest_id": self.minutes.columns[d],
                             "travel_min": values[o, d]})


def _network_minutes(rg: RoutingGraph, rows: np.ndarray, cols: np.ndarray,
                     limit: float) -> np.ndarray:
    """Shortest minutes between graph rows and columns, in chunks of origins (float32)."""
    out = np.empty((rows.size, cols.size), dtype=np.float32)
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    for start in range(0, unique_rows.size, CHUNK):
        block = unique_rows[start:start + CHUNK]
        dist = dijkstra(rg.matrix, directed=True, indices=block, limit=limit)
        sel = np.flatnonzero((inverse >= start) & (inverse < start + block.size))
        out[sel] = dist[inverse[sel] - start][:, cols]
    return out


def travel_time_matrix(
    G: nx.MultiDiGraph | RoutingGraph,
    origins: object,
    destinations: object,
    *,
    cutoff_min: float | None = None,
    weight: str = "travel_min",
    snap_tolerance_m: float = 500.0,
    access_speed_kmh: float = 4.8,
    detour_factor: float = 1.3,
    fallback_speed_kmh: float | None = None,
) -> TravelTimeMatrix:
    """Travel minutes from many origins to many destinations over a street network.

    Parameters
    ----------
    G
        An osmnx graph with ``weight`` on every edge (see :func:`geo.load_network`), or its
        :class:`RoutingGraph`.
    origins, destinations
        Node ids of ``G``, or points (a GeoDataFrame/GeoSeries, reprojected to the graph's
        CRS if needed, or an (n, 2) float array in the graph's CRS) snapped to the nearest
        node.
    cutoff_min
        Stop searching beyond this many minutes; farther pairs are ``inf``.
    snap_tolerance_m
        Points farther than this from the network use straight-line distance x
        ``detour_factor`` at ``access_speed_kmh`` instead of the network.
    access_speed_kmh
        Speed of the walk between a point and its node, km/h.
    fallback_speed_kmh
        Speed of the straight-line fallback, km/h (default: ``access_speed_kmh``; give
        the driving speed for a driving network).

    Returns
    -------
    TravelTimeMatrix
        ``minutes`` is a float32 DataFrame (origins x destinations) indexed by the origin
        and destination ids; ``to_long()`` gives the sparse table.
    """
    rg = G if isinstance(G, RoutingGraph) else routing_graph(G, weight=weight)
    if cutoff_min is not None and cutoff_min <= 0:
        raise InputError(f"cutoff_min = {cutoff_min}: expected a positive number of minutes")
    o = _places(rg, origins, snap_tolerance_m=snap_tolerance_m,
                access_speed_kmh=access_speed_kmh, what="origins")
    d = _places(rg, destinations, snap_tolerance_m=snap_tolerance_m,
                access_speed_kmh=access_speed_kmh, what="destinations")
    limit = np.inf if cutoff_min is None else float(cutoff_min)
    net = _network_minutes(rg, o.rows, d.rows, limit)
    total = net + o.access_min[:, None].astype(np.float32) + d.access_min[None, :].astype(
        np.float32)
    if o.fallback.any() or d.fallback.any():
        straight = np.hypot(o.xy[:, None, 0] - d.xy[None, :, 0],
                            o.xy[:, None, 1] - d.xy[None, :, 1])
        speed = fallback_speed_kmh or access_speed_kmh
        line = (straight * detour_factor / (speed * 1000 / 60)).astype(np.float32)
        use = o.fallback[:, None] | d.fallback[None, :]
        total = np.where(use, line, total)
    if cutoff_min is not None:
        total[total > cutoff_min] = np.inf
    frame = pd.DataFrame(total, index=o.ids, columns=d.ids)
    return TravelTimeMatrix(minutes=frame, origins=o, destinations=d, cutoff_min=cutoff_min)

