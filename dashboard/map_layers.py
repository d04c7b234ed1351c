"""The layers of a run's map, computed once and drawn by the dashboard (plotly,
dashboard.maps) and by the report (matplotlib, dashboard.report_figures): the street
network, the communities binned by an indicator (or by the difference between two runs),
the walking service area of the own outlets, outlets by owner and kind, candidate and
chosen sites, and event venues. Coordinates are metres from the south-west corner of
the street network in the area's metric CRS, so no web map tiles are needed (machines
may be offline).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from dashboard import data
from geo import RoutingGraph, StudyArea, load_area
from scenarios.store import format_kpi, resolve_run

__all__ = [
    "COLOUR_BY",
    "DAY_COLOURS",
    "DIFFERENCE_BY",
    "KIND_LABELS",
    "QUARTER_COLOURS",
    "Bin",
    "MapLayers",
    "chosen_groups",
    "difference_layers",
    "map_layers",
    "opening_text",
    "service_area_nodes",
]

#: What communities can be coloured by: label -> column (scores) or a run KPI.
COLOUR_BY = {
    "score": "score", "tier": "tier", "adults": "adults", "access gap (min)": "access_gap",
    "15-min coverage share": "coverage_share", "competition": "competition",
    "income": "income", "uplift in new customers": "kpi:uplift",
    "customers at the end": "kpi:customers", "planned spend": "kpi:spend",
}
#: What two runs can be told apart by, community by community (run KPIs).
DIFFERENCE_BY = {k: v for k, v in COLOUR_BY.items() if v.startswith("kpi:")}
_MONEY = {"income", "kpi:spend"}
#: Outlet kinds as people say them (each has its own marker in both drawings).
KIND_LABELS = {"branch": "branch", "micro_branch": "micro-branch", "smart_atm": "smart ATM",
               "mobile_van": "mobile van"}
_BINS = 7
SEQUENTIAL = ("#f7fbff", "#d2e3f3", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
#: Red (the second run has less) through white (no difference) to green (more).
DIVERGING = ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d9f0d3", "#7fbf7b", "#1b7837")


@dataclass(frozen=True)
class _Base:
    area: StudyArea
    rg: RoutingGraph
    edges: tuple[np.ndarray, np.ndarray]  # x and y with NaN between segments
    pairs: np.ndarray  # (u, v) rows of each undirected edge, u < v
    origin: tuple[float, float]


@dataclass(frozen=True)
class Bin:
    """Communities whose value falls in one class: the legend's label, the fill colour,
    and each polygon's exterior ring as an (n, 2) array."""

    label: str
    colour: str
    rings: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class MapLayers:
    """Everything a map of a run shows (see the module's description). Frames carry
    ``x`` and ``y`` in the map's metres."""

    title: str
    label: str  # what the communities are coloured by
    currency: str
    extent: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax of the communities
    streets: tuple[np.ndarray, np.ndarray]
    bins: tuple[Bin, ...]
    coverage: tuple[np.ndarray, np.ndarray]
    coverage_minutes: float
    communities: pd.DataFrame  # community_id, name, value, x, y, hover
    outlets: pd.DataFrame  # outlet_id, owner, kind, x, y
    candidates: pd.DataFrame  # site_id, kinds, x, y
    chosen: pd.DataFrame  # site_id, kind, name, capex, quarter (a rollout's; else NA), x, y
    venues: pd.DataFrame  # venue_id, events, x, y
    #: the van's stops (plan_van.parquet): stop_id, day, day_name, order, x, y
    van: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["stop_id", "day", "day_name", "order", "x", "y"]))


#: A rollout's quarters, early to late (purple for one plan of sites opened at once).
QUARTER_COLOURS = ("#8250df", "#bf3989", "#cf222e", "#fb8500", "#9a6700", "#1a7f37")
#: A van's days, Monday to Sunday (the dashboard and the report alike).
DAY_COLOURS = ("#0969da", "#1a7f37", "#9a6700", "#bc4c00", "#8250df", "#bf3989", "#57606a")


def opening_text(quarter: object) -> str:
    """A rollout's quarter as a planner says it, with the week it opens in."""
    from scenarios.rollout import opening_week

    q = int(quarter)  # type: ignore[call-overload]
    return f"quarter {q} (week {opening_week(q)})"


def chosen_groups(chosen: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The chosen sites as the legend lists them: one group, or with a rollout one per
    quarter (its name says the quarter and its first week), each with its colour."""
    if not len(chosen):
        return []
    if chosen["quarter"].isna().all():
        return [("chosen sites", QUARTER_COLOURS[0], chosen)]
    groups = []
    for quarter in sorted(int(q) for q in chosen["quarter"].dropna().unique()):
        groups.append((f"chosen sites, opening in {opening_text(quarter)}",
                       QUARTER_COLOURS[min(quarter - 1, len(QUARTER_COLOURS) - 1)],
                       chosen[chosen["quarter"] == quarter]))
    return groups


@functools.lru_cache(maxsize=4)
def _base(area_ref: str) -> _Base:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(area_ref)
    rg = area.routing("walk")
    coo = rg.matrix.tocoo()
    keep = coo.row < coo.col
    pairs = np.unique(np.column_stack([coo.row[keep], coo.col[keep]]), axis=0)
    origin = (float(rg.xy[:, 0].min()), float(rg.xy[:, 1].min()))
    return _Base(area, rg, _segments(rg.xy, pairs, origin), pairs, origin)


def _segments(xy: np.ndarray, pairs: np.ndarray, origin: tuple[float, float]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Edge segments as one polyline with NaN breaks, in metres from the south-west corner
    (rounded to the metre)."""
    n = len(pairs)
    x = np.full(3 * n, np.nan)
    y = np.full(3 * n, np.nan)
    x[0::3], x[1::3] = xy[pairs[:, 0], 0], xy[pairs[:, 1], 0]
    y[0::3], y[1::3] = xy[pairs[:, 0], 1], xy[pairs[:, 1], 1]
    # float32 holds whole metres exactly up to 16,000 km and halves the page
    return (np.round(x - origin[0]).astype(np.float32),
            np.round(y - origin[1]).astype(np.float32))


def service_area_nodes(rg: RoutingGraph, xy: np.ndarray, minutes: float) -> np.ndarray:
    """Street nodes within ``minutes`` walk of any of the points ``xy`` (each point at its
    nearest node; multi-source shortest paths on the routing graph)."""
    if len(xy) == 0:
        return np.zeros(len(rg.node_ids), dtype=bool)
    rows, _ = rg.snap(np.asarray(xy, dtype=float))
    # towards the points: shortest paths on the reversed graph
    dist = np.asarray(dijkstra(rg.matrix.T, directed=True, indices=rows, limit=minutes,
                               min_only=True))
    return np.isfinite(dist) & (dist <= minutes)


def _community_kpis(folder: Path) -> pd.DataFrame:
    """Per community: uplift in new customers and customers at the end (means over
    replications), and planned spend over the horizon."""
    path = str(folder / "timeseries.parquet").replace("'", "''")
    with duckdb.connect() as con:
        frame = con.execute(f"""
            WITH t AS (SELECT * FROM read_parquet('{path}')),
                 n AS (SELECT count(DISTINCT replication) AS r FROM t),
                 last AS (SELECT max(week) AS w FROM t)
            SELECT community_id,
                   sum(CASE WHEN arm = 'campaign' THEN new_customers
                            ELSE -new_customers END) / any_value(n.r) AS uplift,
                   sum(CASE WHEN arm = 'campaign' AND week = last.w
                            THEN new + active + mature ELSE 0 END) / any_value(n.r)
                       AS customers,
                   sum(CASE WHEN arm = 'campaign' THEN spend ELSE 0 END) / any_value(n.r)
                       AS spend
            FROM t, n, last GROUP BY community_id""").df()
    return frame.set_index("community_id")


@functools.lru_cache(maxsize=64)
def _run_layers(folder: str, stamp: float) -> tuple[gpd.GeoDataFrame, pd.DataFrame,
                                                      pd.DataFrame]:
    del stamp
    root = Path(folder)
    scores = gpd.read_parquet(root / "scores.parquet").set_index("community_id")
    kpis = _community_kpis(root) if (root / "timeseries.parquet").exists() else (
        pd.DataFrame(index=scores.index, columns=["uplift", "customers", "spend"]))
    plan = (pd.read_parquet(root / "plan_outlets.parquet")
            if (root / "plan_outlets.parquet").exists() else pd.DataFrame())
    return scores, kpis, plan


def _values(run_id: str, runs_dir: str | Path, colour_by: str) -> tuple[
        gpd.GeoDataFrame, pd.DataFrame, pd.Series]:
    folder = resolve_run(run_id, runs_dir)
    scores, kpis, plan = _run_layers(str(folder), (folder / "manifest.json").stat().st_mtime)
    column = COLOUR_BY.get(colour_by, "score")
    values = (kpis[column.removeprefix("kpi:")] if column.startswith("kpi:")
              else scores[column]).reindex(scores.index).astype(float)
    return scores, plan, values


def _hover(scores: gpd.GeoDataFrame, values: pd.Series, label: str) -> list[str]:
    contrib = [c for c in scores.columns if c.startswith("contrib_")]
    out = []
    for cid, row in scores.iterrows():
        top = sorted(((row[c], c.removeprefix("contrib_")) for c in contrib), reverse=True)
        why = ", ".join(f"{name} {v:+.2f}" for v, name in top[:3])
        out.append(
            f"<b>{row.get('name', cid)}</b> ({cid})<br>score {row['score']:.2f}, "
            f"rank {int(row['rank'])}, tier {int(row['tier'])}<br>{label}: "
            f"{values.get(cid, float('nan')):,.3g}<br>adults {row['adults']:,.0f}, "
            f"18-35 {row['youth_share']:.0%}, 56+ {row['senior_share']:.0%}, income "
            f"{row['income']:,.0f}<br>access gap {row['access_gap']:.1f} min, 15-min "
            f"coverage {row['coverage_share']:.0%}<br>score from: {why}")
    return out


def _bin_edges(values: pd.Series, diverging: bool) -> np.ndarray:
    finite = values.dropna().to_numpy(float)
    if not len(finite):
        return np.array([0.0, 1.0])
    if diverging:  # symmetric classes around no difference, so white means none
        top = float(np.abs(finite).max()) or 1.0
        return np.linspace(-top, top, _BINS + 1)
    return np.unique(np.quantile(finite, np.linspace(0, 1, _BINS + 1)))


def _bins(scores: gpd.GeoDataFrame, values: pd.Series, label: str, unit: str,
          origin: tuple[float, float], diverging: bool) -> tuple[Bin, ...]:
    edges = _bin_edges(values, diverging)
    codes = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0,
                    len(edges) - 2)
    palette = DIVERGING if diverging else SEQUENTIAL
    ox, oy = origin
    out = []
    for b in range(len(edges) - 1):
        members = scores.geometry[(codes == b) & values.notna().to_numpy()]
        if members.empty:
            continue
        rings = tuple(np.round(np.column_stack(poly.exterior.coords.xy) - (ox, oy))
                      for poly in members.explode(index_parts=False))
        colour = palette[round(b * (len(palette) - 1) / max(1, len(edges) - 2))]
        out.append(Bin(f"{label} {format_kpi(edges[b])} to {format_kpi(edges[b + 1])}{unit}",
                       colour, rings))
    return tuple(out)


def _layers(run_id: str, runs_dir: str | Path, title: str, label: str, scores: gpd.GeoDataFrame,
            plan: pd.DataFrame, values: pd.Series, money: bool, diverging: bool) -> MapLayers:
    m = data.manifest(run_id, runs_dir)
    scenario = m.get("scenario") or {}
    base = _base(str(scenario.get("area", "builtin:sample-city")))
    area = base.area
    ox, oy = base.origin
    currency = area.config.currency
    bins = _bins(scores, values, label, f" {currency}" if money else "", base.origin,
                 diverging)
    minutes = float((scenario.get("outlets") or {}).get("coverage_minutes", 15))
    own = area.outlets[area.outlets["owner"] == "own"]
    opened = plan[plan["action"] == "open"] if "action" in plan else pd.DataFrame(
        columns=["site_id", "kind", "capex", "x", "y", "name"])
    sites = np.vstack([np.column_stack([own.geometry.x, own.geometry.y]),
                       opened[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    reached = service_area_nodes(base.rg, sites, minutes)
    inside = base.pairs[reached[base.pairs[:, 0]] & reached[base.pairs[:, 1]]]
    cent = scores.geometry.representative_point()
    communities = pd.DataFrame({
        "community_id": scores.index, "name": scores.get("name", scores.index.to_series()),
        "value": values.to_numpy(), "x": np.round(cent.x - ox).to_numpy(),
        "y": np.round(cent.y - oy).to_numpy(), "hover": _hover(scores, values, label)})
    outlets = pd.DataFrame({"outlet_id": area.outlets.index, "owner": area.outlets["owner"],
                            "kind": area.outlets["kind"].astype(str),
                            "x": np.round(area.outlets.geometry.x - ox),
                            "y": np.round(area.outlets.geometry.y - oy)}).reset_index(drop=True)
    cand = area.candidates
    candidates = pd.DataFrame({"site_id": cand.index, "kinds": cand["kinds"].astype(str),
                               "x": np.round(cand.geometry.x - ox),
                               "y": np.round(cand.geometry.y - oy)}).reset_index(drop=True)
    chosen = pd.DataFrame({"site_id": opened["site_id"].astype(str),
                           "kind": opened["kind"].astype(str),
                           "name": opened.get("name", opened["site_id"]).astype(str),
                           "capex": opened["capex"].astype(float),
                           "quarter": (opened["quarter"] if "quarter" in opened
                                       else pd.Series(pd.NA, index=opened.index)
                                       ).astype("Int64"),
                           "x": np.round(opened["x"].astype(float) - ox),
                           "y": np.round(opened["y"].astype(float) - oy)}).reset_index(drop=True)
    venues = pd.DataFrame(columns=["venue_id", "events", "x", "y"])
    events = resolve_run(run_id, runs_dir) / "plan_events.parquet"
    if events.exists() and not area.venues.empty:
        ev = pd.read_parquet(events)
        held = area.venues.loc[area.venues.index.intersection(ev["venue_id"].unique())]
        said = ev.groupby("venue_id")["event_type"].agg(lambda s: ", ".join(sorted(set(s))))
        venues = pd.DataFrame({"venue_id": held.index, "events": [said[v] for v in held.index],
                               "x": np.round(held.geometry.x - ox),
                               "y": np.round(held.geometry.y - oy)}).reset_index(drop=True)
    van = pd.DataFrame(columns=["stop_id", "day", "day_name", "order", "x", "y"])
    week = resolve_run(run_id, runs_dir) / "plan_van.parquet"
    if week.exists():
        stops = pd.read_parquet(week)
        stops = stops[stops["stop_id"].isin(area.candidates.index)]
        at = area.candidates.geometry.reindex(stops["stop_id"])
        van = stops[["stop_id", "day", "day_name", "order"]].assign(
            x=np.round(at.x.to_numpy() - ox), y=np.round(at.y.to_numpy() - oy))
    xmin, ymin, xmax, ymax = scores.total_bounds
    return MapLayers(title, label, currency, (xmin - ox, xmax - ox, ymin - oy, ymax - oy),
                     base.edges, bins, _segments(base.rg.xy, inside, base.origin), minutes,
                     communities, outlets, candidates, chosen, venues, van)


def map_layers(run_id: str, runs_dir: str | Path, colour_by: str = "score") -> MapLayers:
    """A run's map, its communities coloured by ``colour_by`` (a key of ``COLOUR_BY``) in
    seven quantile classes."""
    label = colour_by if colour_by in COLOUR_BY else "score"
    scores, plan, values = _values(run_id, runs_dir, label)
    return _layers(run_id, runs_dir, f"{run_id}: communities by {label}", label, scores,
                   plan, values, COLOUR_BY[label] in _MONEY, diverging=False)


def difference_layers(run_id: str, other: str, runs_dir: str | Path,
                      colour_by: str = "uplift in new customers") -> MapLayers:
    """The map of ``other`` less ``run_id``, community by community, for a run KPI (a key
    of ``DIFFERENCE_BY``): seven classes symmetric around no difference, red where
    ``other`` has less, green where it has more; outlets and sites are ``other``'s."""
    label = colour_by if colour_by in DIFFERENCE_BY else "uplift in new customers"
    _, _, first = _values(run_id, runs_dir, label)
    scores, plan, second = _values(other, runs_dir, label)
    diff = second - first.reindex(second.index)
    return _layers(other, runs_dir, f"{label}: {other} less {run_id}",
                   f"{label} difference", scores, plan, diff,
                   COLOUR_BY[label] in _MONEY, diverging=True)
