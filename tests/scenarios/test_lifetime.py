"""Customer lifetime value by segment (scenarios/lifetime.py) on a two-segment case
worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from scenarios.lifetime import lifetime_kpis, segment_lifetime


def _arm(new: dict[str, float], deposits: dict[str, float],
         churned: dict[str, float]) -> pd.DataFrame:
    """Weeks 1 and 52 of one community: 100 active customers in each segment, the new
    customers and churn split over the two rows, deposits at week 52 as given."""
    rows = []
    for week in (1, 52):
        for seg in ("A", "B"):
            rows.append({"week": week, "community_id": "C", "segment": seg, "prospect": 0.0,
                         "new": 0.0, "active": 100.0, "mature": 0.0, "lapsed": 0.0,
                         "new_customers": new[seg] / 2, "churned": churned[seg] / 2,
                         "deposits": deposits[seg] if week == 52 else 0.0,
                         "replication": 0})
    return pd.DataFrame(rows)


CAMPAIGN = _arm({"A": 20, "B": 10}, {"A": 60_000, "B": 40_000}, {"A": 10, "B": 20})
COUNTERFACTUAL = _arm({"A": 10, "B": 10}, {"A": 50_000, "B": 40_000}, {"A": 10, "B": 20})


def test_two_segments_by_hand() -> None:
    # A: churn 10 of 100 a year, q = 0.9; 10 won, +10,000 of deposits: 1,000 each;
    #    margin 2%, 3 years at 10%: 20 x (1 + 0.9/1.1 + (0.9/1.1)^2) = 20 x 2.48760 = 49.752
    # B: churn 20 of 100, q = 0.8; none won: its 40,000 over 100 customers, 400 each;
    #    8 x (1 + 0.8/1.1 + (0.8/1.1)^2) = 8 x 2.25620 = 18.050
    seg = segment_lifetime(CAMPAIGN, COUNTERFACTUAL, margin=0.02, rate=0.10, horizon=3)
    assert seg.loc["A", "retention_year"] == pytest.approx(0.9)
    assert seg.loc["A", "deposits_per_new"] == pytest.approx(1_000)
    assert seg.loc["A", "clv"] == pytest.approx(49.752, abs=1e-3)
    assert seg.loc["B", "retention_year"] == pytest.approx(0.8)
    assert seg.loc["B", "uplift_new"] == 0 and seg.loc["B", "deposits_per_new"] == 400
    assert seg.loc["B", "clv"] == pytest.approx(18.050, abs=1e-3)
    # one year is the one-year margin the roi counts: 20 for A's new customer
    one = segment_lifetime(CAMPAIGN, COUNTERFACTUAL, margin=0.02, rate=0.10, horizon=1)
    assert one.loc["A", "clv"] == pytest.approx(20.0)
    kpis, table = lifetime_kpis(pd.DataFrame({"replication": [0], "spend": [100.0]}),
                                CAMPAIGN, COUNTERFACTUAL, margin=0.02, rate=0.10,
                                horizon=3)
    assert kpis["value_campaigns_clv"].iloc[0] == pytest.approx(10 * 49.752, abs=1e-2)
    assert kpis["roi_clv"].iloc[0] == pytest.approx(4.9752, abs=1e-4)
    assert kpis["clv_per_new_customer"].iloc[0] == pytest.approx(49.752, abs=1e-3)
    assert list(table.index) == ["A", "B"]
