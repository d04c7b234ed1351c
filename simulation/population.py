"""Residents synthesized from community counts, and their social ties."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from geo.assumptions import VENUE_COST_PER_EVENT
from simulation.errors import SimulationError
from simulation.ties import ties_from_pairs

if TYPE_CHECKING:
    from geo import StudyArea

__all__ = ["COMMUNITY_INPUT_COLUMNS", "Residents", "Venues", "community_inputs",
           "synthesize_residents", "venue_inputs"]

#: What the model needs per community (``community_inputs`` builds it from a StudyArea).
COMMUNITY_INPUT_COLUMNS: tuple[str, ...] = (
    "pop_18_35", "pop_36_55", "pop_56_plus", "median_income", "income_low_share",
    "income_high_share", "digital_adoption", "sme_share", "customers", "outlet_min",
    "outlet", "outlet_capacity", "competitor_share", "x", "y",
)
AGE_SHIFT = np.array([0.08, 0.0, -0.15])  # digital propensity by age band, around the mean


@dataclass(frozen=True)
class Residents:
    """One entry per agent; an agent stands for ``scale`` adults."""

    community: np.ndarray  # int32 code into community_ids
    community_ids: pd.Index
    age: np.ndarray  # int8: 0 18-35, 1 36-55, 2 56+
    tier: np.ndarray  # int8: 0 low, 1 middle, 2 high
    sme: np.ndarray  # bool
    digital: np.ndarray  # float32 propensity in [0, 1]
    outlet_min: np.ndarray  # float32 minutes to the nearest own outlet
    outlet: np.ndarray  # int32 code of that outlet
    outlet_ids: pd.Index
    customer: np.ndarray  # bool: an own customer at the start
    ties: csr_matrix  # row-normalized
    scale: float

    @property
    def agent_scale(self) -> float:
        """Adults per agent (1 up to ``max_agents`` residents, more above)."""
        return self.scale

    @property
    def segment(self) -> np.ndarray:
        """Segment code 0..8 = age x 3 + tier (see simulation.params.SEGMENTS)."""
        return (self.age * 3 + self.tier).astype(np.int8)

    def __len__(self) -> int:
        return int(self.community.size)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    base[np.argsort(-(exact - base), kind="stable")[: total - int(base.sum())]] += 1
    return base


def community_inputs(area: object, *, mode: str = "walk", travel: object | None = None,
                     own: pd.DataFrame | None = None) -> pd.DataFrame:
    """The per-community inputs of the model from a study area: demographics, minutes to,
    code and weekly capacity of the nearest own outlet, and the competitors' Huff share.

    ``own``: the own outlets (``kind``, indexed by id) when they differ from the area's,
    such as after an outlet plan; ``travel``: geo travel times that include them and the
    competitors (computed for ``mode`` when absent). An outlet's capacity is its own
    ``capacity_per_week`` (outlets or candidates layer), else its kind's (area.toml
    ``[kinds]``).
    """
    from geo import StudyArea, TravelTimes, huff_shares, travel_times

    if not isinstance(area, StudyArea):
        raise SimulationError("community_inputs needs a geo.StudyArea")
    c = area.communities
    adults = area.adults.astype(float)
    if own is None:
        own = area.outlets[area.outlets["owner"] == "own"]
    if own.empty:
        raise SimulationError(f"{area.name}: no own outlet is open; the model needs one")
    comp = area.outlets[area.outlets["owner"] == "competitor"]
    market = pd.concat([own[["kind"]].assign(owner="own"), comp[["kind", "owner"]]])
    if travel is None:
        travel = travel_times(area, area.outlets, mode=mode)  # type: ignore[arg-type]
    assert isinstance(travel, TravelTimes)
    per_community = travel.community_minutes()[own.index]
    shares = huff_shares(travel, market, by="owner")
    cent = c.geometry.representative_point()
    frame = pd.DataFrame({
        "pop_18_35": c["pop_18_35"], "pop_36_55": c["pop_36_55"],
        "pop_56_plus": c["pop_56_plus"], "median_income": c["median_income"],
        "income_low_share": c.get("income_low_share", pd.Series(0.2, index=c.index)),
        "income_high_share": c.get("income_high_share", pd.Series(0.2, index=c.index)),
        "digital_adoption": c.get("digital_adoption", pd.Series(0.8, index=c.index)),
        "sme_share": (c["sme_count"] / adults.where(adults > 0)).clip(0, 0.5)
        if "sme_count" in c else 0.03,
        "customers": area.customers,
        "outlet_min": per_community.min(axis=1),
        "outlet": per_community.idxmin(axis=1),
        "outlet_capacity": per_community.idxmin(axis=1).map(_capacity(area, own)),
        "competitor_share": shares.get("competitor", 0.0),
        "x": cent.x, "y": cent.y,
    }, index=c.index)
    return frame.fillna({"income_low_share": 0.2, "income_high_share": 0.2,
                         "digital_adoption": 0.8, "sme_share": 0.03, "customers": 0,
                         "competitor_share": 0.0, "median_income": 0.0})


def _capacity(area: StudyArea, own: pd.DataFrame) -> pd.Series:
    """Visits a week each own outlet takes: its own figure, else its kind's."""
    layers = [layer["capacity_per_week"] for layer in (area.outlets, area.candidates)
              if "capacity_per_week" in layer]
    given = pd.concat(layers) if layers else pd.Series(dtype=float)
    given = given[~given.index.duplicated()]
    mine = pd.to_numeric(given.reindex(own.index), errors="coerce")
    kinds = area.config.kinds
    by_kind = own["kind"].map({k: v.capacity_per_week for k, v in kinds.items()})
    capacity = mine.where(mine > 0, by_kind).astype(float)
    bad = capacity.index[~(capacity > 0)]
    if len(bad):
        from geo.errors import InputError

        kinds_of = ", ".join(f"{i} ({own.loc[i, 'kind']})" for i in bad[:5])
        raise InputError(f"{area.source}: own outlet(s) {kinds_of} have no capacity: give "
                         "capacity_per_week in the outlets layer or for the kind in "
                         "area.toml [kinds]")
    return capacity


@dataclass(frozen=True)
class Venues:
    """Event venues: ``capacity`` (people) and ``cost_per_event`` per venue, and the
    population-weighted walking minutes from each community to each venue."""

    table: pd.DataFrame  # index venue_id; capacity, cost_per_event
    minutes: pd.DataFrame  # communities x venues


def venue_inputs(area: object, *, default_cost: float = VENUE_COST_PER_EVENT,
                 minutes: pd.DataFrame | None = None) -> Venues:
    """Venues of a study area with walking minutes from every community (``minutes``:
    communities x venues when already computed)."""
    from geo import StudyArea, travel_times

    if not isinstance(area, StudyArea):
        raise SimulationError("venue_inputs needs a geo.StudyArea")
    if area.venues.empty:
        raise SimulationError(f"{area.name}: the area has no venues for events")
    v = area.venues
    table = pd.DataFrame({
        "capacity": v["capacity"].astype(float),
        "cost_per_event": (v["cost_per_event"].astype(float).fillna(default_cost)
                           if "cost_per_event" in v else default_cost)}, index=v.index)
    if minutes is None:
        minutes = travel_times(area, v, mode="walk").community_minutes()
    return Venues(table=table, minutes=minutes)


def synthesize_residents(inputs: pd.DataFrame, *, max_agents: int, ties_within: int,
                         ties_across: int, rewire: float, tie_distance_km: float,
                         rng: np.random.Generator) -> Residents:
    """Agents from community counts: age band by the counts, income tier by the shares,
    small-business owners by the SME share, digital propensity around the community's
    adoption, initial customers by the ``customers`` column; ties within the community
    (a small-world ring) and across communities (falling off with distance)."""
    missing = [c for c in COMMUNITY_INPUT_COLUMNS if c not in inputs.columns]
    if missing:
        raise SimulationError(f"community inputs lack column(s) {missing}")
    counts = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy(dtype=np.float64)
    adults = counts.sum(axis=1)
    total = float(adults.sum())
    if total <= 0:
        raise SimulationError("the communities have no adults")
    agents_total = int(min(max_agents, round(total)))
    scale = total / agents_total
    per_comm = _allocate(agents_total, adults)
    community = np.repeat(np.arange(len(inputs), dtype=np.int32), per_comm)
    n = community.size
    age = np.empty(n, dtype=np.int8)
    start = 0
    for k, m in enumerate(per_comm):
        if m:
            age[start:start + m] = np.repeat(np.arange(3, dtype=np.int8),
                                             _allocate(int(m), counts[k] + 1e-9))
            start += m
    low = inputs["income_low_share"].to_numpy(dtype=np.float64)[community]
    high = inputs["income_high_share"].to_numpy(dtype=np.float64)[community]
    u = rng.random(n)
    tier = np.where(u < low, 0, np.where(u < low + high, 2, 1)).astype(np.int8)
    sme = rng.random(n) < inputs["sme_share"].to_numpy(dtype=np.float64)[community]
    digital = np.clip(inputs["digital_adoption"].to_numpy(dtype=np.float64)[community]
                      + AGE_SHIFT[age] + rng.normal(0, 0.15, n), 0, 1).astype(np.float32)
    outlet_ids = pd.Index(pd.unique(inputs["outlet"]))
    outlet = outlet_ids.get_indexer(pd.Index(inputs["outlet"]))[community].astype(np.int32)
    outlet_min = inputs["outlet_min"].to_numpy(dtype=np.float32)[community]
    customer = np.zeros(n, dtype=bool)
    rate = (inputs["customers"].to_numpy(dtype=np.float64) / np.maximum(adults, 1)).clip(0, 1)
    customer[rng.random(n) < rate[community]] = True
    ties = _ties(community, per_comm, inputs, ties_within, ties_across, rewire,
                 tie_distance_km, rng)
    return Residents(community=community, community_ids=pd.Index(inputs.index),
                     age=age, tier=tier, sme=sme, digital=digital, outlet_min=outlet_min,
                     outlet=outlet, outlet_ids=outlet_ids, customer=customer, ties=ties,
                     scale=scale)


def _ties(community: np.ndarray, per_comm: np.ndarray, inputs: pd.DataFrame, within: int,
          across: int, rewire: float, distance_km: float,
          rng: np.random.Generator) -> csr_matrix:
    n = community.size
    first = np.concatenate([[0], np.cumsum(per_comm)[:-1]])
    size = per_comm[community]
    pos = np.arange(n) - first[community]
    rows, cols = [], []
    # a ring within each community: neighbours at offsets 1..k, some rewired within it
    for offset in range(1, within // 2 + 1):
        ok = size > 2 * offset
        a = np.flatnonzero(ok)
        b = first[community[a]] + (pos[a] + offset) % size[a]
        moved = rng.random(a.size) < rewire
        b[moved] = first[community[a[moved]]] + rng.integers(0, size[a[moved]])
        rows.append(a)
        cols.append(b)
    # ties to other communities, with probability falling off with distance
    if across and len(per_comm) > 1:
        xy = inputs[["x", "y"]].to_numpy(dtype=np.float64)
        d_km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000
        weight = np.exp(-d_km / distance_km) * per_comm[None, :]
        np.fill_diagonal(weight, 0)
        lonely = weight.sum(axis=1) == 0  # no other community with residents
        weight[lonely, lonely.nonzero()[0]] = 1.0
        weight /= weight.sum(axis=1, keepdims=True)
        members = np.arange(n)
        for _ in range(across):
            target = np.empty(n, dtype=np.int64)
            for k, m in enumerate(per_comm):
                if m:
                    target[first[k]:first[k] + m] = rng.choice(len(per_comm), size=int(m),
                                                               p=weight[k])
            rows.append(members)
            cols.append(first[target] + rng.integers(0, np.maximum(per_comm[target], 1)))
    a = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    b = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return ties_from_pairs(a, b, n)
