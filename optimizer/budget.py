"""Budget allocation: spend per community x channel (optionally per quarter) on concave
response curves, as a linear programme over piecewise-linear segments.

Each (community, channel) cell gets ``pieces`` spend segments between breakpoints spaced
geometrically on the scale of its curves (from a twentieth of the smallest ``k`` to fifty
times the largest), where they bend. Every segment of every curve has a slope in
new customers per unit of spend, summed over the cell's segments (age x income, SME); as the
curves are concave those slopes fall from one segment to the next, so the LP fills them in
order and the piecewise model is exact at the breakpoints.

Policy: shares of the total by purpose (maintenance, growth, brand, reserve), each mapped to
channels; the reserve is held back. The rules a budget review asks for are rows of the LP,
each with a name, so the plan says which bind and what they cost (their duals), and a
re-solve at +1% gives the marginal value of budget.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pulp

from optimizer._budget_inputs import (
    bound_text,
    inclusion_text,
    matches,
    policy_text,
    validate_curves,
)
from optimizer._budget_plan import BudgetPlan, plan_table
from optimizer._elastic import Soft, explain_infeasible
from optimizer._solve import Solver, check_solver, row_duals, solve
from optimizer.errors import OptimizerInputError, PlanInfeasibleError
from optimizer.response import curves_response

__all__ = ["DEFAULT_CHANNEL_GROUPS", "ONLINE_CHANNELS", "BudgetPlan", "allocate_budget"]

#: Which channels serve which purpose of the policy (an assumption; pass your own).
DEFAULT_CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "maintenance": ("sms", "outlet_promo"),
    "growth": ("community_event", "merchant_alliance", "referral_bonus"),
    "brand": ("social_media", "kol_live"),
    "reserve": (),
}
#: Channels counted as online for ``online_share`` (referrals run through the bank's app).
ONLINE_CHANNELS: tuple[str, ...] = ("social_media", "kol_live", "sms", "referral_bonus")


#: How HiGHS solves the budget LP: its presolve stalls on this LP's columns (thousands of
#: parallel columns in a few rows: over 60 s on 2,000 communities x 7 channels without a
#: plan), and its dual simplex takes seconds an iteration there; the interior point without
#: presolve, then crossover to a vertex (and its duals), takes about 1 s.
LP_OPTIONS: dict[str, str | int | float] = {"presolve": "off", "solver": "ipm"}


def allocate_budget(
    curves: pd.DataFrame, total: float, *,
    objective: Literal["customers", "value"] = "customers",
    policy: Mapping[str, float] | None = None,
    channel_groups: Mapping[str, Sequence[str]] = DEFAULT_CHANNEL_GROUPS,
    online_share: float | None = None, online_channels: Sequence[str] = ONLINE_CHANNELS,
    online_share_max: float | None = None,
    min_roi: float | None = None, max_cac: float | None = None,
    floors: Mapping[object, float] | pd.Series | None = None,
    caps: Mapping[object, float] | pd.Series | None = None,
    inclusion: Mapping[str, float] | None = None,
    quarters: int = 1, seasonality: Sequence[float] | None = None,
    pieces: int = 12, solver: Solver = "highs", time_limit_s: float = 60.0,
    marginal: bool = True,
) -> BudgetPlan:
    """Split ``total`` across communities and channels to maximize new customers or value.

    Parameters
    ----------
    curves
        One row per community x channel x segment: ``community_id``, ``channel``,
        ``segment`` (such as ``56+/low`` or ``sme``), ``form`` (hill or exponential),
        ``rmax``, ``k``, ``h`` (Hill only, at most 1), and ``value_per_customer`` (for
        ``objective="value"`` and ``min_roi``; default 1). Each curve gives a year's new
        customers for a year's spend in the cell.
    policy
        Share of ``total`` per purpose; the purposes are the keys of ``channel_groups``
        and a group without channels (``reserve``) is held back. Shares must sum to 1.
        Each funded purpose spends exactly its share.
    online_share, online_share_max
        Least and most share of the spend going to ``online_channels`` (both the same:
        exactly that share).
    min_roi, max_cac
        Value of the new customers at least ``min_roi`` times the spend; spend per new
        customer at most ``max_cac``.
    floors, caps
        Minimum and maximum spend per community.
    inclusion
        Minimum share of the new customers per segment target (an age band such as
        ``56+``, an income tier such as ``low``, or a segment such as ``56+/low``).
    quarters, seasonality
        Split each cell's spend over quarters; a quarter's response is the yearly curve at
        the quarterly rate, times its seasonality factor (mean 1).

    Raises
    ------
    OptimizerInputError
        Bad curves or limits (the message names the row or key).
    PlanInfeasibleError
        When the limits cannot all hold; the message names those that must give and by
        how much.
    """
    start = time.perf_counter()
    check_solver(solver)
    c = validate_curves(curves, total)
    if quarters < 1:
        raise OptimizerInputError(f"quarters = {quarters}: expected 1 or more")
    season = np.ones(quarters) if seasonality is None else np.asarray(seasonality, float)
    if season.size != quarters or (season < 0).any():
        raise OptimizerInputError(f"seasonality has {season.size} factors for {quarters} "
                                  "quarters; give one factor >= 0 per quarter")
    season = season / season.mean() if season.mean() > 0 else season
    if pieces < 2:
        raise OptimizerInputError(f"pieces = {pieces}: expected 2 or more")
    groups = {g: tuple(chs) for g, chs in channel_groups.items()}
    if policy is not None:
        unknown = sorted(set(policy) - set(groups))
        if unknown:
            raise OptimizerInputError(f"policy names {unknown}, which no channel group "
                                      f"defines; expected some of {sorted(groups)}")
        s = sum(policy.values())
        if abs(s - 1) > 1e-6 or any(v < 0 for v in policy.values()):
            raise OptimizerInputError(f"policy shares sum to {s:g}; give shares >= 0 that "
                                      "sum to 1")
        funded = {ch for g, v in policy.items() if v > 0 for ch in groups[g]}
        stray = sorted(set(c["channel"]) - {ch for g in policy for ch in groups[g]})
        if stray:
            raise OptimizerInputError(f"channel(s) {stray} belong to no policy group; add "
                                      "them to channel_groups")
        c = c[c["channel"].isin(funded)]
    floors_s = pd.Series(floors if floors is not None else {}, dtype=float)
    caps_s = pd.Series(caps if caps is not None else {}, dtype=float)
    communities = pd.Index(pd.unique(c["community_id"]))
    for name, ser in (("floors", floors_s), ("caps", caps_s)):
        unknown_c = ser.index.difference(communities)
        if len(unknown_c):
            raise OptimizerInputError(f"{name} name community {unknown_c[0]!r}, which has no "
                                      "curves")
        if (ser < 0).any():
            raise OptimizerInputError(f"{name}: {ser[ser < 0].index[0]!r} = "
                                      f"{ser[ser < 0].iloc[0]}; expected >= 0")
    both = floors_s.index.intersection(caps_s.index)
    low = both[floors_s[both] > caps_s[both]]
    if len(low):
        raise OptimizerInputError(f"floors[{low[0]!r}] = {floors_s[low[0]]:g} exceeds "
                                  f"caps[{low[0]!r}] = {caps_s[low[0]]:g}")
    for key, share in (inclusion or {}).items():
        if not 0 <= share <= 1:
            raise OptimizerInputError(f"inclusion[{key!r}] = {share}: expected a share in "
                                      "[0, 1]")
        if not any(matches(key, sg) for sg in c["segment"].unique()):
            raise OptimizerInputError(f"inclusion[{key!r}] matches no segment of the curves")
    for key, bound in (("online_share", online_share), ("online_share_max", online_share_max)):
        if bound is not None and not 0 <= bound <= 1:
            raise OptimizerInputError(f"{key} = {bound}: expected a share in [0, 1]")
    if (online_share is not None and online_share_max is not None
            and online_share > online_share_max + 1e-12):
        raise OptimizerInputError(f"online_share = {online_share} is above online_share_max = "
                                  f"{online_share_max}: give a least share below the most")
    spendable = total * (1 - policy.get("reserve", 0.0)) if policy else total
    if floors_s.sum() > spendable + 1e-9:
        raise PlanInfeasibleError(
            f"community floors add up to {floors_s.sum():,.0f}, more than the "
            f"{spendable:,.0f} that may be spent; lower the floors or raise budget.total")

    # cells and breakpoints
    cells = c[["community_id", "channel"]].drop_duplicates().reset_index(drop=True)
    cell_of = pd.MultiIndex.from_frame(cells).get_indexer(
        pd.MultiIndex.from_frame(c[["community_id", "channel"]]))
    group_of = {ch: g for g, chs in groups.items() for ch in chs}
    upper = np.full(len(cells), float(spendable))
    if policy is not None:
        upper = np.array([policy[group_of[ch]] * total for ch in cells["channel"]])
    cap_cell = cells["community_id"].map(caps_s).to_numpy(float)
    upper = np.where(np.isnan(cap_cell), upper, np.minimum(upper, cap_cell))
    # breakpoints follow each cell's curves: geometric from a twentieth of the smallest k
    # to fifty times the largest (or the cell's upper bound), then one piece to the bound
    k_rows = c["k"].to_numpy(float) / quarters
    k_lo = np.full(len(cells), np.inf)
    k_hi = np.zeros(len(cells))
    np.minimum.at(k_lo, cell_of, k_rows)
    np.maximum.at(k_hi, cell_of, k_rows)
    up_q = upper / quarters
    lo = np.minimum(0.05 * k_lo, up_q)
    hi = np.clip(50 * k_hi, lo, up_q)
    steps = np.linspace(0.0, 1.0, pieces - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        grid = np.where(hi[:, None] > lo[:, None],
                        lo[:, None] * (hi / np.maximum(lo, 1e-300))[:, None] ** steps[None, :],
                        hi[:, None])
    bq = np.concatenate([np.zeros((len(cells), 1)), grid, up_q[:, None]], axis=1)
    bq = np.maximum.accumulate(np.nan_to_num(bq), axis=1)  # cells x (pieces+1)
    width = np.diff(bq, axis=1)
    # response of each curve row at the breakpoints, yearly curve at the quarterly rate
    r = curves_response(c, bq[cell_of] * quarters) / quarters
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_rows = np.where(width[cell_of] > 0, np.diff(r, axis=1) / width[cell_of], 0.0)
    vpc = c["value_per_customer"].to_numpy(float)[:, None]

    def per_cell(mask: np.ndarray | None = None, weight: np.ndarray | None = None
                 ) -> np.ndarray:
        rows = slope_rows if weight is None else slope_rows * weight
        if mask is not None:
            rows = rows * mask[:, None]
        out = np.zeros((len(cells), pieces))
        np.add.at(out, cell_of, rows)
        return out

    cust = per_cell()
    val = per_cell(weight=vpc)
    seg = c["segment"].astype(str).to_numpy()
    incl = {key: per_cell(np.array([matches(key, s) for s in seg]))
            for key in (inclusion or {})}

    # the LP: one variable per cell x quarter x piece
    n_cells = len(cells)
    prob = pulp.LpProblem("budget", pulp.LpMaximize)
    names = [f"d{i}_{q}_{m}" for i in range(n_cells) for q in range(quarters)
             for m in range(pieces)]
    ub = np.repeat(width[:, None, :], quarters, axis=1).ravel()
    dvars = [prob.add_variable(nm, lowBound=0, upBound=float(u))
             for nm, u in zip(names, ub, strict=True)]
    dv = np.array(dvars, dtype=object).reshape(n_cells, quarters, pieces)
    sq = season[None, :, None]
    cust_q = cust[:, None, :] * sq
    val_q = val[:, None, :] * sq
    obj_coef = cust_q if objective == "customers" else val_q

    def expr(coef: np.ndarray, mask: np.ndarray | None = None) -> pulp.LpAffineExpression:
        full = np.broadcast_to(coef, dv.shape)
        keep = full != 0
        if mask is not None:
            keep &= np.broadcast_to(mask[:, None, None], dv.shape)
        return pulp.LpAffineExpression(zip(dv[keep].tolist(), full[keep].tolist(),
                                           strict=True))

    ones = np.ones(dv.shape)
    prob += expr(obj_coef)
    labels: dict[str, str] = {}  # PuLP's row name -> the name the user reads

    def row(constraint: pulp.LpConstraint, name: str) -> str:
        safe = f"r{len(labels)}_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        prob.addConstraint(constraint, safe)
        labels[safe] = name
        return safe
    channel = cells["channel"].to_numpy()
    soft: list[Soft] = []
    if policy is None:
        name = row(expr(ones) <= total, "total")
        soft.append(Soft(name, total, lambda s: (
            f"budget.total = {total:,.0f} is too small for the other limits: they need "
            f"{total + s:,.0f}"), f"budget.total = {total:,.0f}"))
    else:
        exact = [g for g, v in policy.items() if v > 0 and groups[g]]
        for g in exact:
            amount = policy[g] * total
            name = row(expr(ones, np.isin(channel, groups[g])) == amount, f"policy.{g}")
            soft.append(Soft(name, max(amount, 1.0), policy_text(g, policy[g], amount),
                             f"budget.policy.{g} = {policy[g]:.0%}"))
    if online_share is not None:
        on = np.isin(channel, list(online_channels)).astype(float)
        name = row(expr((on - online_share)[:, None, None] * ones) >= 0, "online_share")
        soft.append(Soft(name, spendable, lambda s: (
            f"budget.online_share = {online_share:.0%} cannot hold with the other limits "
            f"(policy shares fix how much goes to each channel group): it is short by "
            f"{s:,.0f} of online spend"), f"budget.online_share = {online_share:.0%}"))
    if online_share_max is not None:
        on = np.isin(channel, list(online_channels)).astype(float)
        name = row(expr((on - online_share_max)[:, None, None] * ones) <= 0,
                   "online_share_max")
        soft.append(Soft(name, spendable, lambda s: (
            f"budget.online_share's most, {online_share_max:.0%}, cannot hold with the other "
            f"limits (policy shares fix how much goes to each channel group): online spend "
            f"is {s:,.0f} too high"), f"online share at most {online_share_max:.0%}"))
    if min_roi is not None:
        name = row(expr(val_q - min_roi) >= 0, "min_roi")
        soft.append(Soft(name, spendable, lambda s: (
            f"budget.min_roi = {min_roi:g} cannot hold: the curves do not return "
            f"{min_roi:g} per unit on the spend the other limits require (short by "
            f"{s:,.0f} of value)"), f"budget.min_roi = {min_roi:g}"))
    if max_cac is not None:
        name = row(expr(max_cac * cust_q - 1.0) >= 0, "max_cac")
        soft.append(Soft(name, spendable, lambda s: (
            f"budget.max_cac = {max_cac:,.2f} cannot hold: the spend the other limits "
            f"require buys customers dearer than that (over by {s:,.0f} of spend)"),
            f"budget.max_cac = {max_cac:g}"))
    community = cells["community_id"].to_numpy()
    for cid, amount in floors_s.items():
        name = row(expr(ones, community == cid) >= float(amount), f"floor.{cid}")
        soft.append(Soft(name, max(float(amount), 1.0), bound_text(
            "floors", cid, float(amount), "short"), f"budget.floors[{cid!r}]"))
    for cid, amount in caps_s.items():
        name = row(expr(ones, community == cid) <= float(amount), f"cap.{cid}")
        soft.append(Soft(name, max(float(amount), 1.0), bound_text(
            "caps", cid, float(amount), "over"), f"budget.caps[{cid!r}]"))
    for key, share in (inclusion or {}).items():
        name = row(expr(incl[key][:, None, :] * sq - share * cust_q) >= 0, f"inclusion.{key}")
        soft.append(Soft(name, max(1.0, float(cust.sum())), inclusion_text(key, share),
                         f"inclusion[{key!r}] = {share:.0%}"))
    build = time.perf_counter() - start
    outcome = solve(prob, solver=solver, time_limit_s=time_limit_s, highs_options=LP_OPTIONS)
    if outcome.status == "infeasible":
        lines = explain_infeasible(prob, soft, solver=solver, time_limit_s=time_limit_s,
                                   highs_options=LP_OPTIONS)
        raise PlanInfeasibleError("; ".join(lines) if lines else
                                  "no budget split meets every limit")
    if outcome.status not in ("optimal", "feasible"):
        raise PlanInfeasibleError(f"the solver stopped without a budget plan "
                                  f"({outcome.status}); raise time_limit_s")
    spend = np.array([v.value() or 0.0 for v in dvars]).reshape(dv.shape).sum(axis=2)
    solved_by: Solver = "cbc" if outcome.solver == "cbc" else "highs"  # after a fallback too
    duals = {labels[n]: v for n, v in row_duals(prob, solved_by).items()}
    binding = tuple(labels[n] for con in prob.constraints() for n in (con.name,)
                    if abs(duals.get(labels[n], 0.0)) > 1e-9
                    and abs(con.slack or 0.0) <= 1e-6 * max(1.0, total))
    plan = plan_table(cells, spend, c, cell_of, season, quarters)
    obj = float(plan["customers" if objective == "customers" else "value"].sum())
    marginal_value = None
    if marginal and total > 0:
        if duals and outcome.proven_optimal:
            # d(objective)/d(total): the rows whose right-hand side moves with the total
            shares = dict(policy or {})
            marginal_value = duals.get("total", 0.0) + sum(
                share * duals.get(f"policy.{g}", 0.0) for g, share in shares.items())
        else:  # a solver without duals: re-solve at +1%
            bigger = allocate_budget(
                curves, total * 1.01, objective=objective, policy=policy,
                channel_groups=channel_groups, online_share=online_share,
                online_channels=online_channels, online_share_max=online_share_max,
                min_roi=min_roi, max_cac=max_cac,
                floors=floors, caps=caps, inclusion=inclusion, quarters=quarters,
                seasonality=seasonality, pieces=pieces, solver=solver,
                time_limit_s=time_limit_s, marginal=False)
            # both objectives are the curves' own values, not the piecewise model's
            marginal_value = (bigger.objective - obj) / (0.01 * total)
    notes = [f"objective, customers and value are the curves' own values at the chosen "
             f"spend; the LP works on a piecewise-linear approximation with {pieces} pieces "
             "per cell"]
    left = spendable - float(plan["spend"].sum())
    if left > 1e-6 * max(1.0, spendable):
        notes.append(f"{left:,.0f} of the budget left unspent: no cell pays back under "
                     f"the limits ({', '.join(binding) or 'saturated curves'})")
    return BudgetPlan(
        status=outcome.status, proven_optimal=outcome.proven_optimal,
        gap=0.0 if outcome.proven_optimal else None, objective=obj,
        objective_name=objective, spend=float(plan["spend"].sum()),
        customers=float(plan["customers"].sum()), value=float(plan["value"].sum()),
        plan=plan,
        by_channel=plan.groupby("channel")[["spend", "customers", "value"]].sum(),
        by_community=plan.groupby("community_id")[["spend", "customers", "value"]].sum(),
        marginal_value=marginal_value, duals=duals, binding=binding, build_seconds=build,
        solve_seconds=outcome.solve_seconds, solver=solver,
        notes=tuple(notes))
