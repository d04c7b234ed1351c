"""The dashboard's compare page marks each target kind met or MISSED (dashboard.compare.
target_table), on the hand-made runs of tests/scenarios/test_targets.py whose figures are
worked out by hand there."""

from __future__ import annotations

import pytest

from dashboard.compare import target_table
from tests.scenarios.test_targets import OFF_POLICY, ON_POLICY, make_run

NAN = float("nan")


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    root = tmp_path_factory.mktemp("judged")
    make_run(root, "meets-0000aaaa", roi=[2.5, 3.5, 4.0], cac=[40, 45, 60],
             retention=[0.8, 0.8, 0.8], channels=ON_POLICY)
    make_run(root, "misses-0000bbbb", roi=[1.0, 2.0, 3.2], cac=[55, 60, NAN],
             retention=[0.7, 0.7, 0.8], channels=OFF_POLICY)
    table = target_table(["meets-0000aaaa", "misses-0000bbbb"], root)
    assert table is not None and table.id == "targets"
    body = table.children[1].children[1].children
    return {row.children[0].children: [(td.className, td.children)
                                       for td in row.children[1:]] for row in body}


@pytest.mark.parametrize(("target", "meets", "misses"), [
    ("min_roi (roi_clv)", "3.33 met (goal ≥ 3; P 67%)", "2.07 MISSED (goal ≥ 3; P 33%)"),
    ("max_cac (cost_per_acquisition)", "48.3 met", "57.5 MISSED (goal ≤ 50; P 0%)"),
    ("min_retention (retention)", "0.8 met", "0.733 MISSED"),
    ("policy.maintenance (share of the budget)", "20% met", "0% MISSED"),
    ("policy.growth (share of the budget)", "40% met", "0% MISSED"),
    ("policy.brand (share of the budget)", "30% met", "90% MISSED"),
    ("online_share (share of the spend)", "56% met", "100% MISSED"),
])
def test_each_target_met_and_missed_on_the_compare_page(
        shown: dict[str, list[tuple[str, str]]], target: str, meets: str, misses: str) -> None:
    (met_class, met_text), (missed_class, missed_text) = shown[target]
    assert (met_class, missed_class) == ("target-met", "target-missed")
    assert met_text.startswith(meets) and missed_text.startswith(misses)
