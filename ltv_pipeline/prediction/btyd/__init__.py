"""Buy-till-you-die models implemented with numpy/scipy: BG/NBD for purchase counts,
Gamma-Gamma for spend, and the discounted CLV built from them.

No maintained library fits the stack (`lifetimes` breaks under pandas 3, PyMC-Marketing
needs Python 3.12), and the closed-form likelihoods make a vectorised implementation short.
"""

from ltv_pipeline.prediction.btyd.bgnbd import (
    BgNbdParams,
    bgnbd_log_likelihood,
    expected_transactions,
    expected_transactions_grid,
    expected_transactions_if_alive,
    expected_transactions_unconditional,
    fit_bgnbd,
    p_alive,
)
from ltv_pipeline.prediction.btyd.clv import (
    clv_interval,
    discounted_clv,
    discounted_expected_transactions,
    expected_next_purchase_days,
)
from ltv_pipeline.prediction.btyd.gamma_gamma import (
    GammaGammaParams,
    expected_average_value,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from ltv_pipeline.prediction.btyd.summary import TimeUnit, group_sufficient_stats, rfm_summary

__all__ = [
    "BgNbdParams",
    "GammaGammaParams",
    "TimeUnit",
    "bgnbd_log_likelihood",
    "clv_interval",
    "discounted_clv",
    "discounted_expected_transactions",
    "expected_average_value",
    "expected_next_purchase_days",
    "expected_transactions",
    "expected_transactions_grid",
    "expected_transactions_if_alive",
    "expected_transactions_unconditional",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "group_sufficient_stats",
    "p_alive",
    "rfm_summary",
]
