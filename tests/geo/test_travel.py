"""Travel times against networkx Dijkstra; snapping and the straight-line fallback."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import InputError, RoutingGraph, load_area, travel_time_matrix


def random_graph(n: int, p: float, seed: int) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs="EPSG:3067")
    for i in range(n):
        G.add_node(i, x=float(rng.uniform(0, 1000)), y=float(rng.uniform(0, 1000)))
    for u in range(n):
        for v in range(n):
            if u != v and rng.random() < p:
                G.add_edge(u, v, travel_min=float(rng.uniform(0.1, 5)))
                if rng.random() < 0.3:  # a parallel, slower edge
                    G.add_edge(u, v, travel_min=float(rng.uniform(5, 9)))
    return G


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 25), p=st.floats(0.05, 0.4), seed=st.integers(0, 10_000),
       cutoff=st.one_of(st.none(), st.floats(0.5, 12)))
def test_equals_networkx_dijkstra(n: int, p: float, seed: int, cutoff: float | None) -> None:
    G = random_graph(n, p, seed)
    nodes = list(G.nodes)
    result = travel_time_matrix(G, nodes, nodes, cutoff_min=cutoff).minutes
    for o in nodes:
        ref = nx.single_source_dijkstra_path_length(G, o, cutoff=cutoff, weight="travel_min")
        row = result.loc[o]
        assert set(row.index[np.isfinite(row.to_numpy())]) == set(ref)
        for d, minutes in ref.items():
            assert row[d] == pytest.approx(minutes, rel=1e-6, abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 25), p=st.floats(0.05, 0.4), seed=st.integers(0, 10_000),
       few=st.integers(1, 3))
def test_few_destinations_searched_backwards_equal_networkx(n: int, p: float, seed: int,
                                                             few: int) -> None:
    """With fewer destinations than origins the searches run from the destinations on
    the reversed graph: on a directed graph (one-way streets) the minutes are still
    those from each origin to each destination."""
    G = random_graph(n, p, seed)
    nodes = list(G.nodes)
    targets = nodes[:few]
    result = travel_time_matrix(G, nodes, targets).minutes
    for o in nodes:
        ref = nx.single_source_dijkstra_path_length(G, o, weight="travel_min")
        for d in targets:
            if d in ref:
                assert result.loc[o, d] == pytest.approx(ref[d], rel=1e-6, abs=1e-5)
            else:
                assert np.isinf(result.loc[o, d])


def test_sample_city_against_networkx() -> None:
    area = load_area("builtin:sample-city")
    G = area.network("walk")
    rng = np.random.default_rng(4)
    nodes = np.array(list(G.nodes))
    origins = rng.choice(nodes, 20, replace=False)
    matrix = travel_time_matrix(G, origins, nodes, cutoff_min=15)
    for o in origins:
        ref = nx.single_source_dijkstra_path_length(G, o, cutoff=15, weight="travel_min")
        row = matrix.minutes.loc[o]
        assert np.isfinite(row.to_numpy()).sum() == len(ref)
        got = row[list(ref)].to_numpy()
        assert np.allclose(got, list(ref.values()), rtol=1e-6, atol=1e-4)
    long = matrix.to_long()
    assert list(long.columns) == ["origin_id", "dest_id", "travel_min"]
    assert len(long) == int(np.isfinite(matrix.minutes.to_numpy()).sum())
    assert long["travel_min"].max() <= 15


def line_graph() -> nx.MultiDiGraph:
    """Three nodes on a line, 100 m apart, 1 minute per edge, both ways."""
    G = nx.MultiDiGraph(crs="EPSG:3067")
    for i in range(3):
        G.add_node(i, x=1000.0 + 100 * i, y=2000.0)
    for u, v in ((0, 1), (1, 2)):
        G.add_edge(u, v, travel_min=1.0)
        G.add_edge(v, u, travel_min=1.0)
    return G


def test_points_snap_and_fall_back() -> None:
    G = line_graph()
    origins = gpd.GeoDataFrame(
        {"name": ["on", "near", "far"]},
        geometry=[shapely.Point(1000, 2000), shapely.Point(1200, 2040),
                  shapely.Point(1000, 2000 + 3000)], crs="EPSG:3067").set_index("name")
    dest = gpd.GeoSeries([shapely.Point(1200, 2000)], crs="EPSG:3067")
    m = travel_time_matrix(G, origins, dest, snap_tolerance_m=500, access_speed_kmh=6.0,
                           detour_factor=1.3)
    assert m.minutes.loc["on", 0] == pytest.approx(2.0)
    # 40 m from node 2 at 6 km/h (100 m per minute) = 0.4 min, then 0 on the network
    assert m.minutes.loc["near", 0] == pytest.approx(0.4)
    assert m.origins.snap_m.tolist() == pytest.approx([0.0, 40.0, 3000.0])
    # beyond the tolerance: straight line x detour at the access speed
    straight = np.hypot(200, 3000)
    assert m.minutes.loc["far", 0] == pytest.approx(straight * 1.3 / 100, rel=1e-6)
    assert m.fallback_origins == 1


def test_reprojects_points_and_errors() -> None:
    G = line_graph()
    pts = gpd.GeoSeries([shapely.Point(1000, 2000)], crs="EPSG:3067").to_crs("EPSG:4326")
    m = travel_time_matrix(G, pts, [2])
    assert m.minutes.iloc[0, 0] == pytest.approx(2.0, abs=1e-3)
    with pytest.raises(InputError, match="node id"):
        travel_time_matrix(G, [7], [0])
    with pytest.raises(InputError, match="cutoff_min"):
        travel_time_matrix(G, [0], [1], cutoff_min=0)
    with pytest.raises(InputError, match="negative or non-finite"):
        RoutingGraph.from_arrays(np.array([0, 1]), np.zeros((2, 2)), np.array([0]),
                                 np.array([1]), np.array([-1.0]))


def test_routing_graph_is_built_once(small_synth: Path) -> None:
    from geo import routing_graph

    G = load_area(small_synth).network("walk")
    assert routing_graph(G) is routing_graph(G)


@settings(max_examples=20, deadline=None)
@given(side=st.integers(4, 30), seed=st.integers(0, 10_000), cutoff=st.floats(0.5, 6))
def test_tiled_search_equals_networkx(side: int, seed: int, cutoff: float) -> None:
    """A jittered grid where minutes follow distance, so that the tiled search is used."""
    from geo.travel import travel_time_table

    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs="EPSG:3067")
    xy = {}
    for i in range(side):
        for j in range(side):
            xy[i * side + j] = (100.0 * i + rng.uniform(-20, 20), 100.0 * j + rng.uniform(-20, 20))
            G.add_node(i * side + j, x=xy[i * side + j][0], y=xy[i * side + j][1])
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < side and j + dj < side and rng.random() > 0.1:
                    a, b = i * side + j, (i + di) * side + j + dj
                    metres = float(np.hypot(*np.subtract(xy[a], xy[b])))
                    G.add_edge(a, b, travel_min=metres / 80 * rng.uniform(1, 2))
                    G.add_edge(b, a, travel_min=metres / 80 * rng.uniform(1, 2))
    nodes = list(G.nodes)
    origins = list(rng.choice(nodes, min(10, len(nodes)), replace=False))
    table = travel_time_table(G, origins, cutoff_min=cutoff)
    matrix = travel_time_matrix(G, origins, nodes, cutoff_min=cutoff).minutes
    for o in origins:
        ref = nx.single_source_dijkstra_path_length(G, o, cutoff=cutoff, weight="travel_min")
        mine = table[table["origin_id"] == o].set_index("dest_id")["travel_min"]
        assert set(mine.index) == set(ref)
        assert np.allclose(mine[list(ref)].to_numpy(), list(ref.values()), rtol=1e-5,
                           atol=1e-4)
        row = matrix.loc[o]
        assert set(row.index[np.isfinite(row.to_numpy())]) == set(ref)


def test_an_unprojected_network_is_measured_in_metres() -> None:
    """A graph in EPSG:4326 (what geo.load_network returns for an OSM extract): a point
    30 km east of it is 30 km away, not 0.3 "m" (degrees read as metres), so it falls
    back to the straight line; a point 40 m from a node snaps 40 m. Distances are the
    geodesic ones (pyproj.Geod) within 0.5%."""
    from pyproj import Geod

    lon0, lat0 = 24.94, 60.17  # Helsinki
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(5):  # a street of 5 nodes, about 111 m apart (0.002 degrees of longitude)
        G.add_node(i, x=lon0 + 0.002 * i, y=lat0)
    for i in range(4):
        G.add_edge(i, i + 1, travel_min=1.0)
        G.add_edge(i + 1, i, travel_min=1.0)
    geod = Geod(ellps="WGS84")
    near_lat = lat0 + 40 / 111_320  # 40 m north of node 0
    far_lon = lon0 + 0.008 + 30_000 / (111_320 * np.cos(np.radians(lat0)))  # 30 km east
    points = gpd.GeoSeries([shapely.Point(lon0, near_lat), shapely.Point(far_lon, lat0)],
                           index=["near", "far"], crs="EPSG:4326")
    result = travel_time_matrix(G, points, [0, 4])
    snap = dict(zip(result.origins.ids, result.origins.snap_m, strict=True))
    want_near = geod.inv(lon0, lat0, lon0, near_lat)[2]
    want_far = geod.inv(lon0 + 0.008, lat0, far_lon, lat0)[2]
    assert snap["near"] == pytest.approx(want_near, rel=0.005)
    assert snap["far"] == pytest.approx(want_far, rel=0.005)
    assert result.origins.fallback.tolist() == [False, True]
    # raw coordinates are read in the graph's own CRS (degrees) too
    raw = travel_time_matrix(G, np.array([[lon0, near_lat]]), [0])
    assert raw.origins.snap_m[0] == pytest.approx(want_near, rel=0.005)
    # the same street in a metric CRS gives the same minutes along it
    rg = RoutingGraph.from_networkx(G)
    assert rg.crs is not None and "326" in rg.crs and rg.source_crs == "EPSG:4326"
    assert result.minutes.loc["near", 4] > result.minutes.loc["near", 0] + 3.9
