"""The dashboard's parts for deciding (dashboard.app, dashboard.whatif): the difference
map of two runs, the address of a comparison, and a what-if form checked at once on the
schema and on the area."""

from __future__ import annotations

from pathlib import Path

from dash import no_update

from dashboard import data
from dashboard.app import compare_link, map_view, route
from dashboard.whatif import build_scenario


def test_the_map_of_a_run_less_another(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    said, fig = map_view(ids[1], "planned spend", root, less=ids[0])
    assert said == "" and fig.layout.title.text.startswith(
        f"planned spend: {ids[1]} less {ids[0]}")
    # a scores column is no run KPI: the difference map says what it shows instead
    said, fig = map_view(ids[1], "score", root, less=ids[0])
    assert said.startswith("A difference map colours by a run KPI")
    assert "uplift in new customers" in fig.layout.title.text
    said, _ = map_view(ids[1], "score", root, less=ids[1])
    assert "a run less itself is no difference" in said
    assert map_view(ids[1], "score", root, less="nobody-00000000")[0].startswith("404:")


def test_an_address_picks_the_runs_to_compare(runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    address = compare_link([ids[1], ids[0]])
    path, _, query = address.partition("?")
    _, tab, picked = route(path, "?" + query, root)
    assert tab == "compare" and picked == [ids[1], ids[0]]
    # unknown ids are left out; none left: the picked runs stay as they are
    assert route("/compare", "?runs=nobody-00000000&runs=" + ids[0], root)[2] == [ids[0]]
    assert route("/compare", "?runs=nobody-00000000", root)[2] is no_update
    assert route("/", "", root)[1:] == ("compare", no_update)
    assert route(f"/runs/{ids[0]}", "", root)[1] == "runs"


def test_the_whatif_form_is_checked_at_once_on_the_schema_and_the_area(
        runs: tuple[Path, list[str]]) -> None:
    root, ids = runs
    base = data.manifest(ids[0], root)["scenario"]
    # a schema problem and an unknown community id, both in one answer
    _, problems = build_scenario(base, {"budget-total": -1, "c-channel": "sms",
                                        "c-spend": 1_000, "c-communities": "NOPE1, NOPE2"},
                                 "try-4")
    text = "\n".join(problems)
    assert "budget.total: Input should be greater than or equal to 0" in text
    assert "campaigns[0].communities: 2 id(s) are not communities of" in text
    assert "NOPE1, NOPE2" in text
    # with the schema content, the area's checks (scenarios.preflight) still run
    _, problems = build_scenario(base, {"c-channel": "sms", "c-spend": 1_000,
                                        "c-communities": "NOPE1"}, "try-5")
    assert len(problems) == 1 and problems[0].startswith("campaigns[0].communities: 1 id(s)")
    # the budget split, the online share and the targets
    built, problems = build_scenario(base, {"b-growth": 0.3, "b-brand": 0.4,
                                            "online-exact": 0.6, "t-roi": 2.5,
                                            "t-cac": 300, "t-online": 0.5}, "try-6")
    assert problems == [] and built is not None
    assert (built.budget.policy.growth, built.budget.policy.brand) == (0.3, 0.4)
    assert built.budget.online_share is not None
    assert built.budget.online_share.bounds() == (0.6, 0.6)
    assert (built.targets.min_roi, built.targets.max_cac, built.targets.online_share) == (
        2.5, 300, 0.5)
    _, problems = build_scenario(base, {"b-growth": 0.5}, "try-7")
    assert any("policy shares sum to 1.1" in p for p in problems), problems
