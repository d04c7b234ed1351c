"""Make the figures in docs/ from the project's own code: `make figures`.

Needs ../shared/data/helsinki for the Helsinki map; writes PNGs to docs/img/.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from geo import load_area, score_communities, travel_times
from geo.importer import import_area

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
WEIGHTS = {"youth_share": 0.3, "income": 0.2, "access_gap": 0.3, "competition": -0.2}


def helsinki_scores() -> Path:
    shared = ROOT.parent / "shared" / "data" / "helsinki"
    if not shared.exists():
        sys.exit(f"{shared} is absent: the Helsinki figure needs the real data")
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pack = import_area(ROOT / "data" / "mappings" / "helsinki.toml", Path(tmp) / "hel",
                           source_dir=shared)
        area = load_area(pack)
        travel = travel_times(area, area.outlets)
        scores = score_communities(area, WEIGHTS, travel=travel)
        off = travel.fallback_communities
        G = area.network("walk")
        xs = [d["x"] for _, d in G.nodes(data=True)]
        ys = [d["y"] for _, d in G.nodes(data=True)]
        outlets = area.outlets
        fig, axes = plt.subplots(1, 2, figsize=(12, 6), dpi=100,
                                 gridspec_kw={"width_ratios": [1.2, 1]})
        for ax, zoom in zip(axes, (False, True), strict=True):
            scores.plot(column="score", cmap="viridis", ax=ax, edgecolor="white",
                        linewidth=0.3, legend=not zoom, vmin=scores["score"].min(),
                        vmax=scores["score"].max(),
                        legend_kwds={"label": "score (0 to 1)", "shrink": 0.6})
            scores.loc[off].boundary.plot(ax=ax, color="black", linewidth=0.4, linestyle=":")
            ax.scatter(xs, ys, s=0.1 if zoom else 0.02, color="0.35",
                       label="street network (walk)")
            outlets[outlets["owner"] == "competitor"].plot(
                ax=ax, color="tab:red", markersize=14 if zoom else 4, label="competitor outlet")
            outlets[outlets["owner"] == "own"].plot(
                ax=ax, color="white", edgecolor="black", markersize=160 if zoom else 30,
                marker="*", label="own outlet (Aktia)")
            if zoom:
                ax.set_xlim(min(xs) - 300, max(xs) + 300)
                ax.set_ylim(min(ys) - 300, max(ys) + 300)
                ax.set_title("the city centre, where the street network is", fontsize=10)
                ax.legend(loc="lower left", fontsize=8)
                for cid, row in scores.loc[scores.index.difference(off)].iterrows():
                    p = row.geometry.representative_point()
                    ax.annotate(f"{cid}\n{row['score']:.2f}", (p.x, p.y), fontsize=7,
                                ha="center", color="white")
            else:
                ax.set_title("Helsinki postal areas scored by sitesim (default weights)\n"
                             "dotted: off the street network, straight-line fallback",
                             fontsize=10)
            ax.set_axis_off()
        fig.text(0.01, 0.01, "Data: Statistics Finland Paavo 2023 (CC BY 4.0); "
                 "© OpenStreetMap contributors (ODbL); HSL (CC BY 4.0)", fontsize=7)
        path = OUT / "helsinki-scores.png"
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)
    return path


def bass_validation() -> Path:
    """diffusion_model on a complete network against the closed-form Bass curve."""
    import numpy as np

    from simulation import bass_curve, diffusion_model

    weeks = np.arange(53)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for network, colour in (("complete", "tab:blue"), ("erdos_renyi", "tab:orange"),
                            ("small_world", "tab:green")):
        curves = np.array([diffusion_model(10_000, p=0.01, q=0.3, network=network, seed=s)
                           for s in range(20)])
        mean = curves.mean(axis=0)
        ax.plot(weeks, mean, color=colour, label=f"model, {network.replace('_', ' ')} "
                "(mean of 20 seeds)")
        if network == "complete":
            gap = np.abs(mean - bass_curve(52, p=0.01, q=0.3)).max()
    ax.plot(weeks, bass_curve(52, p=0.01, q=0.3), "k--", label="closed-form Bass curve")
    ax.set_xlabel("week")
    ax.set_ylabel("cumulative adopted share")
    ax.set_title(f"p = 0.01, q = 0.3 per week, 10,000 residents: largest gap on the complete "
                 f"network {100 * gap:.2f} points", fontsize=9)
    ax.legend(fontsize=8)
    path = OUT / "bass-validation.png"
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    print(bass_validation())
    if "--bass-only" not in sys.argv:
        print(helsinki_scores())
