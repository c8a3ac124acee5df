"""Channel budget allocation: response curves per paid channel, the LTV-maximising split
of the budget, and the `channel_budget_allocation` table with a reason per channel.

series -> curves (Poisson MLE, identification) -> optimise (KKT, exact) -> table/reasons;
`allocate_budget` runs the chain. Plain functions: the Dagster asset only wires them.
"""

from ltv_pipeline.decisions.allocation.curves import CurveFit, FitOptions, fit_response_curve, fit_response_curves
from ltv_pipeline.decisions.allocation.optimise import Optimum, optimise_spend
from ltv_pipeline.decisions.allocation.plan import Allocation, allocate_budget
from ltv_pipeline.decisions.allocation.series import current_daily, daily_panel

__all__ = [
    "Allocation",
    "CurveFit",
    "FitOptions",
    "Optimum",
    "allocate_budget",
    "current_daily",
    "daily_panel",
    "fit_response_curve",
    "fit_response_curves",
    "optimise_spend",
]
