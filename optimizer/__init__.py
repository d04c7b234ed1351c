"""PuLP models: outlet siting, event planning, staff allocation, budget allocation;
response curves. Every result states whether optimality was proven.

Names are loaded on first use (PEP 562): the errors and the counting checks
(``event_count_reason``) import neither PuLP nor pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo import lazy_names

if TYPE_CHECKING:
    from optimizer._event_counts import (
        event_count_reason,
    )
    from optimizer._rollout import ROLLOUT_OBJECTIVES
    from optimizer.budget import (
        DEFAULT_CHANNEL_GROUPS,
        ONLINE_CHANNELS,
        BudgetPlan,
        allocate_budget,
    )
    from optimizer.combined import (
        CombinedPlan,
        Marginal,
        allocate_combined,
        annualized_cost,
        best_closed,
        marketing_marginal,
    )
    from optimizer.covering import (
        CoveringResult,
        greedy_covering,
        maximal_covering,
    )
    from optimizer.errors import (
        OptimizerInputError,
        PlanInfeasibleError,
    )
    from optimizer.events import (
        EVENT_TYPES,
        EventPlan,
        EventType,
        event_attendance,
        plan_events,
    )
    from optimizer.matching import (
        Matching,
        match_controls,
        standardized_mean_differences,
    )
    from optimizer.response import (
        ResponseCurve,
        curves_response,
        fit_response_curve,
    )
    from optimizer.siting import (
        CostWeights,
        SitingResult,
        read_cost_table,
        site_outlets,
    )
    from optimizer.staff import (
        DEFAULT_MIN_STAFF,
        StaffPlan,
        allocate_staff,
        event_staff_needs,
    )
    from optimizer.van import VanPlan, plan_van

__all__ = [
    "DEFAULT_CHANNEL_GROUPS",
    "DEFAULT_MIN_STAFF",
    "EVENT_TYPES",
    "ONLINE_CHANNELS",
    "ROLLOUT_OBJECTIVES",
    "BudgetPlan",
    "CombinedPlan",
    "CostWeights",
    "CoveringResult",
    "EventPlan",
    "EventType",
    "Marginal",
    "Matching",
    "OptimizerInputError",
    "PlanInfeasibleError",
    "ResponseCurve",
    "SitingResult",
    "StaffPlan",
    "VanPlan",
    "allocate_budget",
    "allocate_combined",
    "allocate_staff",
    "annualized_cost",
    "best_closed",
    "curves_response",
    "event_attendance",
    "event_count_reason",
    "event_staff_needs",
    "fit_response_curve",
    "greedy_covering",
    "marketing_marginal",
    "match_controls",
    "maximal_covering",
    "plan_events",
    "plan_van",
    "read_cost_table",
    "site_outlets",
    "standardized_mean_differences",
]

#: Where each public name lives.
_WHERE: dict[str, str] = {
    "DEFAULT_CHANNEL_GROUPS": "optimizer.budget",
    "ONLINE_CHANNELS": "optimizer.budget",
    "BudgetPlan": "optimizer.budget",
    "allocate_budget": "optimizer.budget",
    "CombinedPlan": "optimizer.combined",
    "Marginal": "optimizer.combined",
    "best_closed": "optimizer.combined",
    "marketing_marginal": "optimizer.combined",
    "allocate_combined": "optimizer.combined",
    "annualized_cost": "optimizer.combined",
    "CoveringResult": "optimizer.covering",
    "greedy_covering": "optimizer.covering",
    "maximal_covering": "optimizer.covering",
    "OptimizerInputError": "optimizer.errors",
    "VanPlan": "optimizer.van",
    "plan_van": "optimizer.van",
    "ROLLOUT_OBJECTIVES": "optimizer._rollout",
    "PlanInfeasibleError": "optimizer.errors",
    "EVENT_TYPES": "optimizer.events",
    "EventPlan": "optimizer.events",
    "EventType": "optimizer.events",
    "event_attendance": "optimizer.events",
    "plan_events": "optimizer.events",
    "event_count_reason": "optimizer._event_counts",
    "Matching": "optimizer.matching",
    "match_controls": "optimizer.matching",
    "standardized_mean_differences": "optimizer.matching",
    "ResponseCurve": "optimizer.response",
    "fit_response_curve": "optimizer.response",
    "curves_response": "optimizer.response",
    "CostWeights": "optimizer.siting",
    "SitingResult": "optimizer.siting",
    "read_cost_table": "optimizer.siting",
    "site_outlets": "optimizer.siting",
    "DEFAULT_MIN_STAFF": "optimizer.staff",
    "StaffPlan": "optimizer.staff",
    "allocate_staff": "optimizer.staff",
    "event_staff_needs": "optimizer.staff",
}


__getattr__, __dir__ = lazy_names("optimizer", _WHERE, globals())
