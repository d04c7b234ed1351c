"""Scenario files, the pipeline that runs one, batch runs, the results store, the CLI."""

from scenarios.schema import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]
