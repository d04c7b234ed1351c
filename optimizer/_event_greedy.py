"""A greedy event plan, and the attendance the event model gives any plan.

The greedy plan places the events one at a time, each where it adds the most attendance
(the model's own: a community's draw at the venue, within what its repeat decay leaves
and the venue's capacity), in the week that draws most and has the staff, while keeping
the money and staff the events still to place need at the least. It is the solver's first
plan and what a run falls back on when the solver finds none in its time.

The attendance of a given plan is a linear programme in the attendances alone (the events
fixed): the event model's rows with the counts known, so the repeat decay is exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

if TYPE_CHECKING:
    from optimizer._event_model import _Data

__all__ = ["PlanRows", "greedy_plan", "plan_attendance", "repeat_limit"]

#: One row per (community, venue, type) of a plan: its expected attendance over the horizon.
PlanRows = list[tuple[object, object, str, float]]


def repeat_limit(best: np.ndarray, n: np.ndarray, decay: float) -> np.ndarray:
    """Most a community reached by ``n`` events of a type can bring: 1 + d + ... + d^(n-1)
    times its ``best`` draw (unbounded when nothing decays)."""
    if decay >= 1:
        return np.full(np.shape(best), np.inf)
    return best * (1.0 - decay ** np.asarray(n, float)) / (1.0 - decay)


class _Rows:
    """The draws of communities at the plan's venues as arrays, with codes."""

    def __init__(self, data: _Data, venues: Sequence[object],
                 best_factor: Mapping[object, float]) -> None:
        self.types = list(data.events)
        self.venues = list(venues)
        d = data.draws
        v_code = pd.Index(self.venues).get_indexer(pd.Index(d["venue_id"]))
        t_code = pd.Index(self.types).get_indexer(pd.Index(d["event_type"]))
        keep = (v_code >= 0) & (t_code >= 0)
        c_code, self.communities = pd.factorize(d["community_id"][keep])
        self.c, self.v, self.t = c_code, v_code[keep], t_code[keep]
        self.draw = d["draw"].to_numpy(float)[keep]
        shape = (len(self.communities), len(self.types))
        factor = np.array([best_factor.get(v, 0.0) for v in self.venues])
        self.best = np.zeros(shape)
        np.maximum.at(self.best, (self.c, self.t), self.draw * factor[self.v])


def greedy_plan(data: _Data, slots: Sequence[tuple[object, int]],
                weeks: Sequence[int]) -> dict[tuple[object, str], list[int]] | None:
    """Weeks of each (venue, type)'s events in a greedy plan within the counts, money and
    staff; None when it cannot place them all (the solver may still)."""
    venues = list(dict.fromkeys(v for v, _ in slots))
    v_at, w_at = {v: i for i, v in enumerate(venues)}, {w: i for i, w in enumerate(weeks)}
    free = np.zeros((len(venues), len(weeks)), bool)
    for v, w in slots:
        free[v_at[v], w_at[w]] = True
    factor = np.array([data.factor[w] for w in weeks])
    best_factor = {v: float(factor[free[i]].max()) for i, v in enumerate(venues)}
    rows = _Rows(data, venues, best_factor)
    types = rows.types
    left = np.array([data.events[t] for t in types])
    staff = np.array([[data.staff_vt[v, t] for t in types] for v in venues], float)
    type_cost = np.array([data.types[t].cost for t in types])
    venue_cost = np.array([float(data.cost_v[v]) for v in venues])
    cost = venue_cost[:, None] + type_cost[None, :]
    capacity = np.array([float(data.capacity[v]) for v in venues])
    staff_left = np.array([data.staff_cap.get(w, math.inf) for w in weeks])
    budget_left = math.inf if data.budget is None else float(data.budget)
    fewest_staff = staff.min(axis=0) if len(venues) else np.zeros(len(types))
    attendance = np.zeros(rows.best.shape)
    reached = np.zeros(rows.best.shape)
    group = rows.v * len(types) + rows.t
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(len(venues) * len(types) + 1))
    held_in_week = np.zeros(len(weeks))
    held: dict[tuple[object, str], list[int]] = {}
    while left.sum() > 0:
        fits = free[:, :, None] & (staff_left[None, :, None] >= staff[:, None, :])
        week_factor = np.where(fits, factor[None, :, None], -1.0).max(axis=1)
        room = np.maximum(repeat_limit(rows.best, reached + 1, data.repeat_decay)
                          - attendance, 0.0)
        add = np.minimum(rows.draw * np.maximum(week_factor[rows.v, rows.t], 0.0),
                         room[rows.c, rows.t])
        gain = np.minimum(np.bincount(group, add, len(venues) * len(types))
                          .reshape(len(venues), len(types)), capacity[:, None])
        allowed = (week_factor > 0) & (left > 0)[None, :]
        # keep what the events still to place need at the least: the cheapest free
        # venue-weeks and each type's fewest staff
        after = left.sum() - 1
        if math.isfinite(budget_left) and after > 0:
            cheapest = np.sort(np.broadcast_to(venue_cost[:, None], free.shape)[free])[:after]
            reserve = cheapest.sum() + (left * type_cost).sum() - type_cost
            allowed &= cost + reserve[None, :] <= budget_left + 1e-9
        elif math.isfinite(budget_left):
            allowed &= cost <= budget_left + 1e-9
        if np.isfinite(staff_left).all() and after > 0:
            need = (left * fewest_staff).sum() - fewest_staff
            allowed &= staff_left.sum() - staff >= need[None, :] - 1e-9
        if not allowed.any():
            return None
        score = np.where(allowed, gain - 1e-9 * cost, -np.inf)
        vi, ti = divmod(int(np.argmax(score)), len(types))
        options = np.flatnonzero(fits[vi, :, ti] & (factor >= week_factor[vi, ti]))
        wi = int(min(options, key=lambda k: (-staff_left[k], held_in_week[k], k)))
        idx = order[starts[vi * len(types) + ti]:starts[vi * len(types) + ti + 1]]
        add_g = np.minimum(rows.draw[idx] * factor[wi], room[rows.c[idx], ti])
        total = add_g.sum()
        if total > capacity[vi]:
            add_g *= capacity[vi] / total
        attendance[rows.c[idx], ti] += add_g
        reached[rows.c[idx], ti] += 1
        free[vi, wi] = False
        staff_left[wi] -= staff[vi, ti]
        budget_left -= cost[vi, ti]
        left[ti] -= 1
        held_in_week[wi] += 1
        held.setdefault((venues[vi], types[ti]), []).append(int(weeks[wi]))
    return held


def plan_attendance(data: _Data, held: Mapping[tuple[object, str], Sequence[int]],
                    venues_weeks: Mapping[object, Sequence[int]]) -> PlanRows:
    """Attendance of each community at each event venue of the plan ``held`` ((venue,
    type) -> weeks), the event model's optimum with the events fixed: at most each event's
    draw, the venue's capacity per event, and the repeat decay for the events of the type
    within the community's reach. ``venues_weeks``: the weeks each venue could host (its
    best week sets the community's best draw, as in the model)."""
    best_factor = {v: max((data.factor[w] for w in ws), default=0.0)
                   for v, ws in venues_weeks.items()}
    rows = _Rows(data, list(venues_weeks), best_factor)
    types = rows.types
    count = np.zeros((len(rows.venues), len(types)))
    weight = np.zeros_like(count)
    v_at, t_at = {v: i for i, v in enumerate(rows.venues)}, {t: i for i, t in enumerate(types)}
    for (v, t), ws in held.items():
        count[v_at[v], t_at[t]] = len(ws)
        weight[v_at[v], t_at[t]] = sum(data.factor[w] for w in ws)
    reached = np.zeros(rows.best.shape)
    np.add.at(reached, (rows.c, rows.t), count[rows.v, rows.t])
    upper = rows.draw * weight[rows.v, rows.t]
    use = np.flatnonzero(upper > 0)
    if use.size == 0:
        return []
    c_use, v_use, t_use = rows.c[use], rows.v[use], rows.t[use]
    vt_code, vt = pd.factorize(v_use * len(types) + t_use)
    ct_code, ct = pd.factorize(c_use * len(types) + t_use)
    n = use.size
    blocks = [sparse.csr_matrix((np.ones(n), (vt_code, np.arange(n))), shape=(len(vt), n))]
    rhs = [capacity_of(data, rows.venues, vt // len(types)) * count.ravel()[vt]]
    limit = repeat_limit(rows.best.ravel()[ct], reached.ravel()[ct], data.repeat_decay)
    finite = np.isfinite(limit)
    if finite.any():
        a = sparse.csr_matrix((np.ones(n), (ct_code, np.arange(n))), shape=(len(ct), n))
        blocks.append(a[np.flatnonzero(finite)])
        rhs.append(limit[finite])
    res = linprog(-np.ones(n), A_ub=sparse.vstack(blocks).tocsc(), b_ub=np.concatenate(rhs),
                  bounds=np.column_stack([np.zeros(n), upper[use]]), method="highs")
    if res.status != 0:  # a plan's own rows always allow zero attendance
        raise RuntimeError(f"the attendance of an event plan was not solved: {res.message}")
    y = np.clip(res.x, 0.0, upper[use])
    return [(rows.communities[ci], rows.venues[vi], types[ti], float(a))
            for ci, vi, ti, a in zip(c_use, v_use, t_use, y, strict=True)]


def capacity_of(data: _Data, venues: Sequence[object], index: np.ndarray) -> np.ndarray:
    """Capacity per event of the venues at ``index``."""
    return np.array([float(data.capacity[venues[i]]) for i in index])
