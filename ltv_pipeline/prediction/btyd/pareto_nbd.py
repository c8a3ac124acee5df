"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): fit by maximum likelihood and conditional predictions.

While alive a customer buys at rate lambda ~ Gamma(r, alpha) and dies at an exponential time
of rate mu ~ Gamma(s, beta), at any moment rather than only right after a purchase (BG/NBD's
assumption). The likelihood of a customer's `(x, t_x, T)` is

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) x [ (alpha+T)^-(r+x) (beta+T)^-s + s I ],
    I = integral over tau in (t_x, T) of (alpha+tau)^-(r+x) (beta+tau)^-(s+1),

the second term being death at tau after the last purchase. I has a closed form in Gauss's
hypergeometric function, evaluated in a transformed form that stays finite at any x. The
gradient is analytic except in r and s (central differences of I only), so the fit uses the
same L-BFGS-B step as BG/NBD (btyd/mle.py), on distinct rows with weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from ltv_pipeline.prediction.btyd.mle import LOG_BOUNDS, fit_log_parameters
from ltv_pipeline.prediction.btyd.summary import TimeUnit, days_per_unit

_S_NEAR_ONE = 1e-8
_STEP = 1e-5
"""Relative step of the central differences in r and s (the only derivatives without a closed form)."""


@dataclass(frozen=True)
class ParetoNbdParams:
    """Fitted Pareto/NBD parameters; rates (`alpha`, `beta`) are per `time_unit`."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n_customers: float
    converged: bool
    time_unit: TimeUnit

    def as_array(self) -> np.ndarray:
        """`(r, alpha, s, beta)`, the order every function of this module takes."""
        return np.array([self.r, self.alpha, self.s, self.beta])


def _arrays(*values: np.ndarray) -> tuple[np.ndarray, ...]:
    out = tuple(np.asarray(v, dtype=np.float64).ravel() for v in values)
    if len({v.size for v in out}) != 1:
        raise ValueError("x, t_x and T must have the same length")
    return out


def _check(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any((x == 0) & (t_x != 0)):
        raise ValueError("need 0 <= t_x <= T, x >= 0, and t_x == 0 where x == 0")


def _log_antiderivative(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """ln G(t), where (G(t_x) - G(T)) / (r+s+x) = I.

    G(t) = 2F1(r+s+x, s+1; r+s+x+1; z) / (alpha+t)^(r+s+x) with z = (alpha-beta)/(alpha+t)
    when alpha >= beta (beta and the second parameter r+x when alpha < beta, SMC 1987).
    Euler's transformation 2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) turns it into a
    series with first parameter 1 and positive terms, which converges for z < 1 without
    the overflow of the original form at large x.
    """
    k = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return np.log(hyp2f1(1.0, r + x, k + 1.0, z)) - s * np.log(beta + t) - (r + x) * np.log(alpha + t)
    z = (beta - alpha) / (beta + t)
    return np.log(hyp2f1(1.0, s + 1.0, k + 1.0, z)) - (r + x - 1.0) * np.log(alpha + t) - (s + 1.0) * np.log(beta + t)


def _log_death_integral(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln I per row; -inf where t_x == T (no time to die after the last purchase)."""
    r, alpha, s, beta = theta
    at_tx = _log_antiderivative(r, alpha, s, beta, x, t_x)
    at_T = _log_antiderivative(r, alpha, s, beta, x, T)
    gap = np.minimum(at_T - at_tx, 0.0)
    with np.errstate(divide="ignore"):
        log_i = at_tx + np.log(-np.expm1(gap)) - np.log(r + s + x)
    return np.where(T > t_x, log_i, -np.inf)


def _death_integral(
    theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, with_gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ln I, d ln I / d(r, alpha, s, beta)) per row; the gradient is 0 where I = 0.

    dI/dalpha = -(r+x) I(x+1) and dI/dbeta = -(s+1) I(s+1) are integrals of the same form;
    the logarithmic factors of dI/dr and dI/ds have none, so those two are central differences.
    """
    log_i = _log_death_integral(theta, x, t_x, T)
    if not with_gradient:
        return log_i, None
    r, alpha, s, beta = theta
    positive = np.isfinite(log_i)
    base = np.where(positive, log_i, 0.0)

    def relative(log_other: np.ndarray) -> np.ndarray:
        return np.where(positive, np.exp(np.where(positive, log_other, 0.0) - base), 0.0)

    d_alpha = -(r + x) * relative(_log_death_integral(theta, x + 1.0, t_x, T))
    d_beta = -(s + 1.0) * relative(_log_death_integral(np.array([r, alpha, s + 1.0, beta]), x, t_x, T))
    differences = []
    for index, value in ((0, r), (2, s)):
        step = _STEP * value
        up, down = theta.copy(), theta.copy()
        up[index], down[index] = value + step, value - step
        change = _log_death_integral(up, x, t_x, T) - np.where(positive, _log_death_integral(down, x, t_x, T), 0.0)
        differences.append(np.where(positive, change, 0.0) / (2.0 * step))
    return log_i, np.stack([differences[0], d_alpha, differences[1], d_beta], axis=1)


def _alive_and_dead_terms(
    theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, with_gradient: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """ln of the alive term (alpha+T)^-(r+x) (beta+T)^-s, ln of s I, and their gradients."""
    r, alpha, s, beta = theta
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    log_i, grad_i = _death_integral(theta, x, t_x, T, with_gradient)
    log_dead = np.log(s) + log_i
    if not with_gradient:
        return log_alive, log_dead, None, None
    grad_alive = np.stack(
        [-np.log(alpha + T), -(r + x) / (alpha + T), -np.log(beta + T), -s / (beta + T)], axis=1
    )
    grad_dead = grad_i
    grad_dead[:, 2] += 1.0 / s
    return log_alive, log_dead, grad_alive, grad_dead


class _Design:
    """The data of a fit: distinct rows with weights."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None):
        self.x, self.t_x, self.T = _arrays(x, t_x, T)
        _check(self.x, self.t_x, self.T)
        self.w = np.ones_like(self.x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        self.total_weight = float(self.w.sum())

    def log_likelihood(self, theta: np.ndarray, with_gradient: bool) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood at natural parameters `theta` and, if asked, its gradient
        with respect to the log-parameters."""
        r, alpha, s, beta = theta
        x, w = self.x, self.w
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        la, ld, ga, gd = _alive_and_dead_terms(theta, x, self.t_x, self.T, with_gradient)
        combined = np.logaddexp(la, ld)
        ll = float(np.sum(w * (head + combined)))
        if not with_gradient:
            return ll, None
        p_dead = np.exp(ld - combined)[:, None]
        g = (1.0 - p_dead) * ga + p_dead * gd
        g[:, 0] += digamma(r + x) - digamma(r) + np.log(alpha)
        g[:, 1] += r / alpha
        g[:, 2] += np.log(beta)
        g[:, 3] += s / beta
        return ll, np.sum(w[:, None] * g, axis=0) * theta


def pareto_nbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                              weights: np.ndarray | None = None) -> float:
    """Weighted Pareto/NBD log-likelihood of `(r, alpha, s, beta)`."""
    return _Design(x, t_x, T, weights).log_likelihood(np.asarray(params, dtype=np.float64), False)[0]


def fit_pareto_nbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None,
    *, time_unit: TimeUnit, penalizer: float = 0.0, max_iterations: int = 500,
) -> ParetoNbdParams:
    """Maximum-likelihood Pareto/NBD parameters (penalised like BG/NBD's fit; pass the output
    of `group_sufficient_stats` with its weights to fit on distinct rows only)."""
    days_per_unit(time_unit)
    design = _Design(x, t_x, T, weights)
    if design.total_weight <= 0:
        raise ValueError("cannot fit Pareto/NBD without customers")
    mean_x = float(np.sum(design.w * design.x)) / design.total_weight
    mean_T = float(np.sum(design.w * design.T)) / design.total_weight
    # Start at r = s = 1 with the average repeat rate and a mean lifetime of the mean tenure.
    start = np.log([1.0, max(mean_T, 1e-3) / max(mean_x, 1e-3), 1.0, max(mean_T, 1e-3)])
    (r, alpha, s, beta), ll, converged = fit_log_parameters(
        design.log_likelihood, design.total_weight, start, [LOG_BOUNDS] * 4,
        penalizer=penalizer, max_iterations=max_iterations,
    )
    return ParetoNbdParams(
        r=float(r), alpha=float(alpha), s=float(s), beta=float(beta), log_likelihood=ll,
        n_customers=design.total_weight, converged=converged, time_unit=time_unit,
    )


def pareto_nbd_p_alive(params: ParetoNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T): the alive term's share of the likelihood."""
    x, t_x, T = _arrays(x, t_x, T)
    _check(x, t_x, T)
    la, ld, _, _ = _alive_and_dead_terms(params.as_array(), x, t_x, T, False)
    return np.exp(la - np.logaddexp(la, ld))


def pareto_nbd_expected_transactions(
    params: ParetoNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[transactions in (T, T+t] | x, t_x, T], `t` in model units:

    P(alive) (r+x)/(alpha+T) (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)],
    the bracket over (s-1) written with expm1 so that s = 1 (its limit ln((beta+T+t)/(beta+T)))
    needs no special case."""
    r, alpha, s, beta = params.as_array()
    x, t_x, T = _arrays(x, t_x, T)
    growth = np.log1p(float(t) / (beta + T))
    shape = s - 1.0
    lifetime = growth if abs(shape) < _S_NEAR_ONE else -np.expm1(-shape * growth) / shape
    return pareto_nbd_p_alive(params, x, t_x, T) * (r + x) / (alpha + T) * (beta + T) * lifetime
