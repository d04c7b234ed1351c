"""Scenario files, the pipeline that runs one, batch runs, the results store, the CLI.

``run_scenario``, ``run_batch``, ``compare_runs`` and ``connect`` are loaded on first use, so that
importing ``scenarios`` (and starting the command line) does not import the optimizer and
the simulation.
"""

from typing import Any

from scenarios.schema import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "compare_runs", "connect", "load_scenario",
           "run_batch", "run_scenario", "target_cell", "target_checks"]

_LAZY = {"run_scenario": "scenarios.run", "run_batch": "scenarios.batch",
         "compare_runs": "scenarios.store", "connect": "scenarios.store",
         "target_cell": "scenarios.targets", "target_checks": "scenarios.targets"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
