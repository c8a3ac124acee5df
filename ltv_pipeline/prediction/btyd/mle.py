"""The maximum-likelihood step the BTYD models share: a penalised L-BFGS-B on log-parameters.

Each model supplies a weighted log-likelihood with its gradient in the log-parameters; this
module minimises the mean negative log-likelihood plus `penalizer * sum(params**2)` (the L2
penalty of the `lifetimes` package, which keeps small data sets from running a parameter off
to infinity). Working on log-parameters makes positivity free; bounds on them keep the
search finite. OpenBLAS threads even L-BFGS-B's tiny linear algebra, which made fits many
times slower with the cores busy, so BLAS is limited to one thread while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

LOG_BOUNDS = (-18.0, 18.0)

LogLikelihood = Callable[[np.ndarray, bool], tuple[float, np.ndarray | None]]
"""(natural parameters, with_gradient) -> (weighted log-likelihood, its gradient in the log-parameters)."""


def fit_log_parameters(
    log_likelihood: LogLikelihood,
    total_weight: float,
    start: np.ndarray,
    bounds: Sequence[tuple[float, float]],
    *,
    penalizer: float,
    max_iterations: int,
) -> tuple[np.ndarray, float, bool]:
    """(natural parameters, unpenalised log-likelihood there, converged) of the penalised fit."""

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        with np.errstate(invalid="ignore", over="ignore"):
            ll, grad = log_likelihood(theta, True)
        if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
            # a special function out of range (NaN): an infinite loss makes the line search
            # reject the step instead of wandering on NaNs until the iteration limit
            return np.inf, np.zeros_like(log_theta)
        penalty = penalizer * float(np.sum(theta**2))
        return -ll / total_weight + penalty, -grad / total_weight + 2.0 * penalizer * theta**2

    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            np.asarray(start, dtype=np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=list(bounds),
            options={"maxiter": max_iterations, "ftol": 1e-14, "gtol": 1e-9},
        )
    theta = np.exp(result.x)
    return theta, log_likelihood(theta, False)[0], bool(result.success)
