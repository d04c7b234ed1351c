"""Outlet siting against hand-solved instances, brute force and an independent formulation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import OptimizerInputError, PlanInfeasibleError, read_cost_table, site_outlets

KINDS = {"micro_branch": {"capex": 100.0, "opex_per_year": 50.0, "capacity_per_week": 500.0},
         "smart_atm": {"capex": 10.0, "opex_per_year": 5.0, "capacity_per_week": 300.0},
         "mobile_van": {"capex": 20.0, "opex_per_year": 8.0, "capacity_per_week": 100.0},
         "branch": {"capex": 0.0, "opex_per_year": 200.0, "capacity_per_week": 1500.0}}


def line_city() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Five demand points on a line 1 km apart (x = 0..4 km), candidates at each point,
    an existing branch at x = 0; travel = 10 minutes per km."""
    demand = pd.DataFrame({"weight": [10.0, 20.0, 30.0, 40.0, 50.0],
                           "adults": [100.0, 100.0, 100.0, 100.0, 100.0]},
                          index=[f"d{i}" for i in range(5)])
    sites = pd.DataFrame({
        "status": ["existing"] + ["candidate"] * 4,
        "kind": ["branch"] + [None] * 4,
        "kinds": [None, "micro_branch|smart_atm", "smart_atm", "micro_branch|smart_atm",
                  "mobile_van"],
        "capex": [0.0, 0.0, 0.0, 0.0, 0.0], "opex_per_year": [300.0, 0.0, 0.0, 0.0, 0.0],
        "x": [0.0, 1000.0, 2000.0, 3000.0, 4000.0], "y": [0.0] * 5,
    }, index=["OWN", "S1", "S2", "S3", "S4"])
    travel = pd.DataFrame([(f"d{i}", s, 10.0 * abs(i - j)) for i in range(5)
                           for j, s in enumerate(sites.index)],
                          columns=["origin_id", "dest_id", "cost"])
    return demand, sites, travel


def test_hand_solved_coverage_with_kinds() -> None:
    demand, sites, travel = line_city()
    # 10-minute reach: a site covers itself and its neighbours; OWN covers d0, d1
    plan = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"smart_atm": 1})
    # one ATM: S3 covers d2, d3, d4 (120)
    opened = plan.decisions[plan.decisions["action"] == "open"]
    assert opened[["site_id", "kind"]].values.tolist() == [["S3", "smart_atm"]]
    assert plan.objective == 150 and plan.proven_optimal
    assert plan.coverage_before == pytest.approx(0.4) and plan.coverage_after == 1.0
    assert plan.binding == ("max_new.smart_atm (1 of 1)",)
    # only micro-branches allowed and a capex budget that affords one (100 + site 0)
    plan = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"micro_branch": 5}, capex_budget=150)
    assert plan.decisions.query("action == 'open'")["site_id"].tolist() == ["S3"]
    assert plan.capex == 100 and plan.opex_per_year == 350


def test_fast_path_equals_the_general_model() -> None:
    rng = np.random.default_rng(5)
    for _ in range(5):
        demand, sites, travel = random_city(rng)
        fast = site_outlets(demand, sites, travel, kinds=KINDS, max_new=3, coverage_minutes=12)
        # the same question through the general MIP (one kind, a per-kind limit)
        general = site_outlets(demand, sites, travel, kinds=KINDS,
                               max_new={"smart_atm": 3}, coverage_minutes=12)
        assert fast.objective == pytest.approx(general.objective)
        assert fast.proven_optimal and general.proven_optimal


def random_city(rng: np.random.Generator, n_demand: int = 12, n_sites: int = 6
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    demand = pd.DataFrame({"weight": rng.integers(1, 50, n_demand).astype(float),
                           "adults": rng.integers(10, 100, n_demand).astype(float)},
                          index=[f"d{i}" for i in range(n_demand)])
    dxy = rng.uniform(0, 3000, (n_demand, 2))
    sxy = rng.uniform(0, 3000, (n_sites, 2))
    sites = pd.DataFrame({"status": "candidate", "kinds": "smart_atm",
                          "capex": rng.integers(0, 50, n_sites).astype(float),
                          "opex_per_year": 0.0, "x": sxy[:, 0], "y": sxy[:, 1]},
                         index=[f"s{j}" for j in range(n_sites)])
    minutes = np.hypot(*(dxy[:, None, :] - sxy[None, :, :]).transpose(2, 0, 1)) / 80
    travel = pd.DataFrame([(demand.index[i], sites.index[j], minutes[i, j])
                           for i in range(n_demand) for j in range(n_sites)
                           if minutes[i, j] <= 25],
                          columns=["origin_id", "dest_id", "cost"])
    return demand, sites, travel


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 3))
def test_p_median_equals_brute_force(seed: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    demand, sites, travel = random_city(rng)
    penalty = 60.0
    plan = site_outlets(demand, sites, travel, objective="p_median", kinds=KINDS,
                        max_new={"smart_atm": p}, nearest_k=len(sites),
                        unserved_minutes=penalty)
    t = travel.pivot(index="origin_id", columns="dest_id", values="cost").reindex(
        index=demand.index, columns=sites.index).fillna(penalty).to_numpy()
    w = demand["weight"].to_numpy()
    best = min(float((w * np.minimum(t[:, list(c)].min(axis=1), penalty)).sum())
               for k in range(1, p + 1) for c in itertools.combinations(range(len(sites)), k))
    assert plan.proven_optimal
    assert plan.objective == pytest.approx(best)


def test_max_capture_beats_the_competitor_where_it_can() -> None:
    demand, sites, travel = line_city()
    sites = sites.drop(index="OWN")
    travel = travel[travel["dest_id"] != "OWN"]
    # a competitor branch at d2 (attractiveness 1, t >= 1 minute): an ATM (0.25) wins
    # only where it is at least twice as close as the branch
    comp = pd.DataFrame([(f"d{i}", "CMP", max(10.0 * abs(i - 2), 1.0)) for i in range(5)],
                        columns=["origin_id", "dest_id", "cost"]).assign(kind="branch")
    plan = site_outlets(demand, sites, travel, objective="max_capture", kinds=KINDS,
                        max_new=1, competitors=comp, coverage_minutes=60)
    # utilities A * t^-2: a micro-branch (0.6) at S3 wins d3 (0.6 vs 0.01) and d4 (0.006 vs
    # 0.0025) = 90; a van at S4 wins d4 only (50); S1 as a micro-branch wins d1, d0 (30)
    opened = plan.decisions.query("action == 'open'")
    assert opened[["site_id", "kind"]].values.tolist() == [["S3", "micro_branch"]]
    assert plan.objective == pytest.approx(90) and plan.proven_optimal


def test_spacing_keeps_outlets_apart() -> None:
    demand, sites, travel = line_city()
    plan = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"smart_atm": 2}, min_spacing_m=1500)
    opened = set(plan.decisions.query("action == 'open'")["site_id"])
    xs = sorted([0.0] + [float(sites.loc[s, "x"]) for s in opened])
    assert all(b - a >= 1500 for a, b in itertools.pairwise(xs))


def test_closing_an_outlet_counts_its_saving() -> None:
    demand, sites, travel = line_city()
    # the existing branch costs 300 a year; the opex budget (60) forces it shut
    plan = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"smart_atm": 2}, opex_budget=60, allow_closures=True)
    close = plan.decisions.query("action == 'close'")
    assert close["site_id"].tolist() == ["OWN"] and close["opex_per_year"].iloc[0] == -300
    assert plan.opex_per_year <= 60
    assert len(plan.decisions.query("action == 'open'")) == 2


def test_capacity_adds_a_site() -> None:
    demand, sites, travel = line_city()
    sites = sites.drop(index="OWN")
    travel = travel[travel["dest_id"] != "OWN"]
    # 1 visit per adult: 500 a week in all; one ATM serves 300, so one is not enough
    with pytest.raises(PlanInfeasibleError, match=r"max_new\.smart_atm = 1 allows too few new "
                       "smart ATMs to meet capacity for 1 visits per adult a week and "
                       "min_coverage_share 100%"):
        site_outlets(demand, sites, travel, coverage_minutes=40, kinds=KINDS,
                     max_new={"smart_atm": 1}, visits_per_adult=1.0, min_coverage_share=1.0)
    plan = site_outlets(demand, sites, travel, coverage_minutes=40, kinds=KINDS,
                        max_new={"smart_atm": 2}, visits_per_adult=1.0,
                        min_coverage_share=1.0)
    assert len(plan.decisions.query("action == 'open'")) == 2


def test_infeasible_coverage_names_the_limit_in_user_units() -> None:
    demand, sites, travel = line_city()
    with pytest.raises(PlanInfeasibleError) as err:
        site_outlets(demand, sites, travel, coverage_minutes=0.5, kinds=KINDS,
                     max_new={"micro_branch": 1, "smart_atm": 1, "mobile_van": 1},
                     min_coverage_share=0.9)
    # four new sites are needed (each covers its own point); three are allowed
    assert "to meet min_coverage_share 90% within 0.5 minutes: it needs at least 2" in str(
        err.value)
    assert "outlets.max_new.smart_atm = 1" in str(err.value) or \
        "outlets.max_new.micro_branch = 1" in str(err.value)
    with pytest.raises(PlanInfeasibleError, match="capex_budget = 50 is too small"):
        site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                     max_new={"micro_branch": 4}, capex_budget=50, min_coverage_share=1.0)
    with pytest.raises(PlanInfeasibleError, match="out of reach"):
        site_outlets(demand, sites.drop(index="S4"), travel[travel["dest_id"] != "S4"],
                     coverage_minutes=0.5, kinds=KINDS, max_new={"smart_atm": 4},
                     min_coverage_share=1.0)


def test_cost_tables_from_csv_and_parquet(tmp_path) -> None:  # type: ignore[no-untyped-def]
    demand, sites, travel = line_city()
    travel.to_csv(tmp_path / "cost.csv", index=False)
    travel.to_parquet(tmp_path / "cost.parquet", index=False)
    for name in ("cost.csv", "cost.parquet"):
        table = read_cost_table(str(tmp_path / name))
        plan = site_outlets(demand, sites, table, coverage_minutes=10, kinds=KINDS,
                            max_new={"smart_atm": 1})
        assert plan.objective == 150
    travel.assign(cost=["x"] + [1.0] * (len(travel) - 1)).to_csv(tmp_path / "bad.csv",
                                                                  index=False)
    with pytest.raises(OptimizerInputError, match="row 2: cost = 'x'"):
        read_cost_table(str(tmp_path / "bad.csv"))
    with pytest.raises(OptimizerInputError, match="no such cost table"):
        read_cost_table(str(tmp_path / "none.csv"))


def test_each_decision_says_why() -> None:
    """Each decision's adults newly covered (within reach of the site, of no outlet before
    the plan) and only here (of no other open outlet), counted by hand on sets: on the line
    city with a 10-minute reach a site covers itself and its neighbours, OWN covers d0, d1,
    and every point holds 100 adults."""
    demand, sites, travel = line_city()
    plan = site_outlets(demand, sites, travel, coverage_minutes=10, kinds=KINDS,
                        max_new={"smart_atm": 2})
    why = plan.decisions.set_index("site_id")[["action", "adults_newly_covered",
                                               "adults_only_here"]]
    opened = set(why.index[why["action"] == "open"])
    assert opened == {"S3"}  # it reaches d2, d3, d4: every point OWN leaves
    reach = {s: {d for d in range(5) if abs(d - j) <= 1} for j, s in enumerate(sites.index)}
    open_now = opened | {"OWN"}
    for site in open_now:
        new = reach[site] - reach["OWN"] if site != "OWN" else set()
        alone = reach[site] - set().union(*(reach[o] for o in open_now - {site}))
        assert why.loc[site, "adults_newly_covered"] == 100 * len(new), site
        assert why.loc[site, "adults_only_here"] == 100 * len(alone), site
    assert why.loc["S3", "adults_only_here"] == 300 and why.loc["OWN", "adults_only_here"] == 200
    # with S1 forced open too (S3 not allowed), overlaps count for neither
    plan = site_outlets(demand, sites.drop(index="S3"), travel, coverage_minutes=10,
                        kinds=KINDS, max_new={"smart_atm": 1, "mobile_van": 1,
                                              "micro_branch": 1})
    got = plan.decisions.set_index("site_id")
    open_now = set(got.index[got["action"] != "close"])
    for site in open_now:
        new = reach[site] - reach["OWN"] if site != "OWN" else set()
        alone = reach[site] - set().union(*(reach[o] for o in open_now - {site}))
        assert got.loc[site, "adults_newly_covered"] == 100 * len(new), site
        assert got.loc[site, "adults_only_here"] == 100 * len(alone), site


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), value=st.floats(0.05, 3.0))
def test_coverage_weighed_against_cost_equals_brute_force(seed: int, value: float) -> None:
    """A year's value per adult within reach, less each opening's yearly cost (capex by
    the capital recovery factor over 5 years at 10%, plus opex): the best over every set,
    with no count or budget given."""
    from optimizer import CostWeights

    rng = np.random.default_rng(seed)
    demand, sites, travel = random_city(rng)
    costs = CostWeights(value_per_covered_adult=value, life_years=5, rate=0.1)
    plan = site_outlets(demand, sites, travel, kinds=KINDS, costs=costs, coverage_minutes=12)
    reach = travel[travel["cost"] <= 12].groupby("dest_id")["origin_id"].agg(set)
    recovery = 0.1 / (1 - 1.1 ** -5)
    yearly = (sites["capex"] + 10.0) * recovery + 5.0

    def net(chosen: tuple[str, ...]) -> float:
        covered = set().union(*(reach.get(s, set()) for s in chosen))
        return value * float(demand.loc[list(covered), "adults"].sum()) - float(
            yearly[list(chosen)].sum())

    best = max(net(c) for k in range(len(sites) + 1)
               for c in itertools.combinations(sites.index, k))
    opened = tuple(plan.decisions.loc[plan.decisions["action"] == "open", "site_id"])
    assert plan.proven_optimal
    assert plan.objective == pytest.approx(best, abs=1e-6)
    assert net(opened) == pytest.approx(best, abs=1e-6)


def test_a_value_per_adult_is_refused_where_it_is_not_weighed() -> None:
    from optimizer import CostWeights

    demand, sites, travel = line_city()
    with pytest.raises(OptimizerInputError, match="for max_coverage and max_capture"):
        site_outlets(demand, sites, travel, objective="p_median", kinds=KINDS,
                     max_new={"smart_atm": 1}, costs=CostWeights(value_per_covered_adult=5))
