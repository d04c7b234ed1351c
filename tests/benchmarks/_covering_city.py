"""The maximal-covering benchmark instance: a synthetic city, 10,000 demand points,
1,000 candidate sites, the pairs within a 15-minute walk over its street network."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._synth_network import grid_street_network
from geo.travel import RoutingGraph, travel_time_table

WALK_M_PER_MIN = 4.8 * 1000 / 60


def covering_city(*, width_m: float = 20_000, height_m: float = 16_000,
                  n_demand: int = 10_000, n_candidates: int = 1_000, minutes: float = 15,
                  seed: int = 3) -> tuple[pd.Series, pd.DataFrame, pd.Index, np.ndarray]:
    """Weights (lognormal, denser near a dozen centres), the cover pairs, the candidate
    ids, and the dense minutes matrix (demand x candidates, inf beyond reach)."""
    rng = np.random.default_rng(seed)
    grid = grid_street_network(0.0, 0.0, width_m, height_m, 85.0, rng, "EPSG:3067")
    u = np.concatenate([grid.u, grid.v])
    v = np.concatenate([grid.v, grid.u])
    travel = np.concatenate([grid.length, grid.length]) / WALK_M_PER_MIN
    rg = RoutingGraph.from_arrays(grid.node, np.column_stack([grid.x, grid.y]), u, v, travel)
    centres = rng.uniform([0, 0], [width_m, height_m], size=(12, 2))
    sigma = rng.uniform(1_500, 4_000, 12)
    amplitude = rng.uniform(0.5, 2.0, 12)
    density = np.full(grid.node.size, 0.05)
    for (cx, cy), s, a in zip(centres, sigma, amplitude, strict=True):
        density += a * np.exp(-((grid.x - cx) ** 2 + (grid.y - cy) ** 2) / (2 * s * s))
    p = density / density.sum()
    demand = rng.choice(grid.node.size, n_demand, replace=False, p=p)
    cand = rng.choice(grid.node.size, n_candidates, replace=False,
                      p=np.sqrt(p) / np.sqrt(p).sum())
    weights = pd.Series(rng.lognormal(5, 0.6, n_demand) * (0.5 + rng.random(n_demand)),
                        index=pd.Index(grid.node[demand], name="demand_id"))
    table = travel_time_table(rg, grid.node[cand], grid.node[demand], cutoff_min=minutes)
    cover = pd.DataFrame({"demand_id": table["dest_id"].to_numpy(),
                          "site_id": table["origin_id"].to_numpy()})
    candidates = pd.Index(grid.node[cand], name="site_id")
    dense = np.full((n_demand, n_candidates), np.inf)
    dense[weights.index.get_indexer(table["dest_id"]),
          candidates.get_indexer(table["origin_id"])] = table["travel_min"].to_numpy()
    return weights, cover, candidates, dense
