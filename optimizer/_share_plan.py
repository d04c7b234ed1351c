"""The ``max_share`` outlet plan: the Huff utilities of the sites, the outlets that stay and
the competitors, the greedy plan within the limits, the outer approximation
(``optimizer._share``), and where each new site's customers come from."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pulp
from scipy import sparse
from scipy.spatial import cKDTree

from geo.market import DEFAULT_ATTRACTIVENESS
from optimizer._elastic import Soft, explain_infeasible
from optimizer._share import (
    ShareData,
    greedy_share,
    greedy_target,
    limits_check,
    solve_share,
    solve_target,
    utilities,
)
from optimizer._siting_inputs import Options
from optimizer._siting_plan import SitingResult, plan_result
from optimizer._solve import Solver
from optimizer.errors import PlanInfeasibleError

__all__ = ["share_plan", "share_sources"]


def share_plan(prob: pulp.LpProblem, x: list[pulp.LpVariable], keep: dict[object, pulp.LpVariable],
               sites: pd.DataFrame, opts: Options, ids: pd.Index,
               pairs: tuple[np.ndarray, np.ndarray, np.ndarray], competitors: pd.DataFrame,
               adults: np.ndarray, weight: np.ndarray, fixed_existing: pd.Index,
               existing_kind: pd.Series, soft: list[Soft],
               by_site_row: Mapping[int, np.ndarray], *,
               attractiveness: Mapping[str, float] | None, beta: float, min_spacing_m: float,
               limits: tuple[float | None, float | None, Mapping[str, int] | int | None],
               coverage: tuple[float, float, float | None], target_share: float | None,
               solver: Solver,
               time_limit_s: float, gap: float, start: float) -> SitingResult:
    di, _, t = pairs
    table = {**DEFAULT_ATTRACTIVENESS, **(attractiveness or {})}
    site_pos = {sid: i for i, sid in enumerate(sites.index)}
    closable = list(keep)
    decisions = [*x, *keep.values()]
    dec_site = np.array([site_pos[s] for s in opts.site] + [site_pos[e] for e in closable],
                        dtype=np.int64)
    dec_kind = np.array([*opts.kind, *(existing_kind.get(e, "branch") for e in closable)],
                        dtype=object)
    rows, cols, vals = [], [], []
    for j, (row, kind) in enumerate(zip(dec_site, dec_kind, strict=True)):
        p = by_site_row.get(int(row), np.zeros(0, dtype=np.int64))
        rows.append(di[p])
        cols.append(np.full(p.size, j))
        vals.append(utilities([kind] * p.size, t[p], beta, table))
    n = len(ids)
    util = sparse.csr_matrix((np.concatenate(vals) if vals else np.zeros(0),
                              (np.concatenate(rows) if rows else np.zeros(0, int),
                               np.concatenate(cols) if cols else np.zeros(0, int))),
                             shape=(n, len(decisions)))
    util.eliminate_zeros()
    fixed = np.zeros(n)
    for e in fixed_existing:
        p = by_site_row.get(site_pos[e], np.zeros(0, dtype=np.int64))
        np.add.at(fixed, di[p], utilities([existing_kind.get(e, "branch")] * p.size, t[p],
                                          beta, table))
    rival_by_brand = _rival(competitors, ids, beta, table)
    data = ShareData(weight, fixed, np.asarray(rival_by_brand.sum(axis=1)).ravel(), util)

    capex_budget, opex_budget, max_new = limits
    coverage_minutes, coverage_before, min_share = coverage
    existing = sites[sites["status"] == "existing"]
    opex_fixed = float(existing.loc[fixed_existing, "opex_per_year"].sum())
    dec_opex = np.concatenate([opts.opex, existing.loc[closable, "opex_per_year"].to_numpy(float)])
    conflicts, always = _conflicts(sites, dec_site, min_spacing_m, set(fixed_existing))
    opex_left = None if opex_budget is None else opex_budget - opex_fixed
    fits = limits_check(dec_site, dec_kind, np.concatenate([opts.capex, np.zeros(len(closable))]),
                        dec_opex, capex_budget=capex_budget, opex_left=opex_left,
                        max_new=max_new, options=len(x), conflicts=conflicts,
                        always_open=always)
    # the greedy plans keep every outlet that may close: no greedy plan when those alone
    # break the opex budget or the spacing (the solver then closes some)
    start_y = np.r_[np.zeros(len(x)), np.ones(len(closable))]
    start_ok = ((opex_left is None or float(dec_opex @ start_y) <= opex_left + 1e-6)
                and not any(start_y[a] > 0 and start_y[b] > 0 for a, b in conflicts)
                and not (always & (start_y > 0)).any())
    cost = np.concatenate([opts.capex + opts.opex, dec_opex[len(x):]])
    goal = None if target_share is None else target_share * float(weight.sum())
    greedy: np.ndarray | None = None
    if start_ok:
        greedy = (greedy_share(data, fits, start_y) if goal is None else
                  greedy_target(data, fits, start_y, cost, goal))
    if greedy is not None and min_share is not None and _covered(
            greedy, dec_site, fixed_existing, site_pos, pairs, adults,
            coverage_minutes) < min_share - 1e-9:
        greedy = None  # the greedy plan misses the coverage asked: the solver's task
    left = max(time_limit_s - (time.perf_counter() - start), 1.0)
    if goal is None:
        best, outcome = solve_share(prob, decisions, data, greedy, solver=solver,
                                    time_limit_s=left, gap=gap)
    else:
        best, outcome = solve_target(prob, decisions, data, cost, goal, greedy, solver=solver,
                                     time_limit_s=left, gap=gap)
    if best.y is None:
        if outcome is not None and outcome.status == "infeasible":
            if goal is not None:
                most = data.value(np.ones(len(decisions))) / max(float(weight.sum()), 1e-12)
                raise PlanInfeasibleError(
                    f"outlets.target_share = {target_share:.1%} is out of reach within the "
                    f"limits (opening every candidate allowed captures at most {most:.1%}); "
                    "lower it, raise the budgets or max_new, or add candidate sites")
            lines = explain_infeasible(prob, soft, solver=solver, time_limit_s=time_limit_s)
            raise PlanInfeasibleError("; ".join(lines) if lines else
                                      "no outlet plan meets the limits")
        raise PlanInfeasibleError("the solver stopped without an outlet plan; raise the "
                                  "time limit", timed_out=True)
    y = best.y
    chosen = y[:len(x)] > 0.5
    kept = {e: bool(y[len(x) + k] > 0.5) for k, e in enumerate(closable)}
    proven = best.within(0.0)
    bound = best.bound if np.isfinite(best.bound) else None
    value = best.value
    if goal is not None:  # the cost, and its bound, positive again
        value, bound = -value, None if bound is None else -bound
    result = plan_result("optimal" if proven else "feasible", proven, value, bound,
                         "max_share" if goal is None else "target_share", sites, opts,
                         chosen, kept, adults, pairs, coverage_minutes, coverage_before, limits,
                         time.perf_counter() - start - best.seconds, best.seconds,
                         best.solver)
    sources = share_sources(data, y, len(x), opts, rival_by_brand,
                            sorted(set(competitors.get("brand", competitors["kind"]).astype(str))))
    return dataclasses.replace(result, share_sources=sources, found_by=best.found_by,
                               rounds=best.rounds, share_captured=data.value(y),
                               share_of_demand=data.value(y) / max(float(weight.sum()), 1e-12))


def share_sources(data: ShareData, y: np.ndarray, options: int, opts: Options,
                  rival_by_brand: sparse.csr_matrix, brands: Sequence[str]) -> pd.DataFrame:
    """Where each new site's expected customers come from: Huff shares scale every other
    outlet's down alike, so a new site j takes from outlet k at point i
    u_ik a_ij / (T_i (T_i + X_i)) (T_i: the utility of the outlets that were there, X_i the
    new sites'), and the whole a_ij / X_i of points no outlet reached. Long format:
    ``site_id``, ``kind``, ``source`` (``own``, a competitor brand, ``no outlet``),
    ``captured`` (demand weight)."""
    new = np.flatnonzero(y[:options] > 0.5)
    if new.size == 0:
        return pd.DataFrame(columns=["site_id", "kind", "source", "captured"])
    y_old = y.copy()
    y_old[new] = 0.0
    own_kept = data.own(y_old)
    rival = data.rival
    t_before = own_kept + rival
    x_new = data.utility[:, new] @ np.ones(new.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(t_before > 0, data.weight / (t_before * (t_before + x_new)), 0.0)
        none = np.where((t_before <= 0) & (x_new > 0), data.weight / x_new, 0.0)
    rows = []
    cols = data.utility[:, new].tocsc()
    for k, j in enumerate(new):
        col = cols[:, k]
        i, a = col.indices, col.data
        site, kind = opts.site[j], opts.kind[j]
        rows.append((site, kind, "own", float((scale[i] * own_kept[i]) @ a)))
        by_brand = rival_by_brand[i].multiply(scale[i][:, None]).T @ a
        for b, value in zip(brands, np.asarray(by_brand).ravel(), strict=True):
            rows.append((site, kind, b, float(value)))
        rows.append((site, kind, "no outlet", float(none[i] @ a)))
    return pd.DataFrame(rows, columns=["site_id", "kind", "source", "captured"])


def _rival(competitors: pd.DataFrame, ids: pd.Index, beta: float,
           table: Mapping[str, float]) -> sparse.csr_matrix:
    """Competitors' utility per demand point and brand (points x brands, brands sorted)."""
    point = ids.get_indexer(pd.Index(competitors["origin_id"]))
    brand = competitors.get("brand", competitors["kind"]).astype(str).to_numpy()
    codes, names = pd.factorize(brand, sort=True)
    keep = point >= 0
    u = utilities(competitors["kind"].astype(str).to_numpy()[keep],
                  competitors["cost"].to_numpy(float)[keep], beta, table)
    return sparse.csr_matrix((u, (point[keep], codes[keep])), shape=(len(ids), len(names)))


def _conflicts(sites: pd.DataFrame, dec_site: np.ndarray, min_spacing_m: float,
               fixed: set[object]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Pairs of decisions closer than the spacing, and the decisions too close to an outlet
    that stays."""
    always = np.zeros(dec_site.size, dtype=bool)
    if min_spacing_m <= 0:
        return [], always
    xy = sites[["x", "y"]].to_numpy(float)
    by_row: dict[int, list[int]] = {}
    for j, row in enumerate(dec_site):
        by_row.setdefault(int(row), []).append(j)
    out: list[tuple[int, int]] = []
    for a, b in cKDTree(xy).query_pairs(min_spacing_m):
        for pa, pb in ((a, b), (b, a)):
            if sites.index[pb] in fixed:
                always[by_row.get(pa, [])] = True
        out.extend((ja, jb) for ja in by_row.get(a, []) for jb in by_row.get(b, []))
    return out, always


def _covered(y: np.ndarray, dec_site: np.ndarray, fixed: pd.Index, site_pos: Mapping[object, int],
             pairs: tuple[np.ndarray, np.ndarray, np.ndarray], adults: np.ndarray,
             minutes: float) -> float:
    di, si, t = pairs
    open_rows = set(dec_site[y > 0.5].tolist()) | {site_pos[e] for e in fixed}
    hit = np.isin(si, list(open_rows)) & (t <= minutes)
    covered = np.zeros(adults.size, dtype=bool)
    covered[di[hit]] = True
    return float(adults[covered].sum()) / (float(adults.sum()) or 1.0)
