"""Matched controls for a pilot: optimal matching with mean balance, a PuLP model.

The treated communities are given, or chosen among candidates by the same model. Each
treated community gets ``per_treated`` controls of its own from the eligible ones
(none shared). Among all such assignments the model minimizes, first, the largest gap
between the treated and the control group's means over the matching variables (in sd
of all communities), then the mean gap, then the mean distance within matched sets (a
standardized Euclidean distance). Balancing the groups' means with an integer programme
is the approach of Zubizarreta (2012, JASA 107:1360, "Using mixed integer programming
for matching in an observational study"); the within-set distance keeps each treated
community's controls like it, so a readout can be checked set by set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp
from scipy import optimize

from optimizer._solve import SolveOutcome, solve
from optimizer.errors import OptimizerInputError

__all__ = ["Matching", "match_controls", "standardized_mean_differences"]

#: The weights of the objective's parts: the largest standardized mean gap, the mean gap.
WEIGHT_MAX_GAP, WEIGHT_MEAN_GAP = 10.0, 1.0


@dataclass(frozen=True)
class Matching:
    """The treated communities, each control's treated community (``matched_to``:
    control id -> treated id), the objective's value and what the solver proved."""

    treated: list[str]
    matched_to: pd.Series
    objective: float
    outcome: SolveOutcome


def _standardized(features: pd.DataFrame, scale: pd.Series | None) -> pd.DataFrame:
    sd = (features.std(ddof=0) if scale is None else scale.reindex(features.columns))
    return (features - features.mean()) / sd.where(sd > 0, 1.0)


def match_controls(features: pd.DataFrame, candidates: list[str], eligible: list[str], *,
                   per_treated: int, choose: int | None = None,
                   neighbours: Mapping[str, Iterable[str]] | None = None,
                   scale: pd.Series | None = None, time_limit_s: float = 10.0) -> Matching:
    """Choose ``choose`` treated communities among ``candidates`` (default: all of them)
    and ``per_treated`` controls among ``eligible`` for each (rows of ``features``, one
    column per matching variable; see the module). No control is among the
    ``neighbours`` of a chosen treated community. The gaps are in units of ``scale``
    (each variable's; default: its sd over all rows of ``features``). A search stopped
    by ``time_limit_s`` returns its best assignment (``outcome.proven_optimal`` False)."""
    n_treated = len(candidates) if choose is None else choose
    if per_treated < 1 or not 1 <= n_treated <= len(candidates):
        raise OptimizerInputError(f"per_treated = {per_treated}, choose = {choose}: "
                                  f"expected at least 1 and at most {len(candidates)}")
    if len(eligible) < per_treated * n_treated:
        raise OptimizerInputError(
            f"{len(eligible)} eligible control(s) for {n_treated} treated x "
            f"{per_treated} each; choose fewer treated or fewer controls each")
    z = _standardized(features, scale)
    zt, ze = z.loc[candidates].to_numpy(float), z.loc[eligible].to_numpy(float)
    n_controls = per_treated * n_treated
    problem = pulp.LpProblem("matched_controls", pulp.LpMinimize)
    y = [problem.add_variable(f"treated_{t}", cat="Binary") for t in range(len(candidates))]
    w = [problem.add_variable(f"control_{j}", cat="Binary") for j in range(len(eligible))]
    gap = [problem.add_variable(f"gap_{v}", lowBound=0) for v in range(z.shape[1])]
    worst = problem.add_variable("worst_gap", lowBound=0)
    problem += WEIGHT_MAX_GAP * worst + WEIGHT_MEAN_GAP * pulp.lpSum(gap) / len(gap)
    problem += pulp.lpSum(y) == n_treated
    problem += pulp.lpSum(w) == n_controls
    position = {c: j for j, c in enumerate(eligible)}
    for t, candidate in enumerate(candidates):
        if candidate in position:  # a candidate not chosen may be a control
            problem += w[position[candidate]] + y[t] <= 1
        for other in (neighbours or {}).get(candidate, ()):
            if other in position:  # a chosen treated community's neighbour is no control
                problem += w[position[other]] + y[t] <= 1
    for v in range(z.shape[1]):
        control_mean = pulp.lpSum(ze[j, v] * w[j] for j in range(len(eligible))) / n_controls
        treated_mean = pulp.lpSum(zt[t, v] * y[t] for t in range(len(candidates))) / n_treated
        problem += gap[v] >= control_mean - treated_mean
        problem += gap[v] >= treated_mean - control_mean
        problem += worst >= gap[v]
    outcome = solve(problem, solver="highs", time_limit_s=time_limit_s)
    if outcome.objective is None:
        raise OptimizerInputError(f"the matching found no assignment ({outcome.status}): "
                                  "too few controls are not neighbours of the treated")
    chosen = [t for t in range(len(candidates)) if (y[t].value() or 0) > 0.5]
    controls = [j for j in range(len(eligible)) if (w[j].value() or 0) > 0.5]
    # each treated community its per_treated nearest of the chosen controls, jointly
    slots = np.repeat(chosen, per_treated)
    distance = np.sqrt(((zt[slots][:, None, :] - ze[controls][None, :, :]) ** 2).sum(axis=2))
    rows, cols = optimize.linear_sum_assignment(distance)
    matched = {eligible[controls[c]]: candidates[slots[r]]
               for r, c in zip(rows, cols, strict=True)}
    return Matching([candidates[t] for t in chosen],
                    pd.Series(matched, name="matched_to", dtype=object).sort_index(),
                    outcome.objective, outcome)


def standardized_mean_differences(features: pd.DataFrame, treated: list[str],
                                  controls: list[str]) -> pd.DataFrame:
    """Each variable's treated and control means and their standardized mean difference
    (the difference over the pooled sd of the two groups, sqrt((s_t^2 + s_c^2) / 2), as
    in Austin 2009, Stat Med 28:3083; a group of one has no sd, and all communities' sd
    stands in, as it does where both groups are constant)."""
    t, c = features.loc[treated], features.loc[controls]
    everyone = features.std(ddof=1)
    if len(treated) > 1 and len(controls) > 1:
        sd = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
        sd = sd.where(sd > 0, everyone)  # two constant groups: all communities' sd
    else:
        sd = everyone
    diff = t.mean() - c.mean()
    smd = diff / sd.where(sd > 0)
    # no sd anywhere: equal means are balanced, different ones are not
    smd = smd.where(sd > 0, np.where(diff.abs() > 0, np.inf, 0.0))
    return pd.DataFrame({"treated_mean": t.mean(), "control_mean": c.mean(), "smd": smd})
