"""Rollout over quarters (optimizer._rollout) against hand-solved cases and brute force
over every assignment of sites to quarters."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import OptimizerInputError, site_outlets
from tests.optimizer.test_siting import KINDS, line_city, random_city

ROLLOUT_KINDS = {"smart_atm": {"capex": 10.0, "opex_per_year": 5.0, "capacity_per_week": 300.0},
                 "micro_branch": {"capex": 25.0, "opex_per_year": 40.0,
                                  "capacity_per_week": 500.0}}


def _opened(plan) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    rows = plan.decisions[plan.decisions["action"] == "open"]
    return sorted(zip(rows["site_id"], rows["kind"], rows["quarter"].astype(int), strict=True))


def test_money_left_in_a_quarter_carries_to_the_next() -> None:
    demand, sites, travel = line_city()
    # OWN covers d0, d1 (30) in every quarter; one smart ATM (10) at S3 adds d2..d4 (120)
    early = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                         max_new={"smart_atm": 2}, quarters=2, capex_per_quarter=[10, 0])
    assert _opened(early) == [("S3", "smart_atm", 1)]
    assert early.objective == 2 * 150 and early.proven_optimal
    # 5 a quarter: the ATM waits for the second quarter's money (5 + 5 >= 10)
    late = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"smart_atm": 2}, quarters=2, capex_per_quarter=5)
    assert _opened(late) == [("S3", "smart_atm", 2)]
    assert late.objective == 30 + 150
    table = late.by_quarter
    assert table["opened"].tolist() == [0, 1]
    assert table["capex_available_to_date"].tolist() == [5.0, 10.0]
    assert table["demand_covered"].tolist() == [30.0, 150.0]
    assert table["adults_covered_share"].tolist() == [0.4, 1.0]
    assert any(b.startswith("capex_per_quarter (quarter 2") for b in late.binding)
    kept = late.decisions[late.decisions["action"] == "keep"]
    assert kept["quarter"].isna().all()
    # without carry-over, 5 a quarter never buys the 10 ATM: nothing opens
    never = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                         max_new={"smart_atm": 2}, quarters=2, capex_per_quarter=5,
                         carry_over=False)
    assert _opened(never) == [] and never.objective == 2 * 30


def city(rng: np.random.Generator, n_demand: int = 9, n_sites: int = 4
         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """test_siting's random city with its first site an existing branch, OWN, and the
    candidates allowing smart ATMs, micro-branches or either."""
    demand, sites, travel = random_city(rng, n_demand, n_sites + 1)
    names = {sites.index[0]: "OWN"}
    kinds = rng.choice(["smart_atm", "micro_branch", "smart_atm|micro_branch"], n_sites)
    sites = sites.rename(index=names).assign(
        status=["existing"] + ["candidate"] * n_sites, kind=["branch"] + [None] * n_sites,
        kinds=[None, *kinds], capex=[0.0, *sites["capex"].iloc[1:]],
        opex_per_year=[100.0] + [0.0] * n_sites)
    return demand, sites, travel.replace({"dest_id": names})


def brute_force(demand: pd.DataFrame, sites: pd.DataFrame, travel: pd.DataFrame, *,
                minutes: float, budgets: list[float], max_new: dict[str, int],
                spacing: float, opex_budget: float | None, carry_over: bool = True) -> float:
    """Every assignment of each candidate to (not opened) or (kind, quarter)."""
    reach = travel[travel["cost"] <= minutes].groupby("dest_id")["origin_id"].agg(set)
    w = demand["weight"]
    always = reach.get("OWN", set())
    cands = [s for s in sites.index if sites.loc[s, "status"] == "candidate"]
    choices = []
    for s in cands:
        kinds = [k for k in sites.loc[s, "kinds"].split("|") if max_new.get(k, 0) > 0]
        choices.append([None, *((k, q) for k in kinds for q in range(len(budgets)))])
    xy = sites[["x", "y"]]
    best = -1.0
    for pick in itertools.product(*choices):
        chosen = [(s, c) for s, c in zip(cands, pick, strict=True) if c is not None]
        count = {k: sum(1 for _, c in chosen if c[0] == k) for k in max_new}
        if any(count[k] > max_new[k] for k in max_new):
            continue
        cost = {s: sites.loc[s, "capex"] + ROLLOUT_KINDS[c[0]]["capex"] for s, c in chosen}
        spent = [sum(cost[s] for s, c in chosen if c[1] <= q) for q in range(len(budgets))]
        if any(spent[q] > sum(budgets[:q + 1]) + 1e-9 for q in range(len(budgets))):
            continue
        in_quarter = [sum(cost[s] for s, c in chosen if c[1] == q) for q in range(len(budgets))]
        if not carry_over and any(in_quarter[q] > budgets[q] + 1e-9
                                  for q in range(len(budgets))):
            continue
        if opex_budget is not None and 100.0 + sum(
                ROLLOUT_KINDS[c[0]]["opex_per_year"] for _, c in chosen) > opex_budget + 1e-9:
            continue
        ever_open = ["OWN", *(s for s, _ in chosen)]  # the outlet that stays counts too
        if spacing > 0 and any(
                np.hypot(*(xy.loc[a].to_numpy() - xy.loc[b].to_numpy())) < spacing
                for a, b in itertools.combinations(ever_open, 2)):
            continue
        value = 0.0
        for q in range(len(budgets)):
            covered = set(always)
            for s, c in chosen:
                if c[1] <= q:
                    covered |= reach.get(s, set())
            value += float(w[list(covered)].sum())
        best = max(best, value)
    return best


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), quarters=st.integers(2, 3),
       per_quarter=st.floats(5, 40), atms=st.integers(0, 3), micros=st.integers(0, 2),
       spacing=st.sampled_from([0.0, 800.0]), opex=st.sampled_from([None, 150.0]),
       carry=st.booleans())
def test_rollout_equals_brute_force(seed: int, quarters: int, per_quarter: float, atms: int,
                                    micros: int, spacing: float, opex: float | None,
                                    carry: bool) -> None:
    rng = np.random.default_rng(seed)
    demand, sites, travel = city(rng)
    budgets = list(rng.uniform(0.2, 1.8, quarters) * per_quarter)
    max_new = {"smart_atm": atms, "micro_branch": micros}
    best = brute_force(demand, sites, travel, minutes=12, budgets=budgets, max_new=max_new,
                       spacing=spacing, opex_budget=opex, carry_over=carry)
    plan = site_outlets(demand, sites, travel, coverage_minutes=12, kinds=ROLLOUT_KINDS,
                        max_new=max_new, quarters=quarters, capex_per_quarter=budgets,
                        min_spacing_m=spacing, opex_budget=opex, carry_over=carry)
    assert plan.proven_optimal
    assert plan.objective == pytest.approx(best, abs=1e-6)
    # the plan's own table adds up to its objective
    assert plan.by_quarter["demand_covered"].sum() == pytest.approx(plan.objective)
    spent = plan.by_quarter["capex_to_date"].to_numpy()
    assert (spent <= np.cumsum(budgets) + 1e-6).all()
    if not carry:
        assert (plan.by_quarter["capex"].to_numpy() <= np.asarray(budgets) + 1e-6).all()


def test_a_rollout_with_all_the_money_at_once_is_the_one_period_plan_each_quarter() -> None:
    """max_capture (and max_coverage): with the whole budget in the first quarter, the
    rollout opens the one-period plan's sites then and counts its objective each quarter."""
    from tests.optimizer.test_siting import random_city

    rng = np.random.default_rng(11)
    for objective in ("max_coverage", "max_capture"):
        demand, sites, travel = random_city(rng)
        competitors = travel[travel["dest_id"].isin(sites.index[:2])].assign(
            dest_id=lambda f: "C" + f["dest_id"], kind="branch")
        single = site_outlets(demand, sites, travel, objective=objective, kinds=KINDS,
                              max_new={"smart_atm": 2}, capex_budget=60,
                              competitors=competitors)
        rollout = site_outlets(demand, sites, travel, objective=objective, kinds=KINDS,
                               max_new={"smart_atm": 2}, quarters=4,
                               capex_per_quarter=[60, 0, 0, 0], competitors=competitors)
        assert rollout.objective == pytest.approx(4 * single.objective)
        assert set(rollout.decisions.query("action == 'open'")["quarter"]) <= {1}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"objective": "p_median", "quarters": 2, "capex_per_quarter": 10}, "takes the objectives"),
    ({"quarters": 2}, "needs capex_per_quarter"),
    ({"quarters": 3, "capex_per_quarter": [1, 2]}, "2 figures for 3 quarters"),
    ({"quarters": 2, "capex_per_quarter": -1}, "expected figures >= 0"),
    ({"capex_per_quarter": 10}, "set quarters > 1"),
    ({"quarters": 2, "capex_per_quarter": 10, "visits_per_adult": 0.1}, "visits_per_adult"),
    ({"quarters": 2, "capex_per_quarter": 10, "min_coverage_share": 0.5},
     "min_coverage_share"),
    ({"quarters": 0, "capex_per_quarter": 10}, "expected 1 or more"),
])
def test_what_a_rollout_does_not_take_is_named(kwargs: dict, match: str) -> None:
    demand, sites, travel = line_city()
    with pytest.raises(OptimizerInputError, match=match):
        site_outlets(demand, sites, travel, kinds=KINDS, max_new={"smart_atm": 2},
                     **kwargs)
