"""[scale]: a scenario written for one number of adults runs on another area with its
staff, budgets, spend and event counts scaled by the adults."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import synthesize_area
from scenarios.scale import scale_note, scaled_to_area
from scenarios.schema import Scenario
from tests.scenarios.test_cli import sitesim

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def _scenario(**over: object) -> Scenario:
    return Scenario.model_validate({
        "name": "s", "scale": {"adults": 100_000},
        "staff": {"relationship_managers": 10},
        "budget": {"total": 50_000},
        "outlets": {"capex_budget": 1_000_000, "opex_budget": 200_000},
        "events": {"count": {"financial_literacy": 3, "anti_fraud": 1, "parent_child": 0},
                   "budget": 4_000, "staff_per_week": 2.0},
        "campaigns": [{"channel": "sms", "spend": 1_000, "weeks": [1, 4]}], **over})


def test_scaled_by_hand() -> None:
    sc = _scenario()
    big = scaled_to_area(sc, 250_000)  # x2.5
    assert big.staff.relationship_managers == 25
    assert big.budget.total == pytest.approx(125_000)
    assert big.outlets.capex_budget == pytest.approx(2_500_000)
    assert big.outlets.opex_budget == pytest.approx(500_000)
    # 3 x 2.5 = 7.5 rounds to 8 (Python rounds halves to even), 1 x 2.5 = 2.5 to 2
    assert dict(big.events.count) == {"financial_literacy": 8, "anti_fraud": 2,
                                      "parent_child": 0}
    assert big.events.budget == pytest.approx(10_000)
    assert big.events.staff_per_week == pytest.approx(5.0)
    assert big.campaigns[0].spend == pytest.approx(2_500)
    assert (big.scale.adults, big.scale.written_for) == (250_000, 100_000)
    # what does not scale: counts of outlets (the area's candidate sites decide them)
    assert big.outlets.max_new == sc.outlets.max_new
    # a count never scales to nothing where there was one
    small = scaled_to_area(sc, 1_000)
    assert small.staff.relationship_managers == 1 and small.events.count["anti_fraud"] == 1
    # scaling again changes nothing; the adults it was written for: unchanged
    assert scaled_to_area(big, 250_000) == big
    assert scaled_to_area(sc, 100_000) == sc and scale_note(sc) is None
    no_scale = _scenario(scale={})
    assert scaled_to_area(no_scale, 250_000) == no_scale
    note = scale_note(big)
    assert note is not None and "x2.5" in note and "25 relationship managers" in note
    assert "1.00 per 10,000 adults" in note  # 25 of 250,000


def test_the_library_runs_on_a_city_three_times_the_size(tmp_path: Path) -> None:
    """The baseline's 40 relationship managers cannot staff a city of 1.2 million adults'
    outlets (100 at least): with its [scale] they are 137 there, and the check passes; a
    copy without [scale] still fails at once with the number it takes."""
    city = synthesize_area(tmp_path / "city", communities=500, adults=1_200_000, seed=7)
    scaled = tmp_path / "scaled.toml"
    scaled.write_text(f'extends = "{LIBRARY / "baseline.toml"}"\nname = "big"\n'
                      f'area = "{city}"\n')
    done = sitesim("validate", str(scaled), columns=200)
    assert done.returncode == 0, done.stderr
    assert ("scaled from the 350,000 adults it was written for to the area's 1,200,000 "
            "(x3.43): 137 relationship managers") in done.stdout
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(scaled.read_text() + "[scale]\nadults = 1_200_000\n")
    refused = sitesim("validate", str(fixed), columns=200)
    assert refused.returncode == 3, refused.stderr
    assert "takes 100 relationship managers" in refused.stderr
