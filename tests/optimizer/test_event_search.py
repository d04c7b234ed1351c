"""How the event plan is found: the greedy plan the solver starts from and falls back on,
the bound a plan is judged against, and the repeat decay's pieces, against brute force,
hand-solved cases and an LP written from the definition."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimizer._event_search as search
from optimizer import EVENT_TYPES, EventPlan, PlanInfeasibleError, event_attendance, plan_events
from optimizer._solve import SolveOutcome
from tests.optimizer.test_events import (
    _assert_rules_hold,
    _independent_value,
    _random_city,
    brute_force,
    small_instance,
    two_towns,
)


def _solver_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver stops without a plan (as on a metropolis in its time limit)."""
    monkeypatch.setattr(search, "solve", lambda *a, **k: SolveOutcome(
        "not solved", False, None, None, 0.0, "cbc"))


def _value_of(plan: EventPlan, venues: pd.DataFrame, communities: pd.DataFrame,
              travel: pd.DataFrame, types: dict | None = None) -> float:
    """The plan's events valued by the LP written from the definition."""
    draws = event_attendance(communities, travel, types or EVENT_TYPES)
    draws = draws[draws["draw"] > 0].reset_index(drop=True)
    held = list(zip(plan.schedule["venue_id"], plan.schedule["event_type"], strict=True))
    return _independent_value(held, venues, draws, 0.5)


def test_a_community_reached_many_times_is_exact() -> None:
    """Eight sessions where the first four pieces are exact and the rest share one: V1's
    k-th session draws 75 x 0.5^(k-1) from town A, V2's 1.5 x 0.5^(k-1) from B (500
    young adults); the best 8 of these marginal draws are V1 seven times and V2 once."""
    venues, communities, travel = two_towns()
    communities.loc["B", "pop_18_35"] = 500.0
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 8}, weeks=8)
    assert sorted(plan.schedule["venue_id"]) == ["V1"] * 7 + ["V2"]
    assert plan.attendance == pytest.approx(150 * (1 - 0.5 ** 7) + 1.5)
    # proven only once the model is solved again with all of town A's pieces: with four
    # exact and one shared, eight sessions at V1 look worth 159.4
    assert plan.proven_optimal


def test_greedy_plan_when_the_solver_finds_none(monkeypatch: pytest.MonkeyPatch) -> None:
    venues, communities, travel = _random_city(3)
    counts = {"financial_literacy": 5, "anti_fraud": 4, "parent_child": 2}
    kwargs = {"events": counts, "weeks": 6, "budget": 12_000, "staff_per_week": 9}
    best = plan_events(venues, communities, travel, **kwargs)
    assert best.proven_optimal
    _solver_finds_nothing(monkeypatch)
    greedy = plan_events(venues, communities, travel, **kwargs)
    assert greedy.found_by == "greedy"
    _assert_rules_hold(greedy, counts, 12_000, 9)
    # its attendance is the model's for its events; the stated gap covers the optimum
    assert greedy.attendance == pytest.approx(_value_of(greedy, venues, communities, travel),
                                              rel=1e-6)
    assert greedy.attendance <= best.attendance + 1e-6
    assert greedy.gap is not None and greedy.gap > 0
    assert best.attendance <= greedy.attendance * (1 + greedy.gap) + 1e-6
    assert greedy.status == "feasible" and not greedy.proven_optimal
    assert greedy.attendance >= 0.9 * best.attendance  # a fallback worth having


def test_highs_from_a_start_equals_cbc() -> None:
    venues, communities, travel = _random_city(5)
    counts = {"financial_literacy": 6, "anti_fraud": 3, "parent_child": 2}
    plans = [plan_events(venues, communities, travel, events=counts, weeks=6, budget=15_000,
                         staff_per_week=10, solver=solver) for solver in ("cbc", "highs")]
    assert all(p.proven_optimal for p in plans)
    assert plans[0].attendance == pytest.approx(plans[1].attendance, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 2), st.integers(1, 3), st.booleans())
def test_fallback_is_honest_against_brute_force(seed: int, weeks: int, n_events: int,
                                                with_staff: bool) -> None:
    """With the solver finding nothing, the plan (greedy, or the solver's own where greedy
    cannot place the events) keeps every rule, its attendance is its events' own, and its
    stated gap covers the brute-force optimum; it is called optimal only at the optimum."""
    case = small_instance(seed, weeks, n_events, with_staff)
    best = brute_force(case)
    with pytest.MonkeyPatch.context() as mp:
        _solver_finds_nothing(mp)
        try:
            plan = plan_events(**case)
        except PlanInfeasibleError:
            plan = None
    assert (plan is None) == (best is None)
    if plan is None or best is None:
        return
    _assert_rules_hold(plan, case["events"], case["budget"], case["staff_per_week"])
    value = _value_of(plan, case["venues"], case["communities"], case["travel"],
                      case["event_types"])
    assert plan.attendance == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert plan.attendance <= best + 1e-6
    if plan.proven_optimal:
        assert plan.attendance == pytest.approx(best, rel=1e-6, abs=1e-6)
    elif plan.gap is not None:
        assert best <= plan.attendance * (1 + plan.gap) + 1e-6


def test_weeks_alike_but_not_at_one_are_bounded_right() -> None:
    """Every week at 0.5 (all alike: the count model): one session at V1 draws 75 x 0.5;
    the bound is in the same units, so the plan is proven (with the weeks priced at 1 the
    bound was 75 and nothing was ever proven; at 1.5 the bound fell below the plan)."""
    venues, communities, travel = two_towns()
    plan = plan_events(venues, communities, travel, events={"anti_fraud": 1}, weeks=3,
                       week_factor={1: 0.5, 2: 0.5, 3: 0.5})
    assert plan.attendance == pytest.approx(37.5)
    assert plan.proven_optimal and plan.gap == 0.0
