"""A rollout over quarters in a run: the simulation's inputs with each site opening at
the start of its quarter (simulation.with_openings), and the plan's table a quarter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from scenarios import plans
from scenarios._model_types import WEEKS_PER_QUARTER, opening_week

if TYPE_CHECKING:
    from optimizer import SitingResult

__all__ = ["WEEKS_PER_QUARTER", "opening_week", "rollout_inputs", "rollout_summary"]

def rollout_inputs(prep: plans.Prepared, siting: SitingResult | None,
                   outlets: pd.DataFrame) -> pd.DataFrame:
    """The simulation's inputs for the plan's outlets (``outlets``, the network at its
    end); with a rollout, the sites of each quarter open in its first week."""
    if siting is None or siting.by_quarter is None:
        return plans.simulation_inputs(prep, outlets)
    from simulation import with_openings

    decisions = siting.decisions
    opens = decisions.loc[decisions["action"] == "open"].set_index("site_id")["quarter"]

    def by_quarter(q: int) -> pd.DataFrame:
        later = opens.index[opens.to_numpy(dtype=int) > q]
        return plans.simulation_inputs(prep, outlets.drop(index=later))

    quarters = sorted({int(q) for q in opens})
    first = by_quarter(1)
    later = [(opening_week(q), by_quarter(q)) for q in quarters if q > 1]
    return with_openings(first, later)


def rollout_summary(siting: SitingResult) -> list[dict[str, Any]]:
    """The run summary's row a quarter: the week it starts, the sites it opens, its
    capex, and what the network covers in it."""
    assert siting.by_quarter is not None
    decisions = siting.decisions
    rows = []
    for row in siting.by_quarter.to_dict("records"):
        q = int(row["quarter"])
        sites = decisions.loc[(decisions["action"] == "open")
                              & (decisions["quarter"] == q), "site_id"].tolist()
        rows.append({**{str(k): v for k, v in row.items()}, "week": opening_week(q),
                     "sites": [str(s) for s in sites]})
    return rows
