"""Channel budget allocation: response curves per paid channel, the split of the budget
that maximises expected lifetime margin, and the `channel_budget_allocation` table with
the probability that each move beats today's spend and a reason per channel.

series -> curves (forms x adstock, Poisson fits, out-of-time weights, pooling, draws)
-> optimise (expected value over draws, on grids) -> table/reasons; `allocate_budget`
runs the chain. Plain functions: the Dagster asset only wires them.
"""

from ltv_pipeline.decisions.allocation.optimise import (
    MODES,
    Optimum,
    optimise_spend,
    spend_grid,
)
from ltv_pipeline.decisions.allocation.plan import Allocation, allocate_budget
from ltv_pipeline.decisions.allocation.response_curves import (
    CurveFit,
    FitOptions,
    fit_response_curve,
    fit_response_curves,
)
from ltv_pipeline.decisions.allocation.series import current_daily, daily_panel

__all__ = [
    "MODES",
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
    "spend_grid",
]
