"""Benchmark: budget allocation with 500 communities x 7 channels x 10 segments (issue 5).

Target: under 2 s (issue 19; 5 s before) with every rule on (policy shares, online share,
ROI, CAC, inclusion floors), the marginal value of budget included. Baseline in the same
run: the new customers of an equal split of each policy group's money over its cells.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimizer import allocate_budget
from optimizer.budget import DEFAULT_CHANNEL_GROUPS
from optimizer.response import curves_response
from tests.optimizer.curves import CHANNELS, random_curves

pytestmark = pytest.mark.slow

POLICY = {"maintenance": 0.2, "growth": 0.4, "brand": 0.3, "reserve": 0.1}


def test_budget_allocation_at_planning_size() -> None:
    curves = random_curves(np.random.default_rng(0), 500, k_range=(500, 5_000))
    n = len(curves)
    total = 2_000_000.0
    start = time.perf_counter()
    plan = allocate_budget(curves, total, policy=POLICY, online_share=0.6, min_roi=3.0,
                           max_cac=50.0, inclusion={"56+": 0.2, "low": 0.2})
    seconds = time.perf_counter() - start
    # baseline: each group's money split equally over its cells
    group_of = {ch: g for g, chs in DEFAULT_CHANNEL_GROUPS.items() for ch in chs}
    per_cell = {ch: POLICY[group_of[ch]] * total / (500 * len(DEFAULT_CHANNEL_GROUPS[
        group_of[ch]])) for ch in CHANNELS}
    s = curves["channel"].map(per_cell).to_numpy()
    equal = float(curves_response(curves, s).sum())
    print(f"\nBENCH budget allocation: {n:,} curves (500 x 7 x 10), {seconds:.2f} s (build "
          f"{plan.build_seconds:.2f} s, solve {plan.solve_seconds:.2f} s), "
          f"{plan.customers:,.0f} new customers vs {equal:,.0f} for an equal split "
          f"({plan.customers / equal:.2f}x); ROI {plan.value / plan.spend:.2f}, CAC "
          f"{plan.spend / plan.customers:.1f}; marginal value {plan.marginal_value:.4f} "
          f"customers per unit; binding {plan.binding}")
    assert plan.proven_optimal
    assert seconds < 2, f"{seconds:.1f} s (target under 2 s)"
    assert plan.customers >= equal


def test_budget_allocation_at_metropolis_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 communities x 7 channels x 10 segments, the library's policy shares only (the
    metropolis benchmark's LP). Baseline in the same run: the previous solver path
    (HiGHS's defaults: presolve on), which stalled in presolve on this LP."""
    import optimizer.budget as budget_module

    curves = random_curves(np.random.default_rng(0), 2000, k_range=(500, 5_000))
    total = 8_000_000.0
    start = time.perf_counter()
    plan = allocate_budget(curves, total, policy=POLICY)
    seconds = time.perf_counter() - start
    assert plan.proven_optimal
    monkeypatch.setattr(budget_module, "LP_OPTIONS", {})
    start = time.perf_counter()
    try:
        before = allocate_budget(curves, total, policy=POLICY, time_limit_s=60.0,
                                 marginal=False)
        said = f"{before.status}, {before.customers:,.0f} new customers"
    except Exception as exc:  # noqa: BLE001 (the old path's failure is the figure)
        said = f"failed: {str(exc)[:120]}"
    old_seconds = time.perf_counter() - start
    print(f"\nBENCH budget allocation at metropolis size: {len(curves):,} curves "
          f"(2,000 x 7 x 10), {seconds:.2f} s (build {plan.build_seconds:.2f} s, solve "
          f"{plan.solve_seconds:.2f} s), {plan.customers:,.0f} new customers, proven; the "
          f"previous path (presolve on) {old_seconds:.1f} s ({said}): "
          f"{old_seconds / seconds:.0f}x")
