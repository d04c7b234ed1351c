"""PuLP models: outlet siting, event planning, staff allocation, budget allocation;
response curves. Every result states whether optimality was proven."""

from optimizer.budget import BudgetPlan, allocate_budget
from optimizer.covering import CoveringResult, greedy_covering, maximal_covering
from optimizer.errors import OptimizerInputError, PlanInfeasibleError
from optimizer.response import ResponseCurve, fit_response_curve
from optimizer.siting import SitingResult, read_cost_table, site_outlets

__all__ = [
    "BudgetPlan",
    "CoveringResult",
    "OptimizerInputError",
    "PlanInfeasibleError",
    "ResponseCurve",
    "SitingResult",
    "allocate_budget",
    "fit_response_curve",
    "greedy_covering",
    "maximal_covering",
    "read_cost_table",
    "site_outlets",
]
