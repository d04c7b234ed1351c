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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["LIFETIME_KPIS", "lifetime_kpis", "segment_lifetime"]

#: The columns :func:`lifetime_kpis` adds to a run's KPIs.
LIFETIME_KPIS = ("clv_per_new_customer", "value_campaigns_clv", "roi_clv")
_CUSTOMERS = ["new", "active", "mature"]


def segment_lifetime(campaign: pd.DataFrame, counterfactual: pd.DataFrame, *,
                     margin: float, rate: float, horizon: int) -> pd.DataFrame:
    """One replication's lifetime value by segment, from its campaign arm's and its
    counterfactual's timeseries (rows of week x community x segment): ``uplift_new``,
    ``churn_year``, ``retention_year``, ``deposits_per_new``, ``clv``."""
    weeks = int(campaign["week"].max())
    last, last_cf = (ts[ts["week"] == ts["week"].max()] for ts in (campaign, counterfactual))
    frame = campaign.assign(customers=campaign[_CUSTOMERS].sum(axis=1))
    by = frame.groupby("segment")
    churned = by["churned"].sum()
    held = frame.groupby(["segment", "week"])["customers"].sum().groupby("segment").mean()
    churn = (churned / held.where(held > 0) * 52 / weeks).fillna(0.0).clip(0.0, 1.0)
    new = by["new_customers"].sum() - counterfactual.groupby("segment")[
        "new_customers"].sum().reindex(churned.index, fill_value=0.0)
    dep = last.groupby("segment")["deposits"].sum()
    dep_cf = last_cf.groupby("segment")["deposits"].sum().reindex(dep.index, fill_value=0.0)
    per_customer = dep / last.assign(c=last[_CUSTOMERS].sum(axis=1)).groupby("segment")[
        "c"].sum().where(lambda c: c > 0)
    # where the campaigns won customers: their deposits (none below zero); where they won
    # none: the segment's deposits per customer
    per_new = ((dep - dep_cf).clip(lower=0.0) / new.where(new > 0))
    per_new = per_new.fillna(per_customer).fillna(0.0)
    q = 1.0 - churn
    x = q / (1.0 + rate)
    years = np.where(np.isclose(x, 1.0), float(horizon), (1 - x ** horizon) / (1 - x))
    return pd.DataFrame({"uplift_new": new, "churn_year": churn, "retention_year": q,
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
    runs = dict(tuple(timeseries.groupby("replication", sort=False)))  # split once
    bases = dict(tuple(counterfactual.groupby("replication", sort=False)))
    for i, row in out.iterrows():
        rep = int(row["replication"])
        seg = segment_lifetime(runs[rep], bases[rep], margin=margin, rate=rate,
                               horizon=horizon)
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
