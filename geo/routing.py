"""Street graphs for routing: a CSR matrix of edge minutes, node positions, and the
tiled searches that bound a Dijkstra by its cutoff.

A :class:`RoutingGraph` is built once per network (from an osmnx graph, from arrays, or
straight from a file by :func:`geo.read_routing`) and reused by every travel query in
:mod:`geo.travel`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import networkx as nx
import numpy as np
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.errors import InputError

__all__ = ["CHUNK", "GROUP", "RoutingGraph", "pairs_within", "routing_graph"]

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
    #: directed edges as read, parallel ones included (the matrix keeps the fastest)
    edge_count: int = 0

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
                   source_crs=source_crs, edge_count=int(np.asarray(u).size))

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


def pairs_within(rg: RoutingGraph, rows: np.ndarray, limit: float
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
