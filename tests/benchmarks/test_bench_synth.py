"""Benchmark: `sitesim area synth` at the largest size later benchmarks use.

Run with `make bench`. Reports wall time and peak memory of the whole command at 2,000
communities and 5,000,000 adults, and, as a ratio measured in the same run, the streaming
GraphML writer against osmnx's writer (networkx's) on the same network.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from geo._synth_network import grid_street_network

pytestmark = pytest.mark.slow


def test_synth_2000_communities_5m_adults(tmp_path: Path) -> None:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "area", "synth", "--communities", "2000",
         "--adults", "5000000", "--seed", "1", "--out", str(tmp_path / "big")],
        capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    # the command reports its own peak (RUSAGE_CHILDREN would mix in earlier children)
    peak_mb = float(re.search(r"peak memory ([\d,]+) MB", " ".join(result.stdout.split())
                              ).group(1).replace(",", ""))
    size_mb = (tmp_path / "big" / "network.graphml").stat().st_size / 1e6
    print(f"\nBENCH area synth 2,000 communities / 5,000,000 adults: {seconds:.1f} s wall, "
          f"peak memory {peak_mb:,.0f} MB, network.graphml {size_mb:,.0f} MB")


def test_streaming_graphml_writer_against_osmnx(tmp_path: Path) -> None:
    scale = math.sqrt(500 / 150)
    grid = grid_street_network(0.0, 0.0, 12_000 * scale, 10_000 * scale, 85.0,
                               np.random.default_rng(3), "EPSG:3067")
    start = time.perf_counter()
    grid.write_graphml(tmp_path / "ours.graphml")
    ours = time.perf_counter() - start

    G = nx.MultiDiGraph(crs=grid.crs, created_with="sitesim synthetic grid")
    G.add_nodes_from((int(i), {"x": x, "y": y, "street_count": int(c)}) for i, x, y, c in
                     zip(grid.node, grid.x, grid.y, grid.street_count, strict=True))
    for k, (a, b, hw, ln) in enumerate(zip(grid.u, grid.v, grid.highway, grid.length,
                                           strict=True)):
        attrs = {"osmid": k + 1, "highway": str(hw), "length": float(ln), "oneway": False}
        G.add_edge(int(a), int(b), 0, **attrs, reversed=False)
        G.add_edge(int(b), int(a), 0, **attrs, reversed=True)
    start = time.perf_counter()
    ox.save_graphml(G, tmp_path / "osmnx.graphml")
    baseline = time.perf_counter() - start

    back = ox.load_graphml(tmp_path / "ours.graphml")
    assert len(back) == len(G) and back.number_of_edges() == G.number_of_edges()
    print(f"\nBENCH GraphML writer, {len(G):,} nodes / {G.number_of_edges():,} edges: "
          f"streaming {ours:.2f} s, osmnx {baseline:.2f} s, {baseline / ours:.1f}x faster")
