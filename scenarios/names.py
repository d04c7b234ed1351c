"""What the plans call things: each outlet, candidate site and venue by the name its pack
gives it, with its id beside it, and the community it lies in.

A planner reads "Kauppatori kiosk (S004) in Kluuvi" where the model knows ``S004``; the
plan files keep the ids and gain ``name``, ``community_id`` and ``community`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from geo import StudyArea

__all__ = ["SITES", "VENUES", "community_names", "label", "labels", "place_names",
           "with_places"]


def label(name: object, id_: object) -> str:
    """``Name (id)``, or the id alone where there is no name (or it is the id)."""
    text = "" if name is None or (isinstance(name, float) and name != name) else str(name)
    return f"{text} ({id_})" if text.strip() and text != str(id_) else str(id_)


def labels(names: Iterable[object], ids: Iterable[object]) -> list[str]:
    """:func:`label` of each name beside its id."""
    return [label(n, i) for n, i in zip(names, ids, strict=True)]


def community_names(area: StudyArea) -> pd.Series:
    """Each community's name (its id where the pack gives none), by community id."""
    c = area.communities
    names = c["name"].astype("string") if "name" in c else pd.Series(pd.NA, index=c.index)
    return names.fillna(pd.Series(c.index.astype(str), index=c.index)).astype(str)


SITES = ("outlets", "candidates")  # one id space: a plan's sites are either
VENUES = ("venues",)  # its own: a venue may share an id with an outlet or a site


def place_names(area: StudyArea, layers: tuple[str, ...] = SITES) -> pd.DataFrame:
    """Every point of ``layers`` (outlets and candidate sites, or venues), by its id:
    ``name`` (empty where the pack gives none), ``community_id`` and ``community``, the
    community it lies in (or the nearest one, for a point just outside every community)."""
    import geopandas as gpd  # here: the command line imports this module at start

    layers_ = [getattr(area, name) for name in layers]
    points = gpd.GeoDataFrame({
        "name": pd.concat([(g["name"] if "name" in g else pd.Series("", index=g.index))
                           for g in layers_]).fillna("").astype(str),
    }, geometry=pd.concat([g.geometry for g in layers_]), crs=area.crs)
    points = points[~points.index.duplicated()]
    polygons = area.communities[["geometry"]].rename_axis("community_id").reset_index()
    joined = gpd.sjoin_nearest(points, polygons, how="left")  # inside: distance 0
    joined = joined[~joined.index.duplicated()]  # a point on a shared boundary: the first
    out = pd.DataFrame({"name": points["name"],
                        "community_id": joined["community_id"].reindex(points.index)})
    out["community"] = out["community_id"].map(community_names(area))
    return out


def with_places(frame: pd.DataFrame, id_col: str, places: pd.DataFrame,
                prefix: str = "") -> pd.DataFrame:
    """``frame`` with the ``name``, ``community_id`` and ``community`` of its ``id_col``
    (columns prefixed with ``prefix``), ids not found left empty."""
    found = places.reindex(frame[id_col].to_numpy())
    return frame.assign(**{f"{prefix}{col}": found[col].to_numpy() for col in found.columns})
