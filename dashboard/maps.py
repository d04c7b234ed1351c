"""The dashboard's maps in plotly, drawn from dashboard.map_layers: a run's communities
coloured by a score or a KPI, or the difference between two runs, over the street network
with outlets by owner and kind, candidate and chosen sites, event venues and the walking
service area of the own outlets. Plain axes in the area's metric CRS, no web map tiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.map_layers import (
    COLOUR_BY,
    DAY_COLOURS,
    DIFFERENCE_BY,
    KIND_LABELS,
    MapLayers,
    chosen_groups,
    difference_layers,
    map_layers,
    opening_text,
)

__all__ = ["COLOUR_BY", "DIFFERENCE_BY", "difference_figure", "map_figure"]

_SYMBOLS = {"branch": "square", "micro_branch": "diamond", "smart_atm": "circle",
            "mobile_van": "triangle-up"}
_OWNERS = {"own": "#0a7d32", "competitor": "#b42318"}


def map_figure(run_id: str, runs_dir: str | Path, colour_by: str = "score") -> go.Figure:
    """The map of a run, communities coloured by ``colour_by`` (a key of ``COLOUR_BY``)."""
    return draw(map_layers(run_id, runs_dir, colour_by), uirevision=run_id)


def difference_figure(run_id: str, other: str, runs_dir: str | Path,
                      colour_by: str = "uplift in new customers") -> go.Figure:
    """The map of ``other`` less ``run_id`` by a run KPI (a key of ``DIFFERENCE_BY``)."""
    return draw(difference_layers(run_id, other, runs_dir, colour_by),
                uirevision=f"{run_id}|{other}")


def _rings_xy(rings: tuple[np.ndarray, ...]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        xs.extend([*ring[:, 0].tolist(), None])
        ys.extend([*ring[:, 1].tolist(), None])
    return xs, ys


def draw(layers: MapLayers, uirevision: str = "") -> go.Figure:
    """A plotly figure of the layers: the map fits the communities' extent, each outlet
    kind has its own marker and legend entry, money classes carry the currency."""
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=layers.streets[0], y=layers.streets[1], mode="lines",
                               line={"color": "#d0d4d8", "width": 0.8}, hoverinfo="skip",
                               name="streets"))
    for b in layers.bins:
        xs, ys = _rings_xy(b.rings)
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=b.colour, opacity=0.7,
                                 line={"color": "#6e7781", "width": 0.5}, hoverinfo="skip",
                                 name=b.label))
    # thin and translucent, so the classes stay readable under it
    fig.add_trace(go.Scattergl(x=layers.coverage[0], y=layers.coverage[1], mode="lines",
                               line={"color": "rgba(232,163,61,0.55)", "width": 1},
                               hoverinfo="skip",
                               name=f"within {layers.coverage_minutes:g} min walk of an own "
                                    "outlet"))
    c = layers.communities
    fig.add_trace(go.Scatter(x=c["x"], y=c["y"], mode="markers",
                             marker={"size": 6, "color": "rgba(0,0,0,0.25)"},
                             hovertext=c["hover"], hoverinfo="text",
                             name="communities (hover)", customdata=list(c["community_id"])))
    for (owner, kind), pts in layers.outlets.groupby(["owner", "kind"], sort=True):
        fig.add_trace(go.Scatter(
            x=pts["x"], y=pts["y"], mode="markers",
            marker={"color": _OWNERS.get(str(owner), "#57606a"), "size": 9,
                    "symbol": _SYMBOLS.get(str(kind), "circle"),
                    "line": {"color": "white", "width": 1}},
            hovertext=[f"{owner} {KIND_LABELS.get(str(kind), kind)} {i}"
                       for i in pts["outlet_id"]],
            hoverinfo="text", name=f"{owner} {KIND_LABELS.get(str(kind), kind)}"))
    cand = layers.candidates
    fig.add_trace(go.Scatter(x=cand["x"], y=cand["y"], mode="markers",
                             marker={"symbol": "circle-open", "size": 7, "color": "#57606a"},
                             hovertext=[f"candidate {i} ({k})" for i, k in
                                        zip(cand["site_id"], cand["kinds"], strict=True)],
                             hoverinfo="text", name="candidate sites", visible="legendonly"))
    for name, colour, sites in chosen_groups(layers.chosen):
        fig.add_trace(go.Scatter(
            x=sites["x"], y=sites["y"], mode="markers",
            marker={"symbol": "star", "size": 15, "color": colour,
                    "line": {"color": "white", "width": 1}},
            hovertext=[f"new {KIND_LABELS.get(k, k)} at {s} {n} (capex {c:,.0f} "
                       f"{layers.currency}){'' if pd.isna(q) else f', opens in {opening_text(q)}'}"
                       for s, k, n, c, q in zip(sites["site_id"], sites["kind"], sites["name"],
                                                sites["capex"], sites["quarter"], strict=True)],
            hoverinfo="text", name=name))
    for _, stops in layers.van.groupby("day", sort=True):  # the van's week, a day each
        name, day = str(stops["day_name"].iloc[0]), int(stops["day"].iloc[0])
        fig.add_trace(go.Scatter(
            x=stops["x"], y=stops["y"], mode="markers+text", text=list(stops["order"]),
            textposition="top center",
            marker={"symbol": "triangle-up", "size": 12,
                    "color": DAY_COLOURS[(day - 1) % len(DAY_COLOURS)],
                    "line": {"color": "white", "width": 1}},
            hovertext=[f"van stop {s} on {name}, stop {o} of the day"
                       for s, o in zip(stops["stop_id"], stops["order"], strict=True)],
            hoverinfo="text", name=f"van stops, {name}"))
    v = layers.venues
    if len(v):
        fig.add_trace(go.Scatter(
            x=v["x"], y=v["y"], mode="markers",
            marker={"symbol": "hexagon", "size": 10, "color": "#bf8700"},
            hovertext=[f"events at {i}: {e}" for i, e in zip(v["venue_id"], v["events"],
                                                              strict=True)],
            hoverinfo="text", name="event venues"))
    xmin, xmax, ymin, ymax = layers.extent
    pad = 0.02 * max(xmax - xmin, ymax - ymin)
    fig.update_layout(
        title=layers.title, showlegend=True, autosize=True,
        legend={"orientation": "v", "x": 1.01, "y": 1}, plot_bgcolor="white",
        margin={"t": 40, "l": 10, "r": 10, "b": 10},
        xaxis={"visible": False, "range": [xmin - pad, xmax + pad], "constrain": "domain"},
        yaxis={"visible": False, "range": [ymin - pad, ymax + pad], "scaleanchor": "x",
               "scaleratio": 1, "constrain": "domain"},
        uirevision=uirevision)
    return fig
