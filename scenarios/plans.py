"""The planning stages of a scenario: from a study area and a scenario to the optimizer's
inputs, and its plans (outlets, events, staff; the budget's in
:mod:`scenarios.plans_budget`).

Each function takes what the stage before produced, so ``sitesim site``, ``sitesim
allocate`` and the full run (``run_scenario``) share them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import (
    StudyArea,
    TravelTimes,
    index_of_area,
    load_area,
    score_communities,
    travel_times_to,
)
from geo.area import customers_assumed
from geo.assumptions import EVENT_TYPES, SELF_SERVICE
from geo.errors import InputError
from optimizer import (
    CostWeights,
    EventPlan,
    PlanInfeasibleError,
    SitingResult,
    StaffPlan,
    allocate_staff,
    event_staff_needs,
    plan_events,
    site_outlets,
)
from scenarios.names import with_places
from scenarios.preflight import event_weeks, preflight, staff_floor_reason
from scenarios.scale import scaled_to_area
from scenarios.schema import Scenario

if TYPE_CHECKING:
    from scenarios.calibration_file import CalibrationFile
from simulation import Campaign, ScheduledEvent, SimulationParams, Venues, venue_inputs

__all__ = ["Prepared", "demand_points", "event_plan", "event_venues", "expected_visits",
           "long_table", "open_outlets",
           "outlet_plan", "outlet_table", "prepare", "scenario_campaigns", "scheduled_events",
           "simulation_inputs",
           "simulation_params", "staff_plan", "travel_note"]

Progress = Callable[[str], None]
#: Pairs beyond this many minutes are left out of the siting model (p-median charges an
#: unserved penalty instead).
REACH_CUTOFF_MIN = 60.0


def _quiet(message: str) -> None:
    del message


@dataclass(frozen=True)
class Prepared:
    """A scenario's area, scores and walking times from demand points to every site
    (own and competitor outlets, candidate sites) and to the venues."""

    scenario: Scenario
    area: StudyArea
    scores: gpd.GeoDataFrame
    travel: TravelTimes
    venue_minutes: pd.DataFrame  # communities x venues


def prepare(scenario: Scenario, *, progress: Progress = _quiet) -> Prepared:
    """Load the area, compute walking times to outlets, candidates and venues, and score
    the communities with the scenario's weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(scenario.area, progress=progress)
    share = scenario.simulation.customer_share
    if share is not None and "customers" not in area.communities:
        said = [customers_assumed(share, f"{area.source}") if "'customers'" in p.message
                else p for p in area.warnings]
        area = dataclasses.replace(area, config=area.config.model_copy(
            update={"customer_share": share}), warnings=tuple(said))
    # a scenario written for another number of adults scales to this area's
    scenario = scaled_to_area(scenario, float(area.adults.sum()))
    # what needs no travel time is checked first: a wrong id or an impossible count
    # fails here, in seconds, as it does in sitesim validate
    preflight(scenario, index_of_area(area)).raise_first(scenario.name)
    clash = area.outlets.index.intersection(area.candidates.index)
    if len(clash):
        raise InputError(f"{area.source}: outlet and candidate ids overlap ({list(clash[:3])});"
                         " give candidates their own site_id values")
    sites = gpd.GeoDataFrame(geometry=pd.concat([area.outlets.geometry,
                                                 area.candidates.geometry]), crs=area.crs)
    layers = [sites] if area.venues.empty else [sites, area.venues]
    progress(f"walking times from {len(area.communities)} communities to {len(sites)} sites"
             + ("" if area.venues.empty else f" and {len(area.venues)} venues") + " (one pass)")
    travel, *to_venues = travel_times_to(area, layers, mode="walk")
    progress("scoring communities")
    scores = score_communities(area, scenario.scoring.weights, travel=travel,
                               normalization=scenario.scoring.normalization,
                               coverage_minutes=scenario.outlets.coverage_minutes,
                               min_adults=scenario.scoring.min_adults)
    venue_minutes = (to_venues[0].community_minutes() if to_venues
                     else pd.DataFrame(index=area.communities.index))
    return Prepared(scenario, area, scores, travel, venue_minutes)


def travel_note(prep: Prepared) -> str | None:
    """Where some of the prepared travel times are straight-line estimates, the line that
    says so (the same count that ``sitesim score`` and ``sitesim area import`` give)."""
    from geo import off_network_note

    return off_network_note(prep.area, len(prep.travel.fallback_communities))


def long_table(minutes: np.ndarray, origins: pd.Index, dests: pd.Index,
               cutoff: float) -> pd.DataFrame:
    rows, cols = np.nonzero(np.isfinite(minutes) & (minutes <= cutoff))
    return pd.DataFrame({"origin_id": origins[rows], "dest_id": dests[cols],
                         "cost": minutes[rows, cols].astype(float)})


def demand_points(prep: Prepared) -> pd.Series:
    """Adults at each of the travel times' demand points (``p0``, ``p1``... in their
    order): its share of its community's adults."""
    points = prep.travel.points
    adults = prep.area.adults.astype(float).reindex(points["community_id"]).to_numpy()
    return pd.Series(points["share"].to_numpy() * adults,
                     index=pd.Index([f"p{i}" for i in range(len(points))], name="point_id"))


def outlet_plan(prep: Prepared, *, time_limit_s: float = 60.0) -> SitingResult:
    """Site new outlets for the scenario's ``[outlets]`` table.

    Demand points are the travel times' points; each weighs its share of its community's
    adults times the community's score.
    """
    sc, area, travel = prep.scenario.outlets, prep.area, prep.travel
    point_adults = demand_points(prep)
    ids = point_adults.index
    score = prep.scores["score"].reindex(travel.points["community_id"]).to_numpy(float)
    demand = pd.DataFrame({"weight": point_adults.to_numpy() * score,
                           "adults": point_adults.to_numpy()}, index=ids)
    own = area.outlets[area.outlets["owner"] == "own"]
    comp = area.outlets[area.outlets["owner"] == "competitor"]
    kinds = {k: v.model_dump() for k, v in area.config.kinds.items()}
    existing = pd.DataFrame({
        "status": "existing", "kind": own["kind"], "kinds": None, "capex": 0.0,
        "opex_per_year": own["kind"].map(lambda k: kinds.get(k, {}).get("opex_per_year", 0.0)),
        "capacity_per_week": own.get("capacity_per_week", np.nan),
        "x": own.geometry.x, "y": own.geometry.y})
    cand = area.candidates
    candidates = pd.DataFrame({
        "status": "candidate", "kind": None, "kinds": cand["kinds"],
        "capex": cand["capex"].astype(float), "opex_per_year": cand["opex_per_year"].astype(float),
        "capacity_per_week": cand.get("capacity_per_week", np.nan), "x": cand.geometry.x,
        "y": cand.geometry.y})
    sites = pd.concat([existing, candidates])
    site_cols = travel.sites.get_indexer(sites.index)
    table = long_table(travel.minutes[:, site_cols], ids, sites.index, REACH_CUTOFF_MIN)
    competitors = None
    if sc.objective in ("max_capture", "max_share", "target_share"):
        # the share objectives weigh every outlet reached, as geo.huff_shares does
        cutoff = REACH_CUTOFF_MIN if sc.objective == "max_capture" else np.inf
        if sc.objective != "max_capture":
            table = long_table(travel.minutes[:, site_cols], ids, sites.index, cutoff)
        comp_cols = travel.sites.get_indexer(comp.index)
        competitors = long_table(travel.minutes[:, comp_cols], ids, comp.index, cutoff)
        for column in ("kind", "brand"):
            if column in comp:
                competitors[column] = comp[column].reindex(competitors["dest_id"]).to_numpy()
    return site_outlets(demand, sites, table, objective=sc.objective,
                        coverage_minutes=sc.coverage_minutes, kinds=kinds,
                        capex_budget=sc.capex_budget, opex_budget=sc.opex_budget,
                        max_new=dict(sc.max_new), min_coverage_share=sc.min_coverage_share,
                        min_spacing_m=sc.min_spacing_m, allow_closures=sc.allow_closures,
                        visits_per_adult=sc.visits_per_adult,
                        competitors=competitors, target_share=sc.target_share,
                        backup=sc.backup, costs=_cost_weights(prep.scenario),
                        quarters=sc.quarters, capex_per_quarter=sc.capex_per_quarter,
                        carry_over=sc.carry_over,
                        time_limit_s=time_limit_s, gap=0.005)


def _cost_weights(sc: Scenario) -> CostWeights | None:
    """min_cost's yearly costs, or the value of an adult covered that max_coverage and
    max_capture weigh against the openings' cost (None otherwise)."""
    o, f = sc.outlets, sc.finance
    if o.objective == "min_cost" and o.cost_per_adult_minute is not None \
            and o.cost_per_unserved_adult is not None:
        return CostWeights(per_adult_minute=o.cost_per_adult_minute,
                           per_unserved_adult=o.cost_per_unserved_adult,
                           life_years=f.capex_life_years, rate=f.discount_rate)
    if o.value_per_covered_adult is not None:
        return CostWeights(value_per_covered_adult=o.value_per_covered_adult,
                           life_years=f.capex_life_years, rate=f.discount_rate)
    return None


def open_outlets(prep: Prepared, plan: SitingResult | None) -> pd.DataFrame:
    """The own outlets after the plan (kept and opened): ``kind``, ``x``, ``y``, ``status``
    (``existing`` or ``new``), indexed by outlet or site id."""
    own = prep.area.outlets[prep.area.outlets["owner"] == "own"]
    frame = pd.DataFrame({"kind": own["kind"], "x": own.geometry.x, "y": own.geometry.y,
                          "status": "existing"})
    if plan is None:
        return frame
    closed = plan.decisions.loc[plan.decisions["action"] == "close", "site_id"]
    frame = frame.drop(index=[c for c in closed if c in frame.index])
    opened = plan.decisions[plan.decisions["action"] == "open"].set_index("site_id")
    cand = prep.area.candidates.loc[opened.index]
    new = pd.DataFrame({"kind": opened["kind"], "x": cand.geometry.x, "y": cand.geometry.y,
                        "status": "new"})
    return pd.concat([frame, new])


def simulation_inputs(prep: Prepared, outlets: pd.DataFrame, *,
                      calibrated: bool = True) -> pd.DataFrame:
    """The simulation's per-community inputs with the planned own outlets
    (:func:`simulation.community_inputs` on the prepared travel times), with the
    community effects of the scenario's ``[calibration]`` unless not ``calibrated``."""
    from simulation import community_inputs

    inputs = community_inputs(prep.area, travel=prep.travel, own=outlets)
    calibration = _calibration(prep.scenario) if calibrated else None
    if calibration is None:
        return inputs
    from scenarios.calibration_file import with_community_effects

    return with_community_effects(inputs, calibration)


def outlet_table(plan: SitingResult | None, outlets: pd.DataFrame,
                 places: pd.DataFrame | None = None) -> pd.DataFrame:
    """``plan_outlets.parquet``: the plan's decisions (or every current outlet kept, when
    siting is off) with the coordinates of each site, and with ``places``
    (:func:`scenarios.names.place_names`) its name and community."""
    decisions = (plan.decisions if plan is not None else pd.DataFrame({
        "site_id": outlets.index, "kind": outlets["kind"].to_numpy(), "action": "keep",
        "capex": 0.0, "opex_per_year": np.nan}))
    table = decisions.merge(outlets[["x", "y"]], left_on="site_id", right_index=True,
                            how="left")
    return table if places is None else with_places(table, "site_id", places)


def scenario_campaigns(sc: Scenario) -> list[Campaign]:
    """The scenario's own ``[[campaigns]]`` as the simulation's campaigns."""
    return [Campaign(c.channel, c.spend, c.weeks, c.segments, c.communities)
            for c in sc.campaigns]


def simulation_params(sc: Scenario, *, calibrated: bool = True,
                      **over: Any) -> SimulationParams:
    """The simulation's parameters for a scenario: horizon, agents, the events' longest
    walk; ``over`` sets others (campaigns, events); the estimates of its ``[calibration]``
    (one draw per replication unless ``fixed``) unless not ``calibrated``."""
    params = SimulationParams(**{"weeks": sc.simulation.weeks,
                                 "max_agents": sc.simulation.max_agents,
                                 "event_max_walk_min": sc.events.max_walk_minutes, **over})
    calibration = _calibration(sc) if calibrated else None
    if calibration is None:
        return params
    from scenarios.calibration_file import calibrated_params

    return calibrated_params(params, calibration, fixed=sc.calibration.fixed,
                             replications=sc.simulation.replications, seed=sc.seed)


def _calibration(sc: Scenario) -> CalibrationFile | None:
    if sc.calibration.file is None:
        return None
    from scenarios.calibration_file import read_calibration

    return read_calibration(sc.calibration.file)


def calibration_summary(sc: Scenario) -> dict[str, Any] | None:
    """What a run's manifest says of the scenario's ``[calibration]`` (None: it has none)."""
    calibration = _calibration(sc)
    if calibration is None:
        return None
    return {"file": sc.calibration.file, "weeks": list(calibration.weeks),
            "fixed": sc.calibration.fixed,
            "parameters": {p["name"]: {k: p[k] for k in ("estimate", "low", "high",
                                                         "identified")}
                           for p in calibration.parameters}}


def event_venues(prep: Prepared) -> Venues | None:
    """The area's venues for the simulation (None without venues), with the walking
    times already computed."""
    if prep.area.venues.empty:
        return None
    return venue_inputs(prep.area, minutes=prep.venue_minutes)


def scheduled_events(plan: EventPlan | None) -> tuple[ScheduledEvent, ...]:
    """An event plan's events for the simulation, each with what its type draws."""
    if plan is None:
        return ()
    sched = plan.schedule
    out = []
    for week, venue, kind, cost in zip(sched["week"].astype(int), sched["venue_id"].astype(str),
                                       sched["event_type"].astype(str),
                                       sched["cost"].astype(float), strict=True):
        t = EVENT_TYPES[kind]
        out.append(ScheduledEvent(int(week), venue, kind, t.affinity, t.low_income_boost,
                                  t.attend_rate, cost=float(cost), staff=t.staff))
    return tuple(out)


def event_plan(prep: Prepared, outlets: pd.DataFrame, *,
               time_limit_s: float | None = None) -> EventPlan | None:
    """Plan the scenario's ``[events]``; staff per week defaults to the RMs the outlets'
    minimum staffing leaves free; the solver has ``time_limit_s`` (default
    ``events.time_limit_s``). None when no events are asked for."""
    ev = prep.scenario.events
    if not ev.enabled or not any(ev.count.values()):
        return None
    area = prep.area  # preflight said it when events are asked of an area without venues
    staff = ev.staff_per_week
    if staff is None:  # what the outlets' minimum staffing leaves free
        rms = prep.scenario.staff.relationship_managers
        floor, reason = staff_floor_reason(outlets["kind"].astype(str), area.config.min_staff,
                                           rms, sum(ev.count.values()), staffed=False)
        if reason is not None:
            raise PlanInfeasibleError(reason)
        staff = float(rms - floor)
    m = prep.venue_minutes
    c = area.communities
    if ev.communities:
        m, c = m.loc[list(ev.communities)], c.loc[list(ev.communities)]
    travel = long_table(m.to_numpy(), m.index, m.columns, ev.max_walk_minutes)
    communities = pd.DataFrame({
        "pop_18_35": c["pop_18_35"], "pop_36_55": c["pop_36_55"], "pop_56_plus": c["pop_56_plus"],
        "income_low_share": (c["income_low_share"] if "income_low_share" in c
                             else pd.Series(0.0, index=c.index)).fillna(0.0)})
    counts = {str(k): n for k, n in ev.count.items()}
    limit = ev.time_limit_s if time_limit_s is None else time_limit_s
    try:
        return plan_events(area.venues, communities, travel, events=counts,
                           weeks=event_weeks(prep.scenario), budget=ev.budget,
                           staff_per_week=staff, max_walk_min=ev.max_walk_minutes,
                           time_limit_s=limit, gap=0.005)
    except PlanInfeasibleError as exc:
        if not exc.timed_out:
            raise
        raise PlanInfeasibleError(
            f"events: no plan for {sum(counts.values())} events found within "
            f"events.time_limit_s = {limit:g}; raise it, or plan fewer events "
            "(events.count) or weeks", timed_out=True) from None


def expected_visits(prep: Prepared, outlets: pd.DataFrame) -> pd.Series:
    """Visits a week at each own outlet: each community's customers (``StudyArea.customers``,
    the simulation's own starting customers) times ``staff.visits_per_customer_week``,
    going to the nearest open outlet that is not self-service."""
    area, travel = prep.area, prep.travel
    customers = area.customers
    staffed = outlets[~outlets["kind"].isin(SELF_SERVICE)]
    if staffed.empty:
        return pd.Series(0.0, index=outlets.index, name="visits_per_week")
    minutes = travel.minutes[:, travel.sites.get_indexer(staffed.index)]
    nearest = staffed.index[np.argmin(minutes, axis=1)]
    per_point = (travel.points["share"].to_numpy()
                 * customers.reindex(travel.points["community_id"]).to_numpy())
    visits = pd.Series(per_point, index=nearest).groupby(level=0).sum()
    rate = prep.scenario.staff.visits_per_customer_week
    return (visits * rate).reindex(outlets.index, fill_value=0.0).rename("visits_per_week")


def staff_plan(prep: Prepared, outlets: pd.DataFrame, events: EventPlan | None, *,
               time_limit_s: float = 60.0) -> StaffPlan:
    """Whole RMs per outlet and week over the simulation's weeks, after the events."""
    st = prep.scenario.staff
    needs = None
    if events is not None and not events.schedule.empty:
        needs = event_staff_needs(events.schedule, hours_per_week=st.hours_per_week,
                                  hours_per_event={t: e.hours for t, e in EVENT_TYPES.items()})
    frame = outlets.assign(visits_per_week=expected_visits(prep, outlets))
    return allocate_staff(frame, relationship_managers=st.relationship_managers,
                          hours_per_week=st.hours_per_week, weeks=prep.scenario.simulation.weeks,
                          event_staff=needs, min_staff=prep.area.config.min_staff,
                          minutes_per_visit=st.minutes_per_visit, time_limit_s=time_limit_s)
