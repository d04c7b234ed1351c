"""Customer lifetime value by segment, from the simulation's own survival and deposits
(docs/scenarios.md, "Lifetime value").

For each segment (age band x income tier) and replication: the year's churn rate of its
customers, ``churned / mean customers x 52 / weeks`` (every churn event, new customers
who leave again included), so a yearly retention ``q = 1 - churn``; the deposits a new
customer brings, the campaign arm's uplift in deposits at the horizon's end over its
uplift in new customers (where the campaigns won none there: the segment's deposits per
customer). The value of a new customer over ``finance.horizon_years`` ``H`` at
``finance.discount_rate`` ``r`` is then

    CLV = margin x deposits x sum_{t=0}^{H-1} (q / (1 + r))^t

its first year's margin (the one-year value the KPI ``roi`` counts), then each further
year's, as long as it stays, discounted. Balances are held at the first year's end (a
customer whose deposits grow is worth more: the figure is a floor).

The budget's curves carry the same two figures per segment from the response sweep
(``margin_per_customer``, a year's margin on the deposits a new customer brings, and
``retention_year``), and :func:`valued_curves` sets the value per customer the optimizer
counts from them: the lifetime value for ``budget.objective = "value"`` (and for
``min_roi``), a year's margin for ``"margin"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulation import CUSTOMER_STAGES

__all__ = ["LIFETIME_KPIS", "VALUE_BASIS", "VALUE_NAMES", "customers_held", "lifetime_kpis",
           "lifetime_years", "segment_lifetime", "value_check", "valued_curves", "yearly_retention"]

#: The columns :func:`lifetime_kpis` adds to a run's KPIs.
LIFETIME_KPIS = ("clv_per_new_customer", "value_campaigns_clv", "roi_clv")
#: The curves' columns a lifetime value per customer is made from (sitesim's own curves
#: have them; a curves file without them keeps its own ``value_per_customer``).
VALUE_BASIS = ("margin_per_customer", "retention_year")
#: What the value per customer is, by ``budget.objective`` (for labels).
VALUE_NAMES = {"customers": "lifetime value", "value": "lifetime value",
               "margin": "a year's margin"}


def customers_held(ts: pd.DataFrame, by: list[str]) -> pd.Series:
    """The mean over the weeks of a timeseries' customers (rows of week x community x
    segment), per ``by`` (columns of it)."""
    customers = ts[list(CUSTOMER_STAGES)].sum(axis=1)
    weekly = customers.groupby([ts[c] for c in (*by, "week")]).sum()
    return weekly.groupby(level=list(range(len(by)))).mean()


def yearly_retention(churned: pd.Series, held: pd.Series, weeks: int) -> pd.Series:
    """The share of customers kept a year: one less the churn events over the mean
    customers held, scaled from ``weeks`` to 52 (within 0 and 1; 1 where none are held)."""
    churn = (churned / held.where(held > 0) * 52 / weeks).fillna(0.0).clip(0.0, 1.0)
    return 1.0 - churn


def lifetime_years(retention: Any, rate: float, horizon: int) -> np.ndarray:
    """The years of margin a customer kept with yearly ``retention`` is worth over
    ``horizon`` years discounted at ``rate``: ``sum_{t=0}^{H-1} (q / (1 + r))^t``."""
    x = np.asarray(retention, float) / (1.0 + rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isclose(x, 1.0), float(horizon), (1 - x ** horizon) / (1 - x))


def valued_curves(curves: pd.DataFrame, *, objective: str, rate: float,
                  horizon: int) -> pd.DataFrame:
    """``curves`` with ``value_per_customer`` set from :data:`VALUE_BASIS` for
    ``objective``: a year's margin for ``"margin"``, else the lifetime value over
    ``horizon`` years at ``rate``. Curves without those columns (a curves file) are
    returned as they are: their value per customer is the user's."""
    if not set(VALUE_BASIS) <= set(curves.columns):
        return curves
    margin = curves["margin_per_customer"].to_numpy(float)
    years = (1.0 if objective == "margin"
             else lifetime_years(curves["retention_year"].to_numpy(float), rate, horizon))
    return curves.assign(value_per_customer=margin * years)


def segment_lifetime(campaign: pd.DataFrame, counterfactual: pd.DataFrame, *,
                     margin: float, rate: float, horizon: int) -> pd.DataFrame:
    """One replication's lifetime value by segment, from its campaign arm's and its
    counterfactual's timeseries (rows of week x community x segment): ``uplift_new``,
    ``churn_year``, ``retention_year``, ``deposits_per_new``, ``clv``."""
    weeks = int(campaign["week"].max())
    last, last_cf = (ts[ts["week"] == ts["week"].max()] for ts in (campaign, counterfactual))
    by = campaign.groupby("segment")
    churned = by["churned"].sum()
    q = yearly_retention(churned, customers_held(campaign, ["segment"]).reindex(
        churned.index), weeks)
    new = by["new_customers"].sum() - counterfactual.groupby("segment")[
        "new_customers"].sum().reindex(churned.index, fill_value=0.0)
    dep = last.groupby("segment")["deposits"].sum()
    dep_cf = last_cf.groupby("segment")["deposits"].sum().reindex(dep.index, fill_value=0.0)
    per_customer = dep / customers_held(last, ["segment"]).where(lambda c: c > 0)
    # where the campaigns won customers: their deposits (none below zero); where they won
    # none: the segment's deposits per customer
    per_new = ((dep - dep_cf).clip(lower=0.0) / new.where(new > 0))
    per_new = per_new.fillna(per_customer).fillna(0.0)
    years = lifetime_years(q.to_numpy(float), rate, horizon)
    return pd.DataFrame({"uplift_new": new, "churn_year": 1.0 - q, "retention_year": q,
                         "deposits_per_new": per_new,
                         "clv": margin * per_new * years}).rename_axis("segment")


def lifetime_kpis(kpis: pd.DataFrame, timeseries: pd.DataFrame,
                  counterfactual: pd.DataFrame, *, margin: float, rate: float,
                  horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``kpis`` with :data:`LIFETIME_KPIS` (``value_campaigns_clv``: the campaigns' new
    customers of each segment at its lifetime value; ``roi_clv`` that over the spend;
    ``clv_per_new_customer`` their mean), and the segments' table averaged over the
    replications (for the manifest)."""
    out = kpis.copy()
    tables = []
    # the rows of each replication, found once; its table is taken one at a time (a
    # city's weekly tables are a gigabyte: split whole they would be copied at once)
    runs = timeseries.groupby("replication", sort=False).indices
    bases = counterfactual.groupby("replication", sort=False).indices
    for i, row in out.iterrows():
        rep = int(row["replication"])
        seg = segment_lifetime(timeseries.iloc[runs[rep]], counterfactual.iloc[bases[rep]],
                               margin=margin, rate=rate, horizon=horizon)
        tables.append(seg.assign(replication=rep))
        value = float((seg["uplift_new"] * seg["clv"]).sum())
        won = float(seg["uplift_new"].sum())
        spend = float(row["spend"])
        out.loc[i, "value_campaigns_clv"] = value
        out.loc[i, "roi_clv"] = value / spend if spend > 0 else np.nan
        out.loc[i, "clv_per_new_customer"] = value / won if won > 0 else np.nan
    segments = (pd.concat(tables).groupby("segment")[
        ["uplift_new", "churn_year", "retention_year", "deposits_per_new", "clv"]].mean()
        if tables else pd.DataFrame())
    return out, segments


def value_check(plan_value: float, plan_customers: float, kpis: pd.DataFrame,
                objective: str) -> dict[str, object] | None:
    """For a value objective, the plan's value per new customer on its curves against the
    run's simulated one (``value_campaigns_clv`` or, for ``"margin"``, ``value_campaigns``
    over ``uplift_new_customers``; mean and 95% interval over the replications), agreeing
    within the interval widened by :data:`scenarios.plan_check.TOLERANCE`. None for
    ``"customers"`` or with fewer than two replications that won customers."""
    from scenarios.plan_check import agrees
    from simulation import t_interval

    if objective == "customers" or plan_customers <= 0:
        return None
    column = "value_campaigns" if objective == "margin" else "value_campaigns_clv"
    won = kpis["uplift_new_customers"].astype(float)
    per = (kpis[column].astype(float) / won.where(won > 0)).dropna().to_numpy()
    if len(per) < 2:
        return None
    mean, _, low, high, _ = t_interval(per)
    forecast = float(plan_value) / float(plan_customers)
    return {"objective": objective, "value": VALUE_NAMES[objective], "forecast": forecast,
            "simulated": float(mean), "low": float(low), "high": float(high),
            "agrees": agrees(forecast, float(mean), float(low), float(high))}
