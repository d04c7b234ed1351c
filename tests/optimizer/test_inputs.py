"""Natural but incomplete inputs to the optimizer's entry points: each gets the project's
own OptimizerInputError naming what is missing (and how to give it), never a KeyError."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import (
    OptimizerInputError,
    allocate_staff,
    maximal_covering,
    plan_events,
    site_outlets,
)

DEMAND = pd.DataFrame({"weight": [1.0, 2.0], "adults": [10, 20]}, index=["a", "b"])
SITES = pd.DataFrame({"status": ["candidate", "candidate"], "kinds": ["smart_atm"] * 2,
                      "capex": [0.0, 0.0], "opex_per_year": [0.0, 0.0]}, index=["s1", "s2"])
TRAVEL = pd.DataFrame({"origin_id": ["a", "b"], "dest_id": ["s1", "s2"], "cost": [5.0, 5.0]})
KINDS = {"smart_atm": {"capex": 1.0, "opex_per_year": 1.0}}
WIDE = pd.DataFrame([[5.0, 20.0], [20.0, 5.0]], index=["a", "b"], columns=["s1", "s2"])
COMMUNITIES = pd.DataFrame({"pop_18_35": [100], "pop_36_55": [100], "pop_56_plus": [100]},
                           index=["a"])
VENUES = pd.DataFrame({"capacity": [100]}, index=["v"])


@pytest.mark.parametrize(("call", "says"), [
    (lambda: site_outlets(DEMAND, SITES, WIDE, kinds=KINDS, max_new=1),
     ["travel lacks column(s) origin_id, dest_id, cost", "wide matrix", ".stack()"]),
    (lambda: site_outlets(DEMAND[["weight"]], SITES, TRAVEL, objective="p_median",
                          kinds=KINDS, max_new=1),
     ["demand lacks column(s) adults", "p-median"]),
    (lambda: site_outlets(DEMAND, SITES.drop(columns="kinds"), TRAVEL, kinds=KINDS,
                          max_new=1),
     ["sites lacks column(s) kinds", "micro_branch|smart_atm"]),
    (lambda: site_outlets(DEMAND, SITES, TRAVEL, max_new=1),
     ["no kinds table", "'smart_atm' for site 's1'"]),
    (lambda: site_outlets(DEMAND, SITES, TRAVEL, objective="p_median", kinds=KINDS),
     ["p_median without max_new or a budget opens every candidate"]),
    (lambda: site_outlets(DEMAND, SITES.drop(columns="status"), TRAVEL, kinds=KINDS,
                          max_new=1),
     ["sites lacks column(s) status", "'candidate' or 'existing'"]),
    (lambda: maximal_covering(DEMAND["weight"], WIDE < 10, ["s1", "s2"], p=1),
     ["cover lacks column(s) demand_id, site_id", "boolean matrix", ".loc[lambda s: s]"]),
    (lambda: maximal_covering(DEMAND, pd.DataFrame({"demand_id": ["a"], "site_id": ["s1"]}),
                              ["s1", "s2"], p=1),
     ["weights: expected a pandas Series", "demand['weight']"]),
    (lambda: allocate_staff([{"kind": "branch"}], relationship_managers=3, weeks=2),
     ["outlets: expected a pandas DataFrame", "got list"]),
    (lambda: plan_events(VENUES, COMMUNITIES, pd.DataFrame([[5.0]], index=["a"],
                                                           columns=["v"]),
                         events={"financial_literacy": 1}, weeks=2),
     ["travel lacks column(s) origin_id, dest_id, cost", "wide matrix"]),
    (lambda: plan_events(VENUES, COMMUNITIES.drop(columns="pop_56_plus"), TRAVEL,
                         events={"financial_literacy": 1}, weeks=2),
     ["communities lacks column(s) pop_56_plus", "adults aged 56 and over"]),
])
def test_incomplete_input_names_what_is_missing(call, says: list[str]) -> None:
    with pytest.raises(OptimizerInputError) as info:
        call()
    for text in says:
        assert text in str(info.value), str(info.value)


def test_the_wide_matrix_hint_gives_what_the_model_takes() -> None:
    """The conversion the message suggests, applied as written, is accepted and gives the
    plan of the long table (an oracle by hand: one site covers b, the heavier point)."""
    long = WIDE.rename_axis(index="origin_id", columns="dest_id").stack().rename(
        "cost").reset_index()
    plan = site_outlets(DEMAND, SITES, long, kinds=KINDS, max_new=1, coverage_minutes=10)
    assert list(plan.decisions["site_id"]) == ["s2"]
    cover = (WIDE < 10).rename_axis(index="demand_id", columns="site_id").stack().loc[
        lambda s: s].reset_index()
    assert list(maximal_covering(DEMAND["weight"], cover, ["s1", "s2"], p=1).chosen) == ["s2"]
