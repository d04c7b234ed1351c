"""GraphML straight into arrays: node ids and positions, edges and their text attributes.

osmnx's GraphML (written by networkx) has one start tag per node and edge and one
``<data key="dN">value</data>`` per attribute. Each attribute is found by one regular
expression over the whole file and given to its node or edge by position, so nothing
is built per element in Python: a 44 MB city reads in about half a second, against 7 s
for ``osmnx.load_graphml``. A file laid out otherwise (attributes in another order or
quoting, comments, CDATA, one attribute under several keys) is read element by element
with the standard library's parser instead, to the same arrays.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import NetworkError

__all__ = ["GraphmlArrays", "read_graphml_arrays"]

_NS = "{http://graphml.graphdrawing.org/xmlns}"
_NODE = re.compile(rb'<node\s+id="([^"]*)"\s*/?>')
_EDGE = re.compile(rb'<edge\s+source="([^"]*)"\s+target="([^"]*)"[^>]*>')
_KEY_TAG = re.compile(rb"<key\b([^>]*)>")
_ATTR = re.compile(rb'([\w.:-]+)="([^"]*)"')


@dataclass(frozen=True)
class GraphmlArrays:
    """A GraphML graph as arrays: nodes in file order, edges as written (directed)."""

    node_ids: np.ndarray  # int64
    x: np.ndarray
    y: np.ndarray
    source: np.ndarray  # int64 node ids
    target: np.ndarray
    edge_text: dict[str, np.ndarray]  # attribute name -> object array of str or None
    crs: str | None
    directed: bool


def read_graphml_arrays(path: Path, edge_attributes: tuple[str, ...]) -> GraphmlArrays:
    """Nodes (ids, ``x``, ``y``), edges and the named edge attributes of a GraphML file."""
    try:
        data = path.read_bytes()
        fast = _fast(data, edge_attributes)
        return fast if fast is not None else _by_element(path, edge_attributes)
    except (OSError, ET.ParseError, ValueError, UnicodeDecodeError) as exc:
        raise NetworkError(f"{path}: cannot read as GraphML: {exc}") from None


def _keys(data: bytes) -> dict[str, list[tuple[str, str]]]:
    """attr.name -> its (for, key id) declarations."""
    out: dict[str, list[tuple[str, str]]] = {}
    for match in _KEY_TAG.finditer(data):
        attrs = {k.decode(): html.unescape(v.decode()) for k, v in _ATTR.findall(match.group(1))}
        if "id" in attrs and "attr.name" in attrs:
            out.setdefault(attrs["attr.name"], []).append((attrs.get("for", "all"),
                                                          attrs["id"]))
    return out


def _key(keys: dict[str, list[tuple[str, str]]], kind: str, name: str
         ) -> tuple[str, bool] | None:
    """The one key id of ``name`` for ``kind`` elements, and whether it is declared for
    that kind alone; None when there is none. Several (networkx declares one per value
    type where the types differ) are left to the element parser."""
    found = [(key, scope == kind) for scope, key in keys.get(name, [])
             if scope in (kind, "all")]
    if len(found) > 1:
        raise _UnusualLayoutError
    return found[0] if found else None


def _text(raw: bytes) -> str:
    value = raw.decode()
    return html.unescape(value) if "&" in value else value


def _fast(data: bytes, edge_attributes: tuple[str, ...]) -> GraphmlArrays | None:
    """The arrays by regular expressions, or None where the layout is not the usual one."""
    if b"<![CDATA[" in data or b"<!--" in data:
        return None
    keys = _keys(data)
    nodes = _NODE.findall(data)
    edges = _EDGE.findall(data)
    if len(nodes) != data.count(b"<node") or len(edges) != data.count(b"<edge"):
        return None
    starts: np.ndarray | None = None
    kinds = index_in_kind = np.zeros(0, dtype=np.int64)

    def column(kind: str, name: str, count: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw values (bytes) and the element each belongs to (None: one per element,
        in order)."""
        nonlocal starts, kinds, index_in_kind
        declared = _key(keys, kind, name)
        if declared is None:
            return np.zeros(0, dtype="S1"), np.zeros(0, dtype=np.int64)
        key, own_kind = declared
        pattern = re.compile(rb'<data\s+key="' + re.escape(key.encode())
                             + rb'"\s*>([^<]*)</data>')
        hits = pattern.findall(data)
        if data.count(b'key="' + key.encode() + b'"') != len(hits):
            raise _UnusualLayoutError  # a <data> of this key written some other way
        if own_kind and len(hits) == count:  # one value per element, in order
            return np.array(hits, dtype="S"), None
        if starts is None:  # an element owns the data up to the next element's start
            node_at = [m.start() for m in _NODE.finditer(data)]
            edge_at = [m.start() for m in _EDGE.finditer(data)]
            starts = np.array(node_at + edge_at, dtype=np.int64)
            kinds = np.repeat([0, 1], [len(node_at), len(edge_at)])
            index_in_kind = np.concatenate([np.arange(len(node_at)),
                                            np.arange(len(edge_at))])
            order = np.argsort(starts, kind="stable")
            starts, kinds, index_in_kind = starts[order], kinds[order], index_in_kind[order]
        at = np.array([m.start() for m in pattern.finditer(data)], dtype=np.int64)
        owner = np.searchsorted(starts, at) - 1
        if (owner < 0).any():
            raise _UnusualLayoutError
        mine = kinds[owner] == (kind == "edge")  # a key for "all" serves both kinds
        if not own_kind:
            hits = [hit for hit, keep in zip(hits, mine.tolist(), strict=True) if keep]
            owner = owner[mine]
        elif not mine.all():
            raise _UnusualLayoutError
        return np.array(hits, dtype="S"), index_in_kind[owner]

    try:
        x, x_at = column("node", "x", len(nodes))
        y, y_at = column("node", "y", len(nodes))
        if x_at is not None or y_at is not None:
            return None  # nodes without a position: the parser names them
        edge_text = {}
        for name in edge_attributes:
            raw, at = column("edge", name, len(edges))
            edge_text[name] = _decoded(raw, at, len(edges))
        crs_key = _key(keys, "graph", "crs")
    except _UnusualLayoutError:
        return None
    crs = None
    if crs_key is not None:
        match = re.search(rb'<data\s+key="' + re.escape(crs_key[0].encode())
                          + rb'"\s*>([^<]*)</data>', data)
        crs = _text(match.group(1)).strip() if match else None
    directed = b'edgedefault="undirected"' not in data
    edge_pairs = np.array(edges, dtype="S").reshape(-1, 2)
    return _arrays(np.array(nodes, dtype="S"), x, y, edge_pairs[:, 0], edge_pairs[:, 1],
                   edge_text, crs, directed)


class _UnusualLayoutError(Exception):
    """The file is not laid out as the fast path reads it."""


def _decoded(raw: np.ndarray, at: np.ndarray | None, count: int) -> np.ndarray:
    """Text values per element (None where an element has none), decoded once each."""
    out = np.full(count, None, dtype=object)
    if raw.size:
        unique, inverse = np.unique(raw, return_inverse=True)
        text = np.array([_text(value) for value in unique.tolist()], dtype=object)
        out[slice(None) if at is None else at] = text[inverse]
    return out


def _by_element(path: Path, edge_attributes: tuple[str, ...]) -> GraphmlArrays:
    """The same arrays with the standard library's parser, element by element."""
    names: dict[str, str] = {}
    node_ids: list[str] = []
    xs: list[str | None] = []
    ys: list[str | None] = []
    sources: list[str] = []
    targets: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in edge_attributes}
    crs: str | None = None
    directed = True
    for _, element in ET.iterparse(path, events=("end",)):
        tag = element.tag.removeprefix(_NS)
        if tag == "key":
            names[element.get("id", "")] = element.get("attr.name", "")
        elif tag in ("node", "edge"):
            attrs = {names.get(d.get("key", ""), ""): (d.text or "")
                     for d in element if d.tag.removeprefix(_NS) == "data"}
            if tag == "node":
                node_ids.append(element.get("id", ""))
                xs.append(attrs.get("x"))
                ys.append(attrs.get("y"))
            else:
                sources.append(element.get("source", ""))
                targets.append(element.get("target", ""))
                for name in edge_attributes:
                    columns[name].append(attrs.get(name))
            element.clear()
        elif tag == "graph":
            directed = element.get("edgedefault", "directed") != "undirected"
            for d in element:
                if d.tag.removeprefix(_NS) == "data" and names.get(d.get("key", "")) == "crs":
                    crs = (d.text or "").strip()
    missing = [node for node, a, b in zip(node_ids, xs, ys, strict=True)
               if a is None or b is None]
    if missing:
        raise ValueError(f"{len(missing)} node(s) without x or y, such as node {missing[0]}")
    edge_text = {name: np.array(values, dtype=object) for name, values in columns.items()}
    return _arrays(np.array(node_ids, dtype="U"), np.array(xs, dtype="U"),
                   np.array(ys, dtype="U"), np.array(sources, dtype="U"),
                   np.array(targets, dtype="U"), edge_text, crs, directed)


def _arrays(node_ids: np.ndarray, x: np.ndarray, y: np.ndarray, sources: np.ndarray,
            targets: np.ndarray, edge_text: dict[str, np.ndarray], crs: str | None,
            directed: bool) -> GraphmlArrays:
    if len(node_ids) == 0:
        raise ValueError("no nodes")
    ids = _int_ids(node_ids, "node id")
    source = _int_ids(sources, "edge source")
    target = _int_ids(targets, "edge target")
    known = np.sort(ids)
    for what, side in (("source", source), ("target", target)):
        at = np.clip(np.searchsorted(known, side), 0, len(known) - 1)
        if side.size and (known[at] != side).any():
            raise ValueError(f"an edge {what} names node {side[known[at] != side][0]}, "
                             "which the file does not declare")
    return GraphmlArrays(node_ids=ids, x=x.astype(np.float64), y=y.astype(np.float64),
                         source=source, target=target, edge_text=edge_text, crs=crs or None,
                         directed=directed)


def _int_ids(values: np.ndarray, what: str) -> np.ndarray:
    try:
        return values.astype(np.int64)
    except (ValueError, OverflowError):
        bad = next((v for v in values.astype("U").tolist()
                    if not v.strip().lstrip("-").isdigit() or abs(int(v)) >= 2 ** 63),
                   str(values[0]))
        raise ValueError(f"{what} {bad!r} is not a whole number (osmnx GraphML uses OSM "
                         "node ids)") from None
