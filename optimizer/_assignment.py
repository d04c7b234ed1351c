"""The assignment rows of p_median and min_cost: each demand point served by its
``nearest_k`` open sites or left unserved, each assignment charged its minutes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pulp

__all__ = ["assignment_rows"]


def assignment_rows(prob: pulp.LpProblem, pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
                    points: int, nearest_k: int, coverage_minutes: float,
                    openable: Callable[[int], bool],
                    open_expr: Callable[[int], pulp.LpAffineExpression | float],
                    per_minute: np.ndarray, unserved: np.ndarray,
                    obj_terms: list[pulp.LpAffineExpression],
                    served_within: dict[int, list[pulp.LpVariable]]
                    ) -> dict[int, list[tuple[pulp.LpVariable, int]]]:
    """Add to ``prob`` each point's assignments (to its ``nearest_k`` sites that may be
    open, each at most the site's opening) and its unserved share, the two summing to 1;
    their costs go to ``obj_terms``, the assignments within the coverage minutes to
    ``served_within``. Returns each site row's assignments with their points (its load)."""
    di, si, t = pairs
    by_demand = np.lexsort((t, di))
    di_s, si_s, t_s = di[by_demand], si[by_demand], t[by_demand]
    rank = np.arange(di_s.size) - np.searchsorted(di_s, di_s)
    near = rank < nearest_k
    z_by_site: dict[int, list[tuple[pulp.LpVariable, int]]] = {}
    for d in range(points):
        lo, hi = np.searchsorted(di_s, [d, d + 1])
        terms = []
        for p_ in range(lo, hi):
            if not near[p_]:
                continue
            s_row = int(si_s[p_])
            if not openable(s_row):
                continue
            z = prob.add_variable(f"z{d}_{s_row}", lowBound=0, upBound=1)
            prob += z <= open_expr(s_row)
            if t_s[p_] <= coverage_minutes:
                served_within.setdefault(d, []).append(z)
            obj_terms.append(float(per_minute[d] * t_s[p_]) * z)
            terms.append(z)
            z_by_site.setdefault(s_row, []).append((z, d))
        u = prob.add_variable(f"u{d}", lowBound=0, upBound=1)
        obj_terms.append(float(unserved[d]) * u)
        prob += pulp.lpSum(terms) + u == 1
    return z_by_site
