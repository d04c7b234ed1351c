"""The envelope of a bank's year: warnings worked out by hand, and the defaults inside it."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation import ENVELOPE, SimulationParams, plausibility_warnings
from simulation.replications import run_replications

INSIDE = {"customers_start": 45_000.0, "yearly_attrition": 0.06,
          "counterfactual_new_customers": 2_700.0, "uplift_new_customers": 6_000.0}


def test_a_year_inside_the_envelope_says_nothing() -> None:
    channels = pd.DataFrame({"channel": ["sms", "organic"], "spend": [90_000.0, 0.0],
                             "won": [300.0, 2_000.0]})
    assert plausibility_warnings(INSIDE, weeks=52, adults=350_000, channels=channels) == []


@pytest.mark.parametrize(("change", "weeks", "says"), [
    ({"yearly_attrition": 0.175}, 52, "yearly attrition 17.5% of the customers at the start"),
    ({"yearly_attrition": 0.01}, 52, "yearly attrition 1.0%"),
    ({"counterfactual_new_customers": 13_000.0}, 52, "28.9% of the customer base joins"),
    # half a year: 1,500 in 26 weeks is 3,000 a year, 6.7%: inside
    ({"counterfactual_new_customers": 300.0}, 26, "1.3% of the customer base joins"),
    ({"uplift_new_customers": 68_675.0}, 52, "campaigns add 68,675 customers a year, 152.6%"),
])
def test_each_way_out_is_one_line(change: dict[str, float], weeks: int, says: str) -> None:
    kpis = {**INSIDE, **change}
    if weeks == 26:
        kpis["uplift_new_customers"] = 3_000.0
    lines = plausibility_warnings(kpis, weeks=weeks, adults=350_000)
    assert any(says in line for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_a_gain_of_a_fifth_of_the_city_is_flagged_twice() -> None:
    lines = plausibility_warnings({**INSIDE, "uplift_new_customers": 70_000.0}, weeks=52,
                                  adults=350_000)
    assert len(lines) == 2 and "20.0% of all adults" in lines[1]


def test_a_channel_far_below_every_published_cost() -> None:
    channels = pd.DataFrame({"channel": ["referral_bonus"], "spend": [10_000.0],
                             "won": [1_000.0]})
    [line] = plausibility_warnings(INSIDE, weeks=52, adults=350_000, channels=channels)
    assert line.startswith("referral_bonus: 10 per new customer (1,000 for 10,000)")
    assert f"{ENVELOPE.cac_floor:,.0f}" in line


def test_the_defaults_keep_the_sample_city_inside() -> None:
    """Without campaigns, the sample city's year (default parameters) is in the envelope:
    attrition and organic acquisition where published figures put a bank."""
    from geo import load_area
    from simulation import community_inputs

    inputs = community_inputs(load_area("builtin:sample-city"))
    result = run_replications(inputs, SimulationParams(max_agents=20_000), replications=2,
                              seed=1)
    kpis = {str(k): float(v) for k, v in result.summary["mean"].items()}
    assert plausibility_warnings(kpis, weeks=52, adults=350_000) == []
    low, high = ENVELOPE.attrition
    assert low < kpis["yearly_attrition"] < high
