"""The dashboard's page: its tabs and controls (the callbacks that fill them are in
dashboard.app)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from dash_ag_grid import AgGrid

from dashboard import data, maps
from dashboard.whatif import CAMPAIGN_FIELDS, FIELDS, GROUPS
from simulation.params import CHANNELS

__all__ = ["page_layout"]


_GRID = {"display": "grid", "gridTemplateColumns": "230px 150px", "gap": "4px",
         "alignItems": "center"}
_BOX = {"border": "1px solid #d0d7de", "borderRadius": "6px", "padding": "6px 10px"}


def _field(fid: str, key: str, label: str) -> list[Any]:
    control = (dcc.Dropdown(id=f"wf-{fid}", options=[{"label": "yes", "value": True},
                                                      {"label": "no", "value": False}],
                            clearable=False) if fid == "outlets-enabled" else
               dcc.Input(id=f"wf-{fid}", type="number", debounce=True,
                         style={"width": "140px"}))
    return [html.Label(label, htmlFor=f"wf-{fid}", title=key), control]


def _whatif_form() -> list[Any]:
    """The form in boxes, one per scenario table (a label's tooltip is its key)."""
    groups: dict[str, list[Any]] = {}
    for fid, (key, label) in FIELDS.items():
        groups.setdefault(key.split(".", 1)[0], []).extend(_field(fid, key, label))
    boxes = [html.Fieldset([html.Legend("Start from"), html.Div([
        html.Label("run"), dcc.Dropdown(id="whatif-base", style={"minWidth": "240px"}),
        html.Label("name of the new run"), dcc.Input(id="whatif-name", type="text")],
        style={**_GRID, "gridTemplateColumns": "150px 260px"})], style=_BOX)]
    boxes += [html.Fieldset([html.Legend(GROUPS[table]), html.Div(rows, style=_GRID)],
                            style=_BOX) for table, rows in groups.items()]
    campaign: list[Any] = []
    for fid, label in CAMPAIGN_FIELDS.items():
        campaign += [html.Label(label.removeprefix("add a campaign: "), htmlFor=f"wf-{fid}"),
                     dcc.Dropdown(id=f"wf-{fid}", options=list(CHANNELS))
                     if fid == "c-channel" else
                     dcc.Input(id=f"wf-{fid}", type="text" if fid in ("c-segments",
                                                                     "c-communities")
                               else "number", debounce=True, style={"width": "140px"})]
    boxes.append(html.Fieldset([html.Legend("Add a campaign"),
                                html.Div(campaign, style=_GRID)], style=_BOX))
    return boxes


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
                    html.Label("less"),
                    dcc.Dropdown(id="map-less", placeholder=(
                        "a run to take away: the map shows the difference, community by "
                        "community (optional)")),
                ], style={"display": "grid", "gridTemplateColumns": "80px 1fr",
                          "gap": "6px", "maxWidth": "900px"}),
                html.Div(id="map-message"),
                dcc.Loading(dcc.Graph(id="map", style={"height": "660px"})),
            ]),
            dcc.Tab(label="What-if", value="whatif", children=[
                html.P("Start from a run's scenario, change what you want to try, and run it. "
                       "Blank fields keep the run's values; a campaign, if you choose its "
                       "channel, is added to the run's own. Every problem is listed at "
                       "once, checked on the area as sitesim validate does. When the run "
                       "is done it is in Compare, with a link to compare it with the run "
                       "it started from."),
                html.Div(_whatif_form(), style={"display": "flex", "flexWrap": "wrap",
                                                "gap": "8px", "alignItems": "flex-start"}),
                html.Button("Run this scenario", id="whatif-run", n_clicks=0,
                            style={"marginTop": "8px"}),
                html.Ul(id="whatif-problems", style={"color": "#b42318"}),
                html.Div(id="whatif-status"),
                html.Div(id="whatif-link", style={"margin": "6px 0"}),
                dcc.Store(id="whatif-job"),
                dcc.Interval(id="whatif-poll", interval=1_000, disabled=True),
            ]),
            dcc.Tab(label="Runs", value="runs", children=[
                # the columns share the page's width (long text wraps), so the table
                # fits the page without a sideways scroll
                AgGrid(id="runs-table", columnSize="responsiveSizeToFit",
                       defaultColDef={"wrapText": True, "autoHeight": True,
                                      "wrapHeaderText": True, "autoHeaderHeight": True,
                                      "resizable": True, "minWidth": 70},
                       dashGridOptions={"domLayout": "autoHeight", "pagination": True,
                                        "paginationPageSize": 20},
                       style={"width": "100%"}),
                html.Div(id="run-page"),
            ]),
        ]),
    ], style={"fontFamily": "system-ui, sans-serif", "margin": "12px"})
