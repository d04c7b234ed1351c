"""Benchmark (issue 19, item 1): a run's walking times on a city of 500 communities and
1.2 million adults (`sitesim area synth --communities 500 --adults 1200000`): 2,500
demand points to its outlets and candidate sites, and to its venues.

The previous implementation, measured in the same run: two passes (sites, then venues),
each a full-graph search from every demand point. Now: one pass to both layers, each
search from a site or venue on the reversed graph (fewer sources than demand points);
the minutes must be the same.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from geo import load_area, routing_graph, synthesize_area, travel_times_to
from geo.access import demand_points
from geo.travel import SNAP_TOLERANCE_M

pytestmark = pytest.mark.slow


def _previous(area: object, layer: gpd.GeoDataFrame) -> np.ndarray:
    """The network part of the previous implementation: a full-graph search from every
    demand point's node, 64 at a time, the layer's columns kept."""
    rg = routing_graph(area.network("walk"))  # type: ignore[attr-defined]
    points = demand_points(area.communities)  # type: ignore[attr-defined]
    rows, _ = rg.snap(np.column_stack([points.geometry.x, points.geometry.y]))
    cols, _ = rg.snap(np.column_stack([layer.geometry.x, layer.geometry.y]))
    unique, inverse = np.unique(rows, return_inverse=True)
    out = np.empty((rows.size, cols.size), dtype=np.float32)
    for start in range(0, unique.size, 64):
        block = unique[start:start + 64]
        dist = dijkstra(rg.matrix, directed=True, indices=block)
        sel = np.flatnonzero((inverse >= start) & (inverse < start + block.size))
        out[sel] = dist[inverse[sel] - start][:, cols]
    return out


def test_walking_times_of_a_city_of_500_communities(tmp_path: Path) -> None:
    pack = synthesize_area(tmp_path / "city", communities=500, adults=1_200_000, seed=7)
    area = load_area(pack)
    rg = routing_graph(area.network("walk"))
    sites = gpd.GeoDataFrame(geometry=pd.concat([area.outlets.geometry,
                                                 area.candidates.geometry]), crs=area.crs)
    start = time.perf_counter()
    before = [_previous(area, sites), _previous(area, area.venues)]
    previous = time.perf_counter() - start
    start = time.perf_counter()
    travel, venues = travel_times_to(area, [sites, area.venues])
    now = time.perf_counter() - start
    # the same minutes where a demand point is on the network: the previous network
    # minutes plus the walks between each point and its node (off it, straight lines)
    walk = area.config.walk_speed_kmh * 1000 / 60
    points = demand_points(area.communities)
    _, snap = rg.snap(np.column_stack([points.geometry.x, points.geometry.y]))
    on = ~travel.fallback if travel.fallback is not None else np.ones(len(points), bool)
    for got, layer, old in ((travel, sites, before[0]), (venues, area.venues, before[1])):
        _, dest = rg.snap(np.column_stack([layer.geometry.x, layer.geometry.y]))
        expected = old + (snap / walk)[:, None] + (dest / walk)[None, :]
        near = dest <= SNAP_TOLERANCE_M
        np.testing.assert_allclose(got.minutes[on][:, near], expected[on][:, near],
                                   rtol=1e-5, atol=1e-3)
    print(f"\nBENCH city travel: {len(rg.node_ids):,} nodes, {len(travel.points):,} demand "
          f"points to {len(sites)} sites and {len(area.venues)} venues: {now:.1f} s in one "
          f"pass from the sites and venues, {previous:.1f} s before (two passes from the "
          f"points): {previous / now:.1f}x")

