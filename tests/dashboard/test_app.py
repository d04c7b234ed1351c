"""The dashboard's views, as functions and through Dash's HTTP callback endpoint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard import data
from dashboard.app import compare_view, compare_warnings, create_app, run_page


def test_weekly_band_is_a_t_interval_over_replications(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    band = data.weekly_band(ids[0], root, "new customers (cumulative)")
    ts = pd.read_parquet(root / ids[0] / "timeseries.parquet")
    ts = ts[ts["arm"] == "campaign"]
    wide = ts.groupby(["week", "replication"])["new_customers"].sum().unstack().cumsum()
    mean = wide.mean(axis=1).to_numpy()
    half = stats.t.ppf(0.975, 2) * wide.std(axis=1, ddof=1).to_numpy() / np.sqrt(3)
    assert band["week"].tolist() == list(range(1, 9))
    assert np.allclose(band["mean"], mean) and np.allclose(band["high"] - band["mean"], half)
    customers = data.weekly_band(ids[0], root, "customers")
    assert (customers["mean"] > 0).all()


def test_plans_and_differences(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    budget = data.budget_by_channel(ids[1], root)
    plan = pd.read_parquet(root / ids[1] / "plan_budget.parquet")
    assert budget["spend"].sum() == pytest.approx(plan["spend"].sum())
    staff = data.staff_by_week(ids[0], root)
    assert staff["week"].tolist() == list(range(1, 9))  # the simulated horizon
    events = pd.read_parquet(root / ids[0] / "plan_events.parquet")
    assert staff["events"].sum() == events["staff"].sum()
    diff = data.scenario_differences(ids, root)
    assert diff["key"].tolist() == ["budget.total"]
    assert diff[ids[0]].tolist() == [20_000] and diff[ids[1]].tolist() == [60_000]
    table = data.runs_table(root)
    assert set(table["run_id"]) == set(ids) and (table["status"] == "complete").all()


def test_compare_view(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    message, cards, curves, budget, staff, rows, columns = compare_view(
        ids, ids[1], "new customers (cumulative)", root)
    # warnings, the targets and the plan checks below the message
    text, warnings, targets, checks = message
    assert checks.id == "plan-checks" and targets.id == "targets"
    shown = json.dumps(targets.to_plotly_json(), default=str)
    assert "min_retention (yearly_retention)" in shown and ("met" in shown or "MISSED" in shown)
    assert text.startswith(f"Compared with {ids[1]}")
    assert [li.children for li in warnings.children] == [
        li.children for li in compare_warnings(ids, root)]
    assert len(cards) == len(data.COMPARE_KPIS)
    text = json.dumps([c.to_plotly_json() for c in cards], default=str)
    assert "beyond noise" in text  # spend differs by the budget, in every replication
    assert len(curves["data"]) == 4 and len(budget["data"]) == 2 and len(staff["data"]) == 2
    # a run has one colour in every chart: its band, its line, its bars, its staff
    for i, run in enumerate(ids):
        band, line = curves["data"][2 * i], curves["data"][2 * i + 1]
        colours = {band["fillcolor"], line["line"]["color"],
                   budget["data"][i]["marker"]["color"], staff["data"][i]["line"]["color"]}
        assert len(colours) == 1 and line["name"] == run
    assert curves["data"][1]["line"]["color"] != curves["data"][3]["line"]["color"]
    assert [c["headerName"] for c in columns] == ["key", *ids]
    field = {c["headerName"]: c["field"] for c in columns}
    assert rows == [{field["key"]: "budget.total", field[ids[0]]: "20000.0",
                     field[ids[1]]: "60000.0"}]
    nothing = compare_view([], None, "customers", root)
    assert nothing[0] == "Pick one run or more." and nothing[1] == []
    # no bare axes on an empty page: each chart says what to pick
    for figure in nothing[2:5]:
        assert figure["layout"]["xaxis"]["visible"] is False
        assert figure["layout"]["annotations"][0]["text"].startswith("Pick runs above")
    # the warnings each run recorded (here: short runs of a small pack), one line each
    said: dict[str, list[str]] = {}
    for r in ids:
        for line in data.manifest(r, root)["warnings"]:
            said.setdefault(line, []).append(r)
    assert said  # 8 weeks of 2,000 agents on a small pack: far from a bank's year
    shown = [li.children for li in compare_warnings(ids, root)]
    assert shown == [f"{', '.join(rs)}: {line}" for line, rs in said.items()]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "base-0000zzzz", "/etc/passwd",
                                 "base-00000000"])
def test_a_run_that_is_not_in_the_store_is_not_found(runs: tuple[Path, list[str]],
                                                     bad: str) -> None:
    root, _ = runs
    page = run_page(f"/runs/{bad}", root)
    assert page.children.startswith("404:")
    message = compare_view([bad], None, "customers", root)[0]
    assert message.startswith("404:")


def test_run_page_shows_the_manifest(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    page = run_page(f"/runs/{ids[0]}", root)
    text = json.dumps(page.to_plotly_json(), default=str)
    assert ids[0] in text and "timings" in text
    # as tables, not raw JSON: each stage's time, the scenario's keys, the summary's
    # parts, with the JSON last and folded
    manifest = data.manifest(ids[0], root)
    tables = [c for c in page.children if getattr(c, "__class__", None).__name__ == "Table"]
    assert len(tables) >= 4
    heads = [c.children for c in page.children if c.__class__.__name__ == "H4"]
    assert "time by stage (s)" in heads and "scenario" in heads
    assert {f"summary: {k}" for k in manifest["summary"]} <= set(heads)
    stages = tables[1].children[1].children
    assert [row.children[0].children for row in stages] == list(manifest["timings"])
    assert page.children[-1].__class__.__name__ == "Details"
    from dashboard.manifest_view import flatten

    keys = dict(flatten(manifest["scenario"]))
    assert keys["budget.total"] == manifest["scenario"]["budget"]["total"]


def _body(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
          state: Sequence[tuple[str, str, object]] = ()) -> dict:
    """A request to Dash's callback endpoint, as the page sends it."""
    return {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs]}


def test_callbacks_over_http(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    server = create_app(root).server
    server.testing = True  # errors raise here instead of a 500
    client = server.test_client()
    assert client.get("/").status_code == 200

    def call(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
             state: Sequence[tuple[str, str, object]] = ()) -> dict:
        response = client.post("/_dash-update-component", json=_body(outputs, inputs, state))
        assert response.status_code == 200, response.data[:300]
        return json.loads(response.data)["response"]

    refresh = [("runs", "options"), ("runs-table", "rowData"), ("runs-table", "columnDefs"),
               ("map-run", "options"), ("whatif-base", "options"), ("map-less", "options"),
               ("runs-seen", "data")]
    listed = call(refresh, [("refresh", "n_intervals", None),
                            ("whatif-status", "children", None)],
                  state=[("runs-seen", "data", None)])
    assert {o["value"] for o in listed["runs"]["options"]} == set(ids)
    # the next refresh with nothing new leaves the page alone (204: no update)
    body = _body(refresh, [("refresh", "n_intervals", 1), ("whatif-status", "children", None)],
                 [("runs-seen", "data", listed["runs-seen"]["data"])])
    assert client.post("/_dash-update-component", json=body).status_code == 204
    compared = call([("compare-message", "children"), ("cards", "children")],
                    [("runs", "value", ids), ("baseline", "value", ids[0])])
    text, warnings, targets, checks = compared["compare-message"]["children"]
    assert targets["props"]["id"] == "targets"
    assert text.startswith(f"Compared with {ids[0]}")
    assert warnings["props"]["id"] == "compare-warnings" and warnings["props"]["children"]
    # each run's budget plan checked: its round(s) and the simple rules, with verdicts
    assert checks["props"]["id"] == "plan-checks"
    shown = json.dumps(checks)
    for word in ("round 1", "vs equal", "vs adults"):
        assert word in shown
    assert any(v in shown for v in ("the plan is better", "no difference beyond noise",
                                     "the rule is better"))
    assert len(compared["cards"]["children"]) == len(data.COMPARE_KPIS)
    figures = call([("curves", "figure"), ("budget", "figure"), ("staff", "figure")],
                   [("runs", "value", ids), ("curve", "value", "customers")])
    assert len(figures["curves"]["figure"]["data"]) == 4
    differences = call([("differences", "rowData"), ("differences", "columnDefs")],
                       [("runs", "value", ids)])
    rows, columns = (differences["differences"][k] for k in ("rowData", "columnDefs"))
    by_header = {c["headerName"]: c["field"] for c in columns}
    assert rows[0][by_header["key"]] == "budget.total"
    assert set(by_header) == {"key", *ids}
    routed = call([("run-page", "children"), ("tabs", "value"), ("runs", "value")],
                  [("url", "pathname", "/runs/../../etc/passwd"), ("url", "search", "")])
    assert routed["run-page"]["children"]["props"]["children"].startswith("404:")
    assert "root:" not in json.dumps(routed)
    mapped = call([("map-message", "children"), ("map", "figure")],
                  [("map-run", "value", ids[0]), ("map-colour", "value", "tier"),
                   ("map-less", "value", None)])
    assert mapped["map-message"]["children"] == ""
    assert mapped["map"]["figure"]["data"][0]["name"] == "streets"
    from dashboard.whatif import CAMPAIGN_FIELDS, FIELDS

    body = {"output": "..whatif-problems.children...whatif-job.data...whatif-poll.disabled..",
            "outputs": [{"id": "whatif-problems", "property": "children"},
                        {"id": "whatif-job", "property": "data"},
                        {"id": "whatif-poll", "property": "disabled"}],
            "inputs": [{"id": "whatif-run", "property": "n_clicks", "value": 1}],
            "state": [{"id": "whatif-base", "property": "value", "value": ids[0]},
                      {"id": "whatif-name", "property": "value", "value": "x"},
                      *[{"id": f"wf-{f}", "property": "value",
                         "value": -1 if f == "budget-total" else None}
                        for f in (*FIELDS, *CAMPAIGN_FIELDS)]],
            "changedPropIds": ["whatif-run.n_clicks"]}
    launched = json.loads(client.post("/_dash-update-component", json=body).data)["response"]
    [item] = launched["whatif-problems"]["children"]
    assert "budget.total" in item["props"]["children"]
    assert launched["whatif-poll"]["disabled"] is True


def test_service_area_matches_networkx(small_synth: Path) -> None:
    import networkx as nx

    from dashboard.map_layers import service_area_nodes
    from geo import load_area, routing_graph

    G = load_area(small_synth).network("walk")
    rg = routing_graph(G)
    points = rg.xy[[0, len(rg.xy) // 2]] + 3.0  # near two nodes
    reached = service_area_nodes(rg, points, 6.0)
    rows, _ = rg.snap(points)
    sources = {rg.node_ids[r] for r in rows}
    lengths = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), sources,
                                                   cutoff=6.0, weight="travel_min")
    expected = np.isin(rg.node_ids, list(lengths))
    assert reached.sum() > 10 and (reached == expected).all()


def test_map_view(runs: tuple[Path, list[str]]) -> None:
    from dashboard.app import map_view

    root, ids = runs
    message, fig = map_view(ids[0], "score", root)
    assert message == ""
    names = [t.name for t in fig.data]
    assert names[0] == "streets" and any(n.startswith("within 15 min walk") for n in names)
    assert "candidate sites" in names
    kinds = {(n.split(" ", 1)[0], n.split(" ", 1)[1]) for n in names
             if n.startswith(("own ", "competitor "))}
    assert {o for o, _ in kinds} == {"own", "competitor"}
    assert len(kinds) == len({(o, k) for o, k in kinds})  # a legend entry per owner and kind
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range  # fits the communities
    assert xr[0] < xr[1] and yr[0] < yr[1]
    bins = [t for t in fig.data if str(t.name).startswith("score ")]
    assert 2 <= len(bins) <= 7 and all(t.fill == "toself" for t in bins)
    hover = next(t for t in fig.data if t.name == "communities (hover)")
    assert len(hover.hovertext) == 20 and "score from:" in hover.hovertext[0]
    streets = fig.data[0]
    assert np.isnan(np.asarray(streets.x, dtype=float)[2::3]).all()
    _, by_uplift = map_view(ids[0], "uplift in new customers", root)
    assert any(str(t.name).startswith("uplift in new customers ") for t in by_uplift.data)
    _, by_spend = map_view(ids[0], "planned spend", root)
    assert any(str(t.name).endswith(" EUR") for t in by_spend.data)  # currency on money
    assert map_view("../../etc/passwd", "score", root)[0].startswith("404:")
    assert map_view(None, "score", root)[0] == "Pick a run."


def test_difference_map(runs: tuple[Path, list[str]]) -> None:
    """A run less itself is no difference anywhere (one white class); two runs differ
    community by community as their time series say (summed here with pandas)."""
    import pandas as pd

    from dashboard.map_layers import DIVERGING, difference_layers
    from scenarios.store import resolve_run

    root, ids = runs
    same = difference_layers(ids[0], ids[0], root)
    assert [b.colour for b in same.bins] == [DIVERGING[3]]
    assert (same.communities["value"] == 0).all()
    diff = difference_layers(ids[0], ids[1], root, "planned spend")

    def spend(run: str) -> pd.Series:
        t = pd.read_parquet(resolve_run(run, root) / "timeseries.parquet")
        t = t[t["arm"] == "campaign"]
        return t.groupby("community_id")["spend"].sum() / t["replication"].nunique()

    expected = (spend(ids[1]) - spend(ids[0])).reindex(diff.communities["community_id"])
    np.testing.assert_allclose(diff.communities["value"], expected.fillna(0), atol=1e-6)
    assert diff.title.startswith("planned spend: ")


def test_whatif_form_is_checked_by_the_schema(runs: tuple[Path, list[str]]) -> None:
    from dashboard.whatif import build_scenario, form_values

    root, ids = runs
    base = data.manifest(ids[0], root)["scenario"]
    values = form_values(base)
    assert values["budget-total"] == 20_000 and values["replications"] == 3
    built, problems = build_scenario(base, {"budget-total": 30_000, "agents": None}, "try-1")
    assert problems == [] and built is not None
    assert built.budget.total == 30_000 and built.simulation.max_agents == 2_000
    assert built.name == "try-1"
    _, problems = build_scenario(base, {"budget-total": -5, "max-atm": 1.5,
                                        "w-youth": 0, "w-income": 0, "w-access": 0,
                                        "w-competition": 0}, "../etc")
    text = "\n".join(problems)
    assert "name: '../etc' is not a scenario name" in text
    assert "budget.total: Input should be greater than or equal to 0 (got -5)" in text
    assert "outlets.max_new.smart_atm" in text and "scoring.weights" in text
    assert len(problems) == 4, problems
    # a campaign added to the base's, its text lists split on commas, checked by the schema
    built, problems = build_scenario(base, {"c-channel": "kol_live", "c-segments": "18-35, 56+",
                                            "c-spend": 5_000, "c-first": 2}, "try-2")
    assert problems == [] and built is not None
    assert built.campaigns[-1].channel == "kol_live"
    assert built.campaigns[-1].segments == ("18-35", "56+")
    assert built.campaigns[-1].weeks == (2, 8) and built.campaigns[-1].spend == 5_000
    _, problems = build_scenario(base, {"c-channel": "sms", "c-segments": "teens"}, "try-3")
    text = "\n".join(problems)
    assert "campaigns[0].segments: unknown segment(s) ['teens']" in text
    assert "campaigns[0].spend: Field required" in text


def test_whatif_runs_in_the_background_and_appears(runs: tuple[Path, list[str]]) -> None:
    from dashboard.app import launch_whatif, whatif_status
    from dashboard.whatif import Jobs

    root, ids = runs
    jobs = Jobs(root)
    problems, job_id, off = launch_whatif(jobs, ids[0], "bad name!", {}, root)
    assert job_id is None and off and "not a scenario name" in problems[0].children
    problems, job_id, off = launch_whatif(jobs, ids[0], "base-bigger",
                                          {"budget-total": 45_000}, root)
    assert problems == [] and job_id is not None and not off
    line, stop, link = whatif_status(jobs, job_id)
    assert line.startswith("base-bigger: ") and (link is None) == (not stop)
    assert stop == ("It is in Compare now" in line)  # polling goes on while it runs
    job = jobs.wait(job_id, timeout=300)
    assert job.state == "complete", job.message
    line, stop, link = whatif_status(jobs, job_id)
    assert stop and "It is in Compare now" in line
    # a link to its comparison with the run it started from, the base first
    from urllib.parse import parse_qs, urlsplit

    address = urlsplit(link.href)
    assert address.path == "/compare"
    assert parse_qs(address.query)["runs"] == [ids[0], job.run_id]
    assert job.run_id in set(data.runs_table(root)["run_id"])
    table = data.kpi_table([ids[0], job.run_id], root)
    spend = table[(table["kpi"] == "spend") & (table["run_id"] == job.run_id)].iloc[0]
    assert spend["delta"] > 20_000


@pytest.mark.parametrize(("kpi", "delta", "significant", "colour"), [
    ("uplift_new_customers", 10.0, True, "green"), ("uplift_new_customers", -10.0, True, "red"),
    ("cost_per_acquisition", 1.0, True, "red"), ("cost_per_acquisition", -1.0, True, "green"),
    ("spend", 100.0, True, "blue"), ("retention", 0.1, False, "grey")])
def test_a_difference_is_coloured_by_whether_it_is_better(kpi: str, delta: float,
                                                          significant: bool,
                                                          colour: str) -> None:
    from dashboard.compare import _delta_colour

    names = {"#0a7d32": "green", "#b42318": "red", "#0550ae": "blue", "#57606a": "grey"}
    assert names[_delta_colour(kpi, delta, significant)] == colour


def test_run_ids_with_dots_keep_their_columns(runs: tuple[Path, list[str]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # a grid reads "v1.2" in a field as the key "2" of "v1": every field is plain, the
    # run id its header, and each row holds the same fields
    from dashboard.compare import compare_differences

    root, ids = runs
    frame = pd.DataFrame({"key": ["budget.total"], "plan-v1.2-0000aaaa": [1.0],
                          "plan-v1.3-0000bbbb": [2.0]})
    monkeypatch.setattr(data, "scenario_differences", lambda run_ids, runs_dir: frame)
    rows, columns = compare_differences(ids, root)
    assert [c["headerName"] for c in columns] == list(frame.columns)
    assert all("." not in c["field"] for c in columns)
    assert set(rows[0]) == {c["field"] for c in columns}
    assert rows[0][columns[2]["field"]] == "2.0"


def test_a_rollouts_sites_by_quarter_on_the_map(small_synth: Path,
                                               tmp_path: Path) -> None:
    from dashboard.app import map_view
    from dashboard.report_data import _outlets
    from scenarios.run import run_scenario
    from scenarios.schema import Scenario

    sc = Scenario.model_validate({
        "name": "rollout", "area": str(small_synth), "seed": 4, "events": {"enabled": False},
        "outlets": {"max_new": {"smart_atm": 3}, "quarters": 2,
                    "capex_per_quarter": [60_000, 120_000]},
        "budget": {"total": 20_000},
        "simulation": {"weeks": 16, "replications": 2, "max_agents": 2_000}})
    run = run_scenario(sc, runs_dir=tmp_path)
    plan = pd.read_parquet(run.path / "plan_outlets.parquet")
    opened = plan[plan["action"] == "open"]
    _, fig = map_view(run.run_id, "score", tmp_path)
    stars = {t.name: t for t in fig.data if str(t.name).startswith("chosen sites")}
    quarters = sorted(int(q) for q in opened["quarter"].unique())
    assert sorted(stars) == sorted(
        f"chosen sites, opening in quarter {q} (week {13 * (q - 1) + 1})" for q in quarters)
    for q in quarters:
        trace = stars[f"chosen sites, opening in quarter {q} (week {13 * (q - 1) + 1})"]
        assert len(trace.x) == int((opened["quarter"] == q).sum())
        assert all(f"opens in quarter {q}" in h for h in trace.hovertext)
    assert "quarter" in _outlets(run.path).columns  # the report's table says when
