"""Each run against its targets (scenarios/targets.py), in `sitesim compare`: per target
kind a run that meets it and one that misses it, figures worked out by hand."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.targets import target_checks

NAN = float("nan")
#: 1,000 of budget: maintenance 200, growth 400, brand 300, 100 unspent (the reserve);
#: online (sms, referral, social, KOL) 500 of the 900 spent, 55.6%
ON_POLICY = {"sms": 100, "outlet_promo": 100, "community_event": 200,
             "merchant_alliance": 100, "referral_bonus": 100, "social_media": 150,
             "kol_live": 150}
#: all 900 on social media: maintenance 0%, growth 0%, brand 90%, reserve 10%, online 100%
OFF_POLICY = {"social_media": 900}
#: Per target kind, the cell of the run that meets it and of the one that misses it (the
#: two runs of :func:`judged_runs`), worked out by hand; the CLI, the report and the
#: dashboard show the same cells.
TARGET_CASES = [
    ("min_roi (roi_clv)", "3.33 met (goal ≥ 3; P 67%)", "2.07 MISSED (goal ≥ 3; P 33%)"),
    # a replication without a cost per acquisition (no uplift) does not meet it
    ("max_cac (cost_per_acquisition)", "48.3 met (goal ≤ 50; P 67%)",
     "57.5 MISSED (goal ≤ 50; P 0%)"),
    ("min_retention (retention)", "0.8 met (goal ≥ 0.75; P 100%)",
     "0.733 MISSED (goal ≥ 0.75; P 33%)"),
    ("policy.maintenance (share of the budget)", "20% met", "0% MISSED"),
    ("policy.growth (share of the budget)", "40% met", "0% MISSED"),
    ("policy.brand (share of the budget)", "30% met", "90% MISSED"),
    ("online_share (share of the spend)", "56% met (goal 60% ±5 points; P 100%)",
     "100% MISSED (goal 60% ±5 points; P 0%)"),
]


def make_run(root: Path, run_id: str, *, roi: list[float], cac: list[float],
             retention: list[float], channels: dict[str, float],
             targets: dict | None = None, outlet_cost: float | None = None) -> Path:
    folder = root / run_id
    folder.mkdir(parents=True)
    n = len(roi)
    pd.DataFrame({"run_id": run_id, "replication": range(n), "roi_clv": roi,
                  "roi": [r / 4 for r in roi],
                  "cost_per_acquisition": cac, "retention": retention,
                  "new_customers": [100.0] * n}).to_parquet(folder / "kpis.parquet")
    scenario: dict = {"budget": {"total": 1_000.0}, "simulation": {"replications": n}}
    if targets is not None:
        scenario["targets"] = targets
    (folder / "manifest.json").write_text(json.dumps({
        "status": "complete", "run_id": run_id, "name": run_id.rsplit("-", 1)[0], "seed": 1,
        "scenario": scenario, "summary": {"channels": [
            *({"channel": c, "spend": s} for c, s in channels.items()),
            {"channel": "organic", "spend": 0.0}],
            **({"combined": {"outlet_cost": outlet_cost}} if outlet_cost else {})}}))
    return folder


def judged_runs(root: Path) -> Path:
    """A run meeting each target (meets-0000aaaa) and one missing each (misses-0000bbbb)."""
    make_run(root, "meets-0000aaaa", roi=[2.5, 3.5, 4.0], cac=[40, 45, 60],
             retention=[0.8, 0.8, 0.8], channels=ON_POLICY)
    make_run(root, "misses-0000bbbb", roi=[1.0, 2.0, 3.2], cac=[55, 60, NAN],
             retention=[0.7, 0.7, 0.8], channels=OFF_POLICY)
    return root


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return judged_runs(tmp_path)


def _compare(runs: Path, *ids: str) -> str:
    result = subprocess.run([sys.executable, "-m", "scenarios", "compare", *ids, "--runs",
                             str(runs), "--kpi", "new_customers", "--format", "markdown"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(("target", "meets", "misses"), TARGET_CASES)
def test_each_target_met_and_missed_in_the_comparison(runs: Path, target: str, meets: str,
                                                      misses: str) -> None:
    text = _compare(runs, "meets-0000aaaa", "misses-0000bbbb")
    row = next(line for line in text.splitlines() if line.startswith(f"| {target} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].startswith(meets) and cells[2].startswith(misses), cells


def test_a_scenario_sets_its_own_targets_and_leaves_some_out(tmp_path: Path) -> None:
    make_run(tmp_path, "own-0000cccc", roi=[0.6, 0.7, 0.8], cac=[300, 300, 300],
             retention=[0.9] * 3, channels=OFF_POLICY,
             targets={"min_roi": 0.15, "roi_kpi": "roi", "ignore": ["max_cac", "policy"]})
    make_run(tmp_path, "none-0000dddd", roi=[0.6] * 3, cac=[300] * 3, retention=[0.9] * 3,
             channels=OFF_POLICY, targets={"enabled": False})
    frame = target_checks([tmp_path / "own-0000cccc", tmp_path / "none-0000dddd"])
    assert set(frame["run_id"]) == {"own-0000cccc"}
    by = frame.set_index("target")
    # judged on a year's margin, as asked: 0.15 to 0.2 against 0.15
    assert by.loc["min_roi (roi)", "met"] and by.loc["min_roi (roi)", "goal"] == 0.15
    assert by.loc["min_roi (roi)", "probability"] == 1.0
    assert not any(t.startswith(("max_cac", "policy")) for t in by.index)
    assert not by.loc["online_share (share of the spend)", "met"]
    # the reserve is the money left unspent: here 100 of 1,000
    spent = target_checks([tmp_path / "none-0000dddd"])
    assert spent.empty
    shares = target_checks([make_run(tmp_path, "r-0000eeee", roi=[1.0], cac=[1.0],
                                     retention=[1.0], channels=ON_POLICY)])
    reserve = shares.set_index("target").loc["policy.reserve (share of the budget)"]
    assert reserve["value"] == pytest.approx(0.1) and reserve["met"]
    # with one budget, the policy holds on what the outlets' 80 a year leave to
    # marketing, 920: 20 of it left (2.2%, missed), growth 400 of 920 (43.5%, met)
    one = target_checks([make_run(tmp_path, "o-0000ffff", roi=[1.0], cac=[1.0],
                                  retention=[1.0], channels=ON_POLICY, outlet_cost=80.0)])
    by_target = one.set_index("target")
    reserve = by_target.loc["policy.reserve (share of the budget)"]
    assert reserve["value"] == pytest.approx(20 / 920) and not reserve["met"]
    growth = by_target.loc["policy.growth (share of the budget)"]
    assert growth["value"] == pytest.approx(400 / 920) and growth["met"]
    assert np.isfinite(shares["value"]).all()


def test_the_demo_style_table_names_every_run(runs: Path) -> None:
    text = _compare(runs, "meets-0000aaaa", "misses-0000bbbb")
    header = next(line for line in text.splitlines() if line.startswith("| target |"))
    assert re.findall(r"\w+-0000\w{4}", header) == ["meets-0000aaaa", "misses-0000bbbb"]


def test_older_runs_are_judged_on_what_they_hold(tmp_path: Path) -> None:
    # a run written before lifetime value: the ROI target falls back to roi, and says so;
    # a year's retention where the run has yearly attrition
    folder = make_run(tmp_path, "old-0000abcd", roi=[3.2, 3.6, 4.0], cac=[40] * 3,
                      retention=[0.5] * 3, channels=ON_POLICY)
    kpis = pd.read_parquet(folder / "kpis.parquet").drop(columns="roi_clv")
    kpis["yearly_attrition"] = [0.2, 0.2, 0.3]
    kpis.to_parquet(folder / "kpis.parquet")
    by = target_checks([folder]).set_index("target")
    assert by.loc["min_roi (roi)", "value"] == pytest.approx(0.9)  # 3.6 / 4
    assert by.loc["min_retention (yearly_retention)", "value"] == pytest.approx(0.7667,
                                                                                  abs=1e-4)
    assert by.loc["min_retention (yearly_retention)", "probability"] == pytest.approx(2 / 3)
    # no budget: no split to judge
    bare = make_run(tmp_path, "bare-0000abce", roi=[1.0], cac=[1.0], retention=[1.0],
                    channels=ON_POLICY)
    manifest = json.loads((bare / "manifest.json").read_text())
    manifest["scenario"]["budget"]["enabled"] = False
    (bare / "manifest.json").write_text(json.dumps(manifest))
    assert not target_checks([bare])["target"].str.startswith("policy").any()
