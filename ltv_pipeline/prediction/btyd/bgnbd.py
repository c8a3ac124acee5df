"""BG/NBD (Fader, Hardie & Lee 2005): fit by maximum likelihood and conditional predictions.

While alive a customer buys at rate lambda ~ Gamma(r, alpha); after each repeat purchase
it drops out for good with probability p ~ Beta(a, b). The likelihood of a customer's
`(x, t_x, T)` has a closed form, so the fit needs no integration and runs on the distinct
rows of the data with weights. The special functions of `x`, `T` and `t_x` that the
likelihood needs are evaluated once per distinct value and gathered.

OpenBLAS threads even tiny operations (dot products, L-BFGS-B's 4x4 linear algebra), and
with the cores busy (an XGBoost fit next door) that made a fit many times slower. So weighted
sums are written `np.sum(a * b)` rather than `a @ b`; the optimiser (btyd/mle.py) runs with
BLAS limited to one thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from ltv_pipeline.prediction.btyd.mle import LOG_BOUNDS, fit_log_parameters
from ltv_pipeline.prediction.btyd.summary import TimeUnit, days_per_unit

_A_NEAR_ONE = 1e-6


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters; rates (`alpha`) are per `time_unit`."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: float
    converged: bool
    time_unit: TimeUnit

    def as_array(self) -> np.ndarray:
        """`(r, alpha, a, b)`, the order every function of this module takes."""
        return np.array([self.r, self.alpha, self.a, self.b])


class _Design:
    """The data of a fit, factored into the distinct values of x, T and t_x."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None):
        x, t_x, T = (np.asarray(v, dtype=np.float64).ravel() for v in (x, t_x, T))
        if not (x.size == t_x.size == T.size):
            raise ValueError("x, t_x and T must have the same length")
        if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any((x == 0) & (t_x != 0)):
            raise ValueError("need 0 <= t_x <= T, x >= 0, and t_x == 0 where x == 0")
        self.w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        self.x = x
        self.x_levels, self.x_index = np.unique(x, return_inverse=True)
        self.x_weight = np.bincount(self.x_index, weights=self.w, minlength=self.x_levels.size)
        self.T_levels, self.T_index = np.unique(T, return_inverse=True)
        self.tx_levels, self.tx_index = np.unique(t_x, return_inverse=True)
        self.repeat_levels = self.x_levels > 0
        self.total_weight = float(self.w.sum())

    def log_likelihood(self, theta: np.ndarray, with_gradient: bool) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood at natural parameters `theta` and, if asked, its gradient
        with respect to the log-parameters."""
        r, alpha, a, b = theta
        xl = self.x_levels
        # ln A1 + ln A2 per distinct x: gammaln(r+x) - gammaln(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
        level_term = gammaln(r + xl) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xl) - betaln(a, b)
        # ln A4 without its t_x part, ln a - ln(b + x - 1): only defined (and used) for x > 0
        b_x_1 = b + np.maximum(xl, 1.0) - 1.0
        dropout_level = np.where(self.repeat_levels, np.log(a) - np.log(b_x_1), -np.inf)
        log_aT = np.log(alpha + self.T_levels)[self.T_index]
        log_atx = np.log(alpha + self.tx_levels)[self.tx_index]
        rx = r + self.x
        alive = -rx * log_aT  # ln A3
        dropped = dropout_level[self.x_index] - rx * log_atx  # ln A4 (-inf where x == 0)
        combined = np.logaddexp(alive, dropped)
        ll = float(np.sum(self.x_weight * level_term) + np.sum(self.w * combined))
        if not with_gradient:
            return ll, None
        share_dropped = self.w * np.exp(dropped - combined)
        share_alive = self.w - share_dropped
        inv_bx = np.where(self.repeat_levels, 1.0 / b_x_1, 0.0)
        d_r = np.sum(self.x_weight * (digamma(r + xl) - digamma(r) + np.log(alpha))) - np.sum(
            share_alive * log_aT + share_dropped * log_atx
        )
        d_alpha = self.total_weight * r / alpha - np.sum(
            rx
            * (
                share_alive / (alpha + self.T_levels)[self.T_index]
                + share_dropped / (alpha + self.tx_levels)[self.tx_index]
            )
        )
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + xl)
        d_a = np.sum(self.x_weight * (psi_ab - psi_abx)) + share_dropped.sum() / a
        d_b = np.sum(self.x_weight * (psi_ab + digamma(b + xl) - digamma(b) - psi_abx)) - np.sum(
            share_dropped * inv_bx[self.x_index]
        )
        return ll, np.array([d_r, d_alpha, d_a, d_b]) * theta


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Weighted BG/NBD log-likelihood of `(r, alpha, a, b)` in the A1..A4 form of FHL 2005:

    ln L = ln A1 + ln A2 + ln(A3 + [x > 0] A4) with A1 = Gamma(r+x) alpha^r / Gamma(r),
    A2 = B(a, b+x) / B(a, b), A3 = (alpha+T)^-(r+x), A4 = a/(b+x-1) (alpha+t_x)^-(r+x);
    the sum of A3 and A4 is taken in log space (logaddexp) so large x and T cannot overflow.
    """
    return _Design(x, t_x, T, weights).log_likelihood(np.asarray(params, dtype=np.float64), False)[0]


def fit_bgnbd(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    time_unit: TimeUnit,
    penalizer: float = 0.0,
    max_iterations: int = 500,
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters.

    L-BFGS-B on the log-parameters (so positivity needs no constraint) with the analytic
    gradient, minimising the mean negative log-likelihood plus `penalizer * sum(params**2)`,
    the same L2 penalty as the `lifetimes` package uses to keep small data sets from running
    a or b off to infinity. Pass the output of `group_sufficient_stats` with its weights to
    fit on distinct rows only; the result is the same as on the raw rows.
    """
    days_per_unit(time_unit)  # rejects an unknown unit before any work
    design = _Design(x, t_x, T, weights)
    if design.total_weight <= 0:
        raise ValueError("cannot fit BG/NBD without customers")
    mean_x = float(np.sum(design.w * design.x)) / design.total_weight
    mean_T = float(np.sum(design.w * design.T_levels[design.T_index])) / design.total_weight
    # Start at r = 1 with the average repeat rate, and a flat Beta(1, 1) for dropout.
    start = np.log([1.0, max(mean_T, 1e-3) / max(mean_x, 1e-3), 1.0, 1.0])

    (r, alpha, a, b), ll, converged = fit_log_parameters(
        design.log_likelihood, design.total_weight, start, [LOG_BOUNDS] * 4,
        penalizer=penalizer, max_iterations=max_iterations,
    )
    return BgNbdParams(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=ll,
        n_customers=design.total_weight,
        converged=converged,
        time_unit=time_unit,
    )


def p_alive(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still alive at T | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Exactly 1 for x = 0: in BG/NBD dropout can only happen right after a repeat purchase.
    """
    r, alpha, a, b = params.as_array()
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    log_odds_dead = np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0) + (r + x) * (
        np.log(alpha + T) - np.log(alpha + t_x)
    )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def expected_transactions_if_alive(params: BgNbdParams, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[transactions in (T, T+t] | alive at T, x, T]; broadcasts `t`, `x` and `T`.

    FHL 2005's conditional expectation without its p_alive factor. Their form multiplies a vanishing power by
    2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t), which diverges as z -> 1 and overflows for
    large x. Euler's transformation turns it into the equivalent, well-conditioned
    (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)],
    whose series has a small second parameter. At a = 1 the expression is 0/0 (the limit is
    finite): within 1e-6 of it, the mean of the values at 1 -/+ 1e-6 is returned, which is
    exact to second order.
    """
    r, alpha, a, b = params.as_array()
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, T)))
    if abs(a - 1.0) < _A_NEAR_ONE:
        below = _if_alive(r, alpha, 1.0 - _A_NEAR_ONE, b, t, x, T)
        return 0.5 * (below + _if_alive(r, alpha, 1.0 + _A_NEAR_ONE, b, t, x, T))
    return _if_alive(r, alpha, a, b, t, x, T)


def _if_alive(r: float, alpha: float, a: float, b: float, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    value = c / (a - 1.0) * (1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(
            f"BG/NBD expectation not finite for r={r}, alpha={alpha}, a={a}, b={b} "
            "(2F1 has a pole when a + b + x - 1 is a non-positive integer)"
        )
    return value


def expected_transactions(
    params: BgNbdParams, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[number of transactions in (T, T+t] | x, t_x, T] (FHL 2005), `t` in model units."""
    return p_alive(params, x, t_x, T) * expected_transactions_if_alive(params, t, x, T)


def expected_transactions_unconditional(params: BgNbdParams, t: np.ndarray) -> np.ndarray:
    """E[repeat transactions in (0, t]] of a customer who made a first purchase at 0.

    This is FHL 2005's E[X(t)]; it equals the conditional expectation with x = 0 and T = 0,
    which is how it is computed.
    """
    return expected_transactions_if_alive(params, t, 0.0, 0.0)


def expected_transactions_grid(
    params: BgNbdParams, times: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Cumulative expected transactions for each customer (rows) at each future time
    (columns, model units after T), e.g. for back-test curves of predicted vs actual.

    Memory is customers x times; `clv.discounted_expected_transactions` does the same over a
    whole population in chunks and on distinct (x, T) pairs."""
    x, t_x, T = (np.asarray(v, dtype=np.float64).ravel() for v in (x, t_x, T))
    times = np.asarray(times, dtype=np.float64).ravel()
    return p_alive(params, x, t_x, T)[:, None] * expected_transactions_if_alive(
        params, times[None, :], x[:, None], T[:, None]
    )
