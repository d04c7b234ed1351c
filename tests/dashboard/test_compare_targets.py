"""The dashboard's compare page marks each target kind met or MISSED (dashboard.compare.
target_table), on the hand-made runs of tests/scenarios/test_targets.py whose figures are
worked out by hand there."""

from __future__ import annotations

import pytest

from dashboard.compare import target_table
from tests.scenarios.test_targets import TARGET_CASES, judged_runs

NAN = float("nan")


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    root = tmp_path_factory.mktemp("judged")
    judged_runs(root)
    table = target_table(["meets-0000aaaa", "misses-0000bbbb"], root)
    assert table is not None and table.id == "targets"
    body = table.children[1].children[1].children
    return {row.children[0].children: [(td.className, td.children)
                                       for td in row.children[1:]] for row in body}


@pytest.mark.parametrize(("target", "meets", "misses"), TARGET_CASES)
def test_each_target_met_and_missed_on_the_compare_page(
        shown: dict[str, list[tuple[str, str]]], target: str, meets: str, misses: str) -> None:
    (met_class, met_text), (missed_class, missed_text) = shown[target]
    assert (met_class, missed_class) == ("target-met", "target-missed")
    assert met_text.startswith(meets) and missed_text.startswith(misses)
