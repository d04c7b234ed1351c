"""Plans name things: each site, venue and outlet by its pack's name with the id beside
it, the community it lies in, and why a site was chosen (on the 2 x 2 grid, by hand)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import shapely

from conftest import X0, Y0, grid_layers
from geo import load_area
from scenarios.names import VENUES, label, place_names


def test_label() -> None:
    assert label("Kauppatori", "S004") == "Kauppatori (S004)"
    assert label("", "S004") == label(None, "S004") == label(float("nan"), "S004") == "S004"
    assert label("S004", "S004") == "S004"


def test_each_place_lies_in_its_community(make_pack) -> None:
    """O1 stands in A (Alpha), S1 in B (Bravo), S2 in C (Charlie); a venue 300 m east of
    the grid is given the nearest community, B."""
    venues = grid_layers()["venues"]
    venues.loc[0, "geometry"] = shapely.Point(X0 + 2300, Y0 + 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(make_pack(venues=venues))
    places, venues = place_names(area), place_names(area, VENUES)
    assert places.loc["O1", "community"] == "Alpha" and places.loc["S1", "community"] == "Bravo"
    assert places.loc["S2", "community_id"] == "C" and venues.loc["V1", "community"] == "Bravo"
    assert "V1" not in places.index  # venues have ids of their own (a venue "S1" is no site)


def test_site_names_each_site_and_says_why(make_pack, tmp_path: Path) -> None:
    """One smart ATM opens at S1, in B: its row names the site and its community, and says
    the adults it newly brings within reach with their share of the grid's 1,850 adults,
    the same figures as the plan file."""
    cand = grid_layers()["candidates"].assign(name=["Market hall", "Old school"])
    pack = make_pack(candidates=cand)
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'name = "s"\narea = "{pack}"\n[outlets]\nmax_new = {{ smart_atm = 1 }}'
                        '\ncoverage_minutes = 5\n[events]\nenabled = false\n')
    out = tmp_path / "plans"
    result = subprocess.run([sys.executable, "-m", "scenarios", "site", str(scenario), "--out",
                             str(out)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    plan = pd.read_parquet(out / "plan_outlets.parquet").set_index("site_id")
    assert {"name", "community", "adults_newly_covered", "adults_only_here"} <= set(plan)
    opened = plan[plan["action"] == "open"]
    assert list(opened.index) == ["S1"] and opened.loc["S1", "community"] == "Bravo"
    row = next(line for line in result.stdout.splitlines() if "Market hall (S1)" in line)
    new = opened.loc["S1", "adults_newly_covered"]
    assert new > 0 and f"{new:,.0f} ({new / 1850:.1%})" in row and "Bravo" in row


def test_a_venue_may_share_an_id_with_an_outlet(make_pack) -> None:
    """Packs often number each layer 1..n: a venue "O1" is not the outlet O1."""
    venues = grid_layers()["venues"].assign(venue_id=["O1"], name=["Town library"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(make_pack(venues=venues))
    from scenarios.names import VENUES

    assert place_names(area, VENUES).loc["O1", "name"] == "Town library"
    assert place_names(area).loc["O1", "community"] == "Alpha"
