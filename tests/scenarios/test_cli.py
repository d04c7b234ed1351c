"""The sitesim command line: help, exit codes, one line per problem, no tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import grid_layers


def sitesim(*args: str, cwd: Path | None = None, columns: int | None = None
            ) -> subprocess.CompletedProcess[str]:
    """Run the command line; ``columns``: the terminal width it is told (COLUMNS)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, check=False, env=env)


def test_help_lists_the_commands() -> None:
    result = sitesim("--help")
    assert result.returncode == 0
    for command in ("demo", "validate", "area"):
        assert command in result.stdout
    area = sitesim("area", "--help")
    for command in ("synth", "check", "import"):
        assert command in area.stdout


def test_synth_then_check_ok(tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    made = sitesim("area", "synth", "--communities", "8", "--adults", "4000", "--seed", "3",
                   "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "wrote" in made.stdout and "peak memory" in made.stdout
    checked = sitesim("area", "check", str(out))
    assert checked.returncode == 0, checked.stderr
    assert "ok: no errors" in checked.stdout
    assert "4,000" in checked.stdout  # the summary's adults


def test_check_lists_each_problem_and_exits_2(make_pack) -> None:
    comm = grid_layers()["communities"]
    comm.loc[0, "pop_36_55"] = -3
    out = grid_layers()["outlets"]
    out.loc[1, "kind"] = "kiosk"
    result = sitesim("area", "check", str(make_pack(communities=comm, outlets=out,
                                                     venues=None)))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3
    assert any("layer 'communities': column 'pop_36_55'" in e and "(ids A)" in e for e in errors)
    assert any("layer 'outlets': column 'kind'" in e and "(ids O2)" in e for e in errors)
    assert any("layer 'venues' is missing" in e for e in errors)
    assert "Traceback" not in result.stderr


def test_check_repair_writes_a_checked_copy(make_pack, tmp_path: Path) -> None:
    """A polygon make_valid cannot repair safely: the error suggests ``--repair``; with it the
    copy is written, each repair's area change is printed, and the copy passes."""
    import shapely

    comm = grid_layers()["communities"]
    x0, y0, x1, y1 = comm.geometry.iloc[0].bounds
    comm.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    pack = make_pack(communities=comm)
    failed = sitesim("area", "check", str(pack))
    assert failed.returncode == 2 and "--repair" in failed.stderr
    fixed = tmp_path / "fixed"
    result = sitesim("area", "check", str(pack), "--repair", str(fixed))
    assert result.returncode == 0, result.stderr
    assert "repaired A 0.25 -> 0.5 km2 (+100%)" in result.stdout
    assert "ok: no errors" in result.stdout and (fixed / "communities.parquet").exists()
    again = sitesim("area", "check", str(pack), "--repair", str(fixed))
    assert again.returncode == 2 and again.stderr.startswith("error:"), again.stderr


def test_validate_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('name = "good"\n')
    assert sitesim("validate", str(good)).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[budget]\ntotal = -1\nspend = 3\n')
    result = sitesim("validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(str(bad) in line for line in lines)
    assert "Traceback" not in result.stderr
    missing = sitesim("validate", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_bad_scenario_files_one_line_per_problem_with_its_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("""name = "bad"
area = "packs/nowhere"
budget_total = 5
[simulation]
weeks = "many"
[budget]
total = -2_000_000
[sweep]
"events.budgt" = [1, 2]
""")
    result = sitesim("validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    for key in ("budget_total: unknown key", "simulation.weeks: Input should be a valid integer",
                "budget.total: Input should be greater than or equal to 0 (got -2000000)",
                "area: no study area at", "sweep.events.budgt: sweeps over a key that does not "
                "exist"):
        assert sum(f"{bad}: {key}" in line for line in lines) == 1, (key, lines)
    assert len(lines) == 5 and "Traceback" not in result.stderr
    (tmp_path / "a.toml").write_text('name = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('name = "b"\nextends = "a.toml"\n')
    for command in ("validate", "run", "batch"):
        cycle = sitesim(command, str(tmp_path / "a.toml"), cwd=tmp_path)
        assert cycle.returncode == 2, (command, cycle.stderr)
        [line] = cycle.stderr.strip().splitlines()
        assert "extends: a cycle of extends: a.toml -> b.toml -> a.toml" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("columns", [20, 80, 400])
def test_validate_counts_the_sweep(tmp_path: Path, columns: int) -> None:
    # a long path on a narrow terminal: the line must not be broken where a script reads it
    folder = tmp_path / ("a-rather-long-folder-name-" * 4)
    folder.mkdir()
    path = folder / "s.toml"
    path.write_text('name = "s"\n[sweep]\nseed = [1, 2]\n[sweep.latin_hypercube]\n'
                    'samples = 5\n"budget.total" = [1e6, 3e6]\n')
    result = sitesim("validate", str(path), columns=columns)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"ok: {path} (s); its sweep makes 10 scenarios; about ")


def test_serve_without_a_runs_folder_exits_2(tmp_path: Path) -> None:
    result = sitesim("serve", "--runs", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "no such folder" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.realdata
def test_area_import_helsinki(helsinki: Path, tmp_path: Path) -> None:
    mapping = Path(__file__).resolve().parents[2] / "data" / "mappings" / "helsinki.toml"
    result = sitesim("area", "import", "--mapping", str(mapping), "--source", str(helsinki),
                     "--out", str(tmp_path / "hel"))
    assert result.returncode == 0, result.stderr
    assert "of 84 communities are off the street network (a demand point more than 500 m" in (
        result.stdout)


def test_score_prints_explanations_and_writes_geoparquet(small_synth: Path,
                                                         tmp_path: Path) -> None:
    import geopandas as gpd

    weights = tmp_path / "w.toml"
    weights.write_text('[scoring]\nweights = { senior_share = 0.5, access_gap = 0.5 }\n'
                       'normalization = "rank"\n')
    out = tmp_path / "scores.parquet"
    result = sitesim("score", str(small_synth), "--weights", str(weights), "--out", str(out),
                     "--top", "3")
    assert result.returncode == 0, result.stderr
    assert "Top 3 of 20 communities" in result.stdout
    assert "senior_share +0.5, access_gap +0.5 (rank)" in result.stdout
    assert "own outlets within 15 min (walk)" in result.stdout
    scores = gpd.read_parquet(out)
    assert len(scores) == 20 and scores.index.name == "community_id"
    assert scores["score"].between(0, 1).all() and {"tier", "rank_shift_max"} <= set(scores)
    bad = tmp_path / "bad.toml"
    bad.write_text('[scoring]\nweights = { wealth = 1 }\n')
    failed = sitesim("score", str(small_synth), "--weights", str(bad))
    assert failed.returncode == 2 and "unknown indicator(s) ['wealth']" in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.realdata
def test_score_helsinki_with_off_network_communities(helsinki: Path, tmp_path: Path) -> None:
    mapping = Path(__file__).resolve().parents[2] / "data" / "mappings" / "helsinki.toml"
    pack = tmp_path / "hel"
    imported = sitesim("area", "import", "--mapping", str(mapping), "--source", str(helsinki),
                       "--out", str(pack))
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "scores.parquet"
    result = sitesim("score", str(pack), "--out", str(out))
    assert result.returncode == 0, result.stderr
    # the same count everywhere (it was 78 at import and 80 at score)
    said = [re.search(r"(\d+) of 84 communities are off the street network", r.stdout)
            for r in (imported, result)]
    assert all(said), (imported.stdout, result.stdout)
    assert said[0].group(1) == said[1].group(1)  # type: ignore[union-attr]
    import geopandas as gpd

    scores = gpd.read_parquet(out)
    assert len(scores) == 84 and scores["score"].between(0, 1).all()
    # people first: the garrison island of Santahamina (232 adults, conscripts: young, no
    # competitor) topped the ranking; a tenth of the median community's adults is needed
    assert scores.index[0] != "00860" and bool(scores.loc["00860", "too_few_adults"])
    assert scores["adults"].iloc[0] >= 0.1 * scores["adults"].median()
    assert "are not scored: " in result.stdout
    # every community has a finite access time: off-network ones by the straight line
    assert scores["access_gap"].notna().all() and (scores["access_gap"] < 1e6).all()


def test_without_a_network_every_travel_time_says_it_is_a_straight_line(grid_pack: Path
                                                                       ) -> None:
    result = sitesim("score", str(grid_pack))
    assert result.returncode == 0, result.stderr
    assert ("note: the pack has no street network: every travel time is straight-line "
            "distance x 1.3") in result.stdout


def test_every_error_line_starts_with_error(tmp_path: Path) -> None:
    """Whatever the mistake (an unknown option, a missing argument, a missing file, a bad
    key), each line that reports it starts with ``error:``, and the exit code is 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[budget]\ntotal = -1\n')
    cases = [("run", "--bogus"), ("validate",), ("validate", str(tmp_path / "none.toml")),
             ("validate", str(bad)), ("area", "check", str(tmp_path / "nowhere")),
             ("compare", "not-a-run", "--runs", str(tmp_path))]
    for args in cases:
        result = sitesim(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines()  # but usage and the count
                 if line.strip() and not line.startswith(("Usage:", "Try "))
                 and not re.fullmatch(r"\d+ error\(s\), \d+ warning\(s\)", line)]
        assert lines and all(line.startswith(("error:", "warning:")) for line in lines), (
            args, result.stderr)
        assert any(line.startswith("error:") for line in lines)
