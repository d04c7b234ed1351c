"""Laying counted events out in weeks: first-fit, else a small packing programme."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pulp

from optimizer._solve import solve


def _lay_out(counts: Mapping[tuple[object, int, str], int],
             staff_vt: Mapping[tuple[object, str], int], weeks: list[int],
             staff_cap: Mapping[int, float]) -> dict[tuple[object, str], list[int]] | None:
    """Weeks for counted events: at most one per venue a week, within each week's staff,
    spread out (each event goes to the week with the most staff left, then the earliest).
    None when first-fit cannot place them all."""
    todo = sorted(((v, t) for (v, _, t), n in counts.items() for _ in range(n)),
                  key=lambda vt: (-staff_vt[vt], str(vt[0]), vt[1]))
    left = {w: staff_cap.get(w, math.inf) for w in weeks}
    used: set[tuple[object, int]] = set()
    held_n = dict.fromkeys(weeks, 0)
    out: dict[tuple[object, str], list[int]] = {}
    for v, t in todo:
        need = staff_vt[v, t]
        options = [w for w in weeks if (v, w) not in used and left[w] >= need]
        if not options:
            return _lay_out_exact(todo, staff_vt, weeks, left_start=staff_cap)
        w = min(options, key=lambda w_: (held_n[w_], -left[w_], w_))
        used.add((v, w))
        left[w] -= need
        held_n[w] += 1
        out.setdefault((v, t), []).append(w)
    return out


def _lay_out_exact(todo: list[tuple[object, str]], staff_vt: Mapping[tuple[object, str], int],
                   weeks: list[int], left_start: Mapping[int, float]
                   ) -> dict[tuple[object, str], list[int]] | None:
    """The layout as a small packing programme, when first-fit fails; None if none exists."""
    prob = pulp.LpProblem("lay_out_events", pulp.LpMinimize)
    z = {(e, w): prob.add_variable(f"z{e}_{w}", cat="Binary")
         for e in range(len(todo)) for w in weeks}
    for e in range(len(todo)):
        prob += pulp.lpSum(z[e, w] for w in weeks) == 1
    for w in weeks:
        cap = left_start.get(w, math.inf)
        if math.isfinite(cap):
            prob += pulp.lpSum(staff_vt[todo[e]] * z[e, w] for e in range(len(todo))) <= cap
        for v in {v for v, _ in todo}:
            at_v = [z[e, w] for e in range(len(todo)) if todo[e][0] == v]
            if len(at_v) > 1:
                prob += pulp.lpSum(at_v) <= 1
    prob += pulp.lpSum(w * var for (_, w), var in z.items())  # earlier weeks first
    outcome = solve(prob, solver="highs", time_limit_s=20.0)
    if outcome.status not in ("optimal", "feasible"):
        return None
    out: dict[tuple[object, str], list[int]] = {}
    for (e, w), var in z.items():
        if round(var.value() or 0) == 1:
            out.setdefault(todo[e], []).append(w)
    return out
