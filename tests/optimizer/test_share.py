"""Market share against competitors (objective max_share) against brute force: the Huff
share of every allowed set of sites, computed here from the definition."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimizer._share as share_module
from optimizer import PlanInfeasibleError, site_outlets
from optimizer._solve import SolveOutcome

ATTRACT = {"branch": 1.0, "micro_branch": 0.6, "smart_atm": 0.25}
KINDS = {"micro_branch": {"capex": 100.0, "opex_per_year": 10.0, "capacity_per_week": 1e6},
         "smart_atm": {"capex": 40.0, "opex_per_year": 5.0, "capacity_per_week": 1e6}}


def instance(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_points, n_cand, n_comp = 10, 5, 3
    points = [f"p{i}" for i in range(n_points)]
    demand = pd.DataFrame({"weight": rng.uniform(1, 100, n_points),
                           "adults": rng.uniform(10, 500, n_points)}, index=points)
    cand = [f"s{j}" for j in range(n_cand)]
    sites = pd.DataFrame({
        "status": ["existing"] + ["candidate"] * n_cand,
        "kinds": [None, *rng.choice(["micro_branch", "smart_atm", "micro_branch|smart_atm"],
                                    n_cand)],
        "kind": ["branch"] + [None] * n_cand,
        "capex": [0.0, *rng.integers(0, 5, n_cand) * 10.0],
        "opex_per_year": 0.0, "x": rng.uniform(0, 5000, n_cand + 1),
        "y": rng.uniform(0, 5000, n_cand + 1)}, index=["own0", *cand])
    travel = pd.DataFrame([(p, s, float(rng.uniform(0.5, 30))) for p in points
                           for s in sites.index if rng.random() < 0.8],
                          columns=["origin_id", "dest_id", "cost"])
    comp = pd.DataFrame([(p, f"c{k}", float(rng.uniform(0.5, 30))) for p in points
                         for k in range(n_comp) if rng.random() < 0.7],
                        columns=["origin_id", "dest_id", "cost"])
    comp["kind"] = comp["dest_id"].map({"c0": "branch", "c1": "micro_branch", "c2": "branch"})
    comp["brand"] = comp["dest_id"].map({"c0": "Nordea", "c1": "Nordea", "c2": "OP"})
    return {"demand": demand, "sites": sites, "travel": travel, "competitors": comp}


def huff_value(case: dict, opened: list[tuple[str, str]]) -> float:
    """Expected demand weight of the own outlets: per point, own utility over all
    utility, utility = attractiveness x max(minutes, 1)^-2 (Huff 1963)."""
    sites, travel, comp, demand = (case["sites"], case["travel"], case["competitors"],
                                   case["demand"])
    kind_of = {"own0": "branch", **dict(opened)}
    total = 0.0
    for p, w in demand["weight"].items():
        own = sum(ATTRACT[kind_of[s]] * max(c, 1.0) ** -2 for s, c in zip(
            travel.loc[travel["origin_id"] == p, "dest_id"],
            travel.loc[travel["origin_id"] == p, "cost"], strict=True) if s in kind_of)
        rival = sum(ATTRACT[k] * max(c, 1.0) ** -2 for k, c in zip(
            comp.loc[comp["origin_id"] == p, "kind"], comp.loc[comp["origin_id"] == p, "cost"],
            strict=True))
        if own + rival > 0:
            total += w * own / (own + rival)
    del sites
    return total


def allowed_sets(case: dict, max_new: dict[str, int]) -> Iterator[list[tuple[str, str]]]:
    """Every set of (site, kind) a candidate allows, one kind a site, within max_new."""
    cand = case["sites"][case["sites"]["status"] == "candidate"]
    choices = [[None, *r.split("|")] for r in cand["kinds"]]
    for pick in itertools.product(*choices):
        opened = [(s, k) for s, k in zip(cand.index, pick, strict=True) if k is not None]
        if all(k in max_new for _, k in opened) and all(
                sum(k == kind for _, k in opened) <= n for kind, n in max_new.items()):
            yield opened


def brute_force(case: dict, max_new: dict[str, int], capex_budget: float | None) -> float:
    cand = case["sites"][case["sites"]["status"] == "candidate"]
    best = -1.0
    for opened in allowed_sets(case, max_new):
        capex = sum(cand.loc[s, "capex"] + KINDS[k]["capex"] for s, k in opened)
        if capex_budget is not None and capex > capex_budget + 1e-9:
            continue
        best = max(best, huff_value(case, opened))
    return best


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000), st.integers(0, 2), st.integers(0, 3),
       st.sampled_from([None, 150.0, 300.0]))
def test_max_share_equals_brute_force(seed: int, micro: int, atms: int,
                                      capex_budget: float | None) -> None:
    case = instance(seed)
    max_new = {"micro_branch": micro, "smart_atm": atms}
    plan = site_outlets(case["demand"], case["sites"], case["travel"], objective="max_share",
                        kinds=KINDS, max_new=max_new, capex_budget=capex_budget,
                        competitors=case["competitors"])
    best = brute_force(case, max_new, capex_budget)
    opened = plan.decisions[plan.decisions["action"] == "open"]
    value = huff_value(case, list(zip(opened["site_id"], opened["kind"], strict=True)))
    assert plan.objective == pytest.approx(value, rel=1e-9)  # what it says is what it is
    assert plan.proven_optimal and plan.gap == 0.0
    assert value == pytest.approx(best, rel=1e-6)
    # where the new sites' customers come from adds up to what they capture
    src = plan.share_sources
    assert src is not None
    if len(opened):
        assert set(src["source"]) <= {"own", "Nordea", "OP", "no outlet"}
        assert (src["captured"] >= -1e-12).all()


def test_sources_of_a_new_site_by_hand() -> None:
    """One point 2 minutes from an own branch (utility 1/4) and a Nordea branch (1/4), and
    a new micro-branch 1 minute away (0.6): the point's 100 go 0.6/1.1 to the new site,
    taken half from the own branch, half from Nordea (each had 50, keeps 0.25/1.1 x 100)."""
    demand = pd.DataFrame({"weight": [100.0], "adults": [100.0]}, index=["p0"])
    sites = pd.DataFrame({"status": ["existing", "candidate"], "kinds": [None, "micro_branch"],
                          "kind": ["branch", None], "capex": [0.0, 0.0],
                          "opex_per_year": [0.0, 0.0], "x": [0.0, 1.0], "y": [0.0, 0.0]},
                         index=["own0", "s0"])
    travel = pd.DataFrame({"origin_id": ["p0", "p0"], "dest_id": ["own0", "s0"],
                           "cost": [2.0, 1.0]})
    comp = pd.DataFrame({"origin_id": ["p0"], "dest_id": ["c0"], "cost": [2.0],
                         "kind": ["branch"], "brand": ["Nordea"]})
    plan = site_outlets(demand, sites, travel, objective="max_share", kinds=KINDS,
                        max_new={"micro_branch": 1}, competitors=comp)
    assert plan.objective == pytest.approx(100 * 0.85 / 1.1)
    src = plan.share_sources.set_index("source")["captured"]
    assert src["own"] == pytest.approx(50 - 100 * 0.25 / 1.1)
    assert src["Nordea"] == pytest.approx(50 - 100 * 0.25 / 1.1)
    assert src["no outlet"] == 0.0
    assert src.sum() == pytest.approx(100 * 0.6 / 1.1)


def test_stopped_solver_keeps_the_greedy_plan_and_claims_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = instance(11)
    max_new = {"micro_branch": 2, "smart_atm": 2}
    monkeypatch.setattr(share_module, "solve", lambda *a, **k: SolveOutcome(
        "not solved", False, None, None, 0.0, "cbc"))
    plan = site_outlets(case["demand"], case["sites"], case["travel"], objective="max_share",
                        kinds=KINDS, max_new=max_new, competitors=case["competitors"])
    assert plan.found_by == "greedy" and not plan.proven_optimal
    assert plan.status == "feasible" and plan.gap is None
    assert plan.objective <= brute_force(case, max_new, None) + 1e-9


def cheapest_brute_force(case: dict, max_new: dict[str, int], goal: float) -> float | None:
    """Least capex + a year's opex of an allowed set whose Huff capture reaches ``goal``."""
    cand = case["sites"][case["sites"]["status"] == "candidate"]
    best = None
    for opened in allowed_sets(case, max_new):
        cost = sum(cand.loc[s, "capex"] + KINDS[k]["capex"] + KINDS[k]["opex_per_year"]
                   for s, k in opened)
        if huff_value(case, opened) >= goal - 1e-9 and (best is None or cost < best):
            best = cost
    return best


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.floats(0.05, 0.9))
def test_target_share_equals_brute_force(seed: int, target: float) -> None:
    case = instance(seed)
    max_new = {"micro_branch": 2, "smart_atm": 3}
    goal = target * float(case["demand"]["weight"].sum())
    best = cheapest_brute_force(case, max_new, goal)
    try:
        plan = site_outlets(case["demand"], case["sites"], case["travel"],
                            objective="target_share", target_share=target, kinds=KINDS,
                            max_new=max_new, competitors=case["competitors"])
    except PlanInfeasibleError as exc:
        assert best is None and "out of reach" in str(exc)
        return
    assert best is not None
    opened = plan.decisions[plan.decisions["action"] == "open"]
    assert huff_value(case, list(zip(opened["site_id"], opened["kind"], strict=True))
                      ) >= goal - 1e-6
    assert plan.share_captured is not None and plan.share_captured >= goal - 1e-6
    assert plan.proven_optimal and plan.objective == pytest.approx(best)


def test_highs_bound_keeps_the_objective_constant() -> None:
    """PuLP hands HiGHS no objective constant; the bound read back must carry it."""
    import pulp

    from optimizer._solve import solve

    prob = pulp.LpProblem("k", pulp.LpMaximize)
    x = prob.add_variable("x", lowBound=0, upBound=2, cat="Integer")
    prob += x + 100
    outcome = solve(prob, solver="highs", gap=0.01)
    assert outcome.objective == pytest.approx(102)
    assert outcome.bound is not None and outcome.bound >= 102 - 1e-9


def test_kept_outlets_over_the_opex_budget_are_not_a_greedy_plan() -> None:
    """With closures allowed and the kept outlets alone over the opex budget, the plan
    closes one (or says it cannot): never a plan over the budget called optimal."""
    case = instance(3)
    sites = case["sites"].copy()
    extra = sites.loc[["own0"]].rename(index={"own0": "own1"})
    sites = pd.concat([sites.iloc[:1], extra, sites.iloc[1:]])
    sites.loc[["own0", "own1"], "opex_per_year"] = 100.0
    travel = pd.concat([case["travel"], case["travel"][case["travel"]["dest_id"] == "own0"]
                        .assign(dest_id="own1")])
    plan = site_outlets(case["demand"], sites, travel, objective="max_share", kinds=KINDS,
                        max_new={"smart_atm": 1}, opex_budget=150.0, allow_closures=True,
                        competitors=case["competitors"])
    assert plan.opex_per_year <= 150.0 + 1e-6
    assert (plan.decisions["action"] == "close").any()
