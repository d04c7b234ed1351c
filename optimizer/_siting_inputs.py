"""What site_outlets is given: the input checks, the cost table reader, and the options
(a candidate site as one of the kinds it allows, with that kind's costs and capacity)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pulp

from optimizer._checks import require_columns
from optimizer.errors import OptimizerInputError

__all__ = ["CostWeights", "Options", "TravelPairs", "best_competitor", "build_options",
           "capacities", "check_inputs", "opening_costs", "read_cost_table", "travel_pairs"]


def read_cost_table(path: str) -> pd.DataFrame:
    """Read a user's cost table (``origin_id``, ``dest_id``, ``cost``) from CSV or Parquet.

    ``cost`` is in minutes (or whatever unit ``coverage_minutes`` uses).
    """
    p = Path(path)
    if not p.exists():
        raise OptimizerInputError(f"{p}: no such cost table; give a CSV or Parquet file with "
                                  "origin_id, dest_id, cost")
    if p.suffix.lower() == ".parquet":
        table = pd.read_parquet(p)
    elif p.suffix.lower() in (".csv", ".txt"):
        table = pd.read_csv(p)
    else:
        raise OptimizerInputError(f"{p}: unknown format {p.suffix!r}; expected .csv or .parquet")
    missing = [c for c in ("origin_id", "dest_id", "cost") if c not in table.columns]
    if missing:
        raise OptimizerInputError(f"{p}: missing column(s) {missing}; expected origin_id, "
                                  "dest_id, cost")
    cost = pd.to_numeric(table["cost"], errors="coerce")
    bad = cost.isna() | (cost < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise OptimizerInputError(f"{p}: row {i + 2}: cost = {table['cost'].iloc[i]!r}; "
                                  "expected a number >= 0")
    return table.assign(cost=cost.astype(float))[["origin_id", "dest_id", "cost"]]



@dataclass(frozen=True)
class CostWeights:
    """The yearly costs ``min_cost`` weighs (in the area's currency): each adult's minute
    of travel to the outlet serving it, each adult no outlet serves, and opening an
    outlet (capex annualized over ``life_years`` at ``rate``, plus its opex). With
    ``value_per_covered_adult`` > 0, ``max_coverage`` and ``max_capture`` weigh the same
    opening costs against that yearly value of each adult covered (or captured)."""

    per_adult_minute: float = 0.0
    per_unserved_adult: float = 0.0
    life_years: float = 10.0
    rate: float = 0.0
    value_per_covered_adult: float = 0.0

    @property
    def values_coverage(self) -> bool:
        return self.value_per_covered_adult > 0

    def __post_init__(self) -> None:
        for name in ("per_adult_minute", "per_unserved_adult", "rate",
                     "value_per_covered_adult"):
            if not getattr(self, name) >= 0:
                raise OptimizerInputError(f"costs.{name} = {getattr(self, name)}: expected "
                                          ">= 0")
        if not self.life_years > 0:
            raise OptimizerInputError(f"costs.life_years = {self.life_years}: expected > 0")


@dataclass(frozen=True)
class Options:
    site: np.ndarray  # site id per option
    kind: np.ndarray
    capex: np.ndarray
    opex: np.ndarray
    capacity: np.ndarray


def build_options(sites: pd.DataFrame, kinds: Mapping[str, Mapping[str, float]],
             max_new: Mapping[str, int] | int | None) -> Options:
    cand = sites[sites["status"] == "candidate"]
    rows = []
    for sid, r in cand.iterrows():
        allowed = r["kinds"].split("|") if isinstance(r["kinds"], str) else list(r["kinds"])
        for k in allowed:
            if not kinds:
                raise OptimizerInputError(
                    "no kinds table: give kinds={kind: {'capex': ..., 'opex_per_year': ..., "
                    f"'capacity_per_week': ...}}}} for the kinds the sites allow ({k!r} for "
                    f"site {sid!r}); a pack's StudyArea.config.kinds has them")
            if k not in kinds:
                raise OptimizerInputError(f"site {sid!r}: kind {k!r} has no costs; expected "
                                          f"one of {sorted(kinds)}")
            if isinstance(max_new, Mapping) and max_new.get(k, 0) <= 0:
                continue  # kinds not listed in max_new are not opened
            spec = kinds[k]
            cap = r.get("capacity_per_week")
            rows.append((sid, k, float(r["capex"]) + spec.get("capex", 0.0),
                         float(r["opex_per_year"]) + spec.get("opex_per_year", 0.0),
                         float(cap) if cap is not None and pd.notna(cap) and cap > 0
                         else spec.get("capacity_per_week", 0.0)))
    if not rows:
        return Options(*(np.zeros(0, dtype=object) for _ in range(2)),
                        *(np.zeros(0) for _ in range(3)))
    site, kind, capex, opex, capacity = zip(*rows, strict=True)
    return Options(np.array(site, dtype=object), np.array(kind, dtype=object),
                    np.array(capex), np.array(opex), np.array(capacity))



def check_inputs(demand: pd.DataFrame, sites: pd.DataFrame, travel: pd.DataFrame, objective: str,
           coverage_minutes: float, min_coverage_share: float | None,
           capex_budget: float | None, opex_budget: float | None,
           competitors: pd.DataFrame | None) -> None:
    if objective not in ("max_coverage", "p_median", "max_capture", "max_share",
                         "target_share", "p_center", "set_cover", "min_cost"):
        raise OptimizerInputError(f"objective = {objective!r}: expected max_coverage, "
                                  "p_median, max_capture, max_share, target_share, p_center, "
                                  "set_cover or min_cost")
    require_columns(("demand", demand, ("weight", "adults")),
                    ("sites", sites, ("status", "capex", "opex_per_year")),
                    ("travel", travel, ("origin_id", "dest_id", "cost")))
    if (sites["status"] == "candidate").any():
        require_columns(("sites", sites, ("kinds",)))
    bad = ~sites["status"].isin(["candidate", "existing"])
    if bad.any():
        raise OptimizerInputError(f"sites: status {sites['status'][bad].iloc[0]!r} of "
                                  f"{sites.index[bad][0]!r}; expected candidate or existing")
    if coverage_minutes <= 0:
        raise OptimizerInputError(f"coverage_minutes = {coverage_minutes}: expected > 0")
    if min_coverage_share is not None and not 0 <= min_coverage_share <= 1:
        raise OptimizerInputError(f"min_coverage_share = {min_coverage_share}: expected a "
                                  "share in [0, 1]")
    for name, v in (("capex_budget", capex_budget), ("opex_budget", opex_budget)):
        if v is not None and v < 0:
            raise OptimizerInputError(f"{name} = {v}: expected >= 0")
    if (demand["weight"] < 0).any() or (demand["adults"] < 0).any():
        raise OptimizerInputError("demand weight and adults must be >= 0")
    if objective in ("max_capture", "max_share", "target_share") and (competitors is None
                                                      or "kind" not in competitors):
        raise OptimizerInputError(f"{objective} needs competitors: origin_id, dest_id, cost "
                                  "and kind of each competitor outlet")



def opening_costs(opts: Options, x: list[pulp.LpVariable],
                  keep: Mapping[object, pulp.LpVariable], existing: pd.DataFrame,
                  costs: CostWeights) -> list[pulp.LpAffineExpression]:
    """A year's cost of each option opened (capex annualized, plus opex) and of each
    outlet that may close and is kept (its opex), as objective terms."""
    from optimizer.combined import annualized_cost

    terms = [(annualized_cost(float(c), costs.life_years, costs.rate) + float(o)) * v
             for c, o, v in zip(opts.capex, opts.opex, x, strict=True)]
    opex = existing["opex_per_year"].astype(float).to_dict()
    terms.extend(float(opex[e]) * v for e, v in keep.items())
    return terms


@dataclass(frozen=True)
class TravelPairs:
    """The travel table by position: demand point ``di``, site ``si`` (a row of sites)
    and minutes ``t`` of each pair to a known site; ``by_site``: each site row's pairs;
    ``covered_before``: the demand points an existing outlet reaches within the
    coverage minutes."""

    di: np.ndarray
    si: np.ndarray
    t: np.ndarray
    by_site: dict[int, np.ndarray]
    covered_before: np.ndarray


def travel_pairs(ids: pd.Index, sites: pd.DataFrame, travel: pd.DataFrame,
                 coverage_minutes: float) -> TravelPairs:
    """The travel pairs by position (pairs to sites not in ``sites`` are dropped; a
    demand point not in ``ids`` is refused by name)."""
    di = ids.get_indexer(pd.Index(travel["origin_id"]))
    if (di < 0).any():
        unknown = travel["origin_id"][di < 0].iloc[0]
        raise OptimizerInputError(f"travel names demand point {unknown!r}, which is not in "
                                  "demand")
    si = sites.index.get_indexer(pd.Index(travel["dest_id"]))
    keep = si >= 0
    di, si, t = di[keep], si[keep], travel["cost"].to_numpy(float)[keep]
    is_existing = (sites["status"] == "existing").to_numpy()
    covered_before = np.zeros(len(ids), dtype=bool)
    covered_before[di[(t <= coverage_minutes) & is_existing[si]]] = True
    order = np.argsort(si, kind="stable")
    bounds = np.searchsorted(si[order], np.arange(len(sites) + 1))
    by_site = {row: order[bounds[row]:bounds[row + 1]] for row in range(len(sites))
               if bounds[row + 1] > bounds[row]}
    return TravelPairs(di, si, t, by_site, covered_before)


def best_competitor(ids: pd.Index, competitors: pd.DataFrame, attractiveness: Mapping[str, float],
                    beta: float) -> np.ndarray:
    """Each demand point's best competitor utility (kind attractiveness x
    max(minutes, 1)^-beta, the Huff utility of geo.market); 0 where none reaches."""
    ci = ids.get_indexer(pd.Index(competitors["origin_id"]))
    best = np.zeros(len(ids))
    utility = np.array([attractiveness.get(k, 1.0) for k in competitors["kind"]]) \
        * np.maximum(competitors["cost"].to_numpy(float), 1.0) ** -beta
    np.maximum.at(best, ci[ci >= 0], utility[ci >= 0])
    return best


def capacities(sites: pd.DataFrame, kinds: Mapping[str, Mapping[str, float]],
               existing_kind: pd.Series) -> np.ndarray:
    """Visits a week each existing outlet takes (its own ``capacity_per_week``, else its
    kind's; 0 for a candidate, whose capacity is its option's), per row of ``sites``."""
    out = np.zeros(len(sites))
    own = sites.get("capacity_per_week")
    for row, (sid, status) in enumerate(zip(sites.index, sites["status"], strict=True)):
        if status != "existing":
            continue
        cap = pd.to_numeric(own.loc[sid], errors="coerce") if own is not None else None
        out[row] = float(cap) if cap is not None and pd.notna(cap) and cap > 0 else kinds.get(
            existing_kind.get(sid, "branch"), {}).get("capacity_per_week", 0.0)
    return out
