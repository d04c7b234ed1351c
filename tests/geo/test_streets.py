"""geo.read_routing: street files straight into arrays give the graph geo.load_network
builds (osmnx is the reference), on real data, on osmnx's own GraphML and on random
OpenStreetMap extracts; driving minutes against an unsimplified graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import osmnx as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from geo import NetworkError, RoutingGraph, load_network, read_routing, routing_graph
from geo.street_rules import DEFAULT_DRIVE_SPEEDS_KMH, road_speed_kmh

HELSINKI = Path(__file__).resolve().parents[3] / "shared" / "data" / "helsinki"
TINY = Path(__file__).resolve().parent.parent / "data" / "tiny.osm"


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared Helsinki data ships beside the repo)")
    return path


def assert_same_graph(new: RoutingGraph, old: RoutingGraph, *, rtol: float = 1e-12) -> None:
    """The same node ids and positions, the same directed edges and minutes."""
    assert np.array_equal(np.sort(new.node_ids), np.sort(old.node_ids))
    assert new.edge_count == old.edge_count
    at = np.argsort(new.node_ids)[np.searchsorted(np.sort(new.node_ids), old.node_ids)]
    np.testing.assert_allclose(new.xy[at], old.xy, rtol=0, atol=1e-6)
    a = old.matrix.tocoo()
    b = new.matrix[at][:, at].tocoo()
    key_a = np.lexsort((a.col, a.row))
    key_b = np.lexsort((b.col, b.row))
    assert np.array_equal(a.row[key_a], b.row[key_b])
    assert np.array_equal(a.col[key_a], b.col[key_b])
    np.testing.assert_allclose(b.data[key_b], a.data[key_a], rtol=rtol)


def old_reader(path: Path, mode: str, **kw: object) -> RoutingGraph:
    return routing_graph(load_network(path, mode=mode, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_tiny_extract_as_the_osmnx_reader(mode: str) -> None:
    assert_same_graph(read_routing(TINY, mode=mode), old_reader(TINY, mode))


def test_helsinki_extract_walking_equals_the_osmnx_reader() -> None:
    path = needs(HELSINKI / "central.osm.pbf")
    new = read_routing(path, mode="walk")
    assert len(new.node_ids) == 2441 and new.edge_count == 6990
    assert_same_graph(new, old_reader(path, "walk"))


def test_helsinki_extract_driving_minutes_against_the_unsimplified_streets(
        tmp_path: Path) -> None:
    """Driving: the same nodes and edges as the osmnx reader, and every shortest time
    between them equal to the one on the unsimplified streets, each segment at its own
    road's speed (osmnx's merged edges take one class for a chain of several, picked
    from a set: so the minutes themselves are checked against the segments)."""
    from geo.network import _osm_to_filtered_xml

    path = needs(HELSINKI / "central.osm.pbf")
    new = read_routing(path, mode="drive")
    old = old_reader(path, "drive")
    assert np.array_equal(np.sort(new.node_ids), np.sort(old.node_ids))
    assert new.edge_count == old.edge_count
    xml = tmp_path / "drive.osm"
    _osm_to_filtered_xml(path, "drive", xml)
    raw = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    speeds = dict(DEFAULT_DRIVE_SPEEDS_KMH)
    nodes = list(raw.nodes)
    u, v, minutes = [], [], []
    for a, b, data in raw.edges(data=True):
        speed = road_speed_kmh(str(data.get("highway", "")), data.get("maxspeed"), speeds,
                               30.0)
        u.append(a), v.append(b), minutes.append(data["length"] / (speed * 1000 / 60))
    xy = np.array([[raw.nodes[n]["x"], raw.nodes[n]["y"]] for n in nodes])
    segments = RoutingGraph.from_arrays(np.array(nodes), xy, np.array(u), np.array(v),
                                        np.array(minutes), crs="epsg:4326")
    rows = segments.index_of(new.node_ids)
    expected = dijkstra(segments.matrix, indices=rows)[:, rows]
    got = dijkstra(new.matrix)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_geopackage_equals_the_osmnx_reader(mode: str) -> None:
    path = needs(HELSINKI / "kamppi_network.gpkg")
    assert_same_graph(read_routing(path, mode=mode), old_reader(path, mode))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_synthetic_graphml_equals_the_osmnx_reader(small_synth: Path, mode: str) -> None:
    path = small_synth / "network.graphml"
    assert_same_graph(read_routing(path, mode=mode), old_reader(path, mode))


def test_graphml_written_by_osmnx(tmp_path: Path) -> None:
    """osmnx's own GraphML (networkx's writer: lists, geometry, every attribute)."""
    src = needs(HELSINKI / "central.osm.pbf")
    for mode in ("walk", "drive"):
        path = tmp_path / f"{mode}.graphml"
        ox.save_graphml(load_network(src, mode=mode), path)
        assert_same_graph(read_routing(path, mode=mode), old_reader(path, mode))


def test_graphml_laid_out_otherwise_reads_the_same(small_synth: Path, tmp_path: Path) -> None:
    """Comments (and any other layout the fast path does not read) go through the
    element-by-element parser to the same graph."""
    text = (small_synth / "network.graphml").read_text(encoding="utf-8")
    odd = tmp_path / "odd.graphml"
    odd.write_text(text.replace("<graph ", "<!-- a comment -->\n  <graph ", 1),
                   encoding="utf-8")
    assert_same_graph(read_routing(odd), read_routing(small_synth / "network.graphml"))


def test_a_study_area_routes_in_its_crs(small_synth: Path) -> None:
    from geo import load_area

    area = load_area(small_synth)
    rg = area.routing("walk")
    assert rg.crs == area.crs.to_string()
    assert_same_graph(rg, routing_graph(area.network("walk")))
    assert area.summary()["network"]["edges"] == area.network("walk").number_of_edges()


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="not found"):
        read_routing(tmp_path / "none.graphml")
    with pytest.raises(NetworkError, match="unknown network format"):
        (tmp_path / "streets.shp").write_bytes(b"")
        read_routing(tmp_path / "streets.shp")
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node id='1'>", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"bad\.graphml: cannot read as GraphML"):
        read_routing(bad)
    named = tmp_path / "named.graphml"
    named.write_text(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d0" for="node" attr.name="x"/><key id="d1" for="node" attr.name="y"/>'
        '<graph edgedefault="directed"><node id="a"><data key="d0">1</data>'
        '<data key="d1">2</data></node></graph></graphml>', encoding="utf-8")
    with pytest.raises(NetworkError, match="node id 'a' is not a whole number"):
        read_routing(named)
    with pytest.raises(NetworkError, match="mode = 'bike'"):
        read_routing(named, mode="bike")


# -- random extracts: the simplification rules against osmnx's -------------------------

@st.composite
def extracts(draw: st.DrawFn) -> str:
    """A random OSM extract: nodes on a small grid, ways of 2-6 nodes (some closed,
    some with repeated or missing nodes), random one-way and roundabout tags."""
    size = draw(st.integers(3, 5))
    nodes = {100 + i: (60.17 + (i // size) * 1e-3, 24.94 + (i % size) * 1e-3)
             for i in range(size * size)}
    ways = []
    for w in range(draw(st.integers(1, 9))):
        refs = draw(st.lists(st.sampled_from(sorted(nodes)), min_size=2, max_size=6))
        if draw(st.booleans()):
            refs.append(refs[0])  # closed
        if draw(st.integers(0, 9)) == 0:
            refs.insert(1, 999)  # a node outside the extract
        tags = {"highway": "residential"}
        oneway = draw(st.sampled_from([None, "yes", "-1", "no", "reverse"]))
        if oneway:
            tags["oneway"] = oneway
        if draw(st.integers(0, 5)) == 0:
            tags["junction"] = "roundabout"
        ways.append((200 + w, refs, tags))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    lines += [f'<node id="{n}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>'
              for n, (lat, lon) in nodes.items()]
    for way_id, refs, tags in ways:
        lines.append(f'<way id="{way_id}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extract=extracts(), mode=st.sampled_from(["walk", "drive"]))
def test_random_extracts_equal_the_osmnx_reader(extract: str, mode: str,
                                                tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    path = tmp_path_factory.mktemp("osm") / "random.osm"
    path.write_text(extract, encoding="utf-8")
    try:
        old = old_reader(path, mode)
    except NetworkError:  # no streets usable
        with pytest.raises(NetworkError):
            read_routing(path, mode=mode)
        return
    if old.edge_count == 0:  # osmnx keeps a lone node; a graph without streets is an error
        with pytest.raises(NetworkError, match="no streets usable"):
            read_routing(path, mode=mode)
        return
    assert_same_graph(read_routing(path, mode=mode), old, rtol=1e-9)
    shutil.rmtree(path.parent)


# -- files read alike by both paths, or refused with a reason -------------------------

def graphml(keys: str, nodes: str, edges: str, crs: str = "EPSG:3067") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
            '<key id="g0" for="graph" attr.name="crs" attr.type="string"/>\n'
            '<key id="n0" for="node" attr.name="x" attr.type="string"/>\n'
            '<key id="n1" for="node" attr.name="y" attr.type="string"/>\n'
            '<key id="e0" for="edge" attr.name="length" attr.type="string"/>\n'
            f'{keys}<graph edgedefault="directed">\n{nodes}{edges}'
            + (f'<data key="g0">{crs}</data>\n' if crs else "") + "</graph></graphml>\n")


def node(i: int, x: float) -> str:
    return f'<node id="{i}"><data key="n0">{x}</data><data key="n1">0.0</data></node>\n'


def street(a: int, b: int, length: float, extra: str = "") -> str:
    return (f'<edge source="{a}" target="{b}" id="0"><data key="e0">{length}</data>'
            f'{extra}</edge>\n')


NODES = node(1, 0.0) + node(2, 100.0) + node(3, 200.0)


def test_an_attribute_under_two_keys_is_read_from_both(tmp_path: Path) -> None:
    """networkx writes one key per value type: maxspeed 10 (an int) and "50" (text)."""
    keys = ('<key id="e1" for="edge" attr.name="maxspeed" attr.type="long"/>\n'
            '<key id="e2" for="edge" attr.name="maxspeed" attr.type="string"/>\n'
            '<key id="e3" for="edge" attr.name="highway" attr.type="string"/>\n')
    road = '<data key="e3">residential</data>'
    path = tmp_path / "two-keys.graphml"
    path.write_text(graphml(keys, NODES,
                            street(1, 2, 100.0, '<data key="e1">10</data>' + road)
                            + street(2, 3, 100.0, '<data key="e2">50</data>' + road)))
    rg = read_routing(path, mode="drive")
    minutes = {(int(rg.node_ids[a]), int(rg.node_ids[b])): w for a, b, w in
               zip(*rg.matrix.nonzero(), rg.matrix.data, strict=True)}
    assert minutes[1, 2] == pytest.approx(100.0 / (10 * 1000 / 60))
    assert minutes[2, 3] == pytest.approx(100.0 / (50 * 1000 / 60))


def test_a_key_for_all_elements_stays_with_its_own(tmp_path: Path) -> None:
    """A node's highway=crossing under a key declared for "all" is not an edge's."""
    keys = '<key id="a0" for="all" attr.name="highway" attr.type="string"/>\n'
    nodes = ('<node id="1"><data key="n0">0.0</data><data key="n1">0.0</data>'
             '<data key="a0">crossing</data></node>\n' + node(2, 100.0) + node(3, 200.0))
    path = tmp_path / "all.graphml"
    path.write_text(graphml(keys, nodes, street(1, 2, 100.0)
                            + street(2, 3, 100.0, '<data key="a0">footway</data>')))
    assert read_routing(path, mode="drive").edge_count == 1  # the footway only is dropped
    assert read_routing(path, mode="walk").edge_count == 4


def test_data_written_otherwise_is_not_missed(tmp_path: Path) -> None:
    keys = '<key id="e1" for="edge" attr.name="access" attr.type="string"/>\n'
    path = tmp_path / "space.graphml"
    path.write_text(graphml(keys, NODES, street(1, 2, 100.0) + street(
        2, 3, 100.0, '<data key="e1" xml:space="preserve">private</data>')))
    assert read_routing(path, mode="walk").edge_count == 2  # the private way is left out


@pytest.mark.parametrize(("edges", "crs", "message"), [
    (street(1, 2, float("nan")), "EPSG:3067", "negative or not a number"),
    (street(1, 2, -5.0), "EPSG:3067", "negative or not a number"),
    (street(1, 2, 100.0), "", "names no CRS"),
    (street(1, 9, 100.0), "EPSG:3067", "names node 9"),
])
def test_broken_graphml_is_refused_with_its_reason(tmp_path: Path, edges: str, crs: str,
                                                   message: str) -> None:
    path = tmp_path / "broken.graphml"
    path.write_text(graphml("", NODES, edges, crs=crs))
    with pytest.raises(NetworkError, match=message):
        read_routing(path)


def test_node_ids_beyond_64_bits_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.graphml"
    path.write_text(graphml("", node(99999999999999999999, 0.0) + node(2, 1.0),
                            street(2, 2, 1.0)))
    with pytest.raises(NetworkError, match="not a whole number"):
        read_routing(path)


def test_a_geopackage_edge_to_a_missing_node_is_refused(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    nodes = gpd.GeoDataFrame({"osmid": [10, 20, 30, 40]},
                             geometry=[Point(i * 100.0, 0.0) for i in range(4)],
                             crs="EPSG:3067")
    edges = gpd.GeoDataFrame({"u": [10, 30], "v": [20, 35], "key": [0, 0],
                              "length": [100.0, 100.0], "highway": ["residential"] * 2},
                             geometry=[LineString([(0, 0), (100, 0)])] * 2, crs="EPSG:3067")
    path = tmp_path / "net.gpkg"
    nodes.to_file(path, layer="nodes")
    edges.to_file(path, layer="edges")
    with pytest.raises(NetworkError, match="ends at node 35, which is not among"):
        read_routing(path)


def test_a_way_given_twice_counts_once(tmp_path: Path) -> None:
    """Two extracts merged give some ways twice: osmnx keeps one; so does the reader."""
    text = TINY.read_text(encoding="utf-8")
    first_way = text.index("<way ")
    way = text[first_way:text.index("</way>", first_way) + len("</way>")]
    path = tmp_path / "twice.osm"
    path.write_text(text.replace("</osm>", way + "\n</osm>"), encoding="utf-8")
    for mode in ("walk", "drive"):
        assert_same_graph(read_routing(path, mode=mode), old_reader(path, mode))
