"""Accessibility: demand points, community-to-site travel times, the 15-minute service
circle, enhanced two-step floating catchment (E2SFCA), and isochrones."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from geo._validate import require_projected
from geo.area import StudyArea
from geo.errors import InputError
from geo.network import Mode
from geo.routing import RoutingGraph, routing_graph
from geo.travel import SNAP_TOLERANCE_M, travel_time_matrix

__all__ = [
    "TravelTimes",
    "coverage",
    "demand_points",
    "e2sfca",
    "isochrones",
    "nearest_outlet_min",
    "off_network_communities",
    "off_network_note",
    "travel_times",
    "travel_times_to",
]


def demand_points(communities: gpd.GeoDataFrame, *,
                  points_per_community: int = 5) -> gpd.GeoDataFrame:
    """Points inside each community standing for where its residents live.

    A regular grid is laid over each polygon and up to ``points_per_community`` of the
    grid points inside it are kept, spread evenly; a community too small or thin for the
    grid gets its representative point. Each point carries ``share``, the fraction of the
    community's residents it stands for (equal within a community).

    Returns
    -------
    GeoDataFrame
        One row per point: ``community_id``, ``share``, geometry (the input's CRS).
    """
    require_projected(communities, "demand_points: communities")
    if points_per_community < 1:
        raise InputError(f"points_per_community = {points_per_community}: expected >= 1")
    ids: list[object] = []
    pts: list[shapely.Point] = []
    for cid, geom in zip(communities.index, communities.geometry, strict=True):
        chosen: list[shapely.Point] = []
        if points_per_community > 1 and geom is not None and not geom.is_empty:
            minx, miny, maxx, maxy = geom.bounds
            step = math.sqrt(geom.area / (2.0 * points_per_community))
            if step > 0:
                xs = np.arange(minx + step / 2, maxx, step)
                ys = np.arange(miny + step / 2, maxy, step)
                mesh_x, mesh_y = np.meshgrid(xs, ys)
                gx, gy = mesh_x.ravel(), mesh_y.ravel()
                inside = shapely.contains_xy(geom, gx, gy)
                gx, gy = gx[inside], gy[inside]
                if gx.size >= points_per_community:
                    take = np.linspace(0, gx.size - 1, points_per_community).round().astype(int)
                    chosen = list(shapely.points(gx[take], gy[take]))
        if not chosen:
            chosen = [geom.representative_point()]
        ids.extend([cid] * len(chosen))
        pts.extend(chosen)
    frame = gpd.GeoDataFrame({"community_id": ids}, geometry=pts, crs=communities.crs)
    frame["share"] = 1.0 / frame.groupby("community_id")["community_id"].transform("size")
    return frame


@dataclass(frozen=True)
class TravelTimes:
    """Minutes from the demand points of every community to every site.

    ``minutes`` is (points x sites), float32, ``inf`` where unreachable or beyond a cutoff.
    Community figures are population-weighted over the community's points.
    """

    points: pd.DataFrame  # community_id, share
    sites: pd.Index
    minutes: np.ndarray
    communities: pd.Index
    mode: str = "walk"
    fallback: np.ndarray | None = None  # per point: straight-line fallback used

    @classmethod
    def from_community_minutes(cls, minutes: pd.DataFrame, *, mode: str = "walk"
                               ) -> TravelTimes:
        """One point per community: ``minutes`` is (communities x sites)."""
        points = pd.DataFrame({"community_id": minutes.index, "share": 1.0})
        return cls(points=points, sites=pd.Index(minutes.columns),
                   minutes=minutes.to_numpy(dtype=np.float32), communities=pd.Index(
                       minutes.index, name="community_id"), mode=mode)

    def _site_mask(self, sites: Sequence[object] | pd.Index | np.ndarray | None) -> np.ndarray:
        if sites is None:
            return np.ones(len(self.sites), dtype=bool)
        wanted = pd.Index(sites)
        unknown = wanted.difference(self.sites)
        if len(unknown):
            raise InputError(f"{len(unknown)} site(s) not in the travel times, such as "
                             f"{list(unknown[:3])}")
        return self.sites.isin(wanted)

    def aggregate(self, per_point: np.ndarray, name: str) -> pd.Series:
        """Population-weighted mean of a per-point value over each community's points."""
        frame = pd.DataFrame({"community_id": self.points["community_id"].to_numpy(),
                              "w": self.points["share"].to_numpy() * per_point})
        out = frame.groupby("community_id", sort=False)["w"].sum()
        return out.reindex(self.communities).rename(name)

    def community_minutes(self) -> pd.DataFrame:
        """Population-weighted mean minutes, communities x sites."""
        weighted = self.minutes * self.points["share"].to_numpy()[:, None]
        frame = pd.DataFrame(weighted, columns=self.sites)
        frame["community_id"] = self.points["community_id"].to_numpy()
        return frame.groupby("community_id", sort=False).sum().reindex(self.communities)

    @property
    def fallback_communities(self) -> pd.Index:
        """Communities with at least one point on the straight-line fallback."""
        if self.fallback is None:
            return pd.Index([], name="community_id")
        ids = self.points["community_id"].to_numpy()[self.fallback]
        return self.communities[self.communities.isin(ids)]


def off_network_note(area: StudyArea, off: int) -> str | None:
    """The line every command that reports travel times prints where some are straight-line
    estimates (``off``: how many communities), or None."""
    factor = area.config.detour_factor
    if area.network_file is None:
        return (f"the pack has no street network: every travel time is straight-line "
                f"distance x {factor:g}")
    if off:
        return (f"{off} of {len(area.communities)} communities are off the street network "
                f"(a demand point more than {SNAP_TOLERANCE_M:g} m from it): their travel "
                f"times are straight-line distance x {factor:g}")
    return None


def off_network_communities(area: StudyArea, *, mode: Mode = "walk",
                            points_per_community: int = 5) -> pd.Index:
    """Communities with a demand point farther than the snap tolerance from the network
    (every community when the pack has none): those whose travel times use the
    straight-line fallback, as :func:`travel_times` reports them."""
    if area.network_file is None:
        return pd.Index(area.communities.index, name="community_id")
    points = demand_points(area.communities, points_per_community=points_per_community)
    _, dist = area.routing(mode).snap(
        np.column_stack([points.geometry.x, points.geometry.y]))
    off = points["community_id"].to_numpy()[dist > SNAP_TOLERANCE_M]
    return area.communities.index[area.communities.index.isin(off)]


def travel_times(area: StudyArea, sites: gpd.GeoDataFrame | None = None, *,
                 mode: Mode = "walk", points_per_community: int = 5,
                 cutoff_min: float | None = None) -> TravelTimes:
    """Travel minutes from each community's demand points to each site, over the network.

    Parameters
    ----------
    area
        The study area; its network is read (once) for ``mode``.
    sites
        Points indexed by their id (default: the area's outlets).
    points_per_community
        Demand points per community (see :func:`demand_points`).
    cutoff_min
        Minutes beyond which pairs are ``inf``.

    Points more than 500 m from the network, or every point when the pack has no
    network, use straight-line distance x ``detour_factor``; ``fallback_communities``
    says which communities did.
    """
    sites = area.outlets if sites is None else sites
    points = demand_points(area.communities, points_per_community=points_per_community)
    cfg = area.config
    speed = cfg.walk_speed_kmh if mode == "walk" else cfg.drive_fallback_kmh
    if area.network_file is None:
        pxy = np.column_stack([points.geometry.x, points.geometry.y])
        sxy = np.column_stack([sites.geometry.x, sites.geometry.y])
        dist = np.hypot(pxy[:, None, 0] - sxy[None, :, 0], pxy[:, None, 1] - sxy[None, :, 1])
        minutes = (dist * cfg.detour_factor / (speed * 1000 / 60)).astype(np.float32)
        if cutoff_min is not None:
            minutes[minutes > cutoff_min] = np.inf
        fallback = np.ones(len(points), dtype=bool)
    else:
        matrix = travel_time_matrix(area.routing(mode), points.geometry, sites,
                                    cutoff_min=cutoff_min,
                                    access_speed_kmh=cfg.walk_speed_kmh,
                                    detour_factor=cfg.detour_factor,
                                    fallback_speed_kmh=speed)
        minutes = matrix.minutes.to_numpy()
        fallback = matrix.origins.fallback
    return TravelTimes(points=pd.DataFrame({"community_id": points["community_id"].to_numpy(),
                                            "share": points["share"].to_numpy()}),
                       sites=pd.Index(sites.index), minutes=minutes,
                       communities=pd.Index(area.communities.index, name="community_id"),
                       mode=mode, fallback=fallback)


def travel_times_to(area: StudyArea, layers: Sequence[gpd.GeoDataFrame], *,
                    mode: Mode = "walk", points_per_community: int = 5,
                    cutoff_min: float | None = None) -> list[TravelTimes]:
    """:func:`travel_times` to several layers of points (sites, venues) in one pass: each
    search from a demand point fills the minutes to every layer at once, so two layers
    cost what one does. One :class:`TravelTimes` per layer, in order (ids may repeat
    across layers)."""
    if not layers:
        return []
    sizes = [len(layer) for layer in layers]
    crs = layers[0].crs
    joined = gpd.GeoDataFrame(geometry=pd.concat(
        [layer.geometry.to_crs(crs) if layer.crs != crs and crs is not None
         else layer.geometry for layer in layers], ignore_index=True), crs=crs)
    together = travel_times(area, joined, mode=mode, points_per_community=points_per_community,
                            cutoff_min=cutoff_min)
    out, start = [], 0
    for layer, size in zip(layers, sizes, strict=True):
        out.append(dataclasses.replace(together, sites=pd.Index(layer.index),
                                       minutes=together.minutes[:, start:start + size]))
        start += size
    return out


def nearest_outlet_min(travel: TravelTimes, *, sites: Sequence[object] | None = None
                       ) -> pd.Series:
    """Minutes to the nearest of ``sites`` (default: all), population-weighted per community.

    ``inf`` where some residents cannot reach any site (within the cutoff, if one was set).
    """
    mask = travel._site_mask(sites)
    if not mask.any():
        return pd.Series(np.inf, index=travel.communities, name="nearest_min")
    nearest = travel.minutes[:, mask].min(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return travel.aggregate(nearest, "nearest_min")


def coverage(travel: TravelTimes, *, minutes: float = 15.0,
             sites: Sequence[object] | None = None) -> pd.Series:
    """Share of each community's residents within ``minutes`` of one of ``sites``.

    The 15-minute service circle: 1 means every demand point reaches a site in time.
    Weight the result by adults for the overall share.
    """
    if minutes <= 0:
        raise InputError(f"minutes = {minutes}: expected a positive number")
    mask = travel._site_mask(sites)
    if not mask.any():
        return pd.Series(0.0, index=travel.communities, name="coverage_share")
    within = (travel.minutes[:, mask].min(axis=1) <= minutes).astype(np.float64)
    return travel.aggregate(within, "coverage_share")


def _decay(minutes: np.ndarray, catchment_min: float, kind: str) -> np.ndarray:
    inside = minutes <= catchment_min
    if kind == "step":
        return inside.astype(np.float64)
    if kind == "gaussian":
        # Gaussian falling to 0.01 at the catchment edge (Dai 2010's form); 0 beyond
        sigma2 = catchment_min**2 / (2 * math.log(100))
        with np.errstate(invalid="ignore"):
            w = np.exp(-(minutes.astype(np.float64) ** 2) / (2 * sigma2))
        return np.where(inside, w, 0.0)
    raise InputError(f"decay = {kind!r}: expected 'step' or 'gaussian'")


def e2sfca(travel: TravelTimes, supply: pd.Series, demand: pd.Series, *,
           catchment_min: float = 15.0,
           decay: Literal["step", "gaussian"] = "step") -> pd.Series:
    """Enhanced two-step floating catchment accessibility (Luo & Qi 2009).

    Step 1, for each site j: R_j = S_j / sum_k D_k W(t_kj) over demand points k within the
    catchment. Step 2, for each demand point i: A_i = sum_j R_j W(t_ij). Communities get
    the population-weighted mean of their points' A_i: supply per resident.

    Parameters
    ----------
    supply
        Capacity per site (for example visits per week), indexed like the sites.
    demand
        Residents per community (for example adults), indexed like the communities.
    decay
        ``"step"`` (1 inside the catchment) or ``"gaussian"``.
    """
    s = supply.reindex(travel.sites)
    if s.isna().any():
        raise InputError(f"supply has no value for {int(s.isna().sum())} site(s) such as "
                         f"{list(s.index[s.isna()][:3])}")
    d = demand.reindex(travel.communities)
    if d.isna().any() or (d < 0).any():
        raise InputError("demand needs a value >= 0 for every community")
    point_demand = (travel.points["share"].to_numpy()
                    * d.reindex(travel.points["community_id"]).to_numpy())
    w = _decay(travel.minutes, catchment_min, decay)
    denominator = point_demand @ w
    ratio = np.divide(s.to_numpy(dtype=np.float64), denominator,
                      out=np.zeros(len(s)), where=denominator > 0)
    return travel.aggregate(w @ ratio, "e2sfca")


def isochrones(G: nx.MultiDiGraph | RoutingGraph, sites: gpd.GeoDataFrame, *,
               minutes: Sequence[float] = (5, 10, 15), weight: str = "travel_min",
               buffer_m: float = 60.0) -> gpd.GeoDataFrame:
    """Areas reachable from each site within each time budget, for display.

    Each polygon is the union of the nodes reached (buffered by ``buffer_m``), wrapped in
    a concave hull. Returns one row per site and budget: ``site_id``, ``minutes``,
    geometry, in the graph's CRS. ``G``: an osmnx graph or a routing graph (such as
    ``StudyArea.routing()``).
    """
    rg = G if isinstance(G, RoutingGraph) else routing_graph(G, weight=weight)
    if rg.crs is None or not gpd.GeoSeries(crs=rg.crs).crs.is_projected:
        raise InputError("isochrones need a graph in a projected CRS; use StudyArea.routing()")
    pts = sites.to_crs(rg.crs) if sites.crs is not None else sites
    rows, _ = rg.snap(np.column_stack([pts.geometry.x, pts.geometry.y]))
    top = max(minutes)
    dist = dijkstra(rg.matrix, directed=True, indices=rows, limit=top)
    records = []
    for i, sid in enumerate(sites.index):
        for budget in sorted(minutes):
            reached = np.flatnonzero(dist[i] <= budget)
            if reached.size == 0:
                continue
            cloud = shapely.multipoints(rg.xy[reached])
            hull = shapely.concave_hull(cloud, ratio=0.3) if reached.size > 3 else cloud
            records.append({"site_id": sid, "minutes": float(budget),
                            "geometry": shapely.buffer(hull, buffer_m)})
    return gpd.GeoDataFrame(records, geometry="geometry", crs=rg.crs)
