"""A synthetic street network: a jittered grid of local streets with arterials every ~1 km."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["grid_street_network"]

PRIMARY_EVERY = 12  # lines; with 85 m spacing an arterial every ~1 km
SECONDARY_EVERY = 6
DROP_LOCAL_SHARE = 0.15  # local street segments removed to break the grid into blocks


def grid_street_network(
    x0: float, y0: float, width_m: float, height_m: float, spacing_m: float,
    rng: np.random.Generator, crs: str,
) -> nx.MultiDiGraph:
    """Build an osmnx-compatible street graph covering a rectangle.

    Local streets (``residential``) form a grid at ``spacing_m`` with jittered crossings;
    every sixth line is ``secondary`` and every twelfth ``primary``. A share of local
    segments is removed, then the largest connected part is kept. Edges run both ways.
    """
    ncols = round(width_m / spacing_m) + 1
    nrows = round(height_m / spacing_m) + 1
    grid_col, grid_row = np.meshgrid(np.arange(ncols), np.arange(nrows))
    col, row = grid_col.ravel(), grid_row.ravel()
    jitter = np.clip(rng.normal(0.0, 0.12 * spacing_m, size=(2, col.size)),
                     -0.3 * spacing_m, 0.3 * spacing_m)
    # arterials stay straight: no jitter across them
    jitter[0, col % SECONDARY_EVERY == 0] = 0.0
    jitter[1, row % SECONDARY_EVERY == 0] = 0.0
    xs = x0 + col * spacing_m + jitter[0]
    ys = y0 + row * spacing_m + jitter[1]
    node = (row * ncols + col).reshape(nrows, ncols)

    def line_class(index: np.ndarray) -> np.ndarray:
        cls = np.full(index.shape, "residential", dtype=object)
        cls[index % SECONDARY_EVERY == 0] = "secondary"
        cls[index % PRIMARY_EVERY == 0] = "primary"
        return cls

    # horizontal segments lie along a row, vertical ones along a column
    h_u, h_v = node[:, :-1].ravel(), node[:, 1:].ravel()
    h_cls = line_class(np.repeat(np.arange(nrows), ncols - 1))
    v_u, v_v = node[:-1, :].ravel(), node[1:, :].ravel()
    v_cls = line_class(np.tile(np.arange(ncols), nrows - 1))
    u = np.concatenate([h_u, v_u])
    v = np.concatenate([h_v, v_v])
    cls = np.concatenate([h_cls, v_cls])
    keep = (cls != "residential") | (rng.random(u.size) >= DROP_LOCAL_SHARE)
    u, v, cls = u[keep], v[keep], cls[keep]

    n = xs.size
    adjacency = coo_matrix((np.ones(u.size), (u, v)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=False)
    largest = np.bincount(labels[np.unique(np.concatenate([u, v]))]).argmax()
    ok = labels[u] == largest
    u, v, cls = u[ok], v[ok], cls[ok]
    length = np.hypot(xs[u] - xs[v], ys[u] - ys[v])

    G: nx.MultiDiGraph = nx.MultiDiGraph(crs=crs, created_with="sitesim synthetic grid")
    used = np.unique(np.concatenate([u, v]))
    G.add_nodes_from(
        (int(i), {"x": float(xs[i]), "y": float(ys[i]), "street_count": 0}) for i in used
    )
    degree = np.bincount(np.concatenate([u, v]), minlength=n)
    for i in used:
        G.nodes[int(i)]["street_count"] = int(degree[i])
    edges: list[Any] = []
    for k, (a, b, c, ln) in enumerate(zip(u.tolist(), v.tolist(), cls.tolist(),
                                         length.tolist(), strict=True)):
        attrs = {"osmid": k + 1, "highway": c, "length": round(ln, 3), "oneway": False}
        edges.append((a, b, 0, {**attrs, "reversed": False}))
        edges.append((b, a, 0, {**attrs, "reversed": True}))
    G.add_edges_from(edges)
    return G
