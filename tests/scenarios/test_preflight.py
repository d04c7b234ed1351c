"""sitesim validate finds what sitesim run would, before any heavy work, each problem once;
run checks the same first (issue: an infeasible scenario fails in seconds, not after the
travel stage). Counts worked out by hand on the 2 x 2 grid: one own branch (8 relationship
managers at least, area.toml's default), one venue, events in weeks 1-12."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geo import read_area_index
from optimizer import PlanInfeasibleError
from scenarios import run_scenario
from scenarios.preflight import preflight
from scenarios.schema import ScenarioError, load_scenario


def _scenario(folder: Path, pack: Path, body: str, name: str = "s") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\narea = "{pack}"\n{body}', encoding="utf-8")
    return path


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios", "validate", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


BAD = ('[staff]\nrelationship_managers = 5\n[events]\ncount = { financial_literacy = 13 }\n'
       'communities = ["A", "Z9"]\n[[campaigns]]\nchannel = "sms"\nspend = 100\n'
       'communities = ["Q1"]\n')


def test_validate_reports_ids_staffing_and_counts_at_once(grid_pack: Path,
                                                          tmp_path: Path) -> None:
    result = _validate(_scenario(tmp_path, grid_pack, BAD))
    assert result.returncode == 2, result.stderr  # bad input wins over infeasible
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines), lines
    assert any("campaigns[0].communities" in line and "(ids Q1)" in line for line in lines)
    assert any("events.communities" in line and "(ids Z9)" in line for line in lines)
    assert any("minimum staffing takes 8 relationship managers (1 branch x 8)" in line
               and "relationship_managers = 5" in line for line in lines)
    assert any("13 events but the venues offer only 12 venue-weeks" in line for line in lines)


def test_infeasible_counts_alone_exit_3(grid_pack: Path, tmp_path: Path) -> None:
    path = _scenario(tmp_path, grid_pack, '[events]\ncount = { financial_literacy = 13 }\n')
    result = _validate(path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error: infeasible: events.count asks for 13 events")
    ok = _scenario(tmp_path, grid_pack, '[events]\ncount = { financial_literacy = 12 }\n',
                   name="ok")
    assert _validate(ok).returncode == 0  # 12 events fit the 12 venue-weeks


def test_run_checks_the_same_first_before_any_travel_time(grid_pack: Path,
                                                          tmp_path: Path) -> None:
    sc = load_scenario(_scenario(tmp_path, grid_pack, '[staff]\nrelationship_managers = 5\n'))
    said: list[str] = []
    with pytest.raises(PlanInfeasibleError, match="minimum staffing takes 8"):
        run_scenario(sc, runs_dir=tmp_path / "runs", progress=said.append)
    assert not any("walking times" in m for m in said), said
    assert not list((tmp_path / "runs").glob("*/manifest.json"))
    found = preflight(sc, read_area_index(grid_pack))
    assert found.infeasible and not found.problems


def test_each_problem_once_and_the_nearest_key(tmp_path: Path) -> None:
    path = tmp_path / "typos.toml"
    path.write_text('name = "t"\n[budget]\ntotl = 5\n[simulaton]\nweeks = 3\n'
                    '[[campaigns]]\nchannel = "sms"\nspend = 1\nweeks = [1, 60]\n'
                    'target = ["A"]\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = info.value.lines()
    assert sum("campaigns[0].weeks" in line for line in lines) == 1, lines
    assert any("budget.totl" in line and "did you mean 'total'?" in line for line in lines)
    assert any("simulaton" in line and "did you mean 'simulation'?" in line for line in lines)
    assert any("campaigns[0].target" in line and "did you mean 'communities'?" in line
               for line in lines)


def test_a_broken_pack_is_bad_input_not_an_internal_error(make_pack, tmp_path: Path) -> None:
    """The light index never trusts the pack: a count that is not a number is left to the
    pack check; a missing owner column is bad input naming the layer (exit 2)."""
    from conftest import grid_layers

    comm = grid_layers()["communities"].astype({"pop_18_35": object})
    comm.loc[0, "pop_18_35"] = "n/a"
    assert read_area_index(make_pack("text", communities=comm)).adults == 1750  # 1850 - 100
    outlets = grid_layers()["outlets"].drop(columns="owner")
    result = _validate(_scenario(tmp_path, make_pack("noowner", outlets=outlets), ""))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "lacks column(s) owner" in result.stderr


def test_self_service_outlets_need_no_staff(make_pack, tmp_path: Path) -> None:
    """Whatever area.toml says of smart ATMs' staff, allocate_staff staffs none of them,
    so the preflight counts none: an own branch (8) and an own ATM (staff = 5 in
    area.toml) fit 8 relationship managers."""
    from conftest import grid_layers, write_pack

    layers = grid_layers()
    layers["outlets"].loc[1, "owner"] = "own"  # O2, a smart ATM
    pack = write_pack(tmp_path / "atm", layers, area_toml=(
        'name = "atm"\n[kinds.smart_atm]\nstaff = 5\n'))
    sc = load_scenario(_scenario(tmp_path, pack, '[staff]\nrelationship_managers = 8\n'
                                 '[events]\nenabled = false\n'))
    assert not preflight(sc, read_area_index(pack))


def test_a_sweep_says_each_problem_once(grid_pack: Path, tmp_path: Path) -> None:
    body = ('[[campaigns]]\nchannel = "sms"\nspend = 10\ncommunities = ["Q1"]\n'
            '[events]\nenabled = false\n[sweep]\n"staff.relationship_managers" = [5, 9, 40]\n')
    result = _validate(_scenario(tmp_path, grid_pack, body))
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 2, lines
    assert "campaigns[0].communities" in lines[0] and "of the sweep" not in lines[0]
    assert "(in 1 of the sweep's 3 scenarios: s--relationship_managers_5)" in lines[1]


@pytest.mark.parametrize("form", ["geojson", "parquet", "gpkg", "shp"])
def test_the_light_index_reads_what_the_loaded_area_holds(form: str, tmp_path: Path) -> None:
    """Read without GDAL (GeoJSON by json, a GeoPackage by sqlite3, GeoParquet by pyarrow)
    or with it (a shapefile), the index equals the one built from the loaded area."""
    import warnings as warnings_module

    from conftest import grid_layers, write_pack
    from geo import index_of_area, load_area

    layers = grid_layers()
    layers["venues"] = layers["venues"].assign(cost_per_event=[350.0])
    if form == "gpkg":
        pack = tmp_path / "area.gpkg"
        for name, gdf in layers.items():
            gdf.to_file(pack, layer=name, engine="pyogrio")
        (tmp_path / "area.toml").write_text('name = "grid"\n')
    else:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")  # a shapefile cuts names to 10 letters
            pack = write_pack(tmp_path / "p", layers, suffix=f".{form}")
    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")
        loaded = index_of_area(load_area(pack))
    light = read_area_index(pack)
    for field in ("communities", "adults", "own_outlet_kinds", "venues", "venue_costs"):
        assert getattr(light, field) == getattr(loaded, field), field
    assert light.venue_costs == (350.0,) and light.adults == 1850
