"""geo.load_area and geo.check_area on hand-made packs, one problem at a time."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import grid_layers, write_pack
from geo import AreaError, SitesimWarning, check_area, load_area


def errors_of(path: Path) -> list[str]:
    return [p.line() for p in check_area(path) if p.severity == "error"]


def test_grid_pack_loads_with_hand_counts(grid_pack: Path) -> None:
    with pytest.warns(SitesimWarning, match="no street network"):
        area = load_area(grid_pack)
    assert area.crs.to_epsg() == 3067
    assert list(area.communities.index) == ["A", "B", "C", "D"]
    assert area.communities.index.name == "community_id"
    assert area.adults.tolist() == [500, 400, 450, 500]
    s = area.summary()
    assert s["adults"] == 1850
    assert s["adults_by_age"] == {"18-35": 1000, "36-55": 400, "56+": 450}
    assert s["outlets"] == {"competitor smart_atm": 1, "own branch": 1}
    assert any("working CRS EPSG:3067" in n for n in area.notes)


def test_reprojects_geographic_input_to_local_utm(tmp_path: Path) -> None:
    layers = {k: v.to_crs("EPSG:4326") for k, v in grid_layers().items()}
    pack = write_pack(tmp_path / "wgs", layers, area_toml='name = "wgs"\n')
    with pytest.warns(SitesimWarning):
        area = load_area(pack)
    assert area.crs.to_epsg() == 32635  # Helsinki lies in UTM zone 35N
    assert any("reprojected from EPSG:4326 to EPSG:32635" in n for n in area.notes)
    # 1 km squares stay 1 km squares, to within the projections' difference
    assert np.allclose(area.communities.area, 1e6, rtol=2e-3)


def test_a_geopackage_pack(tmp_path: Path) -> None:
    gpkg = tmp_path / "area.gpkg"
    for name, gdf in grid_layers().items():
        gdf.to_file(gpkg, layer=name, engine="pyogrio")
    (tmp_path / "area.toml").write_text('name = "gpkg"\n')
    with pytest.warns(SitesimWarning):
        area = load_area(gpkg)
    assert len(area.communities) == 4


def test_missing_layer_and_missing_column(make_pack) -> None:
    comm = grid_layers()["communities"].drop(columns=["households"])
    errors = errors_of(make_pack(venues=None, communities=comm))
    assert any("layer 'venues' is missing" in e for e in errors)
    assert any("missing column(s) households" in e for e in errors)


def test_duplicate_ids(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm.loc[1, "community_id"] = "A"
    [line] = [e for e in errors_of(make_pack(communities=comm)) if "duplicated" in e]
    assert "layer 'communities': column 'community_id'" in line
    assert "(ids A)" in line


def test_negative_non_numeric_and_missing_counts_all_at_once(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm["pop_18_35"] = comm["pop_18_35"].astype(object)
    comm.loc[0, "pop_18_35"] = -5
    comm.loc[1, "pop_18_35"] = "many"
    comm.loc[2, "pop_36_55"] = None
    errors = errors_of(make_pack(communities=comm))
    text = "\n".join(errors)
    assert "column 'pop_18_35': 1 value(s) below 0, such as -5 (ids A); counts must be >= 0" in text
    assert "column 'pop_18_35': 1 non-numeric value(s) such as 'many' (ids B)" in text
    assert "column 'pop_36_55': 1 missing value(s) (ids C)" in text


def test_invalid_polygon_is_repaired_with_a_warning(make_pack) -> None:
    comm = grid_layers()["communities"]
    x, y = comm.geometry.iloc[0].bounds[:2]
    # a square drawn with a repeated ring point and a spike back: invalid, area unchanged
    ring = [(x, y), (x + 1000, y), (x + 1000, y + 1000), (x + 1000, y + 1200),
            (x + 1000, y + 1000), (x, y + 1000), (x, y)]
    comm.loc[0, "geometry"] = shapely.Polygon(ring)
    assert not comm.geometry.iloc[0].is_valid
    pack = make_pack(communities=comm)
    problems = check_area(pack)
    assert not [p for p in problems if p.severity == "error"]
    [warn] = [p for p in problems if "make_valid" in p.message]
    assert warn.ids == ("A",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(pack)
    assert area.communities.geometry.is_valid.all()


def test_empty_geometry_is_an_error(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm.loc[3, "geometry"] = shapely.Polygon()
    errors = errors_of(make_pack(communities=comm))
    assert any("1 empty or missing geometries (ids D)" in e for e in errors)


def test_outlet_far_outside(make_pack) -> None:
    out = grid_layers()["outlets"]
    out.loc[1, "geometry"] = shapely.Point(385_000 + 60_000, 6_672_000)
    [line] = errors_of(make_pack(outlets=out))
    assert "layer 'outlets'" in line and "outside the communities" in line and "CMP" not in line
    assert "(ids O2)" in line


def test_swapped_latitude_longitude(make_pack) -> None:
    out = grid_layers()["outlets"].to_crs("EPSG:4326")
    swapped = shapely.transform(out.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    out = out.set_geometry(gpd.GeoSeries(swapped, crs="EPSG:4326"))
    errors = errors_of(make_pack(outlets=out))
    assert any("latitude and longitude look swapped" in e and "O1, O2" in e for e in errors)


def test_unknown_kinds_and_owner(make_pack) -> None:
    out = grid_layers()["outlets"]
    out.loc[0, "kind"] = "kiosk"
    out.loc[1, "owner"] = "ours"
    cand = grid_layers()["candidates"]
    cand.loc[0, "kinds"] = "micro_branch|drone"
    errors = errors_of(make_pack(outlets=out, candidates=cand))
    assert any("column 'kind': 1 unknown value(s) ['kiosk']" in e and "(ids O1)" in e
               for e in errors)
    assert any("column 'owner'" in e and "use one of own, competitor" in e for e in errors)
    assert any("column 'kinds'" in e and "(ids S1)" in e for e in errors)


def test_share_out_of_range(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm.loc[2, "digital_adoption"] = 1.7
    errors = errors_of(make_pack(communities=comm))
    assert any("digital_adoption" in e and "above 1" in e and "(ids C)" in e for e in errors)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_missing_crs(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns that names are cut to 10 characters
        pack = write_pack(tmp_path / "nocrs", grid_layers(), suffix=".shp")
    (pack / "communities.prj").unlink()
    errors = errors_of(pack)
    # the cut names (pop_56_plu, median_inc) are read back as the contract's names
    assert errors == [e for e in errors if "no coordinate reference system" in e]
    assert len(errors) == 1 and "communities.shp" in errors[0]


def test_bad_area_toml_keys(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "badtoml", grid_layers(),
                      area_toml='name = "x"\nwalk_speed_kmh = -1\ncolour = "red"\n')
    errors = errors_of(pack)
    assert any("area.toml: walk_speed_kmh" in e for e in errors)
    assert any("area.toml: colour" in e for e in errors)


def test_sources_as_plain_names_and_without_a_licence(tmp_path: Path) -> None:
    """``sources = ["Statistics Finland, Paavo", "OpenStreetMap"]`` (how most people write
    it) names the sources; a pack that gives no licence says so in a warning."""
    plain = write_pack(tmp_path / "plain", grid_layers(), area_toml=(
        'name = "plain"\nsources = ["Statistics Finland, Paavo", "OpenStreetMap"]\n'))
    with pytest.warns(SitesimWarning) as caught:
        area = load_area(plain)
    assert [s.name for s in area.config.sources] == ["Statistics Finland, Paavo",
                                                     "OpenStreetMap"]
    said = [str(w.message) for w in caught]
    assert any("2 source(s) without a licence (Statistics Finland, Paavo, OpenStreetMap)" in m
               for m in said), said
    mixed = write_pack(tmp_path / "mixed", grid_layers(), area_toml=(
        'name = "mixed"\nsources = ["OpenStreetMap", {name = "Paavo", licence = "CC BY 4.0"}]'
        '\n'))
    lines = [p.line() for p in check_area(mixed) if "licence" in p.line()]
    assert len(lines) == 1 and "1 source(s) without a licence (OpenStreetMap)" in lines[0]
    licensed = write_pack(tmp_path / "ok", grid_layers(), area_toml=(
        'name = "ok"\n[[sources]]\nname = "Paavo"\nlicence = "CC BY 4.0"\n'))
    assert not [p for p in check_area(licensed) if "licence" in p.line()]
    nothing = write_pack(tmp_path / "none", grid_layers(), area_toml='name = "none"\n')
    assert any("names no sources" in p.line() for p in check_area(nothing))


def test_load_area_raises_with_every_problem(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm.loc[0, "households"] = -1
    out = grid_layers()["outlets"]
    out.loc[0, "owner"] = "mine"
    with pytest.raises(AreaError, match="2 problem") as info:
        load_area(make_pack(communities=comm, outlets=out))
    assert len([p for p in info.value.problems if p.severity == "error"]) == 2


def test_no_such_path(tmp_path: Path) -> None:
    with pytest.raises(AreaError, match="1 problem"):
        load_area(tmp_path / "nowhere")
    with pytest.raises(AreaError, match="unknown built-in area"):
        load_area("builtin:atlantis")


def test_load_does_not_mutate_and_is_deterministic(small_synth: Path) -> None:
    a = load_area(small_synth)
    b = load_area(small_synth)
    assert a.communities.equals(b.communities)
    assert len(a.communities_off_network()) == 0


def _bowtie_over(square: shapely.Polygon) -> shapely.Polygon:
    """A figure-eight drawn over the square's corners: its two lobes hold half the square,
    and make_valid keeps both where the drawn boundary (buffer(0)) encloses one."""
    x0, y0, x1, y1 = square.bounds
    return shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])


def test_every_check_runs_whatever_else_is_broken(make_pack) -> None:
    """An unparseable area.toml and a polygon no safe repair can fix no longer hide swapped
    coordinates, an outlet far outside the area and a garbage network file: one check
    reports them all."""
    comm = grid_layers()["communities"]
    comm.loc[0, "geometry"] = _bowtie_over(comm.geometry.iloc[0])
    out = grid_layers()["outlets"].to_crs("EPSG:4326")
    swapped = shapely.transform(out.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    out = out.set_geometry(gpd.GeoSeries(swapped, crs="EPSG:4326"))
    cand = grid_layers()["candidates"]
    cand.loc[1, "geometry"] = shapely.Point(385_000 + 60_000, 6_672_000)
    pack = make_pack(communities=comm, outlets=out, candidates=cand)
    (pack / "area.toml").write_text('name = "broken\ncurrency = EUR\n', encoding="utf-8")
    (pack / "network.graphml").write_text("not a graph", encoding="utf-8")
    errors = errors_of(pack)
    assert any("area.toml" in e for e in errors), errors
    assert any("make_valid cannot repair safely" in e and "(ids A)" in e for e in errors)
    assert any("latitude and longitude look swapped" in e and "O1, O2" in e for e in errors)
    assert any("layer 'candidates'" in e and "outside the communities" in e
               and "(ids S2)" in e for e in errors), errors
    assert any("network.graphml" in e and "GraphML" in e for e in errors), errors


def test_an_unsafe_repair_is_suggested_with_its_area_change(make_pack, tmp_path: Path) -> None:
    """The bowtie's drawn boundary encloses a quarter of the 1 km2 square; make_valid keeps
    both lobes, half of it: +100%, said in the error and done by ``repair_area``."""
    from geo import repair_area

    comm = grid_layers()["communities"]
    comm.loc[0, "geometry"] = _bowtie_over(comm.geometry.iloc[0])
    pack = make_pack(communities=comm)
    [error] = errors_of(pack)
    assert "A 0.25 -> 0.5 km2 (+100%)" in error and "--repair" in error
    lines = repair_area(pack, tmp_path / "repaired")
    assert lines == ["A 0.25 -> 0.5 km2 (+100%)"]
    assert errors_of(tmp_path / "repaired") == []
    assert errors_of(pack) == [error]  # the source pack is left as it was
    with pytest.raises(AreaError, match="exists"):
        repair_area(pack, tmp_path / "repaired")


def test_an_empty_communities_layer_in_lon_lat_is_an_error(tmp_path: Path) -> None:
    layers = grid_layers()
    layers["communities"] = layers["communities"].iloc[:0].to_crs("EPSG:4326")
    errors = errors_of(write_pack(tmp_path / "empty", layers))
    assert any("the layer has no communities" in e for e in errors), errors


def test_a_network_without_a_crs_is_an_error_with_one_fix(small_synth: Path,
                                                           tmp_path: Path) -> None:
    import re
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(small_synth, pack)
    graphml = pack / "network.graphml"
    graphml.write_text(re.sub(r'<data key="d0">[^<]*</data>', "",
                              graphml.read_text(encoding="utf-8")), encoding="utf-8")
    [line] = errors_of(pack)
    assert "network.graphml: the network names no CRS" in line
    assert line.count("export it again") == 1
