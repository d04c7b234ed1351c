"""p-center and set covering (with backup) against brute force over every allowed set."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import OptimizerInputError, PlanInfeasibleError, site_outlets

KINDS = {"smart_atm": {"capex": 40.0, "opex_per_year": 5.0, "capacity_per_week": 1e6}}


def instance(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_points, n_cand = 9, 6
    points = [f"p{i}" for i in range(n_points)]
    demand = pd.DataFrame({"weight": rng.uniform(1, 100, n_points),
                           "adults": rng.uniform(10, 500, n_points)}, index=points)
    demand.iloc[0, 1] = 0.0  # a point without adults asks nothing
    sites = pd.DataFrame({
        "status": ["existing"] + ["candidate"] * n_cand,
        "kinds": [None] + ["smart_atm"] * n_cand, "kind": ["branch"] + [None] * n_cand,
        "capex": [0.0, *rng.integers(0, 5, n_cand) * 10.0], "opex_per_year": 0.0,
        "x": 0.0, "y": 0.0}, index=["own0", *[f"s{j}" for j in range(n_cand)]])
    travel = pd.DataFrame([(p, s, float(rng.integers(1, 31))) for p in points
                           for s in sites.index if rng.random() < 0.75],
                          columns=["origin_id", "dest_id", "cost"])
    return {"demand": demand, "sites": sites, "travel": travel}


def subsets(case: dict, p: int) -> list[tuple[str, ...]]:
    cand = [s for s in case["sites"].index if s != "own0"]
    return [c for n in range(p + 1) for c in itertools.combinations(cand, n)]


def reachable(case: dict) -> list[str]:
    """The points with adults some site of the travel table reaches: p_center serves these."""
    t = case["travel"]
    return [i for i, a in case["demand"]["adults"].items()
            if a > 0 and (t["origin_id"] == i).any()]


def minutes_to(case: dict, point: str, open_sites: set[str]) -> float:
    t = case["travel"]
    rows = t[(t["origin_id"] == point) & t["dest_id"].isin(open_sites)]
    return float(rows["cost"].min()) if len(rows) else math.inf


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 3))
def test_p_center_equals_brute_force(seed: int, p: int) -> None:
    case = instance(seed)
    t = case["travel"]
    served = reachable(case)
    best = min(max(minutes_to(case, i, {"own0", *s}) for i in served)
               for s in subsets(case, p))
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"], objective="p_center",
                            kinds=KINDS, max_new={"smart_atm": p})
    except PlanInfeasibleError:
        assert math.isinf(best)
        return
    opened = set(plan.decisions.loc[plan.decisions["action"] == "open", "site_id"])
    radius = max(minutes_to(case, i, {"own0", *opened}) for i in served)
    assert plan.proven_optimal and plan.objective == radius == best
    unserved = case["demand"][(case["demand"]["adults"] > 0)
                              & ~case["demand"].index.isin(t["origin_id"])]
    assert plan.unserved_points == len(unserved)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from([10.0, 20.0, 30.0]))
def test_set_cover_equals_brute_force(seed: int, minutes: float) -> None:
    case = instance(seed)
    want = [i for i, a in case["demand"]["adults"].items() if a > 0]
    cost = case["sites"]["capex"] + 45.0  # the site's capex + the kind's capex and opex
    fits = [s for s in subsets(case, 6)
            if all(minutes_to(case, i, {"own0", *s}) <= minutes for i in want)]
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"],
                            objective="set_cover", coverage_minutes=minutes, kinds=KINDS)
    except PlanInfeasibleError as exc:
        assert not fits and "within" in str(exc)
        return
    fewest = min(len(s) for s in fits)
    cheapest = min(sum(cost[x] for x in s) for s in fits if len(s) == fewest)
    opened = plan.decisions.loc[plan.decisions["action"] == "open", "site_id"]
    assert plan.proven_optimal and plan.objective == len(opened) == fewest
    assert sum(cost[x] for x in opened) == pytest.approx(cheapest)
    assert all(minutes_to(case, i, {"own0", *opened}) <= minutes for i in want)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 4))
def test_backup_coverage_equals_brute_force(seed: int, p: int) -> None:
    case = instance(seed)
    w = case["demand"]["weight"]
    want = [i for i, a in case["demand"]["adults"].items() if a > 0]
    t = case["travel"]

    def within(i: str, s: set[str]) -> int:
        rows = t[(t["origin_id"] == i) & t["dest_id"].isin(s) & (t["cost"] <= 30.0)]
        return len(rows)

    fits = [s for s in subsets(case, p) if all(within(i, {"own0", *s}) >= 1 for i in want)]
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"],
                            objective="set_cover", backup=True, coverage_minutes=30.0,
                            kinds=KINDS, max_new={"smart_atm": p})
    except PlanInfeasibleError:
        assert not fits
        return
    best = max(sum(w[i] for i in want if within(i, {"own0", *s}) >= 2) for s in fits)
    assert plan.objective == pytest.approx(best)


def test_backup_needs_a_limit() -> None:
    case = instance(1)
    with pytest.raises(OptimizerInputError, match="max_new"):
        site_outlets(case["demand"], case["sites"], case["travel"], objective="set_cover",
                     backup=True, kinds=KINDS)


def test_p_center_of_or_library_pmed1_is_the_published_127() -> None:
    """OR-Library pmed1 (100 vertices, p = 5, shortest paths over its 200 edges, the last
    of a repeated edge counting): the published optimal p-center radius is 127 (Pullan
    2008; tests/data/orlib/README.md). Distances by scipy's shortest paths."""
    from pathlib import Path

    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    lines = (Path(__file__).parents[1] / "data" / "orlib" / "pmed1.txt").read_text().split("\n")
    n, _, p = (int(v) for v in lines[0].split())
    edges: dict[tuple[int, int], float] = {}
    for line in lines[1:]:
        if line.strip():
            i, j, c = (int(v) for v in line.split())
            edges[min(i, j) - 1, max(i, j) - 1] = float(c)
    rows, cols = zip(*edges, strict=True)
    graph = csr_matrix((list(edges.values()), (rows, cols)), shape=(n, n))
    dist = shortest_path(graph, directed=False)
    nodes = [f"v{i}" for i in range(n)]
    demand = pd.DataFrame({"weight": 1.0, "adults": 1.0}, index=nodes)
    sites = pd.DataFrame({"status": "candidate", "kinds": "smart_atm", "kind": None,
                          "capex": 0.0, "opex_per_year": 0.0, "x": 0.0, "y": 0.0},
                         index=nodes)
    travel = pd.DataFrame([(a, b, float(dist[i, j])) for i, a in enumerate(nodes)
                           for j, b in enumerate(nodes)],
                          columns=["origin_id", "dest_id", "cost"])
    plan = site_outlets(demand, sites, travel, objective="p_center", kinds=KINDS,
                        max_new={"smart_atm": p})
    assert plan.proven_optimal and plan.objective == 127
    assert int((plan.decisions["action"] == "open").sum()) == p


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000), st.floats(0.01, 2.0), st.floats(0.0, 60.0))
def test_min_cost_equals_brute_force(seed: int, per_minute: float, per_unserved: float) -> None:
    """Opening (capex over 10 years + opex), travel and unserved adults, each a year's
    money: the least total over every set of candidates, each adult served by its nearest
    open outlet or left unserved, whichever costs less."""
    from optimizer import CostWeights

    case = instance(seed)
    costs = CostWeights(per_adult_minute=per_minute, per_unserved_adult=per_unserved)
    plan = site_outlets(case["demand"], case["sites"], case["travel"], objective="min_cost",
                        kinds=KINDS, costs=costs, nearest_k=20)

    def total(s: tuple[str, ...]) -> float:
        opening = sum((case["sites"].loc[x, "capex"] + 40.0) / 10.0 + 5.0 for x in s)
        people = sum(a * min(per_minute * minutes_to(case, i, {"own0", *s}), per_unserved)
                     for i, a in case["demand"]["adults"].items())
        return opening + people

    best = min(total(s) for s in subsets(case, 6))
    opened = tuple(plan.decisions.loc[plan.decisions["action"] == "open", "site_id"])
    assert plan.proven_optimal
    assert plan.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert total(opened) == pytest.approx(best, rel=1e-6, abs=1e-6)


CAPACITY_KINDS = {"smart_atm": {"capex": 40.0, "opex_per_year": 5.0,
                                "capacity_per_week": 90.0}}
VISITS = 0.1  # a week per adult: a point of 10-500 adults takes 1-50 visits


def _with_capacity(seed: int) -> dict:
    case = instance(seed)
    case["sites"] = case["sites"].assign(capacity_per_week=[60.0] + [np.nan] * 6)
    return case


def assignable(case: dict, open_sites: set[str], points: list[str], radius: float) -> bool:
    """Whether ``points`` can be served whole by the open outlets within ``radius``, each
    within its capacity: a transportation LP by scipy (an assignment may split a point)."""
    from scipy.optimize import linprog

    t = case["travel"]
    pairs = t[t["origin_id"].isin(points) & t["dest_id"].isin(open_sites)
              & (t["cost"] <= radius)].drop_duplicates(["origin_id", "dest_id"])
    if set(pairs["origin_id"]) != set(points):
        return False
    adults = case["demand"]["adults"]
    cap = {s: 60.0 if s == "own0" else 90.0 for s in open_sites}
    sites = sorted(open_sites)
    eq = np.zeros((len(points), len(pairs)))
    ub = np.zeros((len(sites), len(pairs)))
    for k, (i, s) in enumerate(zip(pairs["origin_id"], pairs["dest_id"], strict=True)):
        eq[points.index(i), k] = 1.0
        ub[sites.index(s), k] = adults[i] * VISITS
    res = linprog(np.zeros(len(pairs)), A_ub=ub, b_ub=[cap[s] for s in sites], A_eq=eq,
                  b_eq=np.ones(len(points)), bounds=(0, 1), method="highs")
    return bool(res.status == 0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from([20.0, 30.0]))
def test_set_cover_with_capacity_equals_brute_force(seed: int, minutes: float) -> None:
    case = _with_capacity(seed)
    want = [i for i, a in case["demand"]["adults"].items() if a > 0]
    cost = case["sites"]["capex"] + 45.0
    fits = [s for s in subsets(case, 6) if assignable(case, {"own0", *s}, want, minutes)]
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"],
                            objective="set_cover", coverage_minutes=minutes,
                            kinds=CAPACITY_KINDS, visits_per_adult=VISITS)
    except PlanInfeasibleError as exc:
        assert not fits and "within" in str(exc)
        return
    fewest = min(len(s) for s in fits)
    cheapest = min(sum(cost[x] for x in s) for s in fits if len(s) == fewest)
    opened = list(plan.decisions.loc[plan.decisions["action"] == "open", "site_id"])
    assert plan.proven_optimal and plan.objective == len(opened) == fewest
    assert sum(cost[x] for x in opened) == pytest.approx(cheapest)
    assert assignable(case, {"own0", *opened}, want, minutes)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 3))
def test_p_center_with_capacity_equals_brute_force(seed: int, p: int) -> None:
    case = _with_capacity(seed)
    t = case["travel"]
    served = reachable(case)
    radii = sorted(set(t["cost"]))

    def least_radius(s: tuple[str, ...]) -> float:
        return next((r for r in radii if assignable(case, {"own0", *s}, served, r)), math.inf)

    best = min(least_radius(s) for s in subsets(case, p))
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"], objective="p_center",
                            kinds=CAPACITY_KINDS, max_new={"smart_atm": p},
                            visits_per_adult=VISITS)
    except PlanInfeasibleError as exc:
        assert math.isinf(best) and "capacity" in str(exc)
        return
    opened = set(plan.decisions.loc[plan.decisions["action"] == "open", "site_id"])
    assert plan.proven_optimal and plan.objective == best
    assert assignable(case, {"own0", *opened}, served, plan.objective)
    # capacity binds somewhere: without it the radius is never larger
    free = site_outlets(case["demand"], case["sites"], case["travel"], objective="p_center",
                        kinds=CAPACITY_KINDS, max_new={"smart_atm": p})
    assert free.objective <= plan.objective
