"""PuLP models: outlet siting, event planning, staff allocation, budget allocation;
response curves. Every result states whether optimality was proven."""

from optimizer.budget import BudgetPlan, allocate_budget
from optimizer.covering import CoveringResult, greedy_covering, maximal_covering
from optimizer.errors import OptimizerInputError, PlanInfeasibleError
from optimizer.events import EVENT_TYPES, EventPlan, EventType, event_attendance, plan_events
from optimizer.response import ResponseCurve, fit_response_curve
from optimizer.siting import SitingResult, read_cost_table, site_outlets
from optimizer.staff import DEFAULT_MIN_STAFF, StaffPlan, allocate_staff, event_staff_needs

__all__ = [
    "DEFAULT_MIN_STAFF",
    "EVENT_TYPES",
    "BudgetPlan",
    "CoveringResult",
    "EventPlan",
    "EventType",
    "OptimizerInputError",
    "PlanInfeasibleError",
    "ResponseCurve",
    "SitingResult",
    "StaffPlan",
    "allocate_budget",
    "allocate_staff",
    "event_attendance",
    "event_staff_needs",
    "fit_response_curve",
    "greedy_covering",
    "maximal_covering",
    "plan_events",
    "read_cost_table",
    "site_outlets",
]
