"""Benchmark: 1,000 origins to every node of a 200,000-node network, 15-minute walk.

Target (issue 3): at least 20 times faster than a networkx single-source loop over the
same origins, measured in the same run, and under 10 s on the 2-core machine. The
networkx baseline runs on the graph a user holds (an osmnx MultiDiGraph with its edge
attributes, as geo.load_network returns); the leaner DiGraph is reported too.
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pytest

from geo._synth_network import grid_street_network
from geo.travel import RoutingGraph, travel_time_table

pytestmark = pytest.mark.slow

WALK_M_PER_MIN = 4.8 * 1000 / 60
REPEAT = 3


def test_thousand_origins_on_200k_nodes() -> None:
    scale = math.sqrt(1_800 / 150)  # about 200,000 nodes
    grid = grid_street_network(0.0, 0.0, 12_000 * scale, 10_000 * scale, 85.0,
                               np.random.default_rng(7), "EPSG:3067")
    u = np.concatenate([grid.u, grid.v])
    v = np.concatenate([grid.v, grid.u])
    minutes = np.concatenate([grid.length, grid.length]) / WALK_M_PER_MIN
    origins = np.random.default_rng(1).choice(grid.node, 1_000, replace=False)

    start = time.perf_counter()
    rg = RoutingGraph.from_arrays(grid.node, np.column_stack([grid.x, grid.y]), u, v, minutes)
    rg.tiling(1200.0)  # built once per graph and cutoff class, like the CSR matrix
    build = time.perf_counter() - start
    ours = float("inf")
    for _ in range(REPEAT):  # best of REPEAT, for both sides
        start = time.perf_counter()
        table = travel_time_table(rg, origins, cutoff_min=15)
        ours = min(ours, time.perf_counter() - start)

    multi = nx.MultiDiGraph(crs="EPSG:3067")
    multi.add_nodes_from((int(i), {"x": x, "y": y}) for i, x, y in
                         zip(grid.node, grid.x, grid.y, strict=True))
    lean = nx.DiGraph()
    for k, (a, b, hw, ln) in enumerate(zip(grid.u.tolist(), grid.v.tolist(),
                                           grid.highway.tolist(), grid.length.tolist(),
                                           strict=True)):
        attrs = {"osmid": k, "highway": hw, "length": ln, "oneway": False,
                 "speed_kph": 4.8, "travel_min": ln / WALK_M_PER_MIN}
        multi.add_edge(a, b, **attrs, reversed=False)
        multi.add_edge(b, a, **attrs, reversed=True)
        lean.add_edge(a, b, travel_min=ln / WALK_M_PER_MIN)
        lean.add_edge(b, a, travel_min=ln / WALK_M_PER_MIN)
    timings = {}
    reference: dict[int, dict[int, float]] = {}
    for name, G, repeat in (("osmnx MultiDiGraph", multi, REPEAT), ("lean DiGraph", lean, 1)):
        timings[name] = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            reference = {int(o): nx.single_source_dijkstra_path_length(
                G, int(o), cutoff=15, weight="travel_min") for o in origins}
            timings[name] = min(timings[name], time.perf_counter() - start)

    assert len(table) == sum(len(r) for r in reference.values())
    for o, d, t in table.sample(2_000, random_state=0).itertuples(index=False):
        assert t == pytest.approx(reference[int(o)][int(d)], rel=1e-5, abs=1e-4)
    ratio = timings["osmnx MultiDiGraph"] / ours
    print(f"\nBENCH travel times: {len(grid.node):,} nodes, {u.size:,} edges, 1,000 origins, "
          f"15-min walk, {len(table):,} pairs within reach: build {build:.2f} s, "
          f"query {ours:.3f} s (best of {REPEAT}); networkx on the osmnx MultiDiGraph "
          f"{timings['osmnx MultiDiGraph']:.2f} s ({ratio:.1f}x), on a lean DiGraph "
          f"{timings['lean DiGraph']:.2f} s ({timings['lean DiGraph'] / ours:.1f}x)")
    assert ours < 10, f"{ours:.1f} s (target under 10 s)"
    assert ratio >= 20, f"{ratio:.1f}x faster than networkx (target 20x): not met"
