"""One budget for outlets and marketing, on cases solved by hand (optimizer/combined.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optimizer import OptimizerInputError, allocate_combined, annualized_cost


def _curve(rmax: float = 100.0, k: float = 1_000.0) -> pd.DataFrame:
    """One community, one channel, one segment: R(s) = rmax (1 - exp(-s / k))."""
    return pd.DataFrame({"community_id": ["A"], "channel": ["sms"], "segment": ["all"],
                         "form": ["exponential"], "rmax": [rmax], "k": [k], "h": [1.0]})


def _worth(options: pd.DataFrame, total: float, subset: tuple[int, ...]) -> float:
    """A subset's customers plus the marketing its costs leave, valued exactly on the
    curve R(s) = 100 (1 - e^-s/1000); minus infinity when it costs more than the total."""
    left = total - float(options["opex_per_year"].iloc[list(subset)].sum())
    if left < 0:
        return -math.inf
    return float(options["customers"].iloc[list(subset)].sum()) + 100 * (
        1 - math.exp(-left / 1_000))


def _outlet(capex: float = 2_000.0, life: float = 4.0, opex: float = 0.0,
            customers: float = 30.0) -> pd.DataFrame:
    return pd.DataFrame({"option_id": ["atm"], "capex": [capex], "life_years": [life],
                         "opex_per_year": [opex], "customers": [customers]})


def test_annualized_capex_is_the_capital_recovery_factor() -> None:
    # 1,000 over 10 years at 5%: the annuity 1,000 x 0.05 / (1 - 1.05^-10) = 129.50
    assert annualized_cost(1_000, 10, 0.05) == pytest.approx(129.50, abs=0.005)
    assert annualized_cost(2_000, 4, 0.0) == 500
    with pytest.raises(OptimizerInputError, match="life"):
        annualized_cost(1_000, 0, 0.05)


def test_the_outlet_opens_when_it_buys_more_than_the_marketing_it_displaces() -> None:
    # 1,500 a year. Outlet (500 a year, 30 customers) + 1,000 of marketing:
    # 30 + 100 (1 - e^-1) = 93.2; all 1,500 on marketing: 100 (1 - e^-1.5) = 77.7
    plan = allocate_combined(_curve(), _outlet(), 1_500)
    assert plan.opened == ("atm",) and plan.outlet_cost == pytest.approx(500)
    assert plan.marketing_budget == pytest.approx(1_000)
    assert plan.customers == pytest.approx(30 + 100 * (1 - math.exp(-1)), rel=1e-6)
    # the next unit: marketing's chord from 1,000 to 1,015 (1% of the total more),
    # 100 (e^-1 - e^-1.015) / 15 = 0.0365, just below R'(1000) = 0.1 e^-1 = 0.0368
    # (the grid holds 1,000 = 1,500 - the outlet's 500: valued exactly, not interpolated)
    assert plan.marketing_marginal.customers == pytest.approx(
        100 * (math.exp(-1) - math.exp(-1.015)) / 15, rel=1e-6)
    assert plan.outlet_marginal is None  # no option left unopened


def test_the_outlet_stays_closed_when_marketing_buys_more() -> None:
    # 600 a year. Outlet + 100 of marketing: 30 + 9.5 = 39.5; 600 of marketing: 45.1
    plan = allocate_combined(_curve(), _outlet(), 600)
    assert plan.opened == () and plan.marketing_budget == pytest.approx(600)
    assert plan.customers == pytest.approx(100 * (1 - math.exp(-0.6)), rel=1e-6)
    assert plan.outlet_marginal is not None
    assert plan.outlet_marginal.customers == pytest.approx(30 / 500)
    # marketing's next unit (the chord from 600 to 606) is worth less than the outlet's
    # 0.06 a unit, yet the outlet stays closed: it comes whole, 500 at a time, and
    # displaces the marketing that buys most
    assert plan.marketing_marginal.customers == pytest.approx(
        100 * (math.exp(-0.6) - math.exp(-0.606)) / 6, rel=1e-6)
    assert not plan.outlets["screened"].any()  # 0.06 > R'(606): it had to be weighed


def test_an_option_below_marketings_least_slope_is_screened_out() -> None:
    # 1,500 a year: R'(1515) = 0.022 a unit; an outlet at 10 customers for 500 (0.02 a
    # unit) cannot pay whatever else opens, and is left closed before the programme
    plan = allocate_combined(_curve(), _outlet(customers=10.0), 1_500)
    assert plan.opened == () and bool(plan.outlets["screened"].iloc[0])
    assert plan.customers == pytest.approx(100 * (1 - math.exp(-1.5)), rel=1e-6)

def test_bad_options_are_named() -> None:
    with pytest.raises(OptimizerInputError, match="customers"):
        allocate_combined(_curve(), _outlet().drop(columns="customers"), 1_000)
    with pytest.raises(OptimizerInputError, match="capex"):
        allocate_combined(_curve(), _outlet(capex=-1), 1_000)


def test_the_value_objective_weighs_the_outlets_value() -> None:
    # value = 2 a customer on the curve (value_per_customer = 2).
    # 1,500 a year; the outlet keeps 10 customers worth 200 (20 each): outlet + 1,000 of
    # marketing = 200 + 2 x 63.2 = 326.4 > 2 x 77.7 = 155.4 on marketing alone; on
    # customers the same outlet (10 + 63.2 = 73.2 < 77.7) stays closed
    curves = _curve().assign(value_per_customer=2.0)
    outlet = _outlet(customers=10.0).assign(value=200.0)
    by_customers = allocate_combined(curves, outlet, 1_500)
    assert by_customers.opened == ()
    by_value = allocate_combined(curves, outlet, 1_500,
                                 budget_options={"objective": "value"})
    assert by_value.opened == ("atm",)
    assert by_value.value == pytest.approx(200 + by_value.marketing.value, rel=1e-9)
    assert by_value.marketing.value == pytest.approx(2 * 100 * (1 - math.exp(-1)), rel=1e-6)
    with pytest.raises(OptimizerInputError, match="value"):
        allocate_combined(curves, _outlet(), 1_500, budget_options={"objective": "value"})


def test_many_options_are_the_best_subset_found_by_brute_force() -> None:
    # three outlets of different cost and gain against one curve: every subset tried by
    # hand, the marketing left valued exactly on the curve R(s) = 100 (1 - e^-s/1000)
    import itertools

    options = pd.DataFrame({"option_id": ["a", "b", "c"], "capex": [0.0, 0.0, 0.0],
                            "life_years": [5.0, 5.0, 5.0],
                            "opex_per_year": [300.0, 700.0, 200.0],
                            "customers": [25.0, 31.0, 9.0]})
    total = 2_000.0

    def worth(subset: tuple[int, ...]) -> float:
        return _worth(options, total, subset)

    subsets = [s for n in range(4) for s in itertools.combinations(range(3), n)]
    best = max(subsets, key=worth)
    plan = allocate_combined(_curve(), options, total, levels=40)
    assert set(plan.opened) == {options["option_id"][i] for i in best}
    assert plan.customers == pytest.approx(worth(best), rel=1e-6)


def test_nearly_equal_costs_do_not_distort_the_marketing_value() -> None:
    # three outlets whose costs differ by a unit: the budgets 2,000 - cost lie a unit
    # apart, where the LP's tolerance could make V look flat or falling; the choice is
    # still the best subset by brute force
    options = pd.DataFrame({"option_id": ["a", "b", "c"], "capex": [0.0] * 3,
                            "life_years": [5.0] * 3,
                            "opex_per_year": [300.0, 301.0, 302.0],
                            "customers": [12.0, 11.0, 3.0]})
    total = 2_000.0

    def worth(subset: tuple[int, ...]) -> float:
        left = total - float(options["opex_per_year"].iloc[list(subset)].sum())
        return float(options["customers"].iloc[list(subset)].sum()) + 100 * (
            1 - math.exp(-left / 1_000))

    import itertools

    best = max((s for n in range(4) for s in itertools.combinations(range(3), n)),
               key=worth)
    plan = allocate_combined(_curve(), options, total)
    assert set(plan.opened) == {options["option_id"][i] for i in best}
    assert plan.customers == pytest.approx(worth(best), rel=1e-6)


def test_a_zero_budget_opens_only_what_costs_nothing() -> None:
    options = pd.DataFrame({"option_id": ["free", "paid"], "capex": [0.0, 100.0],
                            "life_years": [5.0, 5.0], "opex_per_year": [0.0, 10.0],
                            "customers": [4.0, 50.0]})
    plan = allocate_combined(_curve(), options, 0)
    assert plan.opened == ("free",) and plan.marketing_budget == 0
    assert plan.customers == pytest.approx(4.0)
    # the best left closed: the paid one, 50 customers for 20 + 10 a year
    assert plan.outlet_marginal is not None
    assert plan.outlet_marginal.customers == pytest.approx(50 / 30)


@pytest.mark.parametrize("each_option_up_to", [60, 0])
@pytest.mark.parametrize("seed", range(4))
def test_random_options_against_brute_force(seed: int, each_option_up_to: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight options of random cost and gain: the best subset by brute force, whether V is
    valued at the total less each option's cost or only where the split lands (the way
    past EACH_OPTION_UP_TO options, as on a metropolis)."""
    import itertools

    import optimizer.combined as combined_module

    monkeypatch.setattr(combined_module, "EACH_OPTION_UP_TO", each_option_up_to)
    rng = np.random.default_rng(seed)
    options = pd.DataFrame({"option_id": [f"o{i}" for i in range(8)], "capex": 0.0,
                            "life_years": 5.0,
                            "opex_per_year": rng.uniform(50, 500, 8).round(),
                            "customers": rng.uniform(1, 40, 8).round(1)})
    total = 2_000.0

    def worth(subset: tuple[int, ...]) -> float:
        return _worth(options, total, subset)

    best = max((s for n in range(9) for s in itertools.combinations(range(8), n)), key=worth)
    plan = allocate_combined(_curve(), options, total, levels=40)
    assert plan.customers == pytest.approx(worth(best), rel=1e-4)
    # valued only where splits landed, the plan is not called proven
    assert plan.proven_optimal == (each_option_up_to > 0)
