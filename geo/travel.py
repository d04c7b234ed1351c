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
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.errors import InputError

__all__ = ["SNAP_TOLERANCE_M", "Places", "RoutingGraph", "TravelTimeMatrix", "routing_graph",
           "travel_time_matrix", "travel_time_table"]

#: Points farther than this from the network use the straight-line fallback (DESIGN.md).
SNAP_TOLERANCE_M = 500.0

#: Origins are searched together per block of GROUP x GROUP tiles (fewer, larger
#: subgraphs; 4 to 6 measured best on 200,000 nodes with 1,000 origins).
GROUP = 5

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
    xy: np.ndarray  # node positions in ``crs``: metres (a geographic graph is projected)
    crs: str | None
    weight: str
    #: the CRS the graph came in, where it was geographic (``xy`` is then projected)
    source_crs: str | None = None

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
        xy = np.asarray(xy, dtype=np.float64)
        source_crs = None
        if crs is not None and CRS.from_user_input(crs).is_geographic and len(xy):
            # distances are taken in metres: degrees read as metres would snap a point
            # 30 km away at 0.3 m
            source_crs = str(crs)
            points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)
            metric = points.estimate_utm_crs()
            projected = points.to_crs(metric)
            xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
            crs = metric.to_string()
        return cls(matrix=matrix, node_ids=node_ids, xy=xy, crs=crs, weight=weight,
                   source_crs=source_crs)

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

    @cached_property
    def span_m(self) -> float:
        """The larger side of the graph's bounding box, metres."""
        return float(np.ptp(self.xy, axis=0).max()) if len(self.xy) else 0.0

    @cached_property
    def max_speed_m_per_min(self) -> float:
        """The fastest edge, as straight-line metres per minute: no path covers more
        ground than this per minute, which bounds how far a search can reach."""
        coo = self.matrix.tocoo()
        straight = np.hypot(*(self.xy[coo.row] - self.xy[coo.col]).T)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(straight > 0, straight / coo.data, 0.0)
        return float(speed.max()) if speed.size else 0.0

    @cached_property
    def reversed_matrix(self) -> csr_matrix:
        """The graph with every edge turned round: a search from a node on it gives the
        minutes from every node to that node on the graph."""
        return self.matrix.T.tocsr()

    def tiling(self, tile_m: float) -> _Tiling:
        """The graph with nodes sorted by square tiles of ``tile_m`` (built once per size)."""
        cache = self.__dict__.setdefault("_tilings", {})
        if tile_m not in cache:
            cache[tile_m] = _Tiling.build(self, tile_m)
        return cache[tile_m]

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node row and its distance (metres, in the graph's CRS) for each point."""
        dist, idx = self._tree.query(np.asarray(xy, dtype=np.float64))
        return idx.astype(np.int64), dist


@dataclass(frozen=True)
class _Tiling:
    """Nodes renumbered tile by tile (row-major), so that a 3 x 3 block of tiles is three
    runs of consecutive rows of the permuted matrix."""

    tile_m: float
    perm: np.ndarray  # new row -> old row
    inverse: np.ndarray  # old row -> new row
    matrix: csr_matrix  # permuted
    tile_of: np.ndarray  # old row -> tile (ix, iy)
    starts: np.ndarray  # tile id -> first new row (length tiles + 1)
    ntx: int
    nty: int

    @classmethod
    def build(cls, rg: RoutingGraph, tile_m: float) -> _Tiling:
        origin = rg.xy.min(axis=0)
        cell = np.floor((rg.xy - origin) / tile_m).astype(np.int64)
        ntx, nty = int(cell[:, 0].max()) + 1, int(cell[:, 1].max()) + 1
        tile = cell[:, 1] * ntx + cell[:, 0]
        perm = np.argsort(tile, kind="stable")
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(perm.size)
        matrix = rg.matrix[perm][:, perm].tocsr()
        starts = np.searchsorted(tile[perm], np.arange(ntx * nty + 1))
        return cls(tile_m=tile_m, perm=perm, inverse=inverse, matrix=matrix, tile_of=cell,
                   starts=starts, ntx=ntx, nty=nty)

    def group_key(self, rows: np.ndarray, group: int) -> np.ndarray:
        """Number of the ``group`` x ``group`` block of tiles holding each (old) row."""
        gx, gy = self.tile_of[rows, 0] // group, self.tile_of[rows, 1] // group
        return gy * (self.ntx // group + 1) + gx

    def submatrix(self, key: int, group: int) -> tuple[csr_matrix, np.ndarray]:
        """The subgraph on block ``key`` of ``group`` x ``group`` tiles and the ring of
        tiles around it, and its (new) rows.

        In the new numbering those tiles are runs of consecutive rows, one per tile row,
        so the rows are slices and a column is kept when its row is in the subgraph."""
        bx, by = key % (self.ntx // group + 1), key // (self.ntx // group + 1)
        x0, x1 = max(bx * group - 1, 0), min(bx * group + group, self.ntx - 1)
        y0, y1 = max(by * group - 1, 0), min(by * group + group, self.nty - 1)
        runs = [(int(self.starts[y * self.ntx + x0]), int(self.starts[y * self.ntx + x1 + 1]))
                for y in range(y0, y1 + 1)]
        runs = [(a, b) for a, b in runs if b > a]
        m = self.matrix
        rows = np.concatenate([np.arange(a, b) for a, b in runs])
        local_of = self._local_of  # all -1 between calls: set here, reset below
        local_of[rows] = np.arange(rows.size)
        lo, hi = m.indptr[runs[0][0]], m.indptr[runs[0][1]]
        takes = [np.arange(m.indptr[a], m.indptr[b]) for a, b in runs]
        take = np.concatenate(takes) if len(takes) > 1 else np.arange(lo, hi)
        local = local_of[m.indices[take]]
        keep = local >= 0
        counts = m.indptr[rows + 1] - m.indptr[rows]
        row_of = np.repeat(np.arange(rows.size), counts)
        indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of[keep], minlength=rows.size), out=indptr[1:])
        local_of[rows] = -1
        sub = csr_matrix((m.data[take][keep], local[keep], indptr), shape=(rows.size,) * 2)
        return sub, rows

    @cached_property
    def _local_of(self) -> np.ndarray:
        return np.full(self.matrix.shape[0], -1, dtype=np.int64)


def _reach(rg: RoutingGraph, rows: np.ndarray, limit: float
           ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(origin positions, destination rows, minutes) of every pair within ``limit``.

    With a cutoff, a search can only reach nodes within (fastest edge speed x cutoff)
    metres of its origin, so it runs on the 3 x 3 tiles around the origin's tile (tiles
    that wide) instead of the whole graph: the answer is the same, and the work shrinks
    with the tile. Without one (or when the tiles would cover the graph anyway), scipy
    runs on the whole graph, 64 origins at a time.
    """
    radius = rg.max_speed_m_per_min * limit
    if np.isfinite(limit) and radius > 0 and 3 * radius < 0.7 * rg.span_m:
        tiling = rg.tiling(float(np.ceil(radius / 100.0) * 100.0))  # few sizes, cached
        out = []
        keys = tiling.group_key(rows, GROUP)
        for key in np.unique(keys):
            at = np.flatnonzero(keys == key)
            sub, sub_rows = tiling.submatrix(int(key), GROUP)
            position = np.searchsorted(sub_rows, tiling.inverse[rows[at]])
            for start in range(0, at.size, CHUNK):
                dist = dijkstra(sub, directed=True, indices=position[start:start + CHUNK],
                                limit=limit).ravel()
                flat = np.flatnonzero(dist <= limit)
                o, d = np.divmod(flat, sub_rows.size)
                out.append((at[start:start + CHUNK][o], tiling.perm[sub_rows[d]],
                            dist[flat].astype(np.float32)))
        return out
    out = []
    for start in range(0, rows.size, CHUNK):
        dist = dijkstra(rg.matrix, directed=True, indices=rows[start:start + CHUNK],
                        limit=limit)
        o, d = np.nonzero(dist <= limit)
        out.append((start + o, d, dist[o, d].astype(np.float32)))
    return out


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
            if rg.source_crs is not None:  # in the graph's own (geographic) CRS
                moved = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                                      crs=rg.source_crs).to_crs(rg.crs)
                xy = np.column_stack([moved.x.to_numpy(), moved.y.to_numpy()])
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
    """Shortest minutes between graph rows and columns (float32, inf beyond ``limit``)."""
    out = np.full((rows.size, cols.size), np.inf, dtype=np.float32)
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    if np.isfinite(limit):
        parts = _reach(rg, unique_rows, limit)
        if parts:
            pairs = pd.DataFrame({"o": np.concatenate([p[0] for p in parts]),
                                  "d": np.concatenate([p[1] for p in parts]),
                                  "t": np.concatenate([p[2] for p in parts])})
            wanted = pd.DataFrame({"d": cols, "j": np.arange(cols.size)})
            hits = pairs.merge(wanted, on="d")
            block = np.full((unique_rows.size, cols.size), np.inf, dtype=np.float32)
            block[hits["o"].to_numpy(), hits["j"].to_numpy()] = hits["t"].to_numpy()
            out[:] = block[inverse]
        return out
    unique_cols, col_of = np.unique(cols, return_inverse=True)
    if unique_cols.size < unique_rows.size:
        # fewer destinations than origins: search from each destination on the reversed
        # graph (the same minutes, fewer searches: 600 sites and venues against 2,500
        # demand points on a city of 500 communities)
        for start in range(0, unique_cols.size, CHUNK):
            block = unique_cols[start:start + CHUNK]
            dist = dijkstra(rg.reversed_matrix, directed=True, indices=block)
            sel = np.flatnonzero((col_of >= start) & (col_of < start + block.size))
            out[:, sel] = dist[col_of[sel] - start][:, rows].T
        return out
    for start in range(0, unique_rows.size, CHUNK):
        block_rows = unique_rows[start:start + CHUNK]
        dist = dijkstra(rg.matrix, directed=True, indices=block_rows)
        sel = np.flatnonzero((inverse >= start) & (inverse < start + block_rows.size))
        out[sel] = dist[inverse[sel] - start][:, cols]
    return out


def travel_time_matrix(
    G: nx.MultiDiGraph | RoutingGraph,
    origins: object,
    destinations: object,
    *,
    cutoff_min: float | None = None,
    weight: str = "travel_min",
    snap_tolerance_m: float = SNAP_TOLERANCE_M,
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



def travel_time_table(
    G: nx.MultiDiGraph | RoutingGraph,
    origins: Sequence[object] | np.ndarray,
    destinations: Sequence[object] | np.ndarray | None = None,
    *,
    cutoff_min: float,
    weight: str = "travel_min",
) -> pd.DataFrame:
    """Every (origin, destination) pair within ``cutoff_min``, as a long table.

    For sparse use on large networks: nothing of size origins x nodes is kept, only the
    pairs within reach. ``origins`` and ``destinations`` are node ids; ``destinations``
    None means every node of the graph.

    Returns
    -------
    DataFrame
        ``origin_id``, ``dest_id``, ``travel_min`` (float32), grouped by origin in the
        order given.
    """
    rg = G if isinstance(G, RoutingGraph) else routing_graph(G, weight=weight)
    if cutoff_min <= 0:
        raise InputError(f"cutoff_min = {cutoff_min}: expected a positive number of minutes")
    rows = rg.index_of(origins)
    parts = _reach(rg, rows, float(cutoff_min))
    o = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    d = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    t = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=np.float32)
    if destinations is not None:
        wanted = np.zeros(len(rg.node_ids), dtype=bool)
        wanted[rg.index_of(destinations)] = True
        keep = wanted[d]
        o, d, t = o[keep], d[keep], t[keep]
    order = np.argsort(o, kind="stable")  # by origin, in the order given
    return pd.DataFrame({"origin_id": np.asarray(origins)[o[order]],
                         "dest_id": rg.node_ids[d[order]], "travel_min": t[order]})
