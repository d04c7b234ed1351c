"""All the money of a run (docs/scenarios.md, "All the money"): what a plan costs beyond
its campaigns, what its new outlets bring, and the KPIs of everything beside those of the
campaigns alone.

Costs a year: the campaigns and events the simulation spent (``spend``); the new outlets'
capex (``capex``, one-off) annualized over ``finance.capex_life_years`` at
``finance.discount_rate`` (``capex_per_year``, the capital recovery factor); their opex
less that of the outlets closed (``outlet_opex_per_year``); the relationship managers,
``staff.relationship_managers x finance.staff_cost_per_year`` (``staff_cost_per_year``).

The outlets' worth: each replication's counterfactual (no campaign) on the plan's network
beside the same replication on today's network, with the same random numbers: new
customers, churn avoided and deposits at the horizon's end (``network_*``). Value is a
year's net interest margin on deposits, as the campaigns' ``roi``: ``value_campaigns``
on the uplift in deposits, ``value_outlets`` on the network's.

KPIs of everything: ``all_costs`` (the four costs, those a year prorated to the
simulation's horizon), ``roi_all_costs`` and
``cost_per_acquisition_all_costs`` (per new customer, the campaigns' and the outlets'),
``net_value_all_costs`` (value less all costs, a year), ``npv_all_costs`` (minus the capex,
plus the year's value less its costs but capex, discounted over ``finance.horizon_years``:
the simulated horizon's flows scaled to a year and taken to repeat),
``outlets_net_per_year`` (what the outlets bring a year
less their opex and annualized capex), ``payback_years`` (the capex over what the outlets
bring a year less their opex; infinite when that is not positive: never; NaN without
capex).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer import annualized_cost
from simulation import CUSTOMER_STAGES

__all__ = ["MONEY_KPIS", "PlanCosts", "money_kpis", "network_year", "plan_costs",
           "replication_years"]

#: The columns :func:`money_kpis` adds to a run's KPIs.
MONEY_KPIS = ("capex", "capex_per_year", "outlet_opex_per_year", "staff_cost_per_year",
              "all_costs", "network_new_customers", "network_churn_avoided",
              "network_uplift_deposits", "value_campaigns", "value_outlets",
              "roi_all_costs", "cost_per_acquisition_all_costs", "net_value_all_costs",
              "npv_all_costs", "outlets_net_per_year", "payback_years")


@dataclass(frozen=True)
class PlanCosts:
    """A plan's costs beyond its campaigns (one-off capex, the rest a year)."""

    capex: float
    capex_per_year: float
    outlet_opex_per_year: float
    staff_cost_per_year: float

    changes_network: bool = False


def plan_costs(sc: Any, decisions: pd.DataFrame | None) -> PlanCosts:
    """The costs of scenario ``sc``'s plan (``decisions``: the outlet plan's, None
    without one)."""
    f = sc.finance
    staff = (float(sc.staff.relationship_managers) * float(f.staff_cost_per_year)
             if sc.staff.enabled else 0.0)
    if decisions is None or decisions.empty:
        return PlanCosts(0.0, 0.0, 0.0, staff)
    opened = decisions[decisions["action"] == "open"]
    closed = decisions[decisions["action"] == "close"]
    capex = float(opened["capex"].sum())
    open_share = np.ones(len(opened))
    if "quarter" in opened and opened["quarter"].notna().any():
        # a rollout: each site's opex for the weeks of the run it is open (the year
        # simulated is the ramp-up year; see docs/optimizer.md, "Rollout over quarters")
        from scenarios._model_types import opening_week

        weeks = int(sc.simulation.weeks)
        first = np.array([opening_week(int(q)) for q in opened["quarter"].fillna(1)])
        open_share = np.clip((weeks - first + 1) / weeks, 0.0, 1.0)
    opex = (float((opened["opex_per_year"].fillna(0.0).to_numpy(float) * open_share).sum())
            - float(closed["opex_per_year"].fillna(0.0).sum()))
    return PlanCosts(capex, annualized_cost(capex, float(f.capex_life_years),
                                            float(f.discount_rate)), opex, staff,
                     changes_network=bool(len(opened) or len(closed)))


def network_year(inputs: pd.DataFrame, params: Any, seeds: Sequence[int], *,
                 venues: Any = None) -> np.ndarray:
    """Per replication (``seeds``), with no campaign on the network of ``inputs``: new
    customers, churn events, deposits at the horizon's end, and the mean customers held
    over the weeks. Replication i runs a calibration's draw i, as the run's do."""
    from simulation import CommunityMarketModel, release_freed_memory, replication_params

    rows = []
    for i, s in enumerate(seeds):
        model = CommunityMarketModel(inputs, replication_params(params, i), seed=s,
                                     counterfactual=True, venues=venues).run()
        agents = model.residents.customer.size
        rows.append(_year(model.timeseries()))
        del model
        release_freed_memory(agents)
    return np.asarray(rows)


def replication_years(counterfactual: pd.DataFrame) -> np.ndarray:
    """:func:`network_year` of a run's counterfactual arm (its timeseries, with a
    ``replication`` column), replication by replication."""
    return np.asarray([_year(g) for _, g in counterfactual.groupby("replication", sort=True)])


def _year(ts: pd.DataFrame) -> tuple[float, float, float, float]:
    last = ts[ts["week"] == ts["week"].max()]
    held = ts[list(CUSTOMER_STAGES)].sum(axis=1).groupby(ts["week"]).sum()
    return (float(ts["new_customers"].sum()), float(ts["churned"].sum()),
            float(last["deposits"].sum()), float(held.mean()))


def money_kpis(kpis: pd.DataFrame, costs: PlanCosts, *, margin: float, finance: Any,
               weeks: int = 52, plan_network: np.ndarray | None = None,
               today: np.ndarray | None = None) -> pd.DataFrame:
    """``kpis`` (one row per replication, with ``spend``, ``uplift_new_customers`` and
    ``uplift_deposits``) with :data:`MONEY_KPIS` added. ``plan_network`` and ``today``:
    :func:`network_year` of the plan's counterfactual and of today's network, replication
    by replication (left out when the plan does not change the network: its worth is 0)."""
    out = kpis.copy()
    n = len(out)
    # the simulation's flows are over its horizon; the costs a year are prorated to it
    # (all costs, ROI, net value), and the flows scaled to a year where a year is asked
    # (NPV, the outlets' net a year, payback): alike only at 52 weeks
    horizon, year = weeks / 52, 52 / weeks
    diff = (np.zeros((n, 4)) if plan_network is None or today is None
            else np.asarray(plan_network, float) - np.asarray(today, float))
    out["capex"] = costs.capex
    out["capex_per_year"] = costs.capex_per_year
    out["outlet_opex_per_year"] = costs.outlet_opex_per_year
    out["staff_cost_per_year"] = costs.staff_cost_per_year
    spend = out["spend"].to_numpy(float)
    yearly = costs.outlet_opex_per_year + costs.staff_cost_per_year
    out["all_costs"] = spend + (costs.capex_per_year + yearly) * horizon
    out["network_new_customers"] = diff[:, 0]
    out["network_churn_avoided"] = -diff[:, 1]
    out["network_uplift_deposits"] = diff[:, 2]
    out["value_campaigns"] = out["uplift_deposits"].to_numpy(float) * margin
    out["value_outlets"] = diff[:, 2] * margin
    value = out["value_campaigns"].to_numpy(float) + out["value_outlets"].to_numpy(float)
    costs_all = out["all_costs"].to_numpy(float)
    won = out["uplift_new_customers"].to_numpy(float) + diff[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["roi_all_costs"] = np.where(costs_all > 0, value / costs_all, np.nan)
        out["cost_per_acquisition_all_costs"] = np.where(won > 0, costs_all / won, np.nan)
    out["net_value_all_costs"] = value - costs_all
    rate, years = float(finance.discount_rate), int(finance.horizon_years)
    annuity = (years if rate == 0 else (1 - (1 + rate) ** -years) / rate)
    out["npv_all_costs"] = -costs.capex + annuity * ((value - spend) * year - yearly)
    gain = out["value_outlets"].to_numpy(float) * year - costs.outlet_opex_per_year
    out["outlets_net_per_year"] = gain - costs.capex_per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        out["payback_years"] = np.where(costs.capex <= 0, np.nan,
                                        np.where(gain > 0, costs.capex / gain, np.inf))
    return out
