"""An OpenStreetMap extract straight into a simplified street graph, as arrays.

The graph is the one ``osmnx.graph_from_xml(..., simplify=True, retain_all=False)``
builds from the usable ways (``geo.network`` reads it that way), built without networkx:

- ways: the usable ones (``geo.street_rules.usable``), node references missing from a
  clipped extract dropped, consecutive repeats dropped; walking ignores one-way tags;
  driving keeps ``oneway`` = yes/true/1/-1/reverse/T/F and roundabouts one way, and
  reverses ``-1``, ``reverse`` and ``T``; a two-way way adds each segment both ways;
- each segment's length is the great-circle distance between its nodes (haversine,
  Earth radius 6,371,009 m, as osmnx);
- the largest weakly connected part is kept; then chains of nodes that are not
  intersections are merged into one edge between their end nodes. A node ends an edge
  when it loops to itself, has no way in or no way out, or does not have exactly two
  neighbours with two or four edges (osmnx's documented rules); parts with no such node
  (a ring on its own) are dropped. A merged edge's length is the sum of its segments'.

Where osmnx gives a merged edge of mixed road classes one class picked from a set (an
arbitrary one), the drive minutes here are summed segment by segment, each at its own
road's speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby, pairwise
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import NetworkError
from geo.street_rules import usable

__all__ = ["OsmArrays", "largest_part", "read_osm_arrays"]

#: Earth radius for great-circle lengths, metres (osmnx's value, the IUGG mean radius).
EARTH_RADIUS_M = 6_371_009.0

_ONEWAY = {"yes", "true", "1", "-1", "reverse", "T", "F"}
_REVERSED = {"-1", "reverse", "T"}
_TAGS = ("highway", "oneway", "junction", "maxspeed", "access", "area", "foot",
         "motor_vehicle")


@dataclass(frozen=True)
class OsmArrays:
    """Nodes (OSM ids, lon, lat) and directed edges (rows into the nodes)."""

    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    #: the edge's minutes summed over its segments (None unless asked for)
    minutes: np.ndarray | None


def read_osm_arrays(path: Path, mode: str,
                    segment_minutes: Callable[[dict[str, str], np.ndarray], np.ndarray]
                    | None = None) -> OsmArrays:
    """The simplified street graph of ``path`` for ``mode`` ("walk" or "drive").

    ``segment_minutes(way_tags, lengths_m)`` gives each segment's minutes where the
    edges' minutes should be summed segment by segment (driving).
    """
    import osmium  # imported here: only OSM inputs need it
    import osmium.filter

    # by way id: a way given twice (extracts merged) counts once, the last copy, in the
    # place of the first (as osmnx keeps them)
    by_id: dict[int, tuple[dict[str, str], list[int]]] = {}
    try:
        # the filter runs in osmium's C++: only ways with a highway tag reach Python
        for way in (osmium.FileProcessor(str(path), osmium.osm.WAY)
                    .with_filter(osmium.filter.KeyFilter("highway"))):
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in way.tags if t.k in _TAGS}
            if usable(tags, mode):  # type: ignore[arg-type]
                by_id[way.id] = (tags, [n.ref for n in way.nodes])
        ways = list(by_id.values())
        needed = {ref for _, refs in ways for ref in refs}
        ids: list[int] = []
        xs: list[int] = []
        ys: list[int] = []
        for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
            if isinstance(node, osmium.osm.Node) and node.id in needed:
                location = node.location
                ids.append(node.id)
                xs.append(location.x)
                ys.append(location.y)
    except RuntimeError as exc:
        raise NetworkError(f"{path}: cannot read as OpenStreetMap data: {exc}") from None
    row = {node_id: i for i, node_id in enumerate(ids)}
    us: list[int] = []
    vs: list[int] = []
    way_of: list[int] = []
    written = 0
    for w, (tags, refs) in enumerate(ways):
        kept = [row[r] for r in refs if r in row]
        if len(kept) < 2:
            continue
        written += 1
        nodes = [n for n, _ in groupby(kept)]
        one_way = mode != "walk" and (tags.get("oneway") in _ONEWAY
                                      or tags.get("junction") == "roundabout")
        if one_way and tags.get("oneway") in _REVERSED:
            nodes.reverse()
        us.extend(nodes[:-1])
        vs.extend(nodes[1:])
        if not one_way:
            us.extend(nodes[1:])
            vs.extend(nodes[:-1])
        way_of.extend([w] * (len(us) - len(way_of)))
    if written == 0 or not us:
        raise NetworkError(
            f"{path}: no streets usable for mode '{mode}' (no ways with a highway tag that "
            f"allows {'walking' if mode == 'walk' else 'driving'}); check the extract")
    lon = np.asarray(xs, dtype=np.int64) / 1e7  # OSM fixed point, as the XML would print
    lat = np.asarray(ys, dtype=np.int64) / 1e7
    u, v = np.asarray(us, dtype=np.int64), np.asarray(vs, dtype=np.int64)
    length = _great_circle(lat[u], lon[u], lat[v], lon[v])
    minutes = None
    if segment_minutes is not None:
        minutes = np.empty(u.size)
        way_idx = np.asarray(way_of, dtype=np.int64)
        order = np.argsort(way_idx, kind="stable")
        bounds = np.flatnonzero(np.diff(way_idx[order])) + 1
        for chunk in np.split(order, bounds):
            minutes[chunk] = segment_minutes(ways[int(way_idx[chunk[0]])][0], length[chunk])
    nodes_kept, edges_kept = largest_part(len(ids), u, v)
    try:
        graph = _simplify(nodes_kept, u[edges_kept], v[edges_kept], length[edges_kept],
                          None if minutes is None else minutes[edges_kept])
    except _ChainError as exc:
        raise NetworkError(f"{path}: node {ids[exc.row]} is inside a chain of streets yet "
                           "leads several ways; the extract is malformed") from None
    node_rows, from_row, to_row, merged_length, merged_minutes = graph
    if node_rows.size == 0:  # a ring on its own, dropped as osmnx does
        raise NetworkError(f"{path}: no streets usable for mode '{mode}'")
    return OsmArrays(node_ids=np.asarray(ids, dtype=np.int64)[node_rows],
                     lon=lon[node_rows], lat=lat[node_rows],
                     u=np.searchsorted(node_rows, from_row),
                     v=np.searchsorted(node_rows, to_row),
                     length_m=merged_length, minutes=merged_minutes)


def _great_circle(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                  ) -> np.ndarray:
    """Haversine distance, metres."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dy, dx = y2 - y1, np.deg2rad(lon2) - np.deg2rad(lon1)
    h = np.minimum(1.0, np.sin(dy / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2)
    return np.nan_to_num(2 * np.arcsin(np.sqrt(h)) * EARTH_RADIUS_M)


def largest_part(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the nodes and edges of the largest weakly connected part (the part met
    first in node order where two are as large, as networkx's ``max`` picks)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(u.size), (u, v)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="weak")
    sizes = np.bincount(labels)
    _, first = np.unique(labels, return_index=True)
    largest = np.flatnonzero(sizes == sizes.max())
    label = largest[np.argmin(first[largest])]
    nodes = np.flatnonzero(labels == label)
    return nodes, np.flatnonzero(labels[u] == label)


def _endpoints(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which nodes end an edge of the simplified graph (osmnx's rules 1-3)."""
    out_deg = np.bincount(u, minlength=n)
    in_deg = np.bincount(v, minlength=n)
    pairs = np.unique(np.concatenate([u * n + v, v * n + u]))  # each neighbour once
    neighbours = np.bincount(pairs // n, minlength=n)
    loops = np.zeros(n, dtype=bool)
    loops[u[u == v]] = True
    degree = in_deg + out_deg
    chain = (neighbours == 2) & ((degree == 2) | (degree == 4))
    return loops | (out_deg == 0) | (in_deg == 0) | ~chain


def _simplify(nodes: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray,
              minutes: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Merge chains of non-intersection nodes into single edges (rows as given)."""
    n = int(nodes.max()) + 1 if nodes.size else 0
    is_end = _endpoints(n, u, v)
    succ: list[dict[int, int]] = [{} for _ in range(n)]  # neighbour -> first edge a -> b
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        succ[a].setdefault(b, i)
    new_u: list[int] = []
    new_v: list[int] = []
    new_len: list[float] = []
    new_min: list[float] = []
    removed: set[int] = set()
    for end in nodes[is_end[nodes]].tolist():
        for nxt in succ[end]:
            if is_end[nxt]:
                continue
            path = _chain(succ, is_end, end, nxt)
            steps = [succ[a][b] for a, b in pairwise(path)]
            new_u.append(path[0])
            new_v.append(path[-1])
            new_len.append(float(sum(length[steps].tolist())))
            if minutes is not None:
                new_min.append(float(sum(minutes[steps].tolist())))
            removed.update(path[1:-1])
    gone = np.zeros(n, dtype=bool)
    gone[list(removed)] = True
    all_u = np.concatenate([u, np.asarray(new_u, dtype=np.int64)])
    all_v = np.concatenate([v, np.asarray(new_v, dtype=np.int64)])
    keep = ~gone[all_u] & ~gone[all_v]
    all_u, all_v = all_u[keep], all_v[keep]
    all_len = np.concatenate([length, new_len])[keep]
    all_min = None if minutes is None else np.concatenate([minutes, new_min])[keep]
    kept = nodes[~gone[nodes]]
    # a part with no node that ends an edge is a ring on its own: osmnx drops it
    local = np.searchsorted(kept, all_u), np.searchsorted(kept, all_v)
    ends = _endpoints(kept.size, *local)
    graph = coo_matrix((np.ones(all_u.size), local), shape=(kept.size, kept.size))
    _, labels = connected_components(graph, directed=True, connection="weak")
    with_end = np.zeros(labels.max() + 1 if labels.size else 0, dtype=bool)
    with_end[labels[ends]] = True
    keep_node = with_end[labels]
    keep_edge = keep_node[local[0]]
    return (kept[keep_node], all_u[keep_edge], all_v[keep_edge], all_len[keep_edge],
            None if all_min is None else all_min[keep_edge])


class _ChainError(Exception):
    """A node inside a chain with several ways on (osmnx: "impossible pattern")."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


def _chain(succ: list[dict[int, int]], is_end: np.ndarray, end: int, first: int
           ) -> list[int]:
    """The nodes from ``end`` through ``first`` to the next node that ends an edge."""
    path = [end, first]
    seen = {end, first}
    for step in succ[first]:
        if step in seen:
            continue
        path.append(step)
        seen.add(step)
        node = step
        while not is_end[node]:
            ahead = [m for m in succ[node] if m not in seen]
            if len(ahead) == 1:
                node = ahead[0]
                path.append(node)
                seen.add(node)
            elif not ahead:
                # back to where it started (a loop), else a dead end mid-chain
                return [*path, end] if end in succ[node] else path
            else:
                raise _ChainError(node)
        return path
    return path
