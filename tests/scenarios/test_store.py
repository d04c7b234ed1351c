"""The results store and run comparison, on hand-made run folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geo.errors import InputError
from scenarios.store import compare_runs, connect, list_runs, resolve_run


def make_run(root: Path, run_id: str, new: list[float], *, seed: int = 1,
             status: str = "complete") -> Path:
    folder = root / run_id
    folder.mkdir(parents=True)
    n = len(new)
    pd.DataFrame({"run_id": run_id, "replication": range(n), "new_customers": new,
                  "spend": [100.0] * n}).to_parquet(folder / "kpis.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps({
        "status": status, "name": run_id.rsplit("-", 1)[0], "seed": seed, "seconds": 1.0,
        "scenario": {"simulation": {"replications": n}}}))
    return folder


def test_list_and_view_only_complete_runs(tmp_path: Path) -> None:
    make_run(tmp_path, "base-0000aaaa", [10, 12, 14])
    make_run(tmp_path, "alt-0000bbbb", [20, 22, 24])
    make_run(tmp_path, ".alt-0000cccc.tmp-123", [1, 1, 1])  # being written
    make_run(tmp_path, "odd-0000dddd", [1, 1, 1], status="running")
    runs = list_runs(tmp_path)
    assert sorted(runs["run_id"]) == ["alt-0000bbbb", "base-0000aaaa"]
    con = connect(tmp_path)
    rows = con.execute("SELECT run_id, avg(new_customers) FROM kpis GROUP BY run_id "
                       "ORDER BY run_id").fetchall()
    assert rows == [("alt-0000bbbb", 22.0), ("base-0000aaaa", 12.0)]
    assert connect(tmp_path / "empty").execute("SELECT count(*) FROM kpis").fetchone() == (0,)


def test_paired_comparison_against_hand_computation(tmp_path: Path) -> None:
    make_run(tmp_path, "base-0000aaaa", [10, 12, 14])
    make_run(tmp_path, "alt-0000bbbb", [11, 14, 14])
    frame = compare_runs(["base-0000aaaa", "alt-0000bbbb"], runs_dir=tmp_path,
                         kpis=("new_customers", "spend")).set_index(["run_id", "kpi"])
    row = frame.loc[("alt-0000bbbb", "new_customers")]
    d = np.array([1.0, 2.0, 0.0])  # paired differences (same seed, same replications)
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert row["paired"] and row["delta"] == pytest.approx(1.0)
    assert row["delta_low"] == pytest.approx(1 - half) and row["delta_high"] == pytest.approx(
        1 + half)
    assert not row["significant"]  # 1 +- 2.48 includes 0
    base = frame.loc[("base-0000aaaa", "new_customers")]
    assert base["mean"] == 12 and base["low"] == pytest.approx(
        12 - stats.t.ppf(0.975, 2) * 2 / np.sqrt(3))
    assert frame.loc[("alt-0000bbbb", "spend"), "delta"] == 0


def test_a_difference_in_the_last_digits_is_no_difference(tmp_path: Path) -> None:
    """1,822,576.4846594878 against ...885 (the same spend summed in another order) is
    the same spend, not a significant +7e-10."""
    for run_id, spend in (("base-0000aaaa", 1_822_576.4846594878),
                          ("alt-0000bbbb", 1_822_576.4846594885)):
        folder = make_run(tmp_path, run_id, [10, 12, 14])
        pd.DataFrame({"run_id": run_id, "replication": range(3), "new_customers": [10, 12, 14],
                      "spend": [spend] * 3}).to_parquet(folder / "kpis.parquet", index=False)
    row = compare_runs(["base-0000aaaa", "alt-0000bbbb"], runs_dir=tmp_path,
                       kpis=("spend",)).set_index("run_id").loc["alt-0000bbbb"]
    assert row["delta"] == 0 and row["delta_low"] == 0 and not row["significant"]


def test_welch_when_seeds_differ_and_significance(tmp_path: Path) -> None:
    make_run(tmp_path, "base-0000aaaa", [10, 11, 12, 10, 11])
    make_run(tmp_path, "alt-0000bbbb", [30, 31, 29, 30, 32], seed=9)
    frame = compare_runs(["alt-0000bbbb"], runs_dir=tmp_path, baseline="base-0000aaaa",
                         kpis=("new_customers",)).set_index("run_id")
    row = frame.loc["alt-0000bbbb"]
    assert not row["paired"] and row["significant"]
    res = stats.ttest_ind([30, 31, 29, 30, 32], [10, 11, 12, 10, 11], equal_var=False)
    ci = res.confidence_interval(0.95)
    assert row["delta_low"] == pytest.approx(ci.low) and row["delta_high"] == pytest.approx(
        ci.high)
    assert list(frame.index) == ["base-0000aaaa", "alt-0000bbbb"]


def test_a_scenario_name_stands_for_its_latest_run_and_pairing_says_why(tmp_path: Path
                                                                      ) -> None:
    """``compare baseline alt``: names resolve to their newest complete run; runs on other
    areas or seeds are not paired, and the row says why; the baseline has no delta."""
    import os

    make_run(tmp_path, "base-0000aaaa", [10, 12, 14])
    newer = make_run(tmp_path, "base-0000abcd", [20, 22, 24])
    os.utime(newer, (2e9, 2e9))  # the newest
    other = make_run(tmp_path, "alt-0000bbbb", [30, 31, 33])
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["inputs"] = {"area_hash": "elsewhere"}
    (other / "manifest.json").write_text(json.dumps(manifest))
    make_run(tmp_path, "seed-0000cccc", [21, 23, 25], seed=5)
    assert resolve_run("base", tmp_path) == newer
    frame = compare_runs(["base", "alt", "seed-0000cccc"], runs_dir=tmp_path,
                         kpis=("new_customers",)).set_index("run_id")
    assert frame.loc["base-0000abcd", "pairing"] == "the baseline"
    assert np.isnan(frame.loc["base-0000abcd", ["delta", "delta_low", "delta_high"]]
                    .to_numpy(float)).all()
    assert frame.loc["alt-0000bbbb", "pairing"] == "not paired: areas differ"
    assert frame.loc["seed-0000cccc", "pairing"] == "not paired: seeds differ (5 vs 1)"
    assert not frame["paired"].any()
    with pytest.raises(InputError, match=r"no run id or scenario of that name; scenarios "
                                         r"with runs in .*: alt, base, seed"):
        resolve_run("nothing", tmp_path)


def test_run_ids_are_validated(tmp_path: Path) -> None:
    make_run(tmp_path, "base-0000aaaa", [1, 2])
    for bad in ("../../etc/passwd", "base-0000aaaa/../../x", "nope-0000ffff"):
        with pytest.raises(InputError):
            resolve_run(bad, tmp_path)
    with pytest.raises(InputError, match="unknown KPI"):
        compare_runs(["base-0000aaaa"], runs_dir=tmp_path, kpis=("happiness",))


def test_compare_cli_formats(tmp_path: Path) -> None:
    make_run(tmp_path, "base-0000aaaa", [10, 12, 14])
    make_run(tmp_path, "alt-0000bbbb", [30, 31, 33])

    def sitesim(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "scenarios", "compare", *args,
                               "--runs", str(tmp_path), "--kpi", "new_customers"],
                              capture_output=True, text=True, timeout=120, check=False)

    table = sitesim("base-0000aaaa", "alt-0000bbbb")
    assert table.returncode == 0, table.stderr
    assert "+19" in table.stdout and "*" in table.stdout
    md = sitesim("base-0000aaaa", "alt-0000bbbb", "--format", "markdown")
    assert md.stdout.startswith("| KPI | base-0000aaaa | alt-0000bbbb |")
    js = json.loads(sitesim("base-0000aaaa", "alt-0000bbbb", "--format", "json").stdout)
    assert {r["run_id"] for r in js} == {"base-0000aaaa", "alt-0000bbbb"}
    csv = sitesim("base-0000aaaa", "alt-0000bbbb", "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("run_id,kpi,mean")
    bad = sitesim("../../etc/passwd")
    assert bad.returncode == 2 and "not a run id" in bad.stderr


def test_compare_says_where_a_run_leaves_the_envelope(tmp_path: Path) -> None:
    """The manifest's warnings, one line each on stderr, whatever the format (stdout stays
    clean json)."""
    base = make_run(tmp_path, "base-0000aaaa", [10, 12, 14])
    alt = make_run(tmp_path, "alt-0000bbbb", [30, 31, 33])
    said = ["response curves: sms: poor fits: 56+/high R² 0.70",
            "campaigns win 19.6% of all adults in a year"]
    for folder, lines in ((base, said[:1]), (alt, said)):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["warnings"] = lines
        (folder / "manifest.json").write_text(json.dumps(manifest))
    out = subprocess.run([sys.executable, "-m", "scenarios", "compare", "base-0000aaaa",
                          "alt-0000bbbb", "--runs", str(tmp_path), "--format", "json",
                          "--kpi", "new_customers"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0
    assert len(json.loads(out.stdout)) == 2
    # a note two runs share (the same response curves) is said once, with both
    assert out.stderr.strip().splitlines() == [
        f"warning: base-0000aaaa, alt-0000bbbb: {said[0]}", f"warning: alt-0000bbbb: {said[1]}"]


def test_p10_p50_p90_are_order_statistics_of_the_replications(tmp_path: Path) -> None:
    from scenarios.store import percentiles

    # eight replications, shuffled: P10 is the lowest, P50 the fourth, P90 the highest
    sample = [15.0, 11.0, 14.0, 12.0, 13.0, 18.0, 17.0, 16.0]
    assert percentiles(np.array(sample)) == (11.0, 14.0, 18.0)
    rng = np.random.default_rng(5)
    for n in (2, 5, 20, 101):
        x = rng.normal(size=n)
        got = percentiles(x)
        assert got == tuple(np.quantile(x, [0.1, 0.5, 0.9], method="inverted_cdf"))
        assert set(got) <= set(x.tolist())  # values a replication showed
    assert percentiles(np.array([np.nan, 2.0, np.nan])) == (2.0, 2.0, 2.0)
    make_run(tmp_path, "base-0000aaaa", sample)
    row = compare_runs(["base-0000aaaa"], runs_dir=tmp_path, kpis=("new_customers",)).iloc[0]
    assert (row["p10"], row["p50"], row["p90"]) == (11.0, 14.0, 18.0)


def test_a_payback_that_never_comes_in_some_replications_shows_the_median(
        tmp_path: Path) -> None:
    # payback in years, infinite where the outlets never pay back: the mean of the others
    # would hide them; the median (an order statistic, infinity counted) does not
    inf = float("inf")
    make_run(tmp_path, "most-0000aaaa", [2.0, inf, inf])
    make_run(tmp_path, "some-0000bbbb", [2.0, 3.0, inf])
    frame = compare_runs(["most-0000aaaa", "some-0000bbbb"], runs_dir=tmp_path,
                         kpis=("new_customers",)).set_index("run_id")
    assert frame.loc["most-0000aaaa", "mean"] == inf
    assert frame.loc["some-0000bbbb", "mean"] == 3.0
    assert frame.loc["some-0000bbbb", "p90"] == inf
    assert np.isnan(frame.loc["some-0000bbbb", "low"])
