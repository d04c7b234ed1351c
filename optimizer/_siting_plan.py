"""The parts of an outlet plan besides its model: the result, the fast path through
maximal covering, the spacing constraints and the text of a count limit that binds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp
from scipy.spatial import cKDTree

from optimizer._elastic import Soft
from optimizer._siting_inputs import Options
from optimizer._solve import Solver
from optimizer.covering import maximal_covering
from optimizer.errors import OptimizerInputError

__all__ = ["SitingResult", "count_text", "fast_plan", "limit_rows", "plan_result",
           "spacing_constraints"]


@dataclass(frozen=True)
class SitingResult:
    """An outlet plan. ``decisions``: one row per site opened, kept or closed (``site_id``,
    ``kind``, ``action``, ``capex``, ``opex_per_year``); ``binding``: the limits the plan
    uses up; ``gap``: 0 when proven optimal, None when the solver gave no bound."""

    status: str
    proven_optimal: bool
    gap: float | None
    objective: float
    objective_name: str
    decisions: pd.DataFrame
    coverage_before: float
    coverage_after: float
    mean_minutes_after: float
    capex: float
    opex_per_year: float
    binding: tuple[str, ...]
    build_seconds: float
    solve_seconds: float
    solver: str
    #: max_share: where each new site's customers come from (``optimizer._share_plan``)
    share_sources: pd.DataFrame | None = None
    #: max_share: "greedy" when no solver plan beat the greedy one; rounds of cuts
    found_by: str = "solver"
    rounds: int = 0
    #: max_share and target_share: the expected demand weight the own outlets capture
    share_captured: float | None = None
    #: the same as a share of all the demand weight
    share_of_demand: float | None = None
    #: p_center: demand points with adults no site of the travel table reaches (not
    #: served by any plan, so not in the radius), and their adults
    unserved_points: int = 0
    unserved_adults: float = 0.0
    #: a rollout over quarters (optimizer._rollout): a row a quarter, outlets opened,
    #: capex, demand covered
    by_quarter: pd.DataFrame | None = None


PLURAL = {"branch": "branches", "micro_branch": "micro-branches", "smart_atm": "smart ATMs",
          "mobile_van": "mobile van stops"}


def count_text(kind: str, limit: int, because: str) -> Callable[[float], str]:
    key = f"outlets.max_new.{kind}" if kind else "outlets.max_new"
    what = f"new {PLURAL.get(kind, kind)}" if kind else "new outlets"
    return lambda s: (f"{key} = {limit} allows too few {what}{because}: it needs at least "
                      f"{limit + round(s)}")



def limit_rows(prob: pulp.LpProblem, opened: Sequence[pulp.LpAffineExpression | pulp.LpVariable],
               keep: Mapping[object, pulp.LpVariable], opts: Options, opex: pd.Series,
               limits: tuple[float | None, float | None, Mapping[str, int] | int | None],
               because: str = "") -> list[Soft]:
    """The rows of the capex budget, the yearly opex budget (the outlets that stay count;
    one that may close counts when kept: ``opex`` is every existing outlet's) and the
    counts of ``max_new``, on ``opened`` (1 when an option opens), each named, with how
    to say it must give (optimizer._elastic)."""
    capex_budget, opex_budget, max_new = limits
    soft: list[Soft] = []
    n = len(opened)
    if capex_budget is not None:
        prob += pulp.lpSum(float(opts.capex[o]) * opened[o] for o in range(n)) \
            <= capex_budget, "capex_budget"
        soft.append(Soft("capex_budget", max(capex_budget, 1.0), lambda s: (
            f"outlets.capex_budget = {capex_budget:,.0f} is too small{because}: it needs at "
            f"least {capex_budget + s:,.0f}"), f"outlets.capex_budget = {capex_budget:,.0f}"))
    if opex_budget is not None:
        cost = opex.astype(float).to_dict()
        fixed = sum(v for e, v in cost.items() if e not in keep)
        prob += (pulp.lpSum(float(opts.opex[o]) * opened[o] for o in range(n))
                 + pulp.lpSum(cost[e] * v for e, v in keep.items())
                 <= opex_budget - fixed), "opex_budget"
        soft.append(Soft("opex_budget", max(opex_budget, 1.0), lambda s: (
            f"outlets.opex_budget = {opex_budget:,.0f} a year is too small{because}: it "
            f"needs at least {opex_budget + s:,.0f}"), f"outlets.opex_budget = {opex_budget:,.0f}"))
    if isinstance(max_new, Mapping):
        for k, limit in max_new.items():
            members = [opened[o] for o in range(n) if opts.kind[o] == k]
            if members:
                name = f"max_new_{k}"
                prob += pulp.lpSum(members) <= limit, name
                soft.append(Soft(name, 1.0, count_text(k, limit, because),
                                 f"outlets.max_new.{k} = {limit}"))
    elif max_new is not None:
        prob += pulp.lpSum(opened) <= max_new, "max_new"
        soft.append(Soft("max_new", 1.0, count_text("", max_new, because),
                         f"outlets.max_new = {max_new}"))
    return soft


def spacing_constraints(prob: pulp.LpProblem, sites: pd.DataFrame, x: list[pulp.LpVariable],
             by_site: dict[object, list[int]], keep: dict[object, pulp.LpVariable],
             min_spacing_m: float) -> None:
    if not {"x", "y"} <= set(sites.columns):
        raise OptimizerInputError("min_spacing_m needs site coordinates: columns x and y")
    xy = sites[["x", "y"]].to_numpy(float)
    tree = cKDTree(xy)
    ids = sites.index
    status = sites["status"].to_numpy()
    for a, b in sorted(tree.query_pairs(min_spacing_m)):
        terms = []
        for i in (a, b):
            sid = ids[i]
            if status[i] == "existing":
                terms.append(keep.get(sid, 1.0))
            else:
                terms.extend(x[o] for o in by_site.get(sid, []))
        if any(not isinstance(v, int | float) for v in terms):  # a decision among them
            prob += pulp.lpSum(terms) <= 1



def fast_plan(demand: pd.DataFrame, sites: pd.DataFrame, opts: Options,
          covers: Callable[[np.ndarray, str], np.ndarray],
          option_pairs: Callable[[int], np.ndarray], fixed_existing: pd.Index,
          existing_kind: pd.Series, site_pos: dict[object, int],
          pairs_by_site: dict[int, np.ndarray], objective: str, max_new: int | None,
          capex_budget: float | None, solver: Solver, time_limit_s: float, gap: float,
          coverage_minutes: float, coverage_before: float, adults: np.ndarray,
          pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> SitingResult:
    """Coverage or capture with only a total count and a capex budget: maximal covering
    (reductions, local search, a proven bound) on the cheapest allowed kind of each site;
    kind does not change what a site covers (capture comes here only when each site
    allows one kind)."""
    frame = pd.DataFrame({"site": opts.site, "kind": opts.kind, "capex": opts.capex,
                          "order": np.arange(opts.site.size)})
    frame = frame.sort_values(["site", "capex", "order"]).drop_duplicates("site")
    ids = demand.index
    cover_pairs = []
    for o in frame["order"]:
        for d in covers(option_pairs(int(o)), opts.kind[o]):
            cover_pairs.append((ids[d], f"o{o}"))
    for e in fixed_existing:
        for d in covers(pairs_by_site.get(site_pos[e], np.zeros(0, dtype=np.int64)),
                        existing_kind.get(e, "branch")):
            cover_pairs.append((ids[d], f"e:{e}"))
    cover = pd.DataFrame(cover_pairs, columns=["demand_id", "site_id"])
    cands = [f"o{o}" for o in frame["order"]]
    res = maximal_covering(demand["weight"], cover, cands, p=max_new,
                           costs=pd.Series(frame["capex"].to_numpy(), index=cands),
                           budget=capex_budget, existing=[f"e:{e}" for e in fixed_existing],
                           solver=solver, time_limit_s=time_limit_s, gap=gap)
    chosen = np.zeros(opts.site.size, dtype=bool)
    chosen[[int(c[1:]) for c in res.chosen]] = True
    return plan_result(res.status, res.proven_optimal, res.objective, res.bound, objective, sites,
                   opts, chosen, {}, adults, pairs, coverage_minutes, coverage_before,
                   (capex_budget, None, max_new), res.build_seconds, res.solve_seconds, solver)



def _why(decisions: pd.DataFrame, site_ids: pd.Index, status: np.ndarray, is_open: np.ndarray,
         adults: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
         coverage_minutes: float) -> dict[str, np.ndarray]:
    """Why each decision: the adults within ``coverage_minutes`` of the site that no outlet
    reached before the plan (``adults_newly_covered``, 0 for a kept outlet), and those no
    other outlet of the plan reaches (``adults_only_here``: what closing it, or not
    opening it, would leave uncovered)."""
    di, si, t = pairs
    within = t <= coverage_minutes
    # each (demand point, site) pair once, whatever the travel table repeats
    key = np.unique(di[within].astype(np.int64) * len(site_ids) + si[within])
    d, s = key // len(site_ids), key % len(site_ids)
    before = np.zeros(adults.size, dtype=bool)
    before[d[status[s] == "existing"]] = True
    reach = np.bincount(d[is_open[s]], minlength=adults.size)
    others = reach[d] - is_open[s]  # open outlets other than this one reaching the point
    newly = np.bincount(s, weights=adults[d] * ~before[d], minlength=len(site_ids))
    only = np.bincount(s, weights=adults[d] * (others == 0), minlength=len(site_ids))
    rows = site_ids.get_indexer(pd.Index(decisions["site_id"]))
    return {"adults_newly_covered": newly[rows], "adults_only_here": only[rows]}


def plan_result(status: str, proven: bool, value: float, bound: float | None, objective: str,
            sites: pd.DataFrame, opts: Options, chosen: np.ndarray, kept: dict[object, bool],
            adults: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
            coverage_minutes: float, coverage_before: float,
            limits: tuple[float | None, float | None, Mapping[str, int] | int | None],
            build: float, solve_s: float, solver: str) -> SitingResult:
    di, si, t = pairs
    capex_budget, opex_budget, max_new = limits
    existing = sites[sites["status"] == "existing"]
    total_adults = float(adults.sum()) or 1.0
    rows = [{"site_id": opts.site[o], "kind": opts.kind[o], "action": "open",
             "capex": opts.capex[o], "opex_per_year": opts.opex[o]}
            for o in np.flatnonzero(chosen)]
    for e, r in existing.iterrows():
        action = "close" if kept.get(e, True) is False else "keep"
        rows.append({"site_id": e, "kind": r.get("kind", ""), "action": action,
                     "capex": 0.0, "opex_per_year": float(r["opex_per_year"])
                     * (-1 if action == "close" else 1)})
    decisions = pd.DataFrame(rows, columns=["site_id", "kind", "action", "capex",
                                            "opex_per_year"])
    open_sites = set(opts.site[chosen]) | {e for e in existing.index if kept.get(e, True)}
    site_ids = sites.index
    is_open = np.array([s in open_sites for s in site_ids])
    pair_open = is_open[si]
    cov = np.zeros(adults.size, dtype=bool)
    cov[di[pair_open & (t <= coverage_minutes)]] = True
    decisions = decisions.assign(**_why(decisions, site_ids, sites["status"].to_numpy(),
                                        is_open, adults, (di, si, t), coverage_minutes))
    nearest = np.full(adults.size, np.inf)
    np.minimum.at(nearest, di[pair_open], t[pair_open])
    finite = np.isfinite(nearest)
    mean_min = float((nearest[finite] * adults[finite]).sum() / max(adults[finite].sum(), 1e-12))
    capex = float(opts.capex[chosen].sum())
    opex = float(decisions.loc[decisions["action"] != "close", "opex_per_year"].sum())
    binding = []
    if capex_budget is not None and capex >= capex_budget * 0.999 - 1e-6:
        binding.append(f"capex_budget ({capex:,.0f} of {capex_budget:,.0f})")
    if opex_budget is not None and opex >= opex_budget * 0.999 - 1e-6:
        binding.append(f"opex_budget ({opex:,.0f} of {opex_budget:,.0f})")
    if isinstance(max_new, Mapping):
        for k, limit in max_new.items():
            n = int((opts.kind[chosen] == k).sum())
            if limit > 0 and n >= limit:
                binding.append(f"max_new.{k} ({n} of {limit})")
    elif max_new is not None and int(chosen.sum()) >= max_new:
        binding.append(f"max_new ({int(chosen.sum())} of {max_new})")
    gap = 0.0 if proven else (None if bound is None or value == 0
                              else abs(bound - value) / abs(value))
    return SitingResult(
        status=status, proven_optimal=proven, gap=gap, objective=value,
        objective_name=objective, decisions=decisions, coverage_before=coverage_before,
        coverage_after=float(adults[cov].sum()) / total_adults, mean_minutes_after=mean_min,
        capex=capex, opex_per_year=opex, binding=tuple(binding), build_seconds=build,
        solve_seconds=solve_s, solver=solver)

