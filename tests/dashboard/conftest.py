"""Two small runs on the small synthetic city, shared by the dashboard's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.run import run_scenario
from scenarios.schema import Scenario


@pytest.fixture(scope="module")
def runs(small_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("runs")
    ids = []
    for name, total in (("base", 20_000), ("more", 60_000)):
        sc = Scenario.model_validate({
            "name": name, "area": str(small_synth), "seed": 4,
            "outlets": {"max_new": {"smart_atm": 1}},
            "events": {"count": {"anti_fraud": 1}, "weeks": (1, 4)},
            "budget": {"total": total},
            "simulation": {"weeks": 8, "replications": 3, "max_agents": 2_000}})
        ids.append(run_scenario(sc, runs_dir=root).run_id)
    return root, ids
