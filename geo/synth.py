"""Synthetic study areas, among them the embedded default ``builtin:sample-city``.

Everything is drawn from one seeded generator, so the same arguments give the same pack
byte for byte. The assumptions and their sources are in docs/sample-city.md.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import tomli_w

from geo._pack_files import GENERATOR_VERSION, SAMPLE_CITY, builtin_cache_path, cache_dir
from geo._synth_network import grid_street_network
from geo.errors import AreaError, InputError

__all__ = [
    "SAMPLE_CITY",
    "builtin_area_path",
    "cache_dir",
    "synthesize_area",
]

log = logging.getLogger("sitesim.geo")

CRS = "EPSG:3067"
X0, Y0 = 372_000.0, 6_668_000.0  # south-west corner, in ETRS-TM35FIN
OWN_BRAND = "Harbour Bank"
COMPETITORS = (("Northbank", 0.45), ("Coastal Savings", 0.35), ("Unity Cooperative", 0.20))


Progress = Callable[[str], None]




def builtin_area_path(name: str, *, progress: Progress | None = None) -> Path:
    """The folder of a built-in area, generated on first use."""
    if name != "sample-city":
        raise AreaError(f"builtin:{name}: unknown built-in area; the one built in is "
                         "'builtin:sample-city'")
    spec = SAMPLE_CITY
    path = builtin_cache_path(name)
    if not (path / "area.toml").exists():
        if progress:
            progress(f"generating the sample city into {path} (first use only)")
        # two processes may both start on first use: the first to finish wins, and
        # nobody deletes a pack that another is reading
        synthesize_area(path, name="sample-city", communities=spec["communities"],
                        adults=spec["adults"], seed=spec["seed"], replace=False)
    return path


def _gauss(u: np.ndarray, v: np.ndarray, cu: float, cv: float, sigma: float) -> np.ndarray:
    return np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2 * sigma**2))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _tessellate(n: int, width: float, height: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` community polygons tiling the rectangle (Voronoi cells of jittered grid points)."""
    cols = max(1, round(math.sqrt(n * width / height)))
    rows = math.ceil(n / cols)
    cw, ch = width / cols, height / rows
    cc, rr = np.meshgrid(np.arange(cols), np.arange(rows))
    px = X0 + (cc.ravel() + 0.5 + rng.uniform(-0.35, 0.35, cc.size)) * cw
    py = Y0 + (rr.ravel() + 0.5 + rng.uniform(-0.35, 0.35, cc.size)) * ch
    keep = np.sort(rng.choice(px.size, size=n, replace=False))
    points = shapely.points(px[keep], py[keep])
    box = shapely.box(X0, Y0, X0 + width, Y0 + height)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box, ordered=True)
    return shapely.intersection(np.asarray(cells.geoms, dtype=object), box)


def _zone_names(old: np.ndarray, cbd: np.ndarray, new: np.ndarray,
                centre_dist: np.ndarray) -> list[str]:
    labels = np.where(old > 0.5, "Old Town", np.where(
        cbd > 0.5, "Business District", np.where(
            new > 0.45, "New Town", np.where(centre_dist < 0.3, "Inner City", "Suburb"))))
    counts: dict[str, int] = {}
    names = []
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
        names.append(f"{label} {counts[label]}")
    return names


def _communities(n: int, adults: int, width: float, height: float,
                 rng: np.random.Generator) -> gpd.GeoDataFrame:
    polys = _tessellate(n, width, height, rng)
    cent = shapely.centroid(polys)
    u = (shapely.get_x(cent) - X0) / width
    v = (shapely.get_y(cent) - Y0) / height
    old = _gauss(u, v, 0.40, 0.58, 0.07)
    cbd = _gauss(u, v, 0.53, 0.49, 0.06)
    new = np.maximum(_gauss(u, v, 0.85, 0.22, 0.09), _gauss(u, v, 0.17, 0.86, 0.08))
    wealth = 0.55 * (1 - u) + 0.45 * (1 - v)
    centre_dist = np.hypot(u - 0.47, v - 0.54)
    area_km2 = shapely.area(polys) / 1e6

    density = ((0.6 + 2.4 * np.exp(-(centre_dist**2) / (2 * 0.22**2)))
               * (1 - 0.55 * cbd) * (1 + 0.8 * new) * rng.lognormal(0.0, 0.25, n))
    pop = _allocate(adults, area_km2 * density)

    young = 0.315 + 0.20 * new + 0.08 * cbd - 0.13 * old + rng.normal(0, 0.025, n)
    senior = 0.352 + 0.22 * old - 0.14 * new - 0.05 * cbd + rng.normal(0, 0.025, n)
    young, senior = np.clip(young, 0.08, 0.8), np.clip(senior, 0.08, 0.8)
    middle = np.clip(1 - young - senior, 0.1, None)
    total = young + middle + senior
    young, middle, senior = young / total, middle / total, senior / total
    pop_18_35 = np.round(pop * young).astype(np.int64)
    pop_56_plus = np.round(pop * senior).astype(np.int64)
    pop_36_55 = pop - pop_18_35 - pop_56_plus

    adults_per_household = np.clip(
        1.54 + 0.35 * new - 0.15 * old - 0.10 * cbd + rng.normal(0, 0.05, n), 1.1, 2.4)
    households = np.round(pop / adults_per_household).astype(np.int64)
    income = 22_000 + 16_000 * wealth + 5_000 * cbd + 3_000 * new - 3_500 * old
    income = np.round(np.clip(income + rng.normal(0, 1_500, n), 15_000, None), -2)
    low = np.clip(0.30 - 0.000012 * (income - 22_000), 0.04, 0.6)
    high = np.clip(0.14 + 0.000016 * (income - 22_000), 0.03, 0.7)
    sme = rng.poisson(pop * 0.045 * (1 + 4 * cbd) + 5)
    digital = np.clip((0.96 * pop_18_35 + 0.90 * pop_36_55 + 0.62 * pop_56_plus)
                      / np.maximum(pop, 1) - 0.06 * old + rng.normal(0, 0.02, n), 0.3, 0.99)
    frame = gpd.GeoDataFrame({
        "community_id": [f"SC{i + 1:04d}" for i in range(n)],
        "name": _zone_names(old, cbd, new, centre_dist),
        "pop_18_35": pop_18_35, "pop_36_55": pop_36_55, "pop_56_plus": pop_56_plus,
        "households": households, "median_income": income,
        "income_low_share": np.round(low, 4), "income_high_share": np.round(high, 4),
        "sme_count": sme, "digital_adoption": np.round(digital, 4),
    }, geometry=polys, crs=CRS)
    frame.attrs["fields"] = {"old": old, "cbd": cbd, "new": new, "wealth": wealth,
                             "density": pop / np.maximum(area_km2, 1e-9)}
    return frame


def _pick_nodes(nodes: pd.DataFrame, weights: np.ndarray, count: int, min_spacing: float,
                rng: np.random.Generator, taken: np.ndarray | None = None) -> np.ndarray:
    """Draw ``count`` node positions with probability ``weights``, at least ``min_spacing``
    metres from each other and from ``taken`` (an (k, 2) array)."""
    p = weights / weights.sum()
    chosen: list[int] = []
    xy = nodes[["x", "y"]].to_numpy()
    placed = [] if taken is None else [tuple(t) for t in taken]
    spacing = min_spacing
    for _attempt in range(50):
        draws = rng.choice(len(nodes), size=max(4 * count, 64), p=p)
        for i in draws:
            if len(chosen) == count:
                return np.array(chosen)
            if all((xy[i, 0] - a) ** 2 + (xy[i, 1] - b) ** 2 >= spacing**2 for a, b in placed):
                chosen.append(int(i))
                placed.append((xy[i, 0], xy[i, 1]))
        spacing *= 0.8  # a crowded area: relax the spacing rather than loop forever
    return np.array(chosen)


def _points(nodes: pd.DataFrame, idx: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(nodes["x"].to_numpy()[idx], nodes["y"].to_numpy()[idx]),
                         crs=CRS)


def _node_weights(nodes: pd.DataFrame, communities: gpd.GeoDataFrame,
                  field: np.ndarray) -> np.ndarray:
    """A per-node weight from a per-community field (the community the node lies in)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(nodes["x"], nodes["y"]), crs=CRS)
    joined = gpd.sjoin(pts, communities[["geometry"]].reset_index(drop=True),
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    which = joined["index_right"].fillna(0).astype(int).to_numpy()
    return np.maximum(field[which], 1e-9)


def synthesize_area(
    out_dir: str | Path, *, communities: int = 150, adults: int = 350_000, seed: int = 2026,
    name: str | None = None, street_spacing_m: float = 85.0, progress: Progress | None = None,
    replace: bool = True,
) -> Path:
    """Generate a synthetic study area pack into ``out_dir``.

    The district measures about 12 x 10 km for 150 communities and grows with the square
    root of the count (2,000 communities: about 44 x 37 km), so density stays realistic.

    Parameters
    ----------
    out_dir
        The pack folder to create (replaced if it exists; written under a temporary name
        and renamed when complete).
    communities
        Number of residential communities (>= 4).
    adults
        Residents aged 18 and over in total (>= 10 per community).
    seed
        Seed of the random generator; the same seed gives the same pack.
    street_spacing_m
        Distance between parallel local streets, metres.
    replace
        Replace a pack already at ``out_dir``; with False, a pack that another process
        finished there first is kept (the same arguments make the same pack) and this
        one's is dropped.

    Returns
    -------
    Path
        The pack folder.
    """
    if communities < 4:
        raise InputError(f"communities = {communities}: expected at least 4")
    if adults < 10 * communities:
        raise InputError(f"adults = {adults}: expected at least 10 per community "
                         f"({10 * communities} for {communities} communities)")
    if not 20 <= street_spacing_m <= 1000:
        raise InputError(f"street_spacing_m = {street_spacing_m}: expected 20 to 1000 metres")
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    scale = math.sqrt(communities / 150)
    width, height = 12_000.0 * scale, 10_000.0 * scale

    say(f"communities: {communities} on {width / 1000:.1f} x {height / 1000:.1f} km")
    comm = _communities(communities, adults, width, height, rng)
    fields = comm.attrs.pop("fields")

    say("street network")
    streets = grid_street_network(X0, Y0, width, height, street_spacing_m, rng, CRS)
    nodes = pd.DataFrame({"x": streets.x, "y": streets.y}, index=streets.node)
    density_w = _node_weights(nodes, comm, fields["density"])
    cbd_w = _node_weights(nodes, comm, fields["cbd"])
    growth_w = _node_weights(nodes, comm, fields["new"])

    say("outlets, candidate sites and venues")
    k = communities / 150
    n_own = max(3, round(10 * k))
    own_idx = _pick_nodes(nodes, density_w, n_own, 1200.0, rng)
    own_kinds = np.array(["branch", "micro_branch", "smart_atm"])[
        np.minimum(np.arange(n_own) * 10 // n_own // 3, 2)]
    n_comp = max(3, round(30 * k))
    comp_idx = _pick_nodes(nodes, density_w * (1 + 3 * cbd_w), n_comp, 300.0, rng)
    brands = rng.choice([b for b, _ in COMPETITORS], size=n_comp,
                        p=[s for _, s in COMPETITORS])
    comp_kinds = rng.choice(["branch", "micro_branch", "smart_atm"], size=n_comp,
                            p=[0.35, 0.15, 0.50])
    capacity = {"branch": 1500, "micro_branch": 500, "smart_atm": 700, "mobile_van": 250}
    staff = {"branch": 8, "micro_branch": 2, "smart_atm": 0, "mobile_van": 2}
    kinds = np.concatenate([own_kinds, comp_kinds])
    outlets = gpd.GeoDataFrame({
        "outlet_id": [f"OWN{i + 1:03d}" for i in range(n_own)]
        + [f"CMP{i + 1:03d}" for i in range(n_comp)],
        "kind": kinds,
        "owner": ["own"] * n_own + ["competitor"] * n_comp,
        "brand": [OWN_BRAND] * n_own + brands.tolist(),
        "capacity_per_week": [capacity[x] for x in kinds],
        "staff": [staff[x] for x in kinds],
    }, geometry=pd.concat([_points(nodes, own_idx), _points(nodes, comp_idx)],
                          ignore_index=True), crs=CRS)

    n_cand = max(4, round(80 * k))
    taken = nodes[["x", "y"]].to_numpy()[own_idx]
    cand_idx = _pick_nodes(nodes, density_w * (1 + 2 * growth_w), n_cand, 250.0, rng, taken)
    site_kind = rng.choice(["micro_branch|smart_atm", "smart_atm", "mobile_van"],
                           size=len(cand_idx), p=[0.55, 0.30, 0.15])
    land = 1 + cbd_w[cand_idx] + 0.5 * _node_weights(nodes, comm, fields["wealth"])[cand_idx]
    capex_range = {"micro_branch|smart_atm": (40_000, 120_000), "smart_atm": (5_000, 15_000),
                   "mobile_van": (2_000, 5_000)}
    rent_range = {"micro_branch|smart_atm": (30_000, 90_000), "smart_atm": (6_000, 12_000),
                  "mobile_van": (1_000, 3_000)}
    capex = np.array([rng.uniform(*capex_range[s]) for s in site_kind]) * land / 1.5
    rent = np.array([rng.uniform(*rent_range[s]) for s in site_kind]) * land / 1.5
    candidates = gpd.GeoDataFrame({
        "site_id": [f"S{i + 1:03d}" for i in range(len(cand_idx))],
        "name": [f"Candidate site {i + 1}" for i in range(len(cand_idx))],
        "kinds": site_kind, "capex": np.round(capex, -2), "opex_per_year": np.round(rent, -2),
    }, geometry=_points(nodes, cand_idx), crs=CRS)

    n_venue = max(4, round(60 * k))
    venue_idx = _pick_nodes(nodes, density_w, n_venue, 200.0, rng)
    venue_kinds = {"community_center": ((80, 150), (400, 900)), "school": ((120, 300), (300, 600)),
                   "library": ((40, 90), (200, 400)), "supermarket": ((30, 60), (600, 1200)),
                   "square": ((150, 400), (1500, 3000))}
    vk = rng.choice(list(venue_kinds), size=len(venue_idx), p=[0.2, 0.25, 0.15, 0.25, 0.15])
    venues = gpd.GeoDataFrame({
        "venue_id": [f"V{i + 1:03d}" for i in range(len(venue_idx))],
        "name": [f"{kind.replace('_', ' ').title()} {i + 1}" for i, kind in enumerate(vk)],
        "kind": vk,
        "capacity": [int(rng.integers(*venue_kinds[x][0])) for x in vk],
        "cost_per_event": [float(round(rng.uniform(*venue_kinds[x][1]), -1)) for x in vk],
    }, geometry=_points(nodes, venue_idx), crs=CRS)

    # current own customers: higher near own outlets and with income (an assumption)
    own_pts = outlets.geometry[outlets["owner"] == "own"].to_numpy()
    cent = shapely.centroid(comm.geometry.to_numpy())
    d_km = np.min(shapely.distance(cent[:, None], own_pts[None, :]), axis=1) / 1000
    pop = (comm["pop_18_35"] + comm["pop_36_55"] + comm["pop_56_plus"]).to_numpy()
    penetration = 0.06 + 0.14 * np.exp(-d_km / 1.5) + 0.03 * fields["wealth"]
    customers = rng.binomial(pop, np.clip(penetration, 0, 1))
    balance = (4_000 + 0.35 * comm["median_income"].to_numpy()) * rng.lognormal(0, 0.1, len(comm))
    comm["customers"] = customers
    comm["deposits"] = np.round(customers * balance, -2)

    say("writing the pack")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        comm.to_parquet(tmp / "communities.parquet", index=False)
        outlets.to_parquet(tmp / "outlets.parquet", index=False)
        candidates.to_parquet(tmp / "candidates.parquet", index=False)
        venues.to_parquet(tmp / "venues.parquet", index=False)
        streets.write_graphml(tmp / "network.graphml")
        config = {
            "name": name or f"synthetic-{communities}-{seed}",
            "currency": "EUR", "crs": CRS, "own_brand": OWN_BRAND,
            "description": (f"Synthetic district of {communities} communities and {adults:,} "
                            f"adults on {width / 1000:.1f} x {height / 1000:.1f} km, generated "
                            "by sitesim (see docs/sample-city.md). Not a real place."),
            "generator": {"version": GENERATOR_VERSION, "communities": communities,
                          "adults": adults, "seed": seed, "street_spacing_m": street_spacing_m},
            "sources": [{"name": "sitesim synthetic generator", "licence": "CC0-1.0",
                         "url": "docs/sample-city.md"}],
        }
        (tmp / "area.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
        tmp.chmod(0o755)
        if out.exists() and not replace and (out / "area.toml").exists():
            shutil.rmtree(tmp)  # another process made it meanwhile: keep theirs
            return out
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s: %d communities, %d nodes", out, communities, len(streets.node))
    return out
