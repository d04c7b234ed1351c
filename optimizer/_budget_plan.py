"""What the budget LP returns: the plan (:class:`BudgetPlan`) and its table of spend per
cell and quarter, with the curves' own response to it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.response import curves_response

__all__ = ["BudgetPlan", "plan_table"]


@dataclass(frozen=True)
class BudgetPlan:
    """A budget split and what the LP proved about it.

    ``plan``: one row per community x channel x quarter with ``spend``, ``customers`` and
    ``value`` (from the curves themselves, not the piecewise model). ``marginal_value``:
    objective gained per extra unit of total budget (re-solve at +1%, shares kept).
    ``duals``: the shadow price of each named row (objective per unit of the row's
    right-hand side); ``binding``: rows that hold with equality and have a non-zero price.
    """

    status: str
    proven_optimal: bool
    gap: float | None
    objective: float
    objective_name: str
    spend: float
    customers: float
    value: float
    plan: pd.DataFrame
    by_channel: pd.DataFrame
    by_community: pd.DataFrame
    marginal_value: float | None
    duals: dict[str, float]
    binding: tuple[str, ...]
    build_seconds: float
    solve_seconds: float
    solver: str
    notes: tuple[str, ...] = field(default=())


def plan_table(cells: pd.DataFrame, spend: np.ndarray, c: pd.DataFrame, cell_of: np.ndarray,
                season: np.ndarray, quarters: int) -> pd.DataFrame:
    """Spend per cell x quarter and the curves' own response to it."""
    yearly = spend[cell_of] * quarters  # curve rows x quarters, at the yearly rate
    r = curves_response(c, yearly) / quarters * season[None, :]
    vpc = c["value_per_customer"].to_numpy(float)[:, None]
    cust = np.zeros_like(spend)
    value = np.zeros_like(spend)
    np.add.at(cust, cell_of, r)
    np.add.at(value, cell_of, r * vpc)
    out = pd.DataFrame({
        "community_id": np.repeat(cells["community_id"].to_numpy(), quarters),
        "channel": np.repeat(cells["channel"].to_numpy(), quarters),
        "quarter": np.tile(np.arange(1, quarters + 1), len(cells)),
        "spend": spend.ravel(), "customers": cust.ravel(), "value": value.ravel()})
    out.loc[out["spend"] < 1e-6, ["spend", "customers", "value"]] = 0.0
    return out
