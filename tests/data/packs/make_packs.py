"""Write the small packs of tests/data/packs in the shapes real open data arrives in.

``plain-city``: six community areas as GeoJSON in longitude/latitude (EPSG:4326), as a US
city's portal publishes them, with real-world habits: ``sources`` as a list of plain names
with no licence, no street network, no ``customers`` column, and one community with
nobody in it (an airport). Outlets, candidate sites and supermarkets as venues, by name.

``osm-city``: two communities over the streets of tests/data/tiny.osm, the network as the
OSM extract itself (``network.osm``: read unprojected, in degrees).

Run ``python tests/data/packs/make_packs.py`` to write them again; the output is
deterministic and committed (a few kilobytes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
WGS84 = "EPSG:4326"


def _write(folder: Path, layers: dict[str, gpd.GeoDataFrame], area_toml: str) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, gdf in layers.items():
        gdf.to_file(folder / f"{name}.geojson", driver="GeoJSON", engine="pyogrio")
    (folder / "area.toml").write_text(area_toml, encoding="utf-8")


def plain_city() -> None:
    lon0, lat0, dx, dy = -87.70, 41.88, 0.01, 0.01
    cells = [(i, j) for j in range(2) for i in range(3)]
    names = ["Garfield Park", "Austin", "Humboldt Park", "West Town", "Near West Side",
             "Airport"]
    adults = [(2100, 1800, 1500), (1900, 2200, 1700), (2400, 1600, 900),
              (3100, 2000, 1200), (2600, 1900, 1400), (0, 0, 0)]
    communities = gpd.GeoDataFrame({
        "community_id": [f"CA{k + 1:02d}" for k in range(6)], "name": names,
        "pop_18_35": [a[0] for a in adults], "pop_36_55": [a[1] for a in adults],
        "pop_56_plus": [a[2] for a in adults],
        "households": [int(sum(a) * 0.45) for a in adults],
        "median_income": [38_000.0, 42_000.0, 51_000.0, 88_000.0, 95_000.0, 0.0],
    }, geometry=[shapely.box(lon0 + i * dx, lat0 + j * dy, lon0 + (i + 1) * dx,
                             lat0 + (j + 1) * dy) for i, j in cells], crs=WGS84)

    def at(i: float, j: float) -> shapely.Point:
        return shapely.Point(lon0 + i * dx, lat0 + j * dy)

    outlets = gpd.GeoDataFrame({
        "outlet_id": ["OWN1", "OWN2", "CMP1", "CMP2"],
        "kind": ["branch", "smart_atm", "branch", "smart_atm"],
        "owner": ["own", "own", "competitor", "competitor"],
        "brand": ["Lakeside Bank", "Lakeside Bank", "Prairie Trust", "Prairie Trust"],
        "name": ["Lakeside Madison St", "Lakeside Chicago Av", "Prairie Trust Ashland",
                 "Prairie Trust kiosk"],
    }, geometry=[at(0.5, 0.5), at(2.5, 0.5), at(1.5, 1.5), at(2.2, 1.6)], crs=WGS84)
    candidates = gpd.GeoDataFrame({
        "site_id": ["S1", "S2", "S3", "S4"],
        "name": ["Division St storefront", "Grand Av corner", "Western Av mall",
                 "Kedzie station"],
        "kinds": ["micro_branch|smart_atm", "smart_atm", "micro_branch|smart_atm",
                  "smart_atm|mobile_van"],
        "capex": [60_000.0, 5_000.0, 80_000.0, 5_000.0],
        "opex_per_year": [40_000.0, 2_000.0, 50_000.0, 2_000.0],
    }, geometry=[at(1.5, 0.5), at(0.5, 1.5), at(2.5, 1.4), at(1.1, 0.9)], crs=WGS84)
    venues = gpd.GeoDataFrame({
        "venue_id": ["V1", "V2", "V3"],
        "name": ["Pete's Fresh Market", "Jewel-Osco Division", "Aldi Grand Av"],
        "kind": ["supermarket"] * 3, "capacity": [60, 80, 40],
    }, geometry=[at(0.7, 0.4), at(1.6, 1.2), at(2.4, 0.8)], crs=WGS84)
    _write(HERE / "plain-city", {"communities": communities, "outlets": outlets,
                                 "candidates": candidates, "venues": venues},
           'name = "plain-city"\ncurrency = "USD"\n'
           'sources = ["City of Chicago Data Portal, community areas", '
           '"US Census ACS 5-year", "OpenStreetMap"]\n')


def osm_city() -> None:
    lon0, lat0 = 24.9500, 60.1700  # node 1 of tests/data/tiny.osm
    communities = gpd.GeoDataFrame({
        "community_id": ["W", "E"], "name": ["West block", "East block"],
        "pop_18_35": [120, 90], "pop_36_55": [100, 110], "pop_56_plus": [80, 60],
        "households": [140, 120], "median_income": [31_000.0, 36_000.0],
        "customers": [40, 30],
    }, geometry=[shapely.box(lon0 - 0.0005, lat0 - 0.0005, lon0 + 0.0015, lat0 + 0.0015),
                 shapely.box(lon0 + 0.0015, lat0 - 0.0005, lon0 + 0.0035, lat0 + 0.0015)],
        crs=WGS84)
    outlets = gpd.GeoDataFrame({
        "outlet_id": ["O1"], "kind": ["branch"], "owner": ["own"], "brand": ["Us"],
    }, geometry=[shapely.Point(lon0 + 0.0001, lat0 + 0.0001)], crs=WGS84)
    candidates = gpd.GeoDataFrame({
        "site_id": ["S1"], "kinds": ["smart_atm"], "capex": [5_000.0],
        "opex_per_year": [2_000.0],
    }, geometry=[shapely.Point(lon0 + 0.0030, lat0 + 0.0010)], crs=WGS84)
    venues = gpd.GeoDataFrame({
        "venue_id": ["V1"], "kind": ["library"], "capacity": [40],
    }, geometry=[shapely.Point(lon0 + 0.0010, lat0 + 0.0010)], crs=WGS84)
    folder = HERE / "osm-city"
    _write(folder, {"communities": communities, "outlets": outlets, "candidates": candidates,
                    "venues": venues},
           'name = "osm-city"\n[[sources]]\nname = "OpenStreetMap contributors"\n'
           'licence = "ODbL-1.0"\n')
    shutil.copy(HERE.parent / "tiny.osm", folder / "network.osm")


if __name__ == "__main__":
    plain_city()
    osm_city()
