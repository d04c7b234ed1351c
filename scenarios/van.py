"""A mobile van in a run: its week planned (optimizer.plan_van) on the area's streets, and
the simulation's inputs with its reach (``van_min``, ``van_share``: simulation.openings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem
from scenarios import plans

if TYPE_CHECKING:
    from optimizer import VanPlan

__all__ = ["MAX_STOPS", "van_inputs", "van_plan"]

#: The most stops a van's week is planned over (route enumeration grows fast beyond).
MAX_STOPS = 25


def _sites(prep: plans.Prepared) -> tuple[object, pd.Index]:
    """The van's home and stops, checked against the area (exit 2 naming the key)."""
    sc, area = prep.scenario, prep.area
    cand = area.candidates
    allows = cand["kinds"].astype(str).str.split("|").map(lambda k: "mobile_van" in k)
    stops = pd.Index(sc.van.stops) if sc.van.stops else cand.index[allows.to_numpy()]
    own = area.outlets[area.outlets["owner"] == "own"]
    problems = []
    if stops.has_duplicates:
        problems.append(Problem("error", f"{sc.name}: van.stops",
                                f"{list(stops[stops.duplicated()][:3])} appear twice",
                                "list each stop once"))
    if len(stops) > MAX_STOPS:
        problems.append(Problem("error", f"{sc.name}: van.stops",
                                f"{len(stops)} stops: the week's routes grow as stops to the "
                                f"power of the stops a day; at most {MAX_STOPS}",
                                "list the van's stops in van.stops"))
    if own.empty:
        problems.append(Problem("error", f"{sc.name}: van.home",
                                "the area has no own outlet for the van to start from",
                                "add the bank's outlets to the area"))
    unknown = [s for s in stops if s not in cand.index]
    if unknown:
        problems.append(Problem("error", f"{sc.name}: van.stops",
                                f"{unknown[:5]} are not candidate sites of the area",
                                "use site ids of the area's candidates layer"))
    elif stops.empty:
        problems.append(Problem("error", f"{sc.name}: van.stops",
                                "no candidate site allows a mobile_van",
                                "list the stops in van.stops, or add mobile_van to the "
                                "kinds of some candidate sites"))
    home = sc.van.home
    if home is not None and home not in own.index:
        problems.append(Problem("error", f"{sc.name}: van.home",
                                f"{home!r} is not an own outlet of the area",
                                "use the id of one of the bank's outlets"))
    if problems:
        raise InputError(problems[0].message, problems)
    if home is None:  # the own branch (else outlet) nearest the stops' centre
        pool = own[own["kind"] == "branch"] if (own["kind"] == "branch").any() else own
        centre = np.array([cand.loc[stops].geometry.x.mean(), cand.loc[stops].geometry.y.mean()])
        gap = np.hypot(pool.geometry.x - centre[0], pool.geometry.y - centre[1])
        home = gap.idxmin()
    return home, stops


def van_plan(prep: plans.Prepared, *, time_limit_s: float = 60.0) -> VanPlan:
    """The scenario's ``[van]`` week on the area: driving minutes between home and the
    stops over the drive network, walking minutes from the demand points to the stops."""
    from geo import travel_time_matrix
    from optimizer import plan_van

    sc, area = prep.scenario, prep.area
    home, stops = _sites(prep)
    own = area.outlets
    sites = pd.concat([own.loc[[home]].geometry, area.candidates.loc[stops].geometry])
    cfg = area.config
    if area.network_file is not None:
        drive = travel_time_matrix(area.routing("drive"), sites, sites,
                                   access_speed_kmh=cfg.walk_speed_kmh,
                                   detour_factor=cfg.detour_factor,
                                   fallback_speed_kmh=cfg.drive_fallback_kmh).minutes
    else:  # straight lines x the detour factor at the drive fallback speed
        xy = np.column_stack([sites.x, sites.y])
        metres = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        drive = pd.DataFrame(metres * cfg.detour_factor / (cfg.drive_fallback_kmh * 1000 / 60),
                             index=sites.index, columns=sites.index)
    demand = plans.demand_points(prep)
    walk = plans.long_table(prep.travel.minutes[:, prep.travel.sites.get_indexer(stops)],
                            demand.index, stops, sc.van.coverage_minutes)
    return plan_van(demand, walk, drive.astype(float), home=home, days=sc.van.days,
                    day_hours=sc.van.day_hours, hours_per_stop=sc.van.hours_per_stop,
                    coverage_minutes=sc.van.coverage_minutes, time_limit_s=time_limit_s)


def van_inputs(prep: plans.Prepared, inputs: pd.DataFrame, plan: VanPlan) -> pd.DataFrame:
    """``inputs`` with the van's reach per community: ``van_share``, the share of the
    community's adult-days of the week the van is within reach (its demand points' days,
    weighted by the points' shares, over 7), and ``van_min``, the reached points' walking
    minutes to their nearest served stop, weighted alike (inf where none is reached)."""
    points = prep.travel.points
    days = plan.days_by_point.to_numpy(float)
    served = pd.Index(pd.unique(plan.schedule["stop_id"]))
    cols = prep.travel.sites.get_indexer(served)
    nearest = (prep.travel.minutes[:, cols].min(axis=1) if len(served)
               else np.full(len(points), np.inf))  # each point's minutes to a served stop
    weight = points["share"].to_numpy() * days  # the point's share of the community x days
    reached = weight > 0
    community = points["community_id"].to_numpy()
    frame = pd.DataFrame({"community": community[reached], "weight": weight[reached],
                          "minutes": weight[reached] * nearest[reached]})
    by = frame.groupby("community")[["weight", "minutes"]].sum()
    # the van's minutes for the residents it reaches, over the share of the week they
    # are reached (the community's adults x 7 days)
    van_min = (by["minutes"] / by["weight"]).reindex(inputs.index).fillna(np.inf)
    van_share = (by["weight"] / 7.0).reindex(inputs.index).fillna(0.0).clip(0, 1)
    return inputs.assign(van_min=van_min.to_numpy(float), van_share=van_share.to_numpy(float))
