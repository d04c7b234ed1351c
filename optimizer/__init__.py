"""PuLP models: outlet siting, staff allocation, budget allocation; response curves.

This first part holds maximal covering (with its reductions and greedy warm start) and
the solver handling every model shares. Site, event, staff and budget planning follow.
"""

from optimizer.covering import CoveringResult, greedy_covering, maximal_covering
from optimizer.errors import OptimizerInputError, PlanInfeasibleError

__all__ = [
    "CoveringResult",
    "OptimizerInputError",
    "PlanInfeasibleError",
    "greedy_covering",
    "maximal_covering",
]
