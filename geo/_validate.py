"""CRS rules and the checks of a study area pack.

Every check appends :class:`~geo.errors.Problem` records instead of raising, so that a
user sees every problem of a pack at once. Distances and areas are computed only in a
projected CRS; :func:`require_projected` is the single gate for that rule.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.contract import (
    COMMUNITY_COUNT_COLUMNS,
    OUTLET_KINDS,
    OWNERS,
    REQUIRED_COLUMNS,
    SHARE_COLUMNS,
    SITE_KINDS,
)
from geo.errors import InputError, Problem

__all__ = [
    "area_change_text",
    "far_outside_tolerance_m",
    "metric_crs",
    "repair_polygons",
    "require_projected",
    "validate_layer",
    "validate_placement",
]

ID_COLUMN = {"communities": "community_id", "outlets": "outlet_id",
             "candidates": "site_id", "venues": "venue_id"}


def require_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    """Raise unless ``gdf`` has a projected CRS in metres (distances need one)."""
    crs = gdf.crs
    if crs is None or not CRS(crs).is_projected:
        raise InputError(
            f"{what}: CRS {crs!s} is not projected; distances and areas need a metric CRS "
            "(reproject with .to_crs(), or load it with geo.load_area, which does so)"
        )


def metric_crs(gdf: gpd.GeoDataFrame, preferred: str | None) -> CRS:
    """The CRS a pack is worked in: ``preferred`` when given, else the layer's own CRS when
    it is projected in metres, else the local UTM zone."""
    if preferred:
        crs = CRS.from_user_input(preferred)
        if not crs.is_projected:
            raise InputError(
                f"area.toml: crs = {preferred!r} is geographic; give a projected CRS in metres "
                "(for example the local UTM zone, or leave crs out to use it)"
            )
        return crs
    own = CRS(gdf.crs)
    if own.is_projected and own.axis_info and own.axis_info[0].unit_name in ("metre", "meter"):
        return own
    return CRS(gdf.estimate_utm_crs())


def _ids(frame: pd.DataFrame, mask: np.ndarray | pd.Series, id_col: str) -> tuple[str, ...]:
    mask = np.asarray(mask, dtype=bool)
    if id_col in frame.columns:
        return tuple(str(v) for v in frame.loc[mask, id_col].tolist())
    return tuple(f"row {i + 1}" for i in np.flatnonzero(mask))


def _check_numeric(
    frame: pd.DataFrame, col: str, where: str, id_col: str, problems: list[Problem], *,
    minimum: float | None = 0.0, maximum: float | None = None, required: bool = True,
    unit: str = "values",
) -> pd.Series:
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    missing = raw.isna().to_numpy()
    bad_type = values.isna().to_numpy() & ~missing
    if bad_type.any():
        sample = ", ".join(repr(v) for v in raw[bad_type].head(3).tolist())
        problems.append(Problem(
            "error", f"{where}: column '{col}'",
            f"{int(bad_type.sum())} non-numeric value(s) such as {sample}",
            f"{unit} must be numbers", _ids(frame, bad_type, id_col)))
    if required and missing.any():
        problems.append(Problem(
            "error", f"{where}: column '{col}'", f"{int(missing.sum())} missing value(s)",
            f"fill in {unit} (0 where there are none)", _ids(frame, missing, id_col)))
    if minimum is not None:
        low = (values < minimum).to_numpy()
        if low.any():
            problems.append(Problem(
                "error", f"{where}: column '{col}'",
                f"{int(low.sum())} value(s) below {minimum:g}, such as {values[low].iloc[0]:g}",
                f"{unit} must be >= {minimum:g}", _ids(frame, low, id_col)))
    if maximum is not None:
        high = (values > maximum).to_numpy()
        if high.any():
            problems.append(Problem(
                "error", f"{where}: column '{col}'",
                f"{int(high.sum())} value(s) above {maximum:g}, such as {values[high].iloc[0]:g}",
                f"{unit} must be <= {maximum:g}", _ids(frame, high, id_col)))
    return values


def _check_ids(frame: pd.DataFrame, id_col: str, where: str, problems: list[Problem]) -> None:
    ids = frame[id_col]
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        problems.append(Problem(
            "error", f"{where}: column '{id_col}'", f"{int(missing.sum())} empty id(s)",
            "give every row a unique id",
            tuple(f"row {i + 1}" for i in np.flatnonzero(missing.to_numpy()))))
    dup = ids[~missing].astype(str)
    dups = sorted(set(dup[dup.duplicated()].tolist()))
    if dups:
        problems.append(Problem(
            "error", f"{where}: column '{id_col}'", f"{len(dups)} duplicated id(s)",
            "ids must be unique", tuple(dups)))


def _check_geometry(
    gdf: gpd.GeoDataFrame, layer: str, where: str, id_col: str, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Check geometry types and validity; return a frame with safe repairs applied."""
    geom = gdf.geometry
    empty = (geom.isna() | geom.is_empty).to_numpy()
    if empty.any():
        problems.append(Problem(
            "error", f"{where}: geometry", f"{int(empty.sum())} empty or missing geometries",
            "give every row a geometry or drop the row", _ids(gdf, empty, id_col)))
    types = geom.geom_type.to_numpy()
    out = gdf
    if layer == "communities":
        wrong = ~np.isin(types, ["Polygon", "MultiPolygon"]) & ~empty
        if wrong.any():
            problems.append(Problem(
                "error", f"{where}: geometry",
                f"{int(wrong.sum())} geometries are not polygons ({sorted(set(types[wrong]))})",
                "communities must be Polygon or MultiPolygon", _ids(gdf, wrong, id_col)))
        invalid = ~geom.is_valid.to_numpy() & ~empty & ~wrong
        if invalid.any():
            polys, before, after = repair_polygons(geom.to_numpy()[invalid])
            ok = np.array([p is not None for p in polys]) & (
                np.abs(after - before) <= 0.01 * np.maximum(before, 1e-12))
            ids = _ids(gdf, invalid, id_col)
            if ok.any():
                problems.append(Problem(
                    "warning", f"{where}: geometry",
                    f"{int(ok.sum())} invalid polygon(s) repaired with make_valid",
                    "check the boundaries in the source data",
                    tuple(i for i, k in zip(ids, ok, strict=True) if k)))
                out = gdf.copy()
                values = out.geometry.to_numpy().copy()
                idx = np.flatnonzero(invalid)[ok]
                values[idx] = polys[ok]
                out = out.set_geometry(gpd.GeoSeries(values, index=out.index, crs=out.crs))
            if (~ok).any():
                changes = "; ".join(
                    area_change_text(i, b, a, projected=not CRS(gdf.crs).is_geographic)
                    for i, b, a, k in zip(ids, before, after, ok, strict=True) if not k)
                problems.append(Problem(
                    "error", f"{where}: geometry",
                    f"{int((~ok).sum())} invalid polygon(s) that make_valid cannot repair safely "
                    f"(the repair changes the area by more than 1%: {changes})",
                    "fix the boundaries in the source data, or accept make_valid's repair: "
                    "`sitesim area check PACK --repair OUT` writes a repaired copy "
                    "(`sitesim area import ... --repair` for an import)",
                    tuple(i for i, k in zip(ids, ok, strict=True) if not k)))
    else:
        wrong = (types != "Point") & ~empty
        if wrong.any():
            problems.append(Problem(
                "warning", f"{where}: geometry",
                f"{int(wrong.sum())} geometries are not points ({sorted(set(types[wrong]))}); "
                "their representative point is used",
                "store a Point per row", _ids(gdf, wrong, id_col)))
            out = gdf.copy()
            values = out.geometry.to_numpy().copy()
            values[wrong] = shapely.point_on_surface(values[wrong])
            out = out.set_geometry(gpd.GeoSeries(values, index=out.index, crs=out.crs))
    return out


def repair_polygons(
    geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``make_valid``'s polygonal part of each geometry (None where none is left), with the
    area the boundary encloses as drawn (its ``buffer(0)``) and the area after the repair,
    in the geometries' units (0 where nothing is left)."""
    fixed = shapely.make_valid(geoms)
    polys = np.array([_polygonal_part(g) for g in fixed], dtype=object)
    before = np.nan_to_num(shapely.area(shapely.buffer(geoms, 0)))
    after = np.array([0.0 if p is None else shapely.area(p) for p in polys])
    return polys, before, after


def area_change_text(id_: str, before: float, after: float, *, projected: bool) -> str:
    """``A 0.25 -> 0.50 km2 (+100%)``: what a repair does to one polygon's area."""
    pct = (after - before) / before * 100 if before > 0 else float("inf")
    if projected:
        return f"{id_} {before / 1e6:.3g} -> {after / 1e6:.3g} km2 ({pct:+.0f}%)"
    return f"{id_} area {pct:+.0f}%"


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            return shapely.union_all(parts)
    return None


def _check_coordinates(gdf: gpd.GeoDataFrame, where: str, problems: list[Problem]) -> bool:
    """Coordinates must fit the declared CRS; returns False when the layer cannot be used."""
    if gdf.crs is None:
        problems.append(Problem(
            "error", f"{where}: CRS", "the layer has no coordinate reference system",
            "set it in the file (for a shapefile, add the .prj) or reproject it"))
        return False
    if CRS(gdf.crs).is_geographic and len(gdf):
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(Problem(
                "error", f"{where}: CRS",
                f"coordinates span x {minx:.6g}..{maxx:.6g}, y {miny:.6g}..{maxy:.6g}, "
                f"outside the range of the declared geographic CRS {CRS(gdf.crs).to_string()}",
                "the file's CRS is probably wrong (projected coordinates labelled as "
                "longitude/latitude, or latitude and longitude swapped): set the right one"))
            return False
    return True


def validate_layer(
    layer: str, gdf: gpd.GeoDataFrame, source: str, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """Check one layer against the contract; returns the repaired frame, or None if unusable.

    Numeric columns are coerced to numbers, ids to text, repairs are applied to geometry.
    """
    where = f"{source}: layer '{layer}'"
    id_col = ID_COLUMN[layer]
    missing_cols = [c for c in REQUIRED_COLUMNS[layer] if c not in gdf.columns]
    if missing_cols:
        problems.append(Problem(
            "error", where, f"missing column(s) {', '.join(missing_cols)}",
            f"add them (the {layer} layer needs {', '.join(REQUIRED_COLUMNS[layer])})"))
    if not _check_coordinates(gdf, where, problems):
        return None
    if id_col in gdf.columns:
        _check_ids(gdf, id_col, where, problems)
    out = _check_geometry(gdf, layer, where, id_col, problems)
    out = out.copy()
    if id_col in out.columns:
        out[id_col] = out[id_col].astype("string").astype(object)
    numeric: dict[str, float | None] = {}
    if layer == "communities":
        for col in COMMUNITY_COUNT_COLUMNS:
            if col in out.columns:
                out[col] = _check_numeric(out, col, where, id_col, problems, unit="counts")
        if "median_income" in out.columns:
            out["median_income"] = _check_numeric(
                out, "median_income", where, id_col, problems, unit="incomes")
            zero = (out["median_income"] == 0).to_numpy()
            if zero.any():
                problems.append(Problem(
                    "warning", f"{where}: column 'median_income'",
                    f"{int(zero.sum())} communities have a median income of 0 "
                    "(often: no residents, so none was published)",
                    "check them; scoring treats them as the lowest income",
                    _ids(out, zero, id_col)))
        for col in SHARE_COLUMNS:
            if col in out.columns:
                out[col] = _check_numeric(out, col, where, id_col, problems, minimum=0.0,
                                          maximum=1.0, required=False, unit="shares")
        for col in ("sme_count", "customers", "deposits"):
            if col in out.columns:
                out[col] = _check_numeric(out, col, where, id_col, problems, required=False,
                                          unit="counts" if col != "deposits" else "amounts")
        if all(c in out.columns for c in ("pop_18_35", "pop_36_55", "pop_56_plus")):
            adults = out[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1, min_count=1)
            if len(out) and float(np.nansum(adults)) <= 0:
                problems.append(Problem(
                    "error", f"{where}", "the communities have no adults in total",
                    "check the population columns and their mapping"))
        if len(out) == 0:
            problems.append(Problem("error", where, "the layer has no communities",
                                    "a study area needs at least one community"))
    elif layer == "outlets":
        _check_values(out, "kind", OUTLET_KINDS, where, id_col, problems)
        _check_values(out, "owner", OWNERS, where, id_col, problems)
        numeric = {"capacity_per_week": None, "staff": None}
    elif layer == "candidates":
        if "kinds" in out.columns:
            kinds = out["kinds"].astype("string").fillna("")
            bad = kinds.map(
                lambda s: not s or any(k.strip() not in SITE_KINDS for k in s.split("|"))
            ).to_numpy(dtype=bool)
            if bad.any():
                sample = sorted(set(kinds[bad].tolist()))[:4]
                problems.append(Problem(
                    "error", f"{where}: column 'kinds'",
                    f"{int(bad.sum())} row(s) with unknown or empty kinds such as {sample}",
                    f"use kinds from {', '.join(SITE_KINDS)} separated by '|'",
                    _ids(out, bad, id_col)))
        numeric = {"capex": 0.0, "opex_per_year": 0.0, "capacity_per_week": None}
    elif layer == "venues":
        if "kind" in out.columns:
            empty = out["kind"].isna().to_numpy() | (
                out["kind"].astype("string").str.strip() == "").to_numpy(dtype=bool)
            if empty.any():
                problems.append(Problem(
                    "error", f"{where}: column 'kind'", f"{int(empty.sum())} empty kind(s)",
                    "name the kind of venue (community_center, school, supermarket, ...)",
                    _ids(out, empty, id_col)))
        numeric = {"capacity": 0.0, "cost_per_event": None}
    for col, _ in numeric.items():
        if col in out.columns:
            required = col in REQUIRED_COLUMNS[layer]
            out[col] = _check_numeric(out, col, where, id_col, problems, required=required,
                                      unit="amounts" if "cap" not in col else "capacities")
    return out


def _check_values(
    frame: pd.DataFrame, col: str, allowed: Sequence[str], where: str, id_col: str,
    problems: list[Problem],
) -> None:
    if col not in frame.columns:
        return
    values = frame[col].astype("string").fillna("")
    bad = ~values.isin(list(allowed)).to_numpy(dtype=bool)
    if bad.any():
        sample = sorted(set(values[bad].tolist()))[:4]
        problems.append(Problem(
            "error", f"{where}: column '{col}'",
            f"{int(bad.sum())} unknown value(s) {sample}",
            f"use one of {', '.join(allowed)}", _ids(frame, bad, id_col)))


def far_outside_tolerance_m(communities: gpd.GeoDataFrame) -> float:
    """How far a point may lie outside the communities before it is an error: 5 km, or a
    quarter of the area's diagonal when that is larger."""
    minx, miny, maxx, maxy = communities.total_bounds
    return max(5000.0, 0.25 * math.hypot(maxx - minx, maxy - miny))


def validate_placement(
    layer: str, raw: gpd.GeoDataFrame, projected: gpd.GeoDataFrame,
    area_shape: shapely.Geometry, area_crs: CRS, raw_communities_crs: CRS | None,
    tolerance_m: float, source: str, problems: list[Problem],
) -> None:
    """Points far outside the communities are errors; say so when swapping x and y would
    bring them inside (latitude and longitude swapped)."""
    if len(projected) == 0:
        return
    where = f"{source}: layer '{layer}'"
    id_col = ID_COLUMN[layer]
    geoms = projected.geometry.to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dist = np.full(len(geoms), np.nan)
    dist[valid] = shapely.distance(geoms[valid], area_shape)
    far = valid & (dist > tolerance_m)
    if not far.any():
        return
    swapped = np.zeros(len(geoms), dtype=bool)
    if raw.crs is not None and CRS(raw.crs).is_geographic:
        pts = raw.geometry.to_numpy()[far]
        flipped = shapely.transform(pts, lambda xy: xy[:, ::-1])
        lat_ok = np.array([(-90 <= p.y <= 90) if p is not None else False for p in flipped])
        if lat_ok.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                back = gpd.GeoSeries(flipped[lat_ok], crs=raw.crs).to_crs(area_crs).to_numpy()
            near = shapely.distance(back, area_shape) <= tolerance_m
            idx = np.flatnonzero(far)[np.flatnonzero(lat_ok)[near]]
            swapped[idx] = True
    if swapped.any():
        problems.append(Problem(
            "error", f"{where}: geometry",
            f"{int(swapped.sum())} point(s) lie far outside the area, and would lie inside with "
            "x and y exchanged: latitude and longitude look swapped",
            "write longitude as x and latitude as y", _ids(projected, swapped, id_col)))
    rest = far & ~swapped
    if rest.any():
        problems.append(Problem(
            "error", f"{where}: geometry",
            f"{int(rest.sum())} point(s) lie more than {tolerance_m / 1000:.1f} km outside the "
            f"communities (up to {np.nanmax(dist[rest]) / 1000:.1f} km)",
            "drop them or correct their coordinates or CRS", _ids(projected, rest, id_col)))
