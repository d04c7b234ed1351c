"""Tiny synthetic fixtures with answers that can be worked out by hand."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

SHARED = Path(__file__).resolve().parent.parent / "shared" / "data" / "helsinki"
CRS = "EPSG:3067"
X0, Y0 = 385_000.0, 6_672_000.0

# A repository-local cache, so that the sample city is generated once per checkout.
os.environ.setdefault("SITESIM_CACHE_DIR", str(Path(__file__).resolve().parent / "data" / "cache"))


def grid_layers() -> dict[str, gpd.GeoDataFrame]:
    """A 2 x 2 grid of 1 km square communities (A B / C D, A at the south-west)."""
    cells = {"A": (0, 0), "B": (1, 0), "C": (0, 1), "D": (1, 1)}
    communities = gpd.GeoDataFrame({
        "community_id": list(cells),
        "name": ["Alpha", "Bravo", "Charlie", "Delta"],
        "pop_18_35": [100, 200, 300, 400],
        "pop_36_55": [100, 100, 100, 100],
        "pop_56_plus": [300, 100, 50, 0],
        "households": [300, 250, 300, 350],
        "median_income": [25_000.0, 30_000.0, 35_000.0, 40_000.0],
        "digital_adoption": [0.6, 0.8, 0.9, 0.95],
        "customers": [50, 40, 30, 20],
    }, geometry=[shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000,
                             Y0 + (j + 1) * 1000) for i, j in cells.values()], crs=CRS)
    outlets = gpd.GeoDataFrame({
        "outlet_id": ["O1", "O2"], "kind": ["branch", "smart_atm"],
        "owner": ["own", "competitor"], "brand": ["Us", "Them"],
    }, geometry=[shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 1500, Y0 + 1500)],
        crs=CRS)
    candidates = gpd.GeoDataFrame({
        "site_id": ["S1", "S2"], "kinds": ["micro_branch|smart_atm", "mobile_van"],
        "capex": [50_000.0, 3_000.0], "opex_per_year": [30_000.0, 1_000.0],
    }, geometry=[shapely.Point(X0 + 1500, Y0 + 500), shapely.Point(X0 + 500, Y0 + 1500)],
        crs=CRS)
    venues = gpd.GeoDataFrame({
        "venue_id": ["V1"], "kind": ["school"], "capacity": [200],
    }, geometry=[shapely.Point(X0 + 1000, Y0 + 1000)], crs=CRS)
    return {"communities": communities, "outlets": outlets, "candidates": candidates,
            "venues": venues}


def write_pack(folder: Path, layers: dict[str, gpd.GeoDataFrame], *,
               area_toml: str = ('name = "grid"\ncurrency = "EUR"\n[[sources]]\n'
                                 'name = "made by hand for the tests"\nlicence = "CC0-1.0"\n'),
               suffix: str = ".geojson") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        path = folder / f"{name}{suffix}"
        if suffix == ".parquet":
            gdf.to_parquet(path)
        else:
            gdf.to_file(path, engine="pyogrio")
    (folder / "area.toml").write_text(area_toml, encoding="utf-8")
    return folder


@pytest.fixture
def grid_pack(tmp_path: Path) -> Path:
    """The 2 x 2 grid as a pack folder of GeoJSON files, without a network."""
    return write_pack(tmp_path / "grid", grid_layers())


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Write the grid with some layers changed: ``make_pack(outlets=frame, ...)``."""
    def make(name: str = "pack", **changes: gpd.GeoDataFrame | None) -> Path:
        layers = grid_layers()
        for layer, frame in changes.items():
            if frame is None:
                del layers[layer]
            else:
                layers[layer] = frame
        return write_pack(tmp_path / name, layers)
    return make


@pytest.fixture(scope="session")
def helsinki() -> Path:
    """The real Helsinki data of ../shared/data, or a skip saying why."""
    if not (SHARED / "postal_areas_2023.geojson").exists():
        pytest.skip(f"real data not present at {SHARED} (it lives in ../shared/data, beside "
                    "the repository, and is never copied into it)")
    return SHARED


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic pack (20 communities, 20,000 adults) with a street network."""
    from geo.synth import synthesize_area

    return synthesize_area(tmp_path_factory.mktemp("synth") / "small", communities=20,
                           adults=20_000, seed=11)
