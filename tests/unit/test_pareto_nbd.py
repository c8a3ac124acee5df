"""Pareto/NBD: likelihood against a brute-force double integral over the latent rates,
parameter recovery on simulated customers, predictions against the simulated future.

Simulations use the literature's CDNOW estimates (weeks): r=0.55, alpha=10.58, s=0.61,
beta=11.67 (Fader, Hardie & Lee 2005). Seeds are fixed; tolerances come from standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import dblquad
from scipy.special import gammaln

from ltv_pipeline.prediction.btyd import group_sufficient_stats
from ltv_pipeline.prediction.btyd.pareto_nbd import (
    ParetoNbdParams,
    fit_pareto_nbd,
    pareto_nbd_expected_transactions,
    pareto_nbd_log_likelihood,
    pareto_nbd_p_alive,
)
from ltv_pipeline.prediction.btyd.simulation import (
    simulate_pareto_nbd_purchases,
    summarise_purchases,
)

TRUE = (0.55, 10.58, 0.61, 11.67)
TRUE_WEEKS = ParetoNbdParams(*TRUE, log_likelihood=np.nan, n_customers=0, converged=True, time_unit="week")


def _simulated(n: int, seed: int, future_weeks: float = 0.0):
    """Customers observed 39-78 weeks (continuous times), optionally followed further."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(39.0, 78.0, n)
    customer, time = simulate_pareto_nbd_purchases(*TRUE, T + future_weeks, rng)
    x, t_x = summarise_purchases(customer, time, n, T)
    return T, x, t_x, customer, time


def _brute_force_likelihood(theta: tuple[float, ...], x: float, t_x: float, T: float) -> float:
    """E over lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta) of the individual likelihood
    lambda^x e^-(lambda+mu)T + mu/(lambda+mu) lambda^x (e^-(lambda+mu)t_x - e^-(lambda+mu)T),
    integrated numerically on a log scale of both rates."""
    r, alpha, s, beta = theta
    log_c = r * np.log(alpha) + s * np.log(beta) - gammaln(r) - gammaln(s)

    def integrand(log_mu: float, log_lam: float) -> float:
        lam, mu = np.exp(log_lam), np.exp(log_mu)
        rate = lam + mu
        individual = lam**x * (np.exp(-rate * T) + mu / rate * (np.exp(-rate * t_x) - np.exp(-rate * T)))
        density = np.exp(log_c + r * log_lam - alpha * lam + s * log_mu - beta * mu)  # includes the Jacobian
        return individual * density

    value, _ = dblquad(integrand, -90.0, 5.0, -90.0, 5.0, epsabs=0, epsrel=1e-10)
    return float(value)


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 39.0), (1, 5.5, 39.0), (4, 30.2, 52.0), (12, 70.0, 78.0)])
@pytest.mark.parametrize("theta", [TRUE, (2.0, 5.0, 0.3, 60.0)])
def test_log_likelihood_equals_brute_force_integral(theta, x, t_x, T):
    closed = pareto_nbd_log_likelihood(np.array(theta), np.array([x], float), np.array([t_x]), np.array([T]))
    assert closed == pytest.approx(np.log(_brute_force_likelihood(theta, x, t_x, T)), abs=1e-6)


def test_fit_recovers_simulated_parameters():
    T, x, t_x, _, _ = _simulated(5_000, seed=11)
    x_u, tx_u, T_u, weights, _ = group_sufficient_stats(x, t_x, T)
    fitted = fit_pareto_nbd(x_u, tx_u, T_u, weights, time_unit="week")
    assert fitted.converged
    estimate = fitted.as_array()
    # standard errors of the log-parameters from a numerical Hessian at the estimate
    h = 1e-4
    k = estimate.size

    def ll(log_theta: np.ndarray) -> float:
        return pareto_nbd_log_likelihood(np.exp(log_theta), x_u, tx_u, T_u, weights)

    base = np.log(estimate)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (ll(base + ei + ej) - ll(base + ei - ej) - ll(base - ei + ej) + ll(base - ei - ej)) / (4 * h * h)
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    assert np.all(np.abs(base - np.log(TRUE)) < 3.5 * se), (estimate, se)
    # and the grouped fit is the fit on the raw rows
    assert fitted.log_likelihood == pytest.approx(pareto_nbd_log_likelihood(estimate, x, t_x, T), rel=1e-10)


def test_gradient_matches_the_likelihood():
    from ltv_pipeline.prediction.btyd.pareto_nbd import _Design

    T, x, t_x, _, _ = _simulated(500, seed=12)
    design = _Design(x, t_x, T, None)
    theta = np.array([0.8, 7.0, 1.3, 20.0])
    _, grad = design.log_likelihood(theta, True)
    h = 1e-6
    numeric = [
        (design.log_likelihood(theta * np.exp(h * e), False)[0] - design.log_likelihood(theta * np.exp(-h * e), False)[0])
        / (2 * h)
        for e in np.eye(4)
    ]
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_expected_transactions_match_the_simulated_future():
    T, x, t_x, customer, time = _simulated(20_000, seed=13, future_weeks=39.0)
    future = np.bincount(customer[time > T[customer]], minlength=T.size)
    predicted = pareto_nbd_expected_transactions(TRUE_WEEKS, 39.0, x, t_x, T)
    residual = future - predicted
    assert abs(residual.sum()) < 4 * np.sqrt(np.sum(residual**2))
    # and by frequency: customers with more purchases are predicted (and seen) to buy more
    for group in (x == 0, (x >= 1) & (x <= 2), x >= 5):
        r = residual[group]
        assert abs(r.sum()) < 4 * np.sqrt(np.sum(r**2))


def test_p_alive_is_one_at_the_last_instant_and_falls_with_inactivity():
    x = np.array([3.0, 3.0, 3.0])
    alive = pareto_nbd_p_alive(TRUE_WEEKS, x, np.array([50.0, 30.0, 5.0]), np.full(3, 50.0))
    assert alive[0] == pytest.approx(1.0)
    assert alive[0] > alive[1] > alive[2] > 0


def test_expectation_is_continuous_at_s_equal_one():
    args = (52.0, np.array([2.0]), np.array([20.0]), np.array([40.0]))
    at_one = ParetoNbdParams(0.5, 10.0, 1.0, 12.0, np.nan, 0, True, "week")
    near = [ParetoNbdParams(0.5, 10.0, 1.0 + d, 12.0, np.nan, 0, True, "week") for d in (-1e-6, 1e-6)]
    value = pareto_nbd_expected_transactions(at_one, *args)[0]
    assert all(pareto_nbd_expected_transactions(p, *args)[0] == pytest.approx(value, rel=1e-5) for p in near)


def test_invalid_inputs_are_rejected():
    with pytest.raises(ValueError):
        pareto_nbd_log_likelihood(np.array(TRUE), np.array([1.0]), np.array([10.0]), np.array([5.0]))
    with pytest.raises(ValueError):
        fit_pareto_nbd(np.array([0.0]), np.array([1.0]), np.array([5.0]), time_unit="week")

