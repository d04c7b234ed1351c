"""A repaired copy of a pack whose community polygons are invalid.

``sitesim area check PACK --repair OUT`` writes the copy. The checks repair on the fly
only what ``make_valid`` changes by at most 1% of the area; the rest is the user's call, so
this module applies ``make_valid`` to every invalid polygon and says, polygon by polygon,
how much area the repair adds or removes. Nothing in the source pack is changed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo._validate import ID_COLUMN, area_change_text, repair_polygons
from geo.contract import LAYERS, NETWORK_FILES
from geo.errors import AreaError, Problem

__all__ = ["repair_area", "repair_communities"]


def repair_communities(
    communities: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Every invalid polygon replaced by ``make_valid``'s polygonal part.

    Returns the repaired frame, one line per repaired polygon (``id before -> after km2
    (+x%)``) and the ids no repair can save (nothing polygonal is left).
    """
    geoms = communities.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = present & ~communities.geometry.is_valid.to_numpy()
    if not invalid.any():
        return communities, [], []
    polys, before, after = repair_polygons(geoms[invalid])
    ids = communities[ID_COLUMN["communities"]].astype(str).to_numpy()[invalid] if (
        ID_COLUMN["communities"] in communities) else np.flatnonzero(invalid).astype(str)
    projected = communities.crs is not None and not CRS(communities.crs).is_geographic
    kept = np.array([p is not None for p in polys])
    lines = [area_change_text(i, b, a, projected=projected)
             for i, b, a, k in zip(ids, before, after, kept, strict=True) if k]
    lost = [str(i) for i, k in zip(ids, kept, strict=True) if not k]
    values = geoms.copy()
    idx = np.flatnonzero(invalid)[kept]
    values[idx] = polys[kept]
    out = communities.set_geometry(
        gpd.GeoSeries(values, index=communities.index, crs=communities.crs))
    return out, lines, lost


def repair_area(pack: str | Path, out: str | Path) -> list[str]:
    """Write a copy of ``pack`` to the folder ``out`` with its invalid polygons repaired.

    Every layer is written as GeoParquet (``communities.parquet``, ...); ``area.toml`` and
    the network are copied as they are. Returns one line per repaired polygon.

    Raises
    ------
    AreaError
        When ``out`` exists, the communities layer cannot be read, or a polygon has no
        polygonal repair.
    """
    from geo._pack_files import find_layers
    from geo.area import _read_layer  # the pack's own reading rules

    root, target = Path(pack), Path(out)
    if target.exists():
        raise AreaError(f"{target}: exists; give --repair a new folder (the source pack is "
                        "never changed)")
    problems: list[Problem] = []
    found = find_layers(root, problems) if root.exists() else {}
    if "communities" not in found:
        raise AreaError(f"{root}: no communities layer to repair", problems)
    path, layer = found["communities"]
    communities = _read_layer(path, layer)
    repaired, lines, lost = repair_communities(communities)
    if lost:
        raise AreaError(f"{path}: make_valid leaves no polygon of communities "
                        f"{', '.join(lost)}; redraw them in the source data")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        folder = root if root.is_dir() else root.parent
        for name in LAYERS:
            if name == "communities" or name not in found:
                continue
            # every layer as GeoParquet: a shapefile's side files or a shared GeoPackage
            # need no special case
            _read_layer(*found[name]).to_parquet(tmp / f"{name}.parquet", index=False)
        for extra in ("area.toml", *NETWORK_FILES):
            if (folder / extra).exists():
                shutil.copy2(folder / extra, tmp / extra)
        repaired.to_parquet(tmp / "communities.parquet", index=False)
        tmp.chmod(0o755)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return lines
