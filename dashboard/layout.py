"""The dashboard's page: its tabs and controls (the callbacks that fill them are in
dashboard.app)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from dash_ag_grid import AgGrid

from dashboard import data, maps
from dashboard.whatif import CAMPAIGN_FIELDS, FIELDS
from simulation.params import CHANNELS

__all__ = ["page_layout"]


def _whatif_form() -> list[Any]:
    rows: list[Any] = [html.Label("start from run"), dcc.Dropdown(id="whatif-base"),
                       html.Label("name"), dcc.Input(id="whatif-name", type="text")]
    for fid, (key, label) in FIELDS.items():
        rows += [html.Label(f"{label} ({key})", htmlFor=f"wf-{fid}"),
                 dcc.Input(id=f"wf-{fid}", type="number", debounce=True)
                 if fid != "outlets-enabled" else
                 dcc.Dropdown(id=f"wf-{fid}", options=[{"label": "yes", "value": True},
                                                       {"label": "no", "value": False}],
                              clearable=False)]
    for fid, label in CAMPAIGN_FIELDS.items():
        rows += [html.Label(label, htmlFor=f"wf-{fid}"),
                 dcc.Dropdown(id=f"wf-{fid}", options=list(CHANNELS))
                 if fid == "c-channel" else
                 dcc.Input(id=f"wf-{fid}", type="text" if fid in ("c-segments",
                                                                 "c-communities")
                           else "number", debounce=True)]
    return rows


def page_layout() -> Any:
    """The whole page."""
    curves = list(data.WEEKLY)
    return html.Div([
        dcc.Location(id="url"),
        html.H2("sitesim: scenarios side by side"),
        dcc.Interval(id="refresh", interval=10_000),
        dcc.Store(id="runs-seen"),
        dcc.Tabs(id="tabs", value="compare", children=[
            dcc.Tab(label="Compare", value="compare", children=[
                html.Div([
                    html.Label("runs"),
                    dcc.Dropdown(id="runs", multi=True, placeholder="pick runs to compare"),
                    html.Label("baseline"),
                    dcc.Dropdown(id="baseline", clearable=False),
                    html.Label("curve"),
                    dcc.Dropdown(id="curve", options=curves, value=curves[0],
                                 clearable=False),
                ], style={"display": "grid", "gridTemplateColumns": "80px 1fr",
                          "gap": "6px", "maxWidth": "900px"}),
                html.Div(id="compare-message", style={"margin": "8px 0"}),
                html.Div(id="cards", style={"display": "flex", "flexWrap": "wrap",
                                            "gap": "8px"}),
                dcc.Graph(id="curves"),
                html.Div([dcc.Graph(id="budget"), dcc.Graph(id="staff")],
                         style={"display": "grid", "gridTemplateColumns": "1fr 1fr"}),
                html.H4("Where the scenarios differ"),
                AgGrid(id="differences", columnSize="autoSize",
                       dashGridOptions={"domLayout": "autoHeight"}),
            ]),
            dcc.Tab(label="Map", value="map", children=[
                html.Div([
                    html.Label("run"), dcc.Dropdown(id="map-run"),
                    html.Label("colour by"),
                    dcc.Dropdown(id="map-colour", options=list(maps.COLOUR_BY),
                                 value="score", clearable=False),
                ], style={"display": "grid", "gridTemplateColumns": "80px 1fr",
                          "gap": "6px", "maxWidth": "900px"}),
                html.Div(id="map-message"),
                dcc.Loading(dcc.Graph(id="map", style={"height": "660px"})),
            ]),
            dcc.Tab(label="What-if", value="whatif", children=[
                html.P("Start from a run's scenario, change what you want to try, and run it. "
                       "Blank fields keep the run's values; a campaign, if you choose its "
                       "channel, is added to the run's own. The run appears under Compare "
                       "when it is done."),
                html.Div(_whatif_form(), style={"display": "grid",
                                                "gridTemplateColumns": "320px 260px",
                                                "gap": "4px"}),
                html.Button("Run this scenario", id="whatif-run", n_clicks=0,
                            style={"marginTop": "8px"}),
                html.Ul(id="whatif-problems", style={"color": "#b42318"}),
                html.Div(id="whatif-status"),
                dcc.Store(id="whatif-job"),
                dcc.Interval(id="whatif-poll", interval=1_000, disabled=True),
            ]),
            dcc.Tab(label="Runs", value="runs", children=[
                AgGrid(id="runs-table", columnSize="autoSize",
                       dashGridOptions={"domLayout": "autoHeight", "pagination": True,
                                        "paginationPageSize": 20}),
                html.Div(id="run-page"),
            ]),
        ]),
    ], style={"fontFamily": "system-ui, sans-serif", "margin": "12px"})
