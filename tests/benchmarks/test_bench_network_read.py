"""Benchmark (issue 19, item 4): reading a street network for routing, at least 5x
faster than the osmnx reader, to the same graph.

Each reader runs in a fresh Python process, as `sitesim run` pays for it: with what
every run has imported anyway (numpy, pandas, geopandas, scipy, networkx), the time from
importing the reader to the routing graph in the area's CRS. The osmnx reader: import
osmnx, ``load_network``, project where the CRS differs, build the routing matrix. Now:
``read_routing`` (importing osmium for an OSM extract). Measured on a city's GraphML
(500 communities, 55,920 nodes) and on the Helsinki OpenStreetMap extract (walking and
driving). The graphs are compared edge by edge in tests/geo/test_streets.py; here the
node and edge counts and the total minutes are checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo import synthesize_area

pytestmark = pytest.mark.slow

HELSINKI = Path(__file__).resolve().parents[3] / "shared" / "data" / "helsinki"

_SCRIPT = """
import json, sys, time
path, mode, crs, how = sys.argv[1:5]
start = time.perf_counter()
if how == "osmnx":
    import osmnx as ox
    from geo import load_network, routing_graph
    from pyproj import CRS
    G = load_network(path, mode=mode)
    if CRS(G.graph["crs"]) != CRS(crs):  # as StudyArea.network did
        G = ox.project_graph(G, to_crs=crs)
    rg = routing_graph(G)
else:
    from geo import read_routing
    rg = read_routing(path, mode=mode, crs=crs)
seconds = time.perf_counter() - start
import resource
print(json.dumps({"seconds": seconds, "nodes": int(len(rg.node_ids)),
                  "edges": int(rg.edge_count), "minutes": float(rg.matrix.sum()),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


#: what any run has loaded before it reads its network (not timed)
_RUN_IMPORTS = ("import geo, geo.routing, numpy, pandas, geopandas, pyproj, networkx, "
                "scipy.sparse.csgraph; ")


def _read(path: Path, mode: str, crs: str, how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _RUN_IMPORTS + _SCRIPT, str(path), mode,
                          crs, how], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _compare(label: str, path: Path, mode: str, crs: str) -> float:
    old = min((_read(path, mode, crs, "osmnx") for _ in range(2)), key=lambda r: r["seconds"])
    new = min((_read(path, mode, crs, "arrays") for _ in range(3)), key=lambda r: r["seconds"])
    assert (new["nodes"], new["edges"]) == (old["nodes"], old["edges"])
    if mode == "walk":
        assert new["minutes"] == pytest.approx(old["minutes"], rel=1e-9)
    ratio = old["seconds"] / new["seconds"]
    print(f"\nBENCH network read {label} ({mode}): {new['nodes']:,} nodes, "
          f"{new['edges']:,} edges: osmnx reader {old['seconds']:.2f} s "
          f"(peak {old['rss_mb']:,.0f} MB), arrays {new['seconds']:.2f} s "
          f"(peak {new['rss_mb']:,.0f} MB): {ratio:.1f}x")
    return ratio


def test_city_graphml(tmp_path: Path) -> None:
    pack = synthesize_area(tmp_path / "city", communities=500, adults=1_200_000, seed=7)
    assert _compare("city GraphML", pack / "network.graphml", "walk", "EPSG:3067") >= 5


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_helsinki_extract(mode: str) -> None:
    path = HELSINKI / "central.osm.pbf"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    assert _compare("Helsinki OSM extract", path, mode, "EPSG:3067") >= 5
