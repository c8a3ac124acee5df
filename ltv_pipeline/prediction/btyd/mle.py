"""The maximum-likelihood step the BTYD models share: a penalised L-BFGS-B on log-parameters.

Each model supplies a weighted log-likelihood with its gradient in the log-parameters; this
module minimises the mean negative log-likelihood plus `penalizer * sum(params**2)` (the L2
penalty of the `lifetimes` package, which keeps small data sets from running a parameter off
to infinity). Working on log-parameters makes positivity free; bounds on them keep the
search finite. Where a special function is out of range the likelihood is NaN: the loss is
then infinite, and since L-BFGS-B's line search stops at the first such step (declaring
convergence where it started), a fit that stops short of a stationary point walks on with
Nelder-Mead, for which an infinite loss is a wall, and is polished by L-BFGS-B again.
OpenBLAS threads even L-BFGS-B's tiny linear algebra, which made fits many
times slower with the cores busy, so BLAS is limited to one thread while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

LOG_BOUNDS = (-18.0, 18.0)
STATIONARY_GRADIENT = 1e-5
"""Largest projected gradient of the mean loss at which a fit counts as stopped at an optimum."""

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

    def lbfgsb(x0: np.ndarray):
        return minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=list(bounds),
                        options={"maxiter": max_iterations, "ftol": 1e-14, "gtol": 1e-9})

    with threadpool_limits(limits=1, user_api="blas"):
        result = lbfgsb(np.asarray(start, dtype=np.float64))
        if not _stationary(objective, result.x, bounds):
            walked = minimize(lambda z: objective(z)[0], result.x, method="Nelder-Mead", bounds=list(bounds),
                              options={"maxiter": 200 * len(result.x), "xatol": 1e-8, "fatol": 1e-14})
            result = lbfgsb(walked.x)
    theta = np.exp(result.x)
    return theta, log_likelihood(theta, False)[0], bool(result.success)


def _stationary(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
                bounds: Sequence[tuple[float, float]]) -> bool:
    """Whether the projected gradient of the loss at `x` is (nearly) zero: at a bound, only
    a gradient pointing into the box counts."""
    loss, grad = objective(x)
    if not np.isfinite(loss):
        return False
    low, high = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    blocked = ((x <= low + 1e-12) & (grad > 0)) | ((x >= high - 1e-12) & (grad < 0))
    return bool(np.max(np.abs(np.where(blocked, 0.0, grad)), initial=0.0) < STATIONARY_GRADIENT)
