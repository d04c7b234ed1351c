"""A run's manifest as tables for ``/runs/<run id>``: what it is, how long each stage took,
its warnings, its scenario's keys, and each part of its summary; the raw JSON last,
folded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dash import html

from scenarios.store import format_kpi

__all__ = ["flatten", "manifest_tables"]

_TABLE = {"fontSize": "13px", "borderCollapse": "collapse", "margin": "4px 0 12px"}
_CELL = {"border": "1px solid #d0d7de", "padding": "2px 8px", "textAlign": "left"}


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, value)`` for every leaf of nested tables; lists of plain values stay
    whole."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, Any]] = []
        for k, v in value.items():
            rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    return [(prefix, value)]


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return format_kpi(float(value))
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _pairs(rows: list[tuple[str, Any]], head: tuple[str, str] = ("key", "value")) -> Any:
    return html.Table([html.Thead(html.Tr([html.Th(h, style=_CELL) for h in head])),
                       html.Tbody([html.Tr([html.Td(k, style=_CELL),
                                            html.Td(_text(v), style=_CELL)])
                                   for k, v in rows])], style=_TABLE)


def _records(records: list[Mapping[str, Any]]) -> Any:
    columns = list(dict.fromkeys(k for r in records for k in r))
    return html.Table([html.Thead(html.Tr([html.Th(c, style=_CELL) for c in columns])),
                       html.Tbody([html.Tr([html.Td(_text(r.get(c)), style=_CELL)
                                            for c in columns]) for r in records])],
                      style=_TABLE)


def _part(value: Any) -> list[Any]:
    """A summary part: tables of records for its lists of tables, key-value rows for the
    rest."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return [_records(value)]
    if not isinstance(value, Mapping):
        return [_pairs([("", value)])]
    out: list[Any] = []
    plain = []
    for k, v in value.items():
        if isinstance(v, list) and v and all(isinstance(r, Mapping) for r in v):
            out += [html.H5(str(k)), _records(v)]
        elif (isinstance(v, Mapping) and v
              and all(isinstance(r, Mapping) for r in v.values())):  # rows by name
            out += [html.H5(str(k)), _records([{"": n, **r} for n, r in v.items()])]
        else:
            plain += flatten(v, str(k))
    return ([_pairs(plain)] if plain else []) + out


def manifest_tables(m: Mapping[str, Any]) -> list[Any]:
    """The manifest of a run as headed tables (the dashboard's run page)."""
    inputs = m.get("inputs") or {}
    overview = [("run id", m.get("run_id")), ("name", m.get("name")),
                ("status", m.get("status")), ("seed", m.get("seed")),
                ("seconds", m.get("seconds")), ("area", inputs.get("area")),
                ("format", m.get("format"))]
    parts: list[Any] = [html.H4("run"), _pairs(overview)]
    timings = m.get("timings") or {}
    if timings:
        parts += [html.H4("time by stage (s)"), _pairs(list(timings.items()),
                                                      ("stage", "seconds"))]
    warnings = m.get("warnings") or []
    if warnings:
        parts += [html.H4("warnings"), html.Ul([html.Li(w) for w in warnings])]
    for name, value in (m.get("summary") or {}).items():
        parts += [html.H4(f"summary: {name}"), *_part(value)]
    campaigns = m.get("campaigns") or []
    if campaigns:
        parts += [html.H4("campaigns simulated"), _records(campaigns)]
    parts += [html.H4("scenario"), _pairs(flatten(m.get("scenario") or {}))]
    parts.append(html.Details([html.Summary("the manifest as JSON"),
                               html.Pre(json.dumps(m, indent=2, default=str),
                                        style={"maxHeight": "480px", "overflow": "auto"})]))
    return parts
