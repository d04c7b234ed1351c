"""The budget's planning stage of a scenario: its response curves (from a file or
simulation sweeps) and its split on them with the scenario's rules (the outlets, events
and staff stages are in :mod:`scenarios.plans`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import InputError
from optimizer import BudgetPlan, allocate_budget
from scenarios._sweep_size import SWEEP_AGENTS
from scenarios.lifetime import valued_curves
from scenarios.plans import Prepared, event_venues, simulation_params
from scenarios.schema import Scenario
from simulation import Campaign

__all__ = ["budget_plan", "budget_rules", "budget_weeks", "read_curves", "response_curves"]

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    del message


def read_curves(path: str | Path) -> pd.DataFrame:
    """Response curves from CSV or Parquet (``community_id``, ``channel``, ``segment``,
    ``form``, ``rmax``, ``k``, ``h``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such curves file; give a CSV or Parquet file with "
                         "community_id, channel, segment, form, rmax, k, h")
    try:
        frame = (pd.read_parquet(path) if path.suffix.lower() == ".parquet"
                 else pd.read_csv(path, dtype={"community_id": str}))
        if "community_id" in frame:  # the area's ids are text, whatever the file holds
            frame["community_id"] = frame["community_id"].astype(str)
        return frame
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as {path.suffix or 'CSV'} ({exc}); give a "
                         "CSV or Parquet file") from None


def budget_weeks(sc: Scenario) -> tuple[int, int]:
    """The weeks the budget's campaigns run: ``budget.weeks``, else the whole run."""
    return sc.budget.weeks or (1, sc.simulation.weeks)


def response_curves(prep: Prepared, inputs: pd.DataFrame, *,
                    curves_file: str | Path | None = None,
                    background: Sequence[Campaign] = (),
                    progress: Progress = _quiet) -> pd.DataFrame:
    """The budget's response curves: from ``curves_file`` or ``budget.curves`` if given,
    else fitted to simulation sweeps around ``budget.total / 7`` a channel (cached); the
    value per customer as ``budget.objective`` counts it (:func:`valued_curves`). With
    ``budget.weeks``, the swept campaigns run in those weeks on top of ``background``
    (the scenario's own campaigns), as the plan's will."""
    from geo.synth import cache_dir
    from scenarios.curves import simulate_curves
    sc = prep.scenario
    given = curves_file if curves_file is not None else sc.budget.curves
    if given is not None:
        table = read_curves(given)
    else:
        params = simulation_params(sc, max_agents=min(sc.simulation.max_agents,
                                                      SWEEP_AGENTS))
        span = sc.budget.weeks
        table = simulate_curves(inputs, params, reference=max(sc.budget.total, 1.0) / 7,
                                seed=sc.seed, cache_dir=cache_dir() / "curves",
                                venues=event_venues(prep), progress=progress, span=span,
                                background=tuple(background) if span is not None else ())
    return valued_curves(table, objective=sc.budget.objective,
                         rate=sc.finance.discount_rate, horizon=sc.finance.horizon_years)


def budget_rules(prep: Prepared) -> dict[str, Any]:
    """The scenario's rules for the budget split, as :func:`optimizer.allocate_budget`'s
    keywords (objective, policy, shares, limits, quarters)."""
    b = prep.scenario.budget
    least, most = b.online_share.bounds() if b.online_share else (None, None)
    return {"objective": "customers" if b.objective == "customers" else "value",
            "policy": b.policy.model_dump(),
            "online_share": least, "online_share_max": most,
            "min_roi": b.min_roi, "max_cac": b.max_cac,
            "inclusion": dict(b.inclusion) or None, "quarters": 4 if b.quarterly else 1}


def budget_plan(prep: Prepared, curves: pd.DataFrame, *, total: float | None = None,
                time_limit_s: float = 60.0) -> BudgetPlan:
    """Split ``budget.total`` (or ``total``) on the response curves with the scenario's
    rules."""
    return allocate_budget(curves, prep.scenario.budget.total if total is None else total,
                           time_limit_s=time_limit_s, **budget_rules(prep))
