"""What a scenario check needs to know of a pack, read without geometry or the network.

``sitesim validate`` and the first step of ``sitesim run`` check a scenario against its area
(the community ids it names, the staff the outlets need, the event counts the venues can
hold) before any travel time is computed. :func:`read_area_index` reads only the attribute
columns those checks use, without GDAL where it can (its import alone takes 1.4 s):
GeoParquet with pyarrow, GeoJSON with the json module, a GeoPackage with sqlite3, and a
shapefile with pyogrio. It does not check the pack: ``sitesim area check`` does.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo._pack_files import builtin_cache_path, find_layers
from geo.config import AreaConfig, read_area_config
from geo.errors import AreaError, Problem

__all__ = ["AreaIndex", "index_of_area", "read_area_index"]

_COLUMNS = {"communities": ("community_id", "pop_18_35", "pop_36_55", "pop_56_plus"),
            "outlets": ("outlet_id", "kind", "owner"),
            "candidates": ("site_id",), "venues": ("venue_id", "cost_per_event")}


@dataclass(frozen=True)
class AreaIndex:
    """A pack's ids and counts: what a scenario can be checked against before heavy work."""

    name: str
    source: Path
    config: AreaConfig
    communities: tuple[str, ...]
    adults: float  # in all communities
    own_outlet_kinds: tuple[str, ...]  # the kind of each own outlet
    venues: tuple[str, ...]
    venue_costs: tuple[float | None, ...]  # cost_per_event of each venue, None if not given


def _read_columns(path: Path, layer: str | None, wanted: tuple[str, ...]) -> dict[str, list[Any]]:
    if path.suffix in (".parquet", ".geoparquet"):
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)  # not pq.read_table, which imports pandas (0.4 s)
        names = set(file.schema_arrow.names)
        table = file.read(columns=[c for c in wanted if c in names])
        return {k: list(v) for k, v in table.to_pydict().items()}
    if path.suffix.lower() in (".geojson", ".json"):  # JSON: its properties, no GDAL
        features = json.loads(path.read_text(encoding="utf-8")).get("features") or []
        props = [f.get("properties") or {} for f in features]
        return {c: [p.get(c) for p in props] for c in wanted if any(c in p for p in props)}
    if path.suffix.lower() == ".gpkg":  # a GeoPackage is SQLite: its attribute table
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            table = layer or db.execute("select table_name from gpkg_contents where "
                                        "data_type = 'features'").fetchone()[0]
            have = {row[1] for row in db.execute(f'pragma table_info("{table}")')}
            cols = [c for c in wanted if c in have]
            rows = db.execute(f'select {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} '
                              f'from "{table}"').fetchall() if cols else []
        return {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    import pyogrio  # a shapefile: GDAL (1.4 s to import)

    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    cut = {c[:10]: c for c in wanted if len(c) > 10}  # a shapefile's 10-character names
    frame = frame.rename(columns={c: cut[c] for c in frame.columns if c in cut})
    return {c: frame[c].tolist() for c in wanted if c in frame.columns}


def _text(values: list[Any]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values)


def _number(value: Any) -> float | None:
    """A number, or None for what is not one (the pack check reports it, not this)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


#: Columns a check needs: without one, the pack is not checked here but by area check.
_NEEDED = {"communities": ("community_id",), "outlets": ("outlet_id", "kind", "owner"),
           "candidates": ("site_id",), "venues": ("venue_id",)}


def read_area_index(path_or_builtin: str | Path) -> AreaIndex:
    """The ids and counts of a pack (a folder, a .gpkg or ``builtin:sample-city``).

    Raises
    ------
    AreaError
        When a layer, one of its id columns or ``area.toml`` cannot be read; ``sitesim
        area check`` says more. Values that are not numbers are left out, not raised on:
        the pack check reports them.
    """
    text = str(path_or_builtin)
    if text.startswith("builtin:"):
        root = builtin_cache_path(text.removeprefix("builtin:"))
        if not (root / "area.toml").exists():
            from geo.synth import builtin_area_path  # generates it on first use

            root = builtin_area_path(text.removeprefix("builtin:"))
    else:
        root = Path(text)
    if not root.exists():
        raise AreaError(f"{root}: no such pack; give a pack folder, a .gpkg or "
                        "builtin:sample-city")
    folder = root if root.is_dir() else root.parent
    config_path = folder / "area.toml"
    config = read_area_config(config_path) if config_path.exists() else AreaConfig(
        name=root.stem)
    problems: list[Problem] = []
    found = find_layers(root, problems)
    columns: dict[str, dict[str, list[Any]]] = {}
    for layer, wanted in _COLUMNS.items():
        if layer not in found:
            raise AreaError(f"{root}: layer '{layer}' is missing; run sitesim area check "
                            f"{root}", problems)
        try:
            columns[layer] = _read_columns(*found[layer], wanted)
        except Exception as exc:  # noqa: BLE001 - an unreadable file is a user problem
            raise AreaError(f"{found[layer][0]}: cannot read layer '{layer}' ({exc}); run "
                            f"sitesim area check {root}") from None
        missing = [c for c in _NEEDED[layer] if c not in columns[layer]]
        if missing:
            raise AreaError(f"{found[layer][0]}: layer '{layer}' lacks column(s) "
                            f"{', '.join(missing)}; run sitesim area check {root}")
    outlets, venues, comm = columns["outlets"], columns["venues"], columns["communities"]
    costs = venues.get("cost_per_event", [None] * len(venues["venue_id"]))
    adults = sum(n for band in ("pop_18_35", "pop_36_55", "pop_56_plus")
                 for n in map(_number, comm.get(band, [])) if n is not None and n > 0)
    return AreaIndex(
        name=config.name, source=root, config=config,
        communities=_text(comm["community_id"]), adults=adults,
        own_outlet_kinds=tuple(k for k, o in zip(_text(outlets["kind"]),
                                                 _text(outlets["owner"]), strict=True)
                               if o == "own"),
        venues=_text(venues["venue_id"]),
        venue_costs=tuple(map(_number, costs)),
    )


def index_of_area(area: Any) -> AreaIndex:
    """The index of a loaded :class:`~geo.area.StudyArea` (the same fields, from its
    frames), so that a run checks exactly what ``sitesim validate`` checks."""
    outlets, venues = area.outlets, area.venues
    own = outlets[outlets["owner"] == "own"]
    costs = (venues["cost_per_event"].tolist() if "cost_per_event" in venues
             else [None] * len(venues))
    return AreaIndex(
        name=area.name, source=Path(area.source), config=area.config,
        communities=_text(list(area.communities.index)), adults=float(area.adults.sum()),
        own_outlet_kinds=_text(own["kind"].tolist()),
        venues=_text(list(venues.index)),
        venue_costs=tuple(map(_number, costs)))
