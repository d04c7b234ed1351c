"""Maximal covering against hand-solved instances and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from optimizer import maximal_covering
from optimizer._covering_bounds import lagrangian_value, lp_dual_bound
from optimizer.errors import OptimizerInputError


def pairs(table: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame([(d, s) for d, sites in table.items() for s in sites],
                        columns=["demand_id", "site_id"])


def test_hand_solved() -> None:
    # A covers d1 d2 (weight 5), B covers d2 d3 (weight 6), C covers d4 (weight 4)
    weights = pd.Series({"d1": 2.0, "d2": 3.0, "d3": 3.0, "d4": 4.0})
    cover = pairs({"d1": ["A"], "d2": ["A", "B"], "d3": ["B"], "d4": ["C"]})
    one = maximal_covering(weights, cover, ["A", "B", "C"], p=1)
    assert list(one.chosen) == ["B"] and one.objective == 6 and one.proven_optimal
    two = maximal_covering(weights, cover, ["A", "B", "C"], p=2)
    assert set(two.chosen) == {"B", "C"} and two.objective == 10
    assert two.coverage_share == pytest.approx(10 / 12)
    assert two.covered.to_dict() == {"d1": False, "d2": True, "d3": True, "d4": True}
    # an existing site at A: d1 and d2 count already, one more site: B adds d3 (3), C d4 (4)
    existing = maximal_covering(weights, pairs({"d1": ["A"], "d2": ["A", "B"], "d3": ["B"],
                                                "d4": ["C"]}), ["B", "C"], p=1,
                                existing=["A"])
    assert list(existing.chosen) == ["C"] and existing.objective == 9
    # a budget that affords only the cheaper site
    budget = maximal_covering(weights, cover, ["A", "B", "C"], costs=pd.Series(
        {"A": 1.0, "B": 5.0, "C": 1.0}), budget=2.0)
    assert set(budget.chosen) == {"A", "C"} and budget.objective == 9


def test_reductions_are_reported() -> None:
    weights = pd.Series({"d1": 1.0, "d2": 1.0, "d3": 1.0})
    # d1 and d2 are covered by the same sites; B's coverage is inside A's
    cover = pairs({"d1": ["A", "B"], "d2": ["A", "B"], "d3": ["A"]})
    result = maximal_covering(weights, cover, ["A", "B"], p=1)
    assert result.reductions["demand_groups"] == 2
    assert result.reductions["candidates_kept"] == 1
    assert list(result.chosen) == ["A"] and result.objective == 3


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), n_demand=st.integers(1, 12), n_sites=st.integers(1, 7),
       p=st.integers(0, 4), use_budget=st.booleans(), local_search=st.booleans())
def test_equals_brute_force(seed: int, n_demand: int, n_sites: int, p: int,
                            use_budget: bool, local_search: bool) -> None:
    rng = np.random.default_rng(seed)
    weights = pd.Series(rng.integers(1, 20, n_demand).astype(float),
                        index=[f"d{i}" for i in range(n_demand)])
    sites = [f"s{j}" for j in range(n_sites)]
    reach = rng.random((n_demand, n_sites)) < 0.35
    cover = pd.DataFrame([(f"d{i}", f"s{j}") for i, j in zip(*np.nonzero(reach), strict=True)],
                         columns=["demand_id", "site_id"])
    costs = pd.Series(rng.integers(1, 10, n_sites).astype(float), index=sites)
    budget = float(rng.integers(0, 20)) if use_budget else None
    result = maximal_covering(weights, cover, sites, p=p, costs=costs, budget=budget,
                              local_search=local_search)
    best = 0.0
    for k in range(0, min(p, n_sites) + 1):
        for combo in itertools.combinations(range(n_sites), k):
            if budget is not None and costs.iloc[list(combo)].sum() > budget:
                continue
            hit = reach[:, list(combo)].any(axis=1) if combo else np.zeros(n_demand, bool)
            best = max(best, float(weights[hit].sum()))
    assert result.proven_optimal
    assert result.objective == pytest.approx(best)
    assert len(result.chosen) <= p
    assert budget is None or costs[result.chosen].sum() <= budget + 1e-9
    assert result.objective >= result.greedy_objective - 1e-9
    # every bound the method uses is above the optimum, whatever the multipliers
    g = csr_matrix(reach.astype(float))
    w = weights.to_numpy()
    at = g.T.tocsr()
    lam = rng.random(n_demand) * w
    c = costs.to_numpy()
    assert lagrangian_value(w, at, lam, p=p, costs=c, budget=budget) >= best - 1e-9
    assert lp_dual_bound(w, g, p=p, costs=c, budget=budget, time_limit_s=5) >= best - 1e-6


def test_local_search_finds_the_swap_greedy_misses() -> None:
    # M covers a, b, c (12) and greedy takes it first, then adds 3; L + R cover all (18)
    weights = pd.Series({"a": 4.0, "b": 4.0, "c": 4.0, "d": 3.0, "e": 3.0})
    cover = pairs({"a": ["L", "M"], "b": ["L", "M"], "c": ["R", "M"], "d": ["R"],
                   "e": ["L"]})
    result = maximal_covering(weights, cover, ["L", "M", "R"], p=2)
    assert result.greedy_objective == 15
    assert set(result.chosen) == {"L", "R"} and result.objective == 18
    assert result.method == "local search" and result.proven_optimal and result.gap == 0


def test_both_solvers_agree() -> None:
    rng = np.random.default_rng(5)
    weights = pd.Series(rng.integers(1, 50, 200).astype(float))
    reach = rng.random((200, 40)) < 0.05
    cover = pd.DataFrame([(i, f"s{j}") for i, j in zip(*np.nonzero(reach), strict=True)],
                         columns=["demand_id", "site_id"])
    sites = [f"s{j}" for j in range(40)]
    ours = maximal_covering(weights, cover, sites, p=6)
    # the solvers alone, from the greedy plan, prove the same optimum
    cbc = maximal_covering(weights, cover, sites, p=6, solver="cbc", local_search=False)
    highs = maximal_covering(weights, cover, sites, p=6, solver="highs", local_search=False)
    assert cbc.proven_optimal and highs.proven_optimal and ours.proven_optimal
    assert cbc.objective == pytest.approx(highs.objective) == pytest.approx(ours.objective)


def test_bad_inputs() -> None:
    weights = pd.Series({"d1": 1.0})
    cover = pairs({"d1": ["A"]})
    with pytest.raises(OptimizerInputError, match="give p"):
        maximal_covering(weights, cover, ["A"])
    with pytest.raises(OptimizerInputError, match="p = -1"):
        maximal_covering(weights, cover, ["A"], p=-1)
    with pytest.raises(OptimizerInputError, match="solver = 'gurobi'"):
        maximal_covering(weights, cover, ["A"], p=1, solver="gurobi")  # type: ignore[arg-type]
