"""The shapes real open data arrives in, as small packs under tests/data/packs (written by
make_packs.py there): a US city's community areas in longitude/latitude with sources as
plain names and no licence, no street network, no customers column and an empty community
(plain-city); an OSM extract read unprojected as the network (osm-city). Each command a
new user runs first works, and says what it assumed."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from geo import load_area, travel_times

PACKS = Path(__file__).resolve().parents[1] / "data" / "packs"
PLAIN, OSM = PACKS / "plain-city", PACKS / "osm-city"
ADULTS = 28_300  # the sum of plain-city's three age bands


def sitesim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True,
                          text=True, timeout=600, check=False, cwd=cwd)


def test_plain_city_checks_with_its_assumptions_said() -> None:
    result = sitesim("area", "check", str(PLAIN))
    assert result.returncode == 0, result.stderr
    warned = result.stderr
    assert "3 source(s) without a licence (City of Chicago Data Portal" in warned
    assert "no 'customers' column: 13% of each community's adults" in warned
    assert "straight-line distance times the detour factor" in warned


def test_plain_city_scores_people_first_in_straight_lines() -> None:
    result = sitesim("score", str(PLAIN))
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "(CA0" in line]
    assert len(rows) == 6 and "Airport (CA06)" in rows[-1]  # nobody lives there: last
    assert "are not scored: CA06" in result.stdout
    assert "straight-line distance x 1.3" in result.stdout


def test_plain_city_runs_with_every_kpi_defined(tmp_path: Path) -> None:
    scenario = tmp_path / "plain.toml"
    scenario.write_text(f'name = "plain"\narea = "{PLAIN}"\n[outlets]\n'
                        'max_new = { smart_atm = 1 }\n[events]\n'
                        'count = { financial_literacy = 2 }\n[budget]\nenabled = false\n'
                        '[staff]\nrelationship_managers = 12\n[simulation]\nweeks = 8\n'
                        'replications = 2\n')
    result = sitesim("run", str(scenario), "--runs", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    manifest = json.loads((folder / "manifest.json").read_text())
    kpis = manifest["summary"]["kpis"]
    assert all(np.isfinite(v["mean"]) for v in kpis.values()), kpis
    # the starting customers: 13% of the adults, the stated assumption
    assert kpis["customers_start"]["mean"] == pytest.approx(0.13 * ADULTS, rel=0.02)
    said = " ".join(manifest["warnings"])
    assert "no 'customers' column" in said and "straight-line" in said
    assert "n/a" not in result.stdout


def test_an_osm_extract_network_is_read_in_degrees_and_measured_in_metres() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(OSM)
    assert CRS(area.crs).is_projected
    G = area.network("walk")
    assert CRS(G.graph["crs"]) == area.crs  # projected from the extract's degrees
    times = travel_times(area, area.outlets, mode="walk")
    assert not np.asarray(times.fallback).any()  # every point lies within 500 m of a street
    assert np.isfinite(times.minutes).all() and (times.minutes < 10).all()
