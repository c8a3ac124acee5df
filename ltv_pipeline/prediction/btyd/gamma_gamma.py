"""Gamma-Gamma spend model (Fader & Hardie 2013): fit and conditional expected value.

A customer's transaction values are Gamma(p, nu) with a customer-specific rate
nu ~ Gamma(q, v), independent of the purchase process. Only the number of repeat
transactions x and their mean m_x enter the likelihood, which has a closed form.
Weighted sums avoid BLAS and the optimiser runs single-threaded, for the reason given in
`bgnbd`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from ltv_pipeline.prediction.btyd.mle import LOG_BOUNDS, fit_log_parameters

# q > 1 keeps the population mean spend p v / (q - 1) finite, which every prediction needs.
_LOG_Q_MIN = float(np.log1p(1e-6))


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters; `v` is in the currency of the monetary values."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: float
    converged: bool

    def as_array(self) -> np.ndarray:
        """`(p, q, v)`, the order every function of this module takes."""
        return np.array([self.p, self.q, self.v])


class _Design:
    """Repeat customers' data with the x-only terms factored into distinct values of x."""

    def __init__(self, frequency: np.ndarray, monetary_value: np.ndarray, weights: np.ndarray | None):
        x = np.asarray(frequency, dtype=np.float64).ravel()
        m = np.asarray(monetary_value, dtype=np.float64).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if not (x.size == m.size == w.size):
            raise ValueError("frequency, monetary_value and weights must have the same length")
        keep = (x > 0) & (m > 0)
        self.x, self.m, self.w = x[keep], m[keep], w[keep]
        self.x_levels, self.x_index = np.unique(self.x, return_inverse=True)
        self.x_weight = np.bincount(self.x_index, weights=self.w, minlength=self.x_levels.size)
        self.total_weight = float(self.w.sum())
        # Parameter-free parts: sum w x (ln x + ln m) and sum w ln m
        self.wx = self.w * self.x
        self.wx_log_xm = np.sum(self.wx * (np.log(self.x) + np.log(self.m)))
        self.w_log_m = np.sum(self.w * np.log(self.m))
        self.xm = self.x * self.m

    def log_likelihood(self, theta: np.ndarray, with_gradient: bool) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood at natural parameters `theta` and, if asked, its gradient
        with respect to the log-parameters."""
        p, q, v = theta
        px = p * self.x_levels
        level_term = gammaln(px + q) - gammaln(px)
        log_xm_v = np.log(self.xm + v)
        ll = float(
            np.sum(self.x_weight * level_term)
            + self.total_weight * (q * np.log(v) - gammaln(q))
            + p * self.wx_log_xm
            - self.w_log_m
            - np.sum(self.w * (p * self.x + q) * log_xm_v)
        )
        if not with_gradient:
            return ll, None
        psi = digamma(px + q)
        d_p = np.sum(self.x_levels * self.x_weight * (psi - digamma(px))) + self.wx_log_xm - np.sum(self.wx * log_xm_v)
        d_q = np.sum(self.x_weight * psi) - self.total_weight * (digamma(q) - np.log(v)) - np.sum(self.w * log_xm_v)
        d_v = self.total_weight * q / v - np.sum(self.w * (p * self.x + q) / (self.xm + v))
        return ll, np.array([d_p, d_q, d_v]) * theta


def gamma_gamma_log_likelihood(
    params: np.ndarray, frequency: np.ndarray, monetary_value: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Weighted Gamma-Gamma log-likelihood of `(p, q, v)` over customers with x > 0 and m_x > 0:

    ln Gamma(px+q) - ln Gamma(px) - ln Gamma(q) + q ln v + (px-1) ln m_x + px ln x - (px+q) ln(x m_x + v),
    the density of the mean of x Gamma(p, nu) values with nu integrated out.
    """
    return _Design(frequency, monetary_value, weights).log_likelihood(np.asarray(params, dtype=np.float64), False)[0]


def fit_gamma_gamma(
    frequency: np.ndarray,
    monetary_value: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    penalizer: float = 0.0,
    max_iterations: int = 500,
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers.

    Customers with x = 0 carry no information on repeat spend, and the model cannot
    describe a non-positive mean (e.g. a margin wiped out by refunds): both are left out.
    L-BFGS-B on log-parameters with the analytic gradient; q is kept above 1 so that the
    population mean spend exists; `penalizer` adds the same L2 penalty as `lifetimes`.
    """
    design = _Design(frequency, monetary_value, weights)
    if design.total_weight <= 0:
        raise ValueError("cannot fit Gamma-Gamma without repeat customers with a positive mean value")
    mean_m = float(np.sum(design.w * design.m)) / design.total_weight
    # p = 1, q = 2 and v chosen so the prior mean spend p v / (q - 1) equals the observed mean.
    start = np.log([1.0, 2.0, mean_m])

    (p, q, v), ll, converged = fit_log_parameters(
        design.log_likelihood, design.total_weight, start, [LOG_BOUNDS, (_LOG_Q_MIN, LOG_BOUNDS[1]), LOG_BOUNDS],
        penalizer=penalizer, max_iterations=max_iterations,
    )
    return GammaGammaParams(
        p=float(p), q=float(q), v=float(v), log_likelihood=ll, n_customers=design.total_weight, converged=converged
    )


def expected_average_value(params: GammaGammaParams, frequency: np.ndarray, monetary_value: np.ndarray) -> np.ndarray:
    """E[value of a future transaction | x, m_x] = p (v + x m_x) / (p x + q - 1).

    A credibility-weighted average of the population mean p v / (q - 1) and the customer's
    own mean m_x, with weight p x / (p x + q - 1) on the latter; for x = 0 it is the
    population mean.
    """
    p, q, v = params.as_array()
    x = np.asarray(frequency, dtype=np.float64)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
    return p * (v + x * m) / (p * x + q - 1.0)
