"""The report's pictures, drawn with matplotlib so that the page needs no script: maps as
PNG (from dashboard.map_layers, the dashboard's own layers) and charts as inline SVG.
A run has the same colour in every chart (dashboard.compare.run_colour).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the report is written from the command line

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from dashboard.compare import run_colour
from dashboard.data import WEEKLY, weekly_band
from dashboard.map_layers import DAY_COLOURS, KIND_LABELS, MapLayers, chosen_groups

__all__ = ["channel_svg", "map_png", "weekly_svg"]

_MARKERS = {"branch": "s", "micro_branch": "D", "smart_atm": "o", "mobile_van": "^"}
_OWNERS = {"own": "#0a7d32", "competitor": "#b42318"}
plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "svg.hashsalt": "sitesim"})


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: without the XML declaration and doctype


def _segments(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """A NaN-broken polyline of two-point segments as LineCollection segments."""
    pts = np.column_stack([x, y]).astype(float)
    starts = pts[0::3]
    ends = pts[1::3]
    return list(np.stack([starts, ends], axis=1))


def map_png(layers: MapLayers) -> str:
    """The map as a base64 PNG: classes with their legend, the service area, outlets by
    owner and kind, chosen sites, event venues; streets rasterized."""
    fig, ax = plt.subplots(figsize=(8.5, 6.5))
    ax.add_collection(LineCollection(_segments(*layers.streets), colors="#d0d4d8",
                                     linewidths=0.4, rasterized=True, zorder=1))
    for b in layers.bins:
        ax.add_collection(PolyCollection(list(b.rings), facecolors=b.colour,
                                         edgecolors="#6e7781", linewidths=0.3, alpha=0.75,
                                         label=b.label, zorder=2))
    ax.add_collection(LineCollection(
        _segments(*layers.coverage), colors="#e8a33d", linewidths=0.6, alpha=0.6,
        rasterized=True, zorder=3,
        label=f"within {layers.coverage_minutes:g} min walk of an own outlet"))
    for (owner, kind), pts in layers.outlets.groupby(["owner", "kind"], sort=True):
        ax.scatter(pts["x"], pts["y"], marker=_MARKERS.get(str(kind), "o"), s=28,
                   c=_OWNERS.get(str(owner), "#57606a"), edgecolors="white", linewidths=0.6,
                   label=f"{owner} {KIND_LABELS.get(str(kind), kind)}", zorder=5)
    for name, colour, sites in chosen_groups(layers.chosen):
        ax.scatter(sites["x"], sites["y"], marker="*", s=160, c=colour,
                   edgecolors="white", linewidths=0.6, label=name, zorder=6)
    for _, stops in layers.van.groupby("day", sort=True):
        day = int(stops["day"].iloc[0])
        ax.scatter(stops["x"], stops["y"], marker="^", s=70, edgecolors="white",
                   c=DAY_COLOURS[(day - 1) % len(DAY_COLOURS)], linewidths=0.5,
                   label=f"van stops, {stops['day_name'].iloc[0]}", zorder=6)
    if len(layers.venues):
        ax.scatter(layers.venues["x"], layers.venues["y"], marker="h", s=50, c="#bf8700",
                   edgecolors="white", linewidths=0.5, label="event venues", zorder=4)
    xmin, xmax, ymin, ymax = layers.extent
    pad = 0.02 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(layers.title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    km = max(1, round((xmax - xmin) / 5000))  # a scale bar of about a fifth of the width
    ax.plot([xmin, xmin + km * 1000], [ymin - pad / 2] * 2, color="#24292f", lw=2)
    ax.text(xmin, ymin - pad / 2 + pad * 0.3, f"{km} km", fontsize=7)
    return _png(fig)


def weekly_svg(run_ids: Sequence[str], labels: Sequence[str], runs_dir: str | Path,
               curve: str, colours: Sequence[str] | None = None) -> str:
    """A curve over weeks (a key of dashboard.data.WEEKLY) for each run: the mean with
    its 95% interval over replications, shaded; ``colours`` default to run_colour of the
    run's place."""
    colours = colours or [run_colour(i) for i in range(len(run_ids))]
    if curve not in WEEKLY:
        raise KeyError(curve)
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for i, (run, label) in enumerate(zip(run_ids, labels, strict=True)):
        band = weekly_band(run, runs_dir, curve)
        ax.fill_between(band["week"], band["low"], band["high"], color=colours[i],
                        alpha=0.2, linewidth=0)
        ax.plot(band["week"], band["mean"], color=colours[i], lw=1.4, label=label)
    ax.set_xlabel("week")
    ax.set_title(f"{curve} (mean, shaded: 95% interval over replications)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)


def channel_svg(channels: Sequence[tuple[str, dict[str, float]]], currency: str,
                colours: Sequence[str] | None = None) -> str:
    """The budget plan's spend by channel, a bar per run in its colour: (label, channel
    -> spend) per run."""
    colours = colours or [run_colour(i) for i in range(len(channels))]
    names = sorted({c for _, spend in channels for c in spend})
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    width = 0.8 / max(1, len(channels))
    for i, (label, spend) in enumerate(channels):
        ax.bar(np.arange(len(names)) + i * width, [spend.get(c, 0.0) for c in names],
               width=width, color=colours[i], label=label)
    ax.set_xticks(np.arange(len(names)) + width * (len(channels) - 1) / 2, names,
                  rotation=30, ha="right")
    ax.set_ylabel(f"spend ({currency})")
    ax.set_title("The budget plan: spend by channel", fontsize=9)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)
