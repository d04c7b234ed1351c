"""Accessibility against hand computation and a plain reference implementation of E2SFCA."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import grid_layers
from geo import (
    TravelTimes,
    coverage,
    demand_points,
    e2sfca,
    isochrones,
    load_area,
    nearest_outlet_min,
    travel_times,
    travel_times_to,
)


def reference_e2sfca(minutes: pd.DataFrame, supply: pd.Series, demand: pd.Series,
                     d0: float, weight) -> pd.Series:
    """Luo & Qi (2009), written out with loops, one point per community."""
    ratio = {}
    for j in minutes.columns:
        served = sum(demand[k] * weight(minutes.loc[k, j]) for k in minutes.index
                     if minutes.loc[k, j] <= d0)
        ratio[j] = supply[j] / served if served > 0 else 0.0
    return pd.Series({i: sum(ratio[j] * weight(minutes.loc[i, j]) for j in minutes.columns
                             if minutes.loc[i, j] <= d0) for i in minutes.index})


@pytest.fixture
def grid_minutes() -> pd.DataFrame:
    """A 3 x 3 grid of communities and 3 sites; minutes = 5 x Manhattan distance."""
    cells = {f"c{r}{c}": (r, c) for r in range(3) for c in range(3)}
    sites = {"s1": (0, 0), "s2": (1, 2), "s3": (2, 1)}
    return pd.DataFrame({s: {k: 5.0 * (abs(r - a) + abs(c - b)) for k, (r, c) in cells.items()}
                         for s, (a, b) in sites.items()})


@pytest.mark.parametrize("decay", ["step", "gaussian"])
def test_e2sfca_equals_reference(grid_minutes: pd.DataFrame, decay: str) -> None:
    supply = pd.Series({"s1": 100.0, "s2": 50.0, "s3": 80.0})
    demand = pd.Series(np.arange(1, 10) * 100.0, index=grid_minutes.index)
    sigma2 = 10.0**2 / (2 * math.log(100))
    weight = (lambda t: 1.0) if decay == "step" else (lambda t: math.exp(-t * t / (2 * sigma2)))
    travel = TravelTimes.from_community_minutes(grid_minutes)
    got = e2sfca(travel, supply, demand, catchment_min=10, decay=decay)
    ref = reference_e2sfca(grid_minutes, supply, demand, 10, weight)
    assert got.to_numpy() == pytest.approx(ref.reindex(got.index).to_numpy(), rel=1e-9)


def test_e2sfca_one_catchment_is_supply_over_demand(grid_minutes: pd.DataFrame) -> None:
    supply = pd.Series({"s1": 100.0, "s2": 50.0, "s3": 80.0})
    demand = pd.Series(np.arange(1, 10) * 100.0, index=grid_minutes.index)
    travel = TravelTimes.from_community_minutes(grid_minutes)
    got = e2sfca(travel, supply, demand, catchment_min=1_000)
    assert np.allclose(got, supply.sum() / demand.sum())


def test_coverage_and_nearest_by_hand(grid_minutes: pd.DataFrame) -> None:
    travel = TravelTimes.from_community_minutes(grid_minutes)
    nearest = nearest_outlet_min(travel)
    assert nearest["c00"] == 0 and nearest["c11"] == 5 and nearest["c22"] == 5
    assert nearest["c20"] == 5 and nearest["c02"] == 5
    cov = coverage(travel, minutes=4.9)
    assert cov.sum() == 3  # only the communities where a site stands
    only_s1 = nearest_outlet_min(travel, sites=["s1"])
    assert only_s1["c22"] == 20


def test_points_are_population_weighted() -> None:
    # one community, two points: one 2 minutes from the site, one 10 minutes
    minutes = np.array([[2.0], [10.0]], dtype=np.float32)
    travel = TravelTimes(points=pd.DataFrame({"community_id": ["A", "A"], "share": [0.5, 0.5]}),
                         sites=pd.Index(["s"]), minutes=minutes,
                         communities=pd.Index(["A"], name="community_id"))
    assert nearest_outlet_min(travel)["A"] == pytest.approx(6.0)
    assert coverage(travel, minutes=5)["A"] == pytest.approx(0.5)


def test_demand_points_inside_their_community() -> None:
    comm = grid_layers()["communities"].set_index("community_id")
    pts = demand_points(comm, points_per_community=5)
    assert pts.groupby("community_id").size().tolist() == [5, 5, 5, 5]
    assert np.allclose(pts.groupby("community_id")["share"].sum(), 1.0)
    for cid, geom in comm.geometry.items():
        assert shapely.contains(geom, pts[pts["community_id"] == cid].geometry).all()


def test_grid_pack_without_network_uses_straight_lines(grid_pack: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(grid_pack)
    travel = travel_times(area, area.outlets, points_per_community=1)
    assert len(travel.fallback_communities) == 4
    # community A's representative point to outlet O1 (both inside the square A)
    assert np.isfinite(travel.minutes).all()


def test_sample_city_coverage_is_consistent() -> None:
    area = load_area("builtin:sample-city")
    own = area.outlets.index[area.outlets["owner"] == "own"]
    travel = travel_times(area, area.outlets)
    cov15 = coverage(travel, minutes=15, sites=own)
    cov30 = coverage(travel, minutes=30, sites=own)
    assert ((cov15 >= 0) & (cov15 <= cov30) & (cov30 <= 1)).all()
    nearest = nearest_outlet_min(travel, sites=own)
    assert (nearest[cov15 == 1] <= 15).all()
    assert len(travel.fallback_communities) == 0


def test_one_pass_to_several_layers_equals_one_pass_each(small_synth: Path) -> None:
    """Sites and venues in one pass (each search fills both) give exactly the minutes of
    two passes, ids shared across the layers included."""
    area = load_area(small_synth)
    venues = area.venues.set_axis(area.outlets.index[:len(area.venues)].append(
        area.venues.index[len(area.outlets):]))  # some ids the same as outlets'
    both = travel_times_to(area, [area.outlets, venues])
    for got, layer in zip(both, (area.outlets, venues), strict=True):
        alone = travel_times(area, layer)
        assert got.sites.equals(alone.sites)
        np.testing.assert_array_equal(got.minutes, alone.minutes)
        pd.testing.assert_frame_equal(got.community_minutes(), alone.community_minutes())


def test_isochrones_grow_with_time() -> None:
    G = nx.MultiDiGraph(crs="EPSG:3067")
    for i in range(10):
        for j in range(10):
            G.add_node(i * 10 + j, x=100.0 * i, y=100.0 * j)
    for i in range(10):
        for j in range(10):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 10 and j + dj < 10:
                    a, b = i * 10 + j, (i + di) * 10 + j + dj
                    G.add_edge(a, b, travel_min=1.0)
                    G.add_edge(b, a, travel_min=1.0)
    import geopandas as gpd

    sites = gpd.GeoDataFrame({"site_id": ["x"]}, geometry=[shapely.Point(450, 450)],
                             crs="EPSG:3067").set_index("site_id")
    iso = isochrones(G, sites, minutes=(2, 4, 8))
    areas = iso.sort_values("minutes").area.to_numpy()
    assert list(iso["minutes"]) == [2.0, 4.0, 8.0]
    assert areas[0] < areas[1] < areas[2]
    assert iso.geometry.iloc[0].contains(shapely.Point(450, 450))
    from geo import routing_graph  # a routing graph (StudyArea.routing()) gives the same
    same = isochrones(routing_graph(G), sites, minutes=(2, 4, 8))
    assert same.geometry.geom_equals(iso.geometry).all()
