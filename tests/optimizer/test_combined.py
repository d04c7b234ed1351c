"""One budget for outlets and marketing, on cases solved by hand (optimizer/combined.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from optimizer import OptimizerInputError, allocate_combined, annualized_cost


def _curve(rmax: float = 100.0, k: float = 1_000.0) -> pd.DataFrame:
    """One community, one channel, one segment: R(s) = rmax (1 - exp(-s / k))."""
    return pd.DataFrame({"community_id": ["A"], "channel": ["sms"], "segment": ["all"],
                         "form": ["exponential"], "rmax": [rmax], "k": [k], "h": [1.0]})


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
    # the next unit: marketing's slope near 1,000, R'(1000) = 0.1 e^-1 = 0.037 (the
    # grid's chord, from the left: between R'(1000) and R'(875) = 0.042)
    assert 0.1 * math.exp(-1) <= plan.marketing_marginal <= 0.1 * math.exp(-0.875) + 1e-9
    assert plan.outlet_marginal is None  # no option left unopened


def test_the_outlet_stays_closed_when_marketing_buys_more() -> None:
    # 600 a year. Outlet + 100 of marketing: 30 + 9.5 = 39.5; 600 of marketing: 45.1
    plan = allocate_combined(_curve(), _outlet(), 600)
    assert plan.opened == () and plan.marketing_budget == pytest.approx(600)
    assert plan.customers == pytest.approx(100 * (1 - math.exp(-0.6)), rel=1e-6)
    assert plan.outlet_marginal == pytest.approx(30 / 500)
    # marketing's next unit (the grid's chord left of 600: between R'(600) and R'(550))
    # is worth less than the outlet's 0.06 a unit, yet the outlet stays closed: it comes
    # whole, 500 at a time, and displaces the marketing that buys most
    assert 0.1 * math.exp(-0.6) <= plan.marketing_marginal <= 0.1 * math.exp(-0.55)


def test_bad_options_are_named() -> None:
    with pytest.raises(OptimizerInputError, match="customers"):
        allocate_combined(_curve(), _outlet().drop(columns="customers"), 1_000)
    with pytest.raises(OptimizerInputError, match="capex"):
        allocate_combined(_curve(), _outlet(capex=-1), 1_000)
