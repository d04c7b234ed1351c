"""geo.load_network: formats, mode filters and travel times against hand computation."""

from __future__ import annotations

import bz2
import math
from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest

from geo import NetworkError, load_network

TINY = Path(__file__).resolve().parent.parent / "data" / "tiny.osm"
EARTH_RADIUS_M = 6_371_009  # osmnx's mean earth radius


def east_west_m(lat: float, dlon: float) -> float:
    return EARTH_RADIUS_M * math.radians(dlon) * math.cos(math.radians(lat))


def edge(G: nx.MultiDiGraph, u: int, v: int) -> dict:
    return min(G.get_edge_data(u, v).values(), key=lambda d: d["length"])


def test_walk_graph_of_the_tiny_extract() -> None:
    G = load_network(TINY, mode="walk")
    # Out: the motorway, the private service way, the building, and way 110 (its node 1000
    # lies outside the extract). Left: three routes from 2 to 3, simplified to one edge
    # each (nodes of degree 2 are merged away, as osmnx does): north along residential
    # street 102, west round the block by the footway, east round it by the one-way primary.
    assert set(G.nodes) == {2, 3}
    north = EARTH_RADIUS_M * math.radians(0.001)
    east = east_west_m(60.17, 0.001)
    lengths = sorted(d["length"] for d in G.get_edge_data(2, 3).values())
    assert lengths == pytest.approx([north, north + 2 * east, north + 2 * east], rel=1e-3)
    assert sorted(d["length"] for d in G.get_edge_data(3, 2).values()) == lengths
    for _, _, d in G.edges(data=True):
        assert d["travel_min"] == pytest.approx(d["length"] / (4.8 * 1000 / 60))


def test_drive_graph_respects_one_way_and_speeds() -> None:
    G = load_network(TINY, mode="drive", drive_speeds_kmh={"residential": 30, "primary": 50})
    assert set(G.nodes) == {1, 2, 3, 4, 5, 6}
    assert not G.has_edge(4, 1) and not G.has_edge(1, 4)  # footway
    assert G.has_edge(2, 5) and not G.has_edge(5, 2)  # one-way primary
    assert edge(G, 2, 5)["speed_kph"] == 50
    assert edge(G, 3, 4)["speed_kph"] == 20  # posted maxspeed wins over the class speed
    motorway = max(G.get_edge_data(5, 6).values(), key=lambda d: d["length"])
    assert motorway["speed_kph"] == 90  # the default class speed
    d = edge(G, 1, 2)
    assert d["length"] == pytest.approx(east_west_m(60.17, 0.001), rel=1e-3)
    assert d["travel_min"] == pytest.approx(d["length"] / (30 * 1000 / 60))


def test_same_graph_from_osm_bz2_pbf_and_graphml(tmp_path: Path) -> None:
    import osmium

    compressed = tmp_path / "tiny.osm.bz2"
    compressed.write_bytes(bz2.compress(TINY.read_bytes()))
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(TINY)):
            writer.add(obj)
    reference = load_network(TINY, mode="walk")
    ox.save_graphml(reference, tmp_path / "tiny.graphml")
    for path in (compressed, pbf, tmp_path / "tiny.graphml"):
        G = load_network(path, mode="walk")
        assert set(G.nodes) == set(reference.nodes), path.name
        assert sorted(G.edges()) == sorted(reference.edges()), path.name
        total = sum(d["travel_min"] for _, _, d in G.edges(data=True))
        assert total == pytest.approx(
            sum(d["travel_min"] for _, _, d in reference.edges(data=True)))


def test_synthetic_graphml(small_synth: Path) -> None:
    walk = load_network(small_synth / "network.graphml", mode="walk")
    drive = load_network(small_synth / "network.graphml", mode="drive")
    assert walk.graph["crs"].upper() == "EPSG:3067"
    assert nx.is_weakly_connected(walk)
    classes = {d["highway"] for _, _, d in drive.edges(data=True)}
    assert classes == {"primary", "secondary", "residential"}
    speeds = {d["highway"]: d["speed_kph"] for _, _, d in drive.edges(data=True)}
    assert speeds == {"primary": 50.0, "secondary": 40.0, "residential": 30.0}


def test_bad_network_inputs(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="not found"):
        load_network(tmp_path / "missing.osm.pbf")
    other = tmp_path / "roads.csv"
    other.write_text("a,b\n")
    with pytest.raises(NetworkError, match="unknown network format"):
        load_network(other)
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="0" lon="0" '
                     'version="1"/></osm>')
    with pytest.raises(NetworkError, match="no streets usable for mode 'walk'"):
        load_network(empty)
    with pytest.raises(NetworkError, match="expected 'walk' or 'drive'"):
        load_network(TINY, mode="fly")  # type: ignore[arg-type]


@pytest.mark.realdata
def test_helsinki_pbf_and_kamppi_compose(helsinki: Path) -> None:
    G = load_network(helsinki / "central.osm.pbf", mode="walk",
                     extra=[helsinki / "kamppi_network.gpkg"])
    # the README gives about 3,826 nodes for the two composed; ours drops private ways
    assert 3_600 <= len(G) <= 3_900
    assert nx.is_weakly_connected(G)
    alone = load_network(helsinki / "central.osm.pbf", mode="walk")
    assert 2_300 <= len(alone) <= 2_500  # README: about 2,459
