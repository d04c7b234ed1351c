"""Build a study area pack from a user's own files through a mapping file (TOML).

The mapping says which file (and layer) becomes which layer of the pack, which columns or
sums of columns become the contract columns, which OSM tags select outlets and venues,
and which brand is the user's own. docs/import.md explains it with the Helsinki example.
"""

from __future__ import annotations

import difflib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo._pydantic import read_toml, validation_problems
from geo.area import load_area
from geo.config import Source
from geo.contract import OUTLET_KINDS
from geo.errors import AreaError, Problem
from geo.network import read_streets
from geo.repair import repair_communities

__all__ = ["ImportMapping", "import_area", "read_mapping"]

log = logging.getLogger("sitesim.geo")


class Ratio(BaseModel):
    """A share computed from columns: ``sum(sum) / sum(divide_by)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sum: tuple[str, ...]
    divide_by: tuple[str, ...]


ColumnSpec = str | list[str] | float | Ratio


class _Layer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    layer: str | None = None
    crs: str | None = None  # for files without one (a shapefile without .prj)


class CommunitiesMap(_Layer):
    id: str
    name: str | None = None
    columns: dict[str, ColumnSpec]


class OsmPoints(_Layer):
    """Points from an OSM extract (``osm_tags``) or from a point file (``id``)."""

    osm_tags: dict[str, list[str]] = Field(default_factory=dict)
    id: str | None = None
    name: str | None = None
    kind_from: dict[str, str] = Field(default_factory=dict)
    kind: str | None = None
    exclude_names: tuple[str, ...] = ()
    within_network_m: Annotated[float, Field(gt=0)] | None = None
    max_count: Annotated[int, Field(gt=0)] | None = None


class OutletsMap(OsmPoints):
    brand_columns: tuple[str, ...] = ("brand", "operator", "name")


class CandidatesMap(OsmPoints):
    kinds: str = "micro_branch|smart_atm"
    capex: Annotated[float, Field(ge=0)] = 0.0
    opex_per_year: Annotated[float, Field(ge=0)] = 0.0


class VenuesMap(OsmPoints):
    capacity: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    cost_per_event: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


class NetworkMap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    files: tuple[str, ...]


class ImportMapping(BaseModel):
    """The contents of an import mapping file; see docs/import.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    currency: str = "EUR"
    crs: str | None = None
    own_brand: str
    source_dir: str = "."
    description: str = ""
    sources: tuple[Source, ...] = ()
    communities: CommunitiesMap
    outlets: OutletsMap
    candidates: CandidatesMap
    venues: VenuesMap
    network: NetworkMap | None = None


def read_mapping(path: Path) -> ImportMapping:
    """Read and validate a mapping file, every problem at once."""
    raw = read_toml(path, "mapping file", AreaError)
    try:
        return ImportMapping.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, str(path), "see docs/import.md for the mapping keys",
                                       ImportMapping)
        raise AreaError(f"{path}: {len(problems)} problem(s)", problems) from None


def _is_osm(path: Path) -> bool:
    return path.name.lower().endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2"))


def _osm_features(path: Path, tags: dict[str, list[str]]) -> gpd.GeoDataFrame:
    """Nodes and ways of an OSM file whose tags match ``tags`` (any key, any listed value),
    as points: a way becomes the mean of its nodes that lie in the extract."""
    import osmium

    pairs = [(k, v) for k, values in tags.items() for v in values]
    rows: list[dict[str, object]] = []
    processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations().with_filter(osmium.filter.TagFilter(*pairs)))
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            x, y, element = obj.location.lon, obj.location.lat, "node"
        elif isinstance(obj, osmium.osm.Way):
            locs = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if not locs:
                continue
            x, y = float(np.mean([p[0] for p in locs])), float(np.mean([p[1] for p in locs]))
            element = "way"
        else:
            continue
        rows.append({**{t.k: t.v for t in obj.tags}, "osm_key": f"{element}-{obj.id}",
                     "geometry": shapely.Point(x, y)})
    if not rows:
        return gpd.GeoDataFrame({"osm_key": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _match_kind(row: pd.Series, kind_from: dict[str, str]) -> str | None:
    for rule, kind in kind_from.items():
        key, _, value = rule.partition("=")
        if key in row.index and str(row[key]) == value:
            return kind
    return None


def _column(frame: pd.DataFrame, spec: ColumnSpec, where: str,
            problems: list[Problem]) -> pd.Series | None:
    def need(cols: list[str] | tuple[str, ...]) -> bool:
        missing = [c for c in cols if c not in frame.columns]
        for c in missing:
            close = difflib.get_close_matches(c, [str(x) for x in frame.columns], n=2)
            problems.append(Problem("error", where, f"column {c!r} not found in the file",
                                    f"did you mean {' or '.join(map(repr, close))}?" if close
                                    else "check the column name"))
        return not missing

    def total(cols: list[str] | tuple[str, ...]) -> pd.Series:
        return frame[list(cols)].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)

    if isinstance(spec, str):
        return frame[spec] if need([spec]) else None
    if isinstance(spec, list):
        return total(spec) if need(spec) else None
    if isinstance(spec, Ratio):
        if not (need(spec.sum) & need(spec.divide_by)):
            return None
        den = total(spec.divide_by)
        return (total(spec.sum) / den.where(den > 0)).clip(0, 1)
    return pd.Series(float(spec), index=frame.index)


def _read_file(path: Path, spec: _Layer) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf = gpd.read_file(path, layer=spec.layer, engine="pyogrio")
    if spec.crs:
        gdf = gdf.set_crs(spec.crs, allow_override=True)
    return gdf


def _points(
    spec: OsmPoints, base: Path, where: str, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    path = base / spec.file
    if not path.exists():
        problems.append(Problem("error", where, f"file {path} not found",
                                "check 'file' and 'source_dir' (or --source)"))
        return None
    if _is_osm(path):
        if not spec.osm_tags:
            problems.append(Problem("error", where, "an OSM file needs 'osm_tags'",
                                    "for example osm_tags = { amenity = ['bank'] }"))
            return None
        gdf = _osm_features(path, spec.osm_tags)
        gdf["_id"] = "osm-" + gdf["osm_key"]
    else:
        gdf = _read_file(path, spec)
        if spec.id is None or spec.id not in gdf.columns:
            problems.append(Problem("error", where, f"id column {spec.id!r} not found",
                                    "set 'id' to a column of the file"))
            return None
        gdf["_id"] = gdf[spec.id].astype(str)
        gdf["geometry"] = shapely.point_on_surface(gdf.geometry.to_numpy())
    if spec.name and spec.name in gdf.columns:
        gdf["_name"] = gdf[spec.name]
    elif "name" in gdf.columns:
        gdf["_name"] = gdf["name"]
    else:
        gdf["_name"] = None
    if spec.exclude_names:
        gdf = gdf[~gdf["_name"].isin(spec.exclude_names)]
    if spec.kind_from:
        gdf["_kind"] = gdf.apply(_match_kind, axis=1, kind_from=spec.kind_from)
        gdf = gdf[gdf["_kind"].notna()]
    else:
        gdf["_kind"] = spec.kind
    return gdf.drop_duplicates("_id")


def _near_network(gdf: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None,
                  metres: float | None, crs: str) -> gpd.GeoDataFrame:
    if metres is None or streets is None:
        return gdf
    hull = shapely.convex_hull(shapely.union_all(streets.to_crs(crs).geometry.to_numpy()))
    projected = gdf.to_crs(crs)
    return gdf[shapely.distance(projected.geometry.to_numpy(), hull) <= metres]


def import_area(mapping_path: str | Path, out_dir: str | Path, *,
                source_dir: str | Path | None = None,
                progress: Callable[[str], None] | None = None,
                repair: bool = False) -> Path:
    """Build a pack from the files a mapping names; validate it; return its folder.

    Parameters
    ----------
    mapping_path
        The mapping TOML (see docs/import.md).
    out_dir
        The pack folder to write (replaced; written under a temporary name first).
    source_dir
        Folder the mapping's file names are relative to; default: the mapping's
        ``source_dir``, itself relative to the mapping file.
    repair
        Replace every invalid community polygon by ``make_valid``'s repair, whatever it
        does to the area (each change is said through ``progress``); without it, a repair
        that changes an area by more than 1% is an error.

    Raises
    ------
    AreaError
        Every problem of the mapping or of the resulting pack.
    """
    import osmnx as ox  # at first use: it takes 1.7 s to import

    say = progress or (lambda _m: None)
    mapping_path = Path(mapping_path)
    m = read_mapping(mapping_path)
    base = Path(source_dir) if source_dir else (mapping_path.parent / m.source_dir)
    problems: list[Problem] = []
    if not base.is_dir():
        raise AreaError(f"{mapping_path}: source_dir {base} is not a folder; pass --source DIR "
                        "with the folder holding the mapped files")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        work_crs = m.crs or "EPSG:4326"
        say("communities")
        cpath = base / m.communities.file
        communities = None
        if not cpath.exists():
            problems.append(Problem("error", f"{mapping_path}: communities.file",
                                    f"file {cpath} not found", "check the path"))
        else:
            src = _read_file(cpath, m.communities)
            cols: dict[str, object] = {}
            for target, spec in {"community_id": m.communities.id,
                                 **({"name": m.communities.name} if m.communities.name else {}),
                                 **m.communities.columns}.items():
                series = _column(src, spec, f"{mapping_path}: communities.columns.{target}",
                                 problems)
                if series is not None:
                    cols[target] = series
            communities = gpd.GeoDataFrame(cols, geometry=src.geometry, crs=src.crs)
            if "community_id" in communities:
                communities["community_id"] = communities["community_id"].astype(str)

        streets = None
        if m.network:
            say("street network")
            paths = [base / f for f in m.network.files]
            for p in paths:
                if not p.exists():
                    problems.append(Problem("error", f"{mapping_path}: network.files",
                                            f"file {p} not found", "check the path"))
            if all(p.exists() for p in paths):
                G = read_streets(paths, mode="all")
                network_file = tmp / "network.graphml"
                ox.save_graphml(G, network_file)
                streets = ox.graph_to_gdfs(G, nodes=False)

        say("outlets, candidate sites and venues")
        layers: dict[str, gpd.GeoDataFrame] = {}
        own = m.own_brand.lower()
        outlets = _points(m.outlets, base, f"{mapping_path}: outlets", problems)
        if outlets is not None:
            bad = sorted(set(outlets["_kind"]) - set(OUTLET_KINDS))
            if bad:
                problems.append(Problem("error", f"{mapping_path}: outlets.kind_from",
                                        f"unknown kinds {bad}",
                                        f"use {', '.join(OUTLET_KINDS)}"))
            brand = pd.Series("", index=outlets.index)
            for col in m.outlets.brand_columns:
                if col in outlets.columns:
                    brand = brand.where(brand != "", outlets[col].fillna("").astype(str))
            is_own = brand.str.lower().str.contains(own, regex=False) if own else brand == ""
            layers["outlets"] = gpd.GeoDataFrame({
                "outlet_id": outlets["_id"], "kind": outlets["_kind"],
                "owner": np.where(is_own, "own", "competitor"), "brand": brand,
                "name": outlets["_name"]}, geometry=outlets.geometry, crs=outlets.crs)
            if own and not is_own.any():
                problems.append(Problem(
                    "warning", f"{mapping_path}: own_brand",
                    f"no outlet's {'/'.join(m.outlets.brand_columns)} contains {m.own_brand!r}",
                    "check the spelling; every outlet counts as a competitor"))
        cands = _points(m.candidates, base, f"{mapping_path}: candidates", problems)
        if cands is not None:
            cands = _near_network(cands, streets, m.candidates.within_network_m, work_crs)
            if m.candidates.max_count and len(cands) > m.candidates.max_count:
                cands = cands.sort_values("_id").iloc[:: int(np.ceil(
                    len(cands) / m.candidates.max_count))]
            layers["candidates"] = gpd.GeoDataFrame({
                "site_id": cands["_id"], "name": cands["_name"], "kinds": m.candidates.kinds,
                "capex": m.candidates.capex, "opex_per_year": m.candidates.opex_per_year},
                geometry=cands.geometry, crs=cands.crs)
        venues = _points(m.venues, base, f"{mapping_path}: venues", problems)
        if venues is not None:
            venues = _near_network(venues, streets, m.venues.within_network_m, work_crs)
            missing = sorted(set(venues["_kind"]) - set(m.venues.capacity))
            if missing:
                problems.append(Problem("error", f"{mapping_path}: venues.capacity",
                                        f"no capacity for venue kinds {missing}",
                                        "add them to venues.capacity"))
            layers["venues"] = gpd.GeoDataFrame({
                "venue_id": venues["_id"], "name": venues["_name"], "kind": venues["_kind"],
                "capacity": venues["_kind"].map(m.venues.capacity),
                "cost_per_event": venues["_kind"].map(m.venues.cost_per_event)},
                geometry=venues.geometry, crs=venues.crs)
        if any(p.severity == "error" for p in problems) or communities is None:
            raise AreaError(f"{mapping_path}: the import cannot be completed", problems)

        if repair:
            communities, repaired, lost = repair_communities(communities)
            for line in repaired:
                say(f"repaired {line}")
            if lost:
                raise AreaError(f"{mapping_path}: make_valid leaves no polygon of communities "
                                f"{', '.join(lost)}; redraw them in the source data")
        say("writing and checking the pack")
        communities.to_parquet(tmp / "communities.parquet", index=False)
        for name, gdf in layers.items():
            gdf.reset_index(drop=True).to_parquet(tmp / f"{name}.parquet", index=False)
        config = {"name": m.name, "currency": m.currency, "own_brand": m.own_brand,
                  **({"crs": m.crs} if m.crs else {}),
                  "description": m.description or f"Imported with {mapping_path.name}",
                  "sources": [s.model_dump(exclude_defaults=True) for s in m.sources]}
        (tmp / "area.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_area(tmp)  # the same checks as `sitesim area check`
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        for problem in problems:
            log.warning(problem.line())
        return out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
