"""Benchmark (issue 20): market share against competitors (objective max_share) at 10,000
demand points x 1,000 candidate sites, p = 30, under the Huff rule with 300 competitor
outlets: the time and the proven gap, against the greedy plan measured in the same run
(the baseline: what the plan adds over it, and the bound's distance from it).

A synthetic region of 60 x 60 km: demand points and sites uniform, driving at 30 km/h
(2 minutes a km), travel pairs within 20 minutes (beyond, the Huff utility at beta 2 is
under 1/400 of a next-door outlet's).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import optimizer._share_plan as share_module
from optimizer import site_outlets

pytestmark = pytest.mark.slow

KINDS = {"smart_atm": {"capex": 40_000.0, "opex_per_year": 12_000.0,
                       "capacity_per_week": 1e6},
         "micro_branch": {"capex": 250_000.0, "opex_per_year": 90_000.0,
                          "capacity_per_week": 1e6}}


def _region(seed: int = 20) -> dict:
    rng = np.random.default_rng(seed)
    n_points, n_sites, n_comp = 10_000, 1_000, 300
    pts = rng.uniform(0, 60, (n_points, 2))
    sites_xy = rng.uniform(0, 60, (n_sites + 40, 2))  # 40 own outlets first
    comp_xy = rng.uniform(0, 60, (n_comp, 2))
    point_ids = [f"p{i}" for i in range(n_points)]
    site_ids = [f"own{i}" for i in range(40)] + [f"s{i}" for i in range(n_sites)]
    demand = pd.DataFrame({"adults": rng.gamma(2.0, 150.0, n_points)}, index=point_ids)
    demand["weight"] = demand["adults"] * rng.uniform(0.5, 1.0, n_points)
    sites = pd.DataFrame({
        "status": ["existing"] * 40 + ["candidate"] * n_sites,
        "kinds": [None] * 40 + list(rng.choice(["smart_atm", "micro_branch|smart_atm"],
                                               n_sites)),
        "kind": ["branch"] * 40 + [None] * n_sites, "capex": 0.0, "opex_per_year": 0.0,
        "x": sites_xy[:, 0] * 1000, "y": sites_xy[:, 1] * 1000}, index=site_ids)

    def pairs(dest_xy: np.ndarray, dest_ids: list[str]) -> pd.DataFrame:
        minutes = 2.0 * np.hypot(pts[:, None, 0] - dest_xy[None, :, 0],
                                 pts[:, None, 1] - dest_xy[None, :, 1])
        i, j = np.nonzero(minutes <= 20.0)
        return pd.DataFrame({"origin_id": np.asarray(point_ids)[i],
                             "dest_id": np.asarray(dest_ids)[j], "cost": minutes[i, j]})

    competitors = pairs(comp_xy, [f"c{k}" for k in range(n_comp)])
    competitors["kind"] = np.where(competitors["dest_id"].str[1:].astype(int) % 3 == 0,
                                   "branch", "micro_branch")
    competitors["brand"] = "brand" + (competitors["dest_id"].str[1:].astype(int) % 4).astype(str)
    return {"demand": demand, "sites": sites, "travel": pairs(sites_xy, site_ids),
            "competitors": competitors}


def test_max_share_at_10000_points_and_1000_sites() -> None:
    region = _region()
    greedy_seconds: list[float] = []
    original = share_module.greedy_share

    def timed(*args: object, **kwargs: object) -> np.ndarray:
        start = time.perf_counter()
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        greedy_seconds.append(time.perf_counter() - start)
        return out

    share_module.greedy_share = timed
    try:
        start = time.perf_counter()
        plan = site_outlets(region["demand"], region["sites"], region["travel"],
                            objective="max_share", kinds=KINDS, max_new=30,
                            competitors=region["competitors"], solver="highs",
                            time_limit_s=600.0, gap=0.005)
        seconds = time.perf_counter() - start
    finally:
        share_module.greedy_share = original
    pairs = len(region["travel"])
    print(f"\nBENCH max_share: 10,000 points x 1,000 sites ({pairs:,} pairs), p = 30: "
          f"{seconds:.1f} s ({plan.rounds} rounds, build {plan.build_seconds:.1f} s, solve "
          f"{plan.solve_seconds:.1f} s); captured {plan.objective:,.0f}, proven gap "
          f"{'none' if plan.gap is None else f'{plan.gap:.2%}'} ({plan.status}, plan from "
          f"{plan.found_by}); the greedy plan alone "
          f"{sum(greedy_seconds):.1f} s")
    assert int((plan.decisions["action"] == "open").sum()) <= 30
    assert plan.gap is not None
