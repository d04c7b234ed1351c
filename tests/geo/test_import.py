"""geo.importer: the Helsinki worked example (real data) and mapping errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from geo import AreaError, load_area
from geo.importer import import_area

MAPPING = Path(__file__).resolve().parents[2] / "data" / "mappings" / "helsinki.toml"


@pytest.mark.realdata
def test_helsinki_import_loads(helsinki: Path, tmp_path: Path) -> None:
    pack = import_area(MAPPING, tmp_path / "helsinki", source_dir=helsinki)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # postal area 00230 has no residents and no income
        area = load_area(pack)
    assert [w.ids for w in area.warnings if "median income of 0" in w.message] == [("00230",)]
    s = area.summary()
    assert s["crs"] == "EPSG:3067"
    assert s["communities"] == 84
    # Paavo 2023: 550,774 inhabitants aged 18 or over, in the three bands we sum
    assert s["adults"] == 550_774
    assert s["adults_by_age"] == {"18-35": 173_614, "36-55": 183_100, "56+": 194_060}
    own = area.outlets[area.outlets["owner"] == "own"]
    assert len(own) == 3 and set(own["brand"]) == {"Aktia"}
    assert "Suomen Pankki" not in set(area.outlets["name"].dropna())
    assert s["outlets"]["competitor branch"] >= 10
    assert len(area.candidates) > 50 and len(area.venues) > 10
    # the network covers the centre only: most postal areas fall back to straight lines
    off = area.communities_off_network()
    assert 60 <= len(off) < 84
    assert "00100" not in off  # Helsinki centre is on the network
    lowest = area.communities["income_low_share"]
    assert lowest.isna().sum() == 1 and lowest.isna()["00230"]  # no adults, no share
    assert lowest.dropna().between(0, 1).all()


@pytest.mark.realdata
def test_mapping_errors_name_key_and_suggest(tmp_path: Path, helsinki: Path) -> None:
    text = MAPPING.read_text().replace('"Households, total (TE)"', '"Households total"')
    text = text.replace('file = "transit_stops.gpkg"', 'file = "stops.gpkg"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(AreaError) as info:
        import_area(bad, tmp_path / "out", source_dir=helsinki)
    lines = info.value.lines()
    assert any("communities.columns.households" in line and "'Households total' not found"
               in line and "'Households, total (TE)'" in line for line in lines)
    assert any("candidates" in line and "stops.gpkg not found" in line for line in lines)
    assert not (tmp_path / "out").exists()  # nothing half written


def test_mapping_unknown_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nown_brand = "Y"\ncolour = 1\n')
    with pytest.raises(AreaError) as info:
        import_area(bad, tmp_path / "out")
    text = "\n".join(info.value.lines())
    assert "colour" in text and "communities" in text  # unknown key and missing table


def test_import_repair_accepts_make_valid_and_says_the_area_change(tmp_path: Path) -> None:
    """A community drawn as a figure eight: the import refuses it (make_valid doubles the
    area the drawn boundary encloses) and suggests --repair; with repair=True the pack is
    written and each repair is said, with its area before and after."""
    import shapely

    from conftest import grid_layers

    layers = grid_layers()
    comm = layers["communities"]
    x0, y0, x1, y1 = comm.geometry.iloc[0].bounds
    comm.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    for name, gdf in layers.items():
        gdf.to_file(tmp_path / f"{name}.geojson", engine="pyogrio")
    counts = ("pop_18_35", "pop_36_55", "pop_56_plus", "households", "median_income")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'name = "bowtie"\nown_brand = "Us"\n'
        '[communities]\nfile = "communities.geojson"\nid = "community_id"\n'
        f'columns = {{ {", ".join(f"{c} = {c!r}" for c in counts)} }}\n'
        '[outlets]\nfile = "outlets.geojson"\nid = "outlet_id"\nkind = "branch"\n'
        '[candidates]\nfile = "candidates.geojson"\nid = "site_id"\n'
        '[venues]\nfile = "venues.geojson"\nid = "venue_id"\nkind = "school"\n'
        'capacity = { school = 200 }\n')
    with pytest.raises(AreaError) as info:
        import_area(mapping, tmp_path / "pack")
    [line] = [line for line in info.value.lines() if "make_valid" in line]
    assert "A 0.25 -> 0.5 km2 (+100%)" in line and "--repair" in line
    assert not (tmp_path / "pack").exists()
    said: list[str] = []
    pack = import_area(mapping, tmp_path / "pack", progress=said.append, repair=True)
    assert "repaired A 0.25 -> 0.5 km2 (+100%)" in said
    assert pack.exists()
