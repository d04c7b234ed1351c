"""The dashboard's map: a run's communities coloured by a score or a KPI over the street
network, with outlets, candidate and chosen sites, event venues and the walking service
area of the own outlets. Drawn in the area's metric CRS with plotly's plain axes, so no
web map tiles are needed (machines may be offline).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.sparse.csgraph import dijkstra

from dashboard import data
from geo import RoutingGraph, StudyArea, load_area, routing_graph
from scenarios.store import format_kpi, resolve_run

__all__ = ["COLOUR_BY", "map_figure", "service_area_nodes"]

#: What communities can be coloured by: label -> column (scores) or a run KPI.
COLOUR_BY = {
    "score": "score", "tier": "tier", "adults": "adults", "access gap (min)": "access_gap",
    "15-min coverage share": "coverage_share", "competition": "competition",
    "uplift in new customers": "kpi:uplift", "customers at the end": "kpi:customers",
    "planned spend": "kpi:spend",
}
_BINS = 7
_PALETTE = ("#f7fbff", "#d2e3f3", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
_KINDS = {"branch": "square", "micro_branch": "diamond", "smart_atm": "circle",
          "mobile_van": "triangle-up"}


@dataclass(frozen=True)
class _Base:
    area: StudyArea
    rg: RoutingGraph
    edges: tuple[np.ndarray, np.ndarray]  # x and y with NaN between segments
    pairs: np.ndarray  # (u, v) rows of each undirected edge, u < v
    origin: tuple[float, float]


@functools.lru_cache(maxsize=4)
def _base(area_ref: str) -> _Base:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(area_ref)
    rg = routing_graph(area.network("walk"))
    coo = rg.matrix.tocoo()
    keep = coo.row < coo.col
    u, v = coo.row[keep], coo.col[keep]
    pairs = np.unique(np.column_stack([u, v]), axis=0)
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


def map_figure(run_id: str, runs_dir: str | Path, colour_by: str = "score") -> go.Figure:
    """The map of a run (see the module's description)."""
    folder = resolve_run(run_id, runs_dir)
    m = data.manifest(run_id, runs_dir)
    scenario = m.get("scenario") or {}
    base = _base(str(scenario.get("area", "builtin:sample-city")))
    scores, kpis, plan = _run_layers(str(folder), (folder / "manifest.json").stat().st_mtime)
    column = COLOUR_BY.get(colour_by, "score")
    values = (kpis[column.removeprefix("kpi:")] if column.startswith("kpi:")
              else scores[column]).reindex(scores.index).astype(float)
    ox, oy = base.origin
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=base.edges[0], y=base.edges[1], mode="lines",
                               line={"color": "#c8ccd0", "width": 1}, hoverinfo="skip",
                               name="streets"))
    finite = values.dropna()
    edges = (np.unique(np.quantile(finite, np.linspace(0, 1, _BINS + 1)))
             if len(finite) else np.array([0.0, 1.0]))
    codes = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0,
                    len(edges) - 2)
    geoms = scores.geometry
    for b in range(len(edges) - 1):
        members = geoms[(codes == b) & values.notna().to_numpy()]
        if members.empty:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for poly in members.explode(index_parts=False):
            x, y = poly.exterior.coords.xy
            xs.extend([*np.round(np.asarray(x) - ox).tolist(), None])
            ys.extend([*np.round(np.asarray(y) - oy).tolist(), None])
        colour = _PALETTE[round(b * (len(_PALETTE) - 1) / max(1, len(edges) - 2))]
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, opacity=0.55,
                                 line={"color": "#6e7781", "width": 0.5}, hoverinfo="skip",
                                 name=f"{colour_by} {format_kpi(edges[b])} to "
                                      f"{format_kpi(edges[b + 1])}"))
    # the own outlets' walking service area (the scenario's coverage minutes)
    area = base.area
    minutes = float((scenario.get("outlets") or {}).get("coverage_minutes", 15))
    own = area.outlets[area.outlets["owner"] == "own"]
    opened = plan[plan["action"] == "open"] if "action" in plan else plan.iloc[0:0]
    sites = np.vstack([np.column_stack([own.geometry.x, own.geometry.y]),
                       opened[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    reached = service_area_nodes(base.rg, sites, minutes)
    inside = base.pairs[reached[base.pairs[:, 0]] & reached[base.pairs[:, 1]]]
    sx, sy = _segments(base.rg.xy, inside, base.origin)
    fig.add_trace(go.Scattergl(x=sx, y=sy, mode="lines", line={"color": "#e8a33d", "width": 1.5},
                               hoverinfo="skip", name=f"within {minutes:g} min walk of an own "
                                                      "outlet"))
    cent = scores.geometry.representative_point()
    fig.add_trace(go.Scatter(x=np.round(cent.x - ox), y=np.round(cent.y - oy), mode="markers",
                             marker={"size": 6, "color": "rgba(0,0,0,0.25)"},
                             hovertext=_hover(scores, values, colour_by), hoverinfo="text",
                             name="communities (hover)", customdata=list(scores.index)))
    for owner, colour in (("own", "#0a7d32"), ("competitor", "#b42318")):
        pts = area.outlets[area.outlets["owner"] == owner]
        fig.add_trace(go.Scatter(
            x=np.round(pts.geometry.x - ox), y=np.round(pts.geometry.y - oy), mode="markers",
            marker={"color": colour, "size": 9, "line": {"color": "white", "width": 1},
                    "symbol": [_KINDS.get(str(k), "circle") for k in pts["kind"]]},
            hovertext=[f"{owner} {k} {i}" for i, k in zip(pts.index, pts["kind"], strict=True)],
            hoverinfo="text", name=f"{owner} outlets"))
    cand = area.candidates
    fig.add_trace(go.Scatter(x=np.round(cand.geometry.x - ox), y=np.round(cand.geometry.y - oy),
                             mode="markers", marker={"symbol": "circle-open", "size": 7,
                                                     "color": "#57606a"},
                             hovertext=[f"candidate {i} ({k})" for i, k in
                                        zip(cand.index, cand["kinds"], strict=True)],
                             hoverinfo="text", name="candidate sites", visible="legendonly"))
    if len(opened):
        fig.add_trace(go.Scatter(
            x=np.round(opened["x"] - ox), y=np.round(opened["y"] - oy), mode="markers",
            marker={"symbol": "star", "size": 15, "color": "#8250df",
                    "line": {"color": "white", "width": 1}},
            hovertext=[f"new {k} at {s} (capex {c:,.0f})" for s, k, c in
                       zip(opened["site_id"], opened["kind"], opened["capex"], strict=True)],
            hoverinfo="text", name="chosen sites"))
    events = folder / "plan_events.parquet"
    if events.exists() and not area.venues.empty:
        ev = pd.read_parquet(events)
        held = area.venues.loc[area.venues.index.intersection(ev["venue_id"].unique())]
        label = ev.groupby("venue_id")["event_type"].agg(lambda s: ", ".join(sorted(set(s))))
        fig.add_trace(go.Scatter(
            x=np.round(held.geometry.x - ox), y=np.round(held.geometry.y - oy),
            mode="markers", marker={"symbol": "hexagon", "size": 10, "color": "#bf8700"},
            hovertext=[f"events at {v}: {label[v]}" for v in held.index], hoverinfo="text",
            name="event venues"))
    fig.update_layout(
        title=f"{run_id}: communities by {colour_by}", height=640, showlegend=True,
        legend={"orientation": "v", "x": 1.01, "y": 1}, plot_bgcolor="white",
        margin={"t": 40, "l": 10, "r": 10, "b": 10},
        xaxis={"visible": False, "scaleanchor": "y", "scaleratio": 1},
        yaxis={"visible": False}, uirevision=run_id)
    return fig
