"""``sitesim report`` (dashboard/report*.py): the workbook holds the numbers of ``sitesim
compare``, the HTML page is self-contained and small, each target kind shows met and
missed, the money and its payback show, and bad input writes nothing."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scenarios.test_targets import ON_POLICY, TARGET_CASES, judged_runs, make_run

openpyxl = pytest.importorskip("openpyxl")

NAN = float("nan")


def _sitesim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**__import__("os").environ, "COLUMNS": "300"})


@pytest.fixture(scope="module")
def reports(runs: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Path, list[str]]:
    root, ids = runs
    out = tmp_path_factory.mktemp("report")
    for suffix in ("html", "xlsx"):
        done = _sitesim("report", *ids, "--runs", str(root), "--out",
                        str(out / f"report.{suffix}"))
        assert done.returncode == 0, done.stderr
        assert f"report.{suffix}" in done.stdout
    return out / "report.html", out / "report.xlsx", ids


def _sheet(path: Path, title: str) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_workbook_holds_the_numbers_of_sitesim_compare(
        runs: tuple[Path, list[str]], reports: tuple[Path, Path, list[str]]) -> None:
    root, ids = runs
    done = _sitesim("compare", *ids, "--runs", str(root), "--format", "json")
    assert done.returncode == 0, done.stderr
    compared = json.loads(done.stdout)
    sheet = _sheet(reports[1], "KPIs")
    assert len(sheet) == len(compared) > 10
    for said, held in zip(compared, sheet, strict=True):
        assert set(said) == set(held)
        for key, value in said.items():
            cell = held[key]
            if value is None:  # json writes NaN and infinity as null
                assert cell in (None, "never", "-inf"), (said["kpi"], key, cell)
            elif isinstance(value, float | int) and not isinstance(value, bool):
                assert cell == pytest.approx(value, rel=1e-9, abs=1e-9), (said["kpi"], key)
            else:
                assert cell == value, (said["kpi"], key)
    runs_sheet = _sheet(reports[1], "Runs")
    assert [r["run_id"] for r in runs_sheet if r["run_id"] in ids] == ids


def test_the_workbook_has_the_plans_and_the_money(
        runs: tuple[Path, list[str]], reports: tuple[Path, Path, list[str]]) -> None:
    import pandas as pd

    root, ids = runs
    xlsx = reports[1]
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert {"KPIs", "Targets", "Money", "Outlets", "Events", "Staff", "Budget",
            "Uplift by segment", "Uplift by community", "Assumptions",
            "Warnings"} <= set(book.sheetnames)
    assert {r["run_id"] for r in _sheet(xlsx, "Money")} == set(ids)
    budget = _sheet(xlsx, "Budget")
    events = _sheet(xlsx, "Events")
    for run in ids:  # the plans' files, summed by pandas
        plan = pd.read_parquet(root / run / "plan_budget.parquet")
        spent = sum(float(r["spend"]) for r in budget if r["run_id"] == run)
        assert spent == pytest.approx(float(plan["spend"].sum()), rel=1e-9)
        planned = pd.read_parquet(root / run / "plan_events.parquet")
        assert sum(r["run_id"] == run for r in events) == len(planned)
    assert {r["action"] for r in _sheet(xlsx, "Outlets")} <= {"open", "close"}


def test_the_page_is_self_contained_and_small(reports: tuple[Path, Path, list[str]]) -> None:
    html, _, ids = reports
    text = html.read_text(encoding="utf-8")
    assert html.stat().st_size < 5_000_000
    assert "<script" not in text.lower()
    # nothing fetched from elsewhere: every src is inline data, no stylesheet links
    assert re.findall(r'\bsrc="(?!data:)', text) == []
    assert "<link" not in text.lower()
    assert text.count('src="data:image/png;base64,') == len(ids)
    assert text.count("<svg") >= 3  # the weekly curves and the channels
    for run in ids:
        assert run in text
    for section in ("kpis", "targets", "money", "charts"):
        assert f'id="{section}"' in text


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The two runs of tests/scenarios/test_targets.py, one meeting each target and one
    missing it, and the report of both."""
    root = tmp_path_factory.mktemp("judged")
    judged_runs(root)
    for suffix in ("html", "xlsx"):
        done = _sitesim("report", "meets-0000aaaa", "misses-0000bbbb", "--runs", str(root),
                        "--out", str(root / f"report.{suffix}"))
        assert done.returncode == 0, done.stderr
    return (root / "report.html").read_text(encoding="utf-8"), root / "report.xlsx"


@pytest.mark.parametrize(("target", "meets", "misses"), TARGET_CASES)
def test_each_target_met_and_missed_in_the_report(judged: tuple[str, Path], target: str,
                                                  meets: str, misses: str) -> None:
    html, xlsx = judged
    row = re.search(rf"<tr><td>{re.escape(target)}</td>(.*?)</tr>", html)
    assert row, target
    cells = re.findall(r'<td class="(met|missed)">([^<]*)</td>', row.group(1))
    assert [c for c, _ in cells] == ["met", "missed"], cells
    assert cells[0][1].startswith(meets) and cells[1][1].startswith(misses), cells
    held = {r["run_id"]: r for r in _sheet(xlsx, "Targets") if r["target"] == target}
    assert held["meets-0000aaaa"]["met"] is True and held["misses-0000bbbb"]["met"] is False


def test_capex_and_payback_show_beside_the_campaign_money(tmp_path: Path) -> None:
    """An outlet plan's capex in full and a year, and its payback (never, here: the
    hand-made run earns less than its outlets cost), in the page and the workbook."""
    import pandas as pd

    for run_id, payback in (("plain-0000aaaa", NAN), ("outlets-0000bbbb", math.inf)):
        folder = make_run(tmp_path, run_id, roi=[0.5, 0.6, 0.7], cac=[40, 45, 50],
                          retention=[0.8] * 3, channels=ON_POLICY)
        kpis = pd.read_parquet(folder / "kpis.parquet")
        kpis["payback_years"] = payback
        kpis.to_parquet(folder / "kpis.parquet")
    folder = tmp_path / "outlets-0000bbbb"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["summary"]["money"] = {"capex": 973_500.0, "capex_per_year": 199_962.25,
                                    "outlet_opex_per_year": 509_100.0}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for suffix in ("html", "xlsx"):
        done = _sitesim("report", "plain-0000aaaa", "outlets-0000bbbb", "--runs",
                        str(tmp_path), "--kpi", "new_customers", "--kpi", "payback_years",
                        "--out", str(tmp_path / f"r.{suffix}"))
        assert done.returncode == 0, done.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<td>outlet capex, in full</td><td></td><td>973,500 EUR</td>" in html
    assert "<td>outlet capex a year (annualized)</td><td></td><td>199,962 EUR</td>" in html
    assert "<td>outlet opex a year</td><td></td><td>509,100 EUR</td>" in html
    assert "<td>payback_years</td><td>n/a</td><td>never</td>" in html
    assert "relationship managers a year" not in html  # no run has the figure
    money = {r["run_id"]: r for r in _sheet(tmp_path / "r.xlsx", "Money")}
    assert money["outlets-0000bbbb"]["capex"] == 973_500.0
    payback = [r for r in _sheet(tmp_path / "r.xlsx", "KPIs") if r["kpi"] == "payback_years"
               and r["run_id"] == "outlets-0000bbbb"]
    assert payback and payback[0]["mean"] == "never"


@pytest.mark.parametrize(("args", "said"), [
    (["nobody-00000000", "--out", "{out}/r.html"], "nobody-00000000"),
    (["meets-0000aaaa", "--out", "{out}/r.html", "--format", "xlsx"], "name it r.xlsx"),
    (["meets-0000aaaa", "--out", "{out}/r.html", "--format", "pdf"], "expected html or xlsx"),
    (["meets-0000aaaa", "--out", "{out}/r.html", "--colour-by", "shoe size"],
     "--colour-by 'shoe size'"),
    (["meets-0000aaaa", "--out", "{out}/no/such/r.html"], "create it first"),
])
def test_bad_input_exits_2_and_writes_nothing(judged: tuple[str, Path], tmp_path: Path,
                                              args: list[str], said: str) -> None:
    root = judged[1].parent
    done = _sitesim("report", *[a.format(out=tmp_path) for a in args], "--runs", str(root))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert said in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
