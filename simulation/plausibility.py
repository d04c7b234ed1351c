"""Where a bank's figures lie, and a warning for each run that leaves it.

The envelope is what published sources put a retail bank's year at (docs/simulation.md,
"The envelope"): how many existing customers leave, how many join without campaigns, how
much a year of marketing can add, and what a new customer costs. A run outside it is not
necessarily wrong, but every figure it prints needs a reason a budget review would accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

__all__ = ["ENVELOPE", "Envelope", "plausibility_warnings"]


@dataclass(frozen=True)
class Envelope:
    """Bounds a year of a retail bank's customers stays within (shares a year).

    ``attrition``: share of the customers at the start who leave in a year (UK current
    accounts 3% switching a year, CMA 2015; J.D. Power: 4-11% of US customers change
    their primary bank a year; a 17.75-year average tenure, Bankrate, is 5.6% a year);
    ``organic``: new customers a year without campaigns, as a share of the customers at
    the start (J.D. Power 2010: new customers are 6-8% of a bank's base a year; Novantas
    2016: about 7% of primary checking relationships are new each year); ``gain``: what a
    year of campaigns adds at most, as a share of the customers at the start and of the
    adults (assumption: a bank spending 0.06% of its assets on marketing, ABA 2023, at a
    cost of 200-560 per new account, First Page Sage 2024 and Finextra, adds a few
    percent of its base; a quarter of it is far beyond any source); ``cac_floor``: a
    channel's cost per new customer below this is far below every source (the lowest,
    30 euros, is a neobank's, Finextra).
    """

    attrition: tuple[float, float] = (0.03, 0.12)
    organic: tuple[float, float] = (0.02, 0.12)
    gain_of_customers: float = 0.25
    gain_of_adults: float = 0.03
    cac_floor: float = 30.0


ENVELOPE = Envelope()


def _share(x: float) -> str:
    return f"{x:.1%}"


def plausibility_warnings(kpis: Mapping[str, float], *, weeks: int, adults: float,
                          channels: pd.DataFrame | None = None,
                          envelope: Envelope = ENVELOPE) -> list[str]:
    """One line for each way a run's KPIs (means over replications) leave the envelope.

    ``kpis``: ``customers_start``, ``yearly_attrition``, ``counterfactual_new_customers``,
    ``uplift_new_customers``; ``channels``: spend and new customers credited per channel
    (``channel``, ``spend``, ``won``; means over replications), for the cost per
    acquisition of each channel.
    """
    out: list[str] = []
    per_year = 52.0 / weeks
    start = float(kpis.get("customers_start", 0.0))
    see = "(docs/simulation.md, The envelope)"
    attrition = float(kpis.get("yearly_attrition", float("nan")))
    low, high = envelope.attrition
    if start > 0 and not low <= attrition <= high:
        out.append(f"yearly attrition {_share(attrition)} of the customers at the start is "
                   f"outside {_share(low)}-{_share(high)}, where published switching and "
                   f"tenure figures put a bank {see}")
    if start > 0:
        organic = float(kpis["counterfactual_new_customers"]) * per_year / start
        low, high = envelope.organic
        if not low <= organic <= high:
            out.append(f"without campaigns {_share(organic)} of the customer base joins in a "
                       f"year; sources put it at {_share(low)}-{_share(high)} {see}")
        gain = float(kpis["uplift_new_customers"]) * per_year
        if gain > envelope.gain_of_customers * start:
            out.append(f"campaigns add {gain:,.0f} customers a year, {_share(gain / start)} of "
                       f"the customers at the start (more than "
                       f"{_share(envelope.gain_of_customers)}: beyond any source) {see}")
        if adults > 0 and gain > envelope.gain_of_adults * adults:
            out.append(f"campaigns win {_share(gain / adults)} of all adults in a year (more "
                       f"than {_share(envelope.gain_of_adults)}) {see}")
    if channels is not None:
        for channel, spend, won in zip(channels["channel"].astype(str),
                                       channels["spend"].astype(float),
                                       channels["won"].astype(float), strict=True):
            if channel == "organic" or spend <= 0 or won <= 0:
                continue
            cost = spend / won
            if cost < envelope.cac_floor:
                out.append(f"{channel}: {cost:,.0f} per new customer ({won:,.0f} for "
                           f"{spend:,.0f}) is far below every published cost of "
                           f"acquisition (the lowest, {envelope.cac_floor:,.0f}) {see}")
    return out
