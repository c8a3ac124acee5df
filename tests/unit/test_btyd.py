"""BG/NBD + Gamma-Gamma: likelihoods against numerical integration, parameter recovery on
simulated data, predictions against simulation, CLV and interval calibration, RFM summary.

Simulations use the literature's CDNOW estimates (weeks): BG/NBD r=0.243, alpha=4.414,
a=0.793, b=2.426 (Fader, Hardie & Lee 2005); Gamma-Gamma p=6.25, q=3.74, v=15.44
(Fader & Hardie 2013). Every seed is fixed, so every tolerance below is checked once and
stays deterministic; they are set from the standard errors, not tuned to pass.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.integrate import quad
from scipy.special import betaln, gammaln

from ltv_pipeline.prediction.btyd import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    clv_interval,
    discounted_clv,
    expected_average_value,
    expected_next_purchase_days,
    expected_transactions,
    expected_transactions_grid,
    expected_transactions_if_alive,
    expected_transactions_unconditional,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    group_sufficient_stats,
    p_alive,
    rfm_summary,
)
from ltv_pipeline.prediction.btyd.simulation import (
    simulate_bgnbd_purchases,
    simulate_observed,
    simulate_order_log,
)

TRUE_BG = (0.243, 4.414, 0.793, 2.426)
TRUE_GG = (6.25, 3.74, 15.44)
BG_WEEKS = BgNbdParams(*TRUE_BG, log_likelihood=np.nan, n_customers=0, converged=True, time_unit="week")
GG_TRUE = GammaGammaParams(*TRUE_GG, log_likelihood=np.nan, n_customers=0, converged=True)


def _simulated_weeks(n: int, seed: int, future_weeks: float = 0.0):
    """Customers observed 39-78 weeks (continuous times), optionally followed further."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(39.0, 78.0, n)
    x, t_x, m, customer, time, value = simulate_observed(TRUE_BG, TRUE_GG, T, future_weeks, rng)
    return T, x, t_x, m, customer, time, value


def _standard_errors(loglik, theta: np.ndarray) -> np.ndarray:
    """Standard errors from the inverse of the numerical Hessian of a log-likelihood."""
    k = theta.size
    h = 1e-4 * theta
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (
                loglik(theta + ei + ej) - loglik(theta + ei - ej) - loglik(theta - ei + ej) + loglik(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


# --- likelihoods -------------------------------------------------------------------------


def _gamma_moment(r: float, alpha: float, x: float, s: float) -> float:
    """E[lambda^x exp(-lambda s)] for lambda ~ Gamma(r, alpha), by quadrature."""
    scale = (r + x) / (alpha + s)  # where the integrand's mass sits
    log_c = r * np.log(alpha) - gammaln(r)

    def f(lam):
        return np.exp(log_c + (r + x - 1) * np.log(lam) - lam * (alpha + s))

    return sum(quad(f, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0] for lo, hi in ((0, scale), (scale, np.inf)))


def _beta_moment(a: float, b: float, j: int, k: float) -> float:
    """E[p^j (1-p)^k] for p ~ Beta(a, b), by quadrature."""

    def f(p):
        return np.exp((a + j - 1) * np.log(p) + (b + k - 1) * np.log1p(-p) - betaln(a, b))

    return quad(f, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 39.0), (1, 5.5, 39.0), (4, 30.2, 52.0), (12, 70.0, 78.0), (40, 300, 301)])
def test_bgnbd_log_likelihood_equals_numerical_integration(x, t_x, T):
    r, alpha, a, b = theta = np.array([0.243, 4.414, 0.793, 2.426])
    # L = E[(1-p)^x lambda^x e^(-lambda T)] + [x > 0] E[p (1-p)^(x-1) lambda^x e^(-lambda t_x)]
    direct = _gamma_moment(r, alpha, x, T) * _beta_moment(a, b, 0, x)
    if x > 0:
        direct += _gamma_moment(r, alpha, x, t_x) * _beta_moment(a, b, 1, x - 1)
    closed = bgnbd_log_likelihood(theta, np.array([x]), np.array([t_x]), np.array([T]))
    assert np.exp(closed) == pytest.approx(direct, rel=1e-6)


@pytest.mark.parametrize("x, m", [(1, 12.0), (3, 40.5), (20, 7.3)])
def test_gamma_gamma_log_likelihood_equals_numerical_integration(x, m):
    p, q, v = TRUE_GG
    # mean of x Gamma(p, nu) values is Gamma(p x, rate x nu); nu ~ Gamma(q, rate v)
    def f(nu):
        return stats.gamma.pdf(m, p * x, scale=1 / (x * nu)) * stats.gamma.pdf(nu, q, scale=1 / v)

    direct = quad(f, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    closed = gamma_gamma_log_likelihood(np.array(TRUE_GG), np.array([x]), np.array([m]))
    assert np.exp(closed) == pytest.approx(direct, rel=1e-6)


# --- fitting -----------------------------------------------------------------------------


def test_bgnbd_recovers_cdnow_parameters():
    T, x, t_x, *_ = _simulated_weeks(15_000, seed=1)
    fitted = fit_bgnbd(x, t_x, T, time_unit="week")
    assert fitted.converged and fitted.n_customers == 15_000
    estimate = fitted.as_array()
    se = _standard_errors(lambda th: bgnbd_log_likelihood(th, x, t_x, T), estimate)
    truth = np.array(TRUE_BG)
    # 15k customers: standard errors are 2% (r) to 8% (b) of the values; 3 SE is the tolerance.
    assert np.all(np.abs(estimate - truth) < 3 * se), (estimate, se)
    assert np.all(np.abs(estimate / truth - 1) < 0.25)
    assert fitted.log_likelihood == pytest.approx(bgnbd_log_likelihood(estimate, x, t_x, T))


def test_gamma_gamma_recovers_published_parameters():
    _, x, _, m, *_ = _simulated_weeks(20_000, seed=2)
    fitted = fit_gamma_gamma(x, m)
    assert fitted.converged and fitted.n_customers == np.sum(x > 0)
    estimate = fitted.as_array()
    se = _standard_errors(lambda th: gamma_gamma_log_likelihood(th, x, m), estimate)
    # ~9.4k repeaters: standard errors 6% (p), 2% (q), 8% (v), and p and v are strongly
    # correlated; 3 SE, plus a check on the well-determined population mean spend.
    assert np.all(np.abs(estimate - np.array(TRUE_GG)) < 3 * se), (estimate, se)
    p, q, v = TRUE_GG
    assert fitted.p * fitted.v / (fitted.q - 1) == pytest.approx(p * v / (q - 1), rel=0.03)


def test_grouped_fit_equals_ungrouped_fit():
    orders = simulate_order_log(
        20_000,
        bgnbd=(0.243, 4.414 * 7, 0.793, 2.426),
        gamma_gamma=TRUE_GG,
        start=date(2023, 1, 1),
        acquisition_end=date(2024, 6, 30),
        end=date(2024, 6, 30),
        time_unit="day",
        rng=np.random.default_rng(3),
    )
    summary = rfm_summary(orders, date(2024, 6, 30), "day")
    x, t_x, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    x_u, tx_u, T_u, weights, inverse = group_sufficient_stats(x, t_x, T)
    assert x_u.size < 0.6 * x.size  # day resolution: many customers share a triple
    assert np.array_equal(x_u[inverse], x) and np.array_equal(tx_u[inverse], t_x) and np.array_equal(T_u[inverse], T)
    assert weights.sum() == x.size
    grouped = fit_bgnbd(x_u, tx_u, T_u, weights, time_unit="day")
    raw = fit_bgnbd(x, t_x, T, time_unit="day")
    np.testing.assert_allclose(grouped.as_array(), raw.as_array(), rtol=1e-6)
    assert grouped.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-12)
    assert grouped.n_customers == raw.n_customers == x.size


def test_penalizer_shrinks_parameters():
    T, x, t_x, *_ = _simulated_weeks(2_000, seed=4)
    free = fit_bgnbd(x, t_x, T, time_unit="week")
    shrunk = fit_bgnbd(x, t_x, T, time_unit="week", penalizer=0.1)
    assert np.sum(shrunk.as_array() ** 2) < np.sum(free.as_array() ** 2)
    assert shrunk.log_likelihood < free.log_likelihood


def test_invalid_inputs_are_rejected():
    with pytest.raises(ValueError):
        fit_bgnbd(np.array([1.0]), np.array([5.0]), np.array([3.0]), time_unit="week")  # t_x > T
    with pytest.raises(ValueError):
        fit_bgnbd(np.array([1.0]), np.array([1.0]), np.array([3.0]), time_unit="month")


# --- predictions -------------------------------------------------------------------------

HISTORIES = [(0, 0.0, 52.0), (2, 30.0, 52.0), (10, 50.0, 52.0), (5, 10.0, 70.0)]


@pytest.mark.parametrize("x, t_x, T", HISTORIES)
def test_expected_transactions_and_p_alive_match_monte_carlo(x, t_x, T):
    """Importance sampling from the prior, weighted by each draw's likelihood of the history
    (the model's definition, not its closed forms), then simulated future counts."""
    r, alpha, a, b = TRUE_BG
    t = 39.0
    rng = np.random.default_rng(5)
    n = 1_000_000
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    w_alive = (1 - p) ** x * lam**x * np.exp(-lam * T)
    w_dead = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else np.zeros(n)
    future = np.minimum(rng.poisson(lam * t), rng.geometric(p))
    weight = (w_alive + w_dead) / np.sum(w_alive + w_dead)
    share_alive = w_alive / (w_alive + w_dead)
    mc_alive = weight @ share_alive
    mc_y = weight @ (share_alive * future)
    # delta-method standard error of a self-normalised importance-sampling mean
    se_y = np.sqrt(np.sum(weight**2 * (share_alive * future - mc_y) ** 2))
    se_alive = np.sqrt(np.sum(weight**2 * (share_alive - mc_alive) ** 2))
    args = (np.array([x], float), np.array([t_x]), np.array([T]))
    assert abs(expected_transactions(BG_WEEKS, t, *args)[0] - mc_y) < 4 * se_y
    assert abs(p_alive(BG_WEEKS, *args)[0] - mc_alive) < 4 * se_alive + 1e-12


def test_expected_transactions_match_simulated_holdout_in_total():
    T, x, t_x, _, customer, time, _ = _simulated_weeks(20_000, seed=6, future_weeks=26.0)
    future = np.bincount(customer[time > T[customer]], minlength=T.size)
    predicted = expected_transactions(BG_WEEKS, 26.0, x, t_x, T)
    residual = future - predicted
    assert abs(residual.sum()) < 4 * np.sqrt(np.sum(residual**2))


def test_unconditional_expectation_matches_simulation():
    rng = np.random.default_rng(7)
    n, t = 400_000, 52.0
    customer, _ = simulate_bgnbd_purchases(*TRUE_BG, np.full(n, t), rng)
    counts = np.bincount(customer, minlength=n)
    expected = expected_transactions_unconditional(BG_WEEKS, np.array([t]))[0]
    assert abs(counts.mean() - expected) < 4 * counts.std() / np.sqrt(n)


def test_p_alive_properties():
    x = np.array([0, 0, 1, 1, 1, 5, 5, 5], float)
    t_x = np.array([0, 0, 10, 10, 10, 20, 20, 20], float)
    T = np.array([10, 80, 20, 40, 80, 20, 40, 80], float)
    alive = p_alive(BG_WEEKS, x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(alive[x == 0] == 1.0)
    # longer since the last purchase (same x, t_x): less likely to be alive
    assert alive[2] > alive[3] > alive[4] and alive[5] > alive[6] > alive[7]
    # very long silence after a busy history: practically gone, and never NaN
    assert p_alive(BG_WEEKS, np.array([500.0]), np.array([10.0]), np.array([5000.0]))[0] < 1e-12


def _alive_expectation_by_quadrature(params: BgNbdParams, t: float, x: float, T: float) -> float:
    r, alpha, a, b = params.as_array()

    def f(p):
        density = np.exp((a - 1) * np.log(p) + (b + x - 1) * np.log1p(-p) - betaln(a, b + x))
        return density * -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p

    return quad(f, 0, 1, epsabs=0, epsrel=1e-12, limit=400, points=[1e-6, 1e-3])[0]


@pytest.mark.parametrize(
    "theta, t, x, T",
    [
        ((0.243, 4.414, 0.793, 2.426), 52.0, 0, 0.0),  # new customer
        ((0.243, 4.414, 0.793, 2.426), 1e-3, 3, 40.0),  # tiny horizon
        ((0.243, 30.9, 0.793, 2.426), 365.0, 300, 900.0),  # x where the untransformed 2F1 overflows
        ((0.243, 30.9, 0.793, 2.426), 5000.0, 0, 0.0),  # z close to 1
        ((0.5, 30.0, 1.0, 3.0), 365.0, 4, 200.0),  # a = 1: the closed form is 0/0
        ((0.5, 30.0, 1.0 + 1e-9, 3.0), 365.0, 4, 200.0),
        ((2.0, 10.0, 25.0, 400.0), 100.0, 7, 50.0),  # almost no dropout
    ],
)
def test_expected_transactions_numerical_edge_cases(theta, t, x, T):
    params = BgNbdParams(*theta, log_likelihood=np.nan, n_customers=0, converged=True, time_unit="day")
    value = expected_transactions_if_alive(params, np.array([t]), np.array([x], float), np.array([T]))[0]
    assert value == pytest.approx(_alive_expectation_by_quadrature(params, t, x, T), rel=1e-7)


def test_expected_transactions_grid_is_cumulative_and_consistent():
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 20.0]), np.array([30.0, 52.0])
    times = np.array([1.0, 10.0, 52.0])
    grid = expected_transactions_grid(BG_WEEKS, times, x, t_x, T)
    assert grid.shape == (2, 3) and np.all(np.diff(grid, axis=1) > 0)
    np.testing.assert_allclose(grid[:, 2], expected_transactions(BG_WEEKS, 52.0, x, t_x, T), rtol=1e-14)


def test_expected_next_purchase_days_is_the_median_wait_given_alive():
    x, T = np.array([0.0, 4.0]), np.array([10.0, 52.0])
    median_days = expected_next_purchase_days(BG_WEEKS, x, T)
    rng = np.random.default_rng(8)
    r, alpha, *_ = TRUE_BG
    for i in range(2):
        lam = rng.gamma(r + x[i], 1 / (alpha + T[i]), 200_000)
        wait_days = rng.exponential(1 / lam) * 7
        assert np.mean(wait_days <= median_days[i]) == pytest.approx(0.5, abs=0.005)


def test_expected_next_purchase_days_past_float_range_is_inf_without_a_warning():
    """A fit with a tiny r (few repeat buyers) puts a one-time buyer's median wait beyond
    any float: inf, which `next_order_date` turns into no date, and no RuntimeWarning."""
    tiny_r = BgNbdParams(4e-4, 10.0, 0.8, 2.4, log_likelihood=np.nan, n_customers=0, converged=True, time_unit="day")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        days = expected_next_purchase_days(tiny_r, np.array([0.0, 3.0]), np.array([30.0, 30.0]))
    assert np.isinf(days[0]) and np.isfinite(days[1])


def test_expected_average_value_shrinks_towards_population_mean():
    p, q, v = TRUE_GG
    population = p * v / (q - 1)
    values = expected_average_value(GG_TRUE, np.array([0.0, 1.0, 1000.0]), np.array([0.0, 100.0, 100.0]))
    assert values[0] == pytest.approx(population)
    assert population < values[1] < values[2] < 100.0 and values[2] == pytest.approx(100.0, rel=0.01)


# --- CLV ---------------------------------------------------------------------------------


def test_clv_without_discount_is_expected_transactions_times_value():
    T, x, t_x, m, *_ = _simulated_weeks(3_000, seed=9)
    clv = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 364, 0.0, "week", margin_ratio=0.4)
    undiscounted = expected_transactions(BG_WEEKS, 52.0, x, t_x, T) * expected_average_value(GG_TRUE, x, m) * 0.4
    np.testing.assert_allclose(clv, undiscounted, rtol=1e-10)


def test_clv_is_the_daily_discounted_sum():
    x, t_x, T, m = np.array([0.0, 6.0]), np.array([0.0, 40.0]), np.array([20.0, 52.0]), np.array([0.0, 30.0])
    days = np.arange(0, 91)
    cumulative = expected_transactions_grid(BG_WEEKS, days / 7.0, x, t_x, T)
    by_day = np.diff(cumulative, axis=1) @ (1.1 ** (-days[1:] / 365.0))
    clv = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 90, 0.1, "week")
    np.testing.assert_allclose(clv, by_day * expected_average_value(GG_TRUE, x, m), rtol=1e-10)


def test_clv_in_many_chunks_on_threads_is_the_daily_discounted_sum(monkeypatch):
    """Small chunks (a few (x, T) pairs each) on several threads: every chunk's rows land
    where they belong, equal to one thread and to the daily sum computed directly."""
    from ltv_pipeline.prediction.btyd import clv as clv_module

    T, x, t_x, m, *_ = _simulated_weeks(400, seed=12)
    days = np.arange(0, 91)
    cumulative = expected_transactions_grid(BG_WEEKS, days / 7.0, x, t_x, T)
    direct = (np.diff(cumulative, axis=1) @ (1.1 ** (-days[1:] / 365.0))) * expected_average_value(GG_TRUE, x, m)
    monkeypatch.setattr(clv_module, "_CHUNK_CELLS", 90 * 7)  # 7 pairs per chunk
    results = {}
    for threads in (1, 3):
        monkeypatch.setattr(clv_module, "_CURVE_THREADS", threads)
        results[threads] = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 90, 0.1, "week")
    np.testing.assert_array_equal(results[3], results[1])
    np.testing.assert_allclose(results[3], direct, rtol=1e-10)


def test_many_pairs_use_a_weekly_grid_within_a_hundred_thousandth_of_the_daily_sum(monkeypatch):
    """Above GRID_ABOVE_CELLS, the curves on a weekly grid (interpolated between) give the
    daily sum to within 1e-5 relative, per customer; at or below it, the daily sum itself."""
    from ltv_pipeline.prediction.btyd import clv as clv_module

    T, x, t_x, m, *_ = _simulated_weeks(3_000, seed=13)
    daily = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week")
    pairs = np.unique(np.stack([x, T]), axis=1).shape[1]
    assert pairs * 365 > clv_module.GRID_ABOVE_CELLS  # this call takes the grid
    monkeypatch.setattr(clv_module, "GRID_ABOVE_CELLS", 10**12)
    exact = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week")
    np.testing.assert_allclose(daily, exact, rtol=1e-5)
    assert not np.array_equal(daily, exact)
    # the folded weights reproduce the linear interpolation of any curve (Y = 0 at day 0)
    days = np.arange(1, 366, dtype=np.float64)
    weights = np.linspace(2.0, 1.0, 365)
    grid, folded = clv_module._grid_weights(days, weights, 7)
    curve = np.sqrt(days)
    interpolated = np.interp(days, np.concatenate(([0.0], grid)), np.concatenate(([0.0], np.sqrt(grid))))
    assert grid[-1] == 365 and grid.size == 53
    assert folded @ np.sqrt(grid) == pytest.approx(interpolated @ weights, rel=1e-12)
    assert folded @ np.sqrt(grid) == pytest.approx(curve @ weights, rel=2e-3)  # sqrt bends hard near day 0


def test_clv_grows_with_horizon_and_shrinks_with_discount():
    T, x, t_x, m, *_ = _simulated_weeks(2_000, seed=10)
    clvs = [discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, h, 0.1, "week") for h in (30, 180, 365, 730)]
    assert all(np.all(later > earlier) for earlier, later in zip(clvs, clvs[1:]))
    assert np.all(discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.3, "week") < clvs[2])


def test_clv_does_not_depend_on_the_time_unit():
    T, x, t_x, m, *_ = _simulated_weeks(1_000, seed=11)
    r, alpha, a, b = TRUE_BG
    in_days = BgNbdParams(r, alpha * 7, a, b, log_likelihood=np.nan, n_customers=0, converged=True, time_unit="day")
    weekly = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week")
    daily = discounted_clv(in_days, GG_TRUE, x, t_x * 7, T * 7, m, 365, 0.1, "day")
    np.testing.assert_allclose(weekly, daily, rtol=1e-9)
    with pytest.raises(ValueError):
        discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "day")


def _expected_coverage(p_zero: np.ndarray, n_draws: int = 99, k: int = 10) -> np.ndarray:
    """Exact coverage of [X_(k), X_(n+1-k)] from n draws for a value that is 0 with
    probability p_zero and continuous otherwise (exchangeability of draws and outcome,
    with z ~ Binomial(n, p_zero) zero draws)."""
    z = np.arange(n_draws + 1)
    pz = stats.binom.pmf(z[None, :], n_draws, p_zero[:, None])
    upper_miss_if_positive = np.minimum(1.0, k / (n_draws + 1.0 - z))
    lower_miss_if_positive = np.where(z < k, (k - z) / (n_draws + 1.0 - z), 0.0)
    lower_miss_if_zero = (z < k).astype(float)
    miss = p_zero[:, None] * lower_miss_if_zero + (1 - p_zero[:, None]) * (
        upper_miss_if_positive + lower_miss_if_positive
    )
    return 1.0 - np.sum(pz * miss, axis=1)


def test_interval_contains_point_and_is_calibrated_on_simulated_futures():
    horizon_weeks, rate = 52.0, 0.1
    T, x, t_x, m, customer, time, value = _simulated_weeks(20_000, seed=12, future_weeks=horizon_weeks)
    later = time > T[customer]
    days_ahead = np.ceil((time[later] - T[customer[later]]) * 7.0)  # day d is discounted as day d
    realised = np.bincount(
        customer[later], weights=value[later] * (1 + rate) ** (-days_ahead / 365.0), minlength=T.size
    )
    point = discounted_clv(BG_WEEKS, GG_TRUE, x, t_x, T, m, 364, rate, "week")
    lower, upper = clv_interval(BG_WEEKS, GG_TRUE, x, t_x, T, m, 364, rate, "week", point=point, seed=1)
    assert np.all((lower <= point) & (point <= upper) & (lower >= 0))
    covered = (lower <= realised) & (realised <= upper)

    r, alpha, *_ = TRUE_BG
    no_purchase_if_alive = ((alpha + T) / (alpha + T + horizon_weeks)) ** (r + x)
    p_zero = 1 - p_alive(BG_WEEKS, x, t_x, T) * (1 - no_purchase_if_alive)
    expected = _expected_coverage(p_zero)
    # Customers are independent, so the number covered is Poisson-binomial around the exact
    # expected coverage: 3 SE. Where a purchase is near certain (p_zero < 0.1) the value is
    # practically continuous and the interval covers about 80%; where zero has mass the
    # lower bound is 0 and coverage rises towards 90% (upper-tail misses stay near 10%).
    for subset in (p_zero < 0.1, p_zero < 0.5):
        c = expected[subset]
        se = np.sqrt(np.sum(c * (1 - c))) / c.size
        assert abs(covered[subset].mean() - c.mean()) < 3 * se, (covered[subset].mean(), c.mean(), se)
    assert (p_zero < 0.1).sum() > 200 and abs(expected[p_zero < 0.1].mean() - 0.8) < 0.02
    # Overall, widening to the mean (where p_zero >= ~0.9) can only add coverage.
    se_all = np.sqrt(np.sum(expected * (1 - expected))) / T.size
    assert covered.mean() > expected.mean() - 3 * se_all and covered.mean() >= 0.8
    assert np.mean(realised > upper) == pytest.approx(0.1, abs=0.015)


def test_interval_is_reproducible_and_scales_with_margin():
    T, x, t_x, m, *_ = _simulated_weeks(1_000, seed=13)
    first = clv_interval(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week", seed=3)
    again = clv_interval(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week", seed=3)
    half = clv_interval(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week", 0.5, seed=3)
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_allclose(half[1], 0.5 * first[1], rtol=1e-12)
    with pytest.raises(ValueError):
        clv_interval(BG_WEEKS, GG_TRUE, x, t_x, T, m, 365, 0.1, "week", n_draws=5)


# --- RFM summary -------------------------------------------------------------------------


def _orders() -> pl.LazyFrame:
    rows = [
        ("A", datetime(2024, 1, 1, 10), 10.0),
        ("A", datetime(2024, 1, 1, 15), 5.0),  # same day: one transaction worth 15
        ("A", datetime(2024, 1, 8, 9), 20.0),
        ("A", datetime(2024, 1, 15, 23, 59), 30.0),
        ("A", datetime(2024, 4, 1, 0, 0), 100.0),  # after as_of: ignored
        ("B", datetime(2024, 3, 31, 23, 59), 7.0),  # on as_of: counts
        ("C", datetime(2024, 4, 2), 50.0),  # only after as_of: no row
        ("D", datetime(2024, 2, 1, 8), 3.0),
        ("D", datetime(2024, 2, 1, 20), 4.0),  # same day as the first: not a repeat
    ]
    return pl.LazyFrame(rows, schema=["cust", "ts", "gm"], orient="row")


def test_rfm_summary_hand_worked_example():
    got = rfm_summary(_orders(), date(2024, 3, 31), "day", customer_col="cust", timestamp_col="ts", value_col="gm")
    assert got.to_dicts() == [
        # A: transaction days Jan 1, 8, 15; T = Jan 1 -> Mar 31 2024 = 90 days; repeats 20, 30
        {"customer_id": "A", "frequency": 2, "recency": 14.0, "T": 90.0, "monetary_value": 25.0},
        {"customer_id": "B", "frequency": 0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0},
        {"customer_id": "D", "frequency": 0, "recency": 0.0, "T": 59.0, "monetary_value": 0.0},
    ]


def test_rfm_summary_in_weeks_and_from_dates():
    orders = _orders().collect().with_columns(pl.col("ts").dt.date())
    got = rfm_summary(orders, date(2024, 3, 31), "week", customer_col="cust", timestamp_col="ts", value_col="gm")
    a = got.row(0, named=True)
    assert (a["frequency"], a["recency"], a["T"]) == (2, 2.0, pytest.approx(90 / 7))


def test_rfm_summary_agrees_with_simulated_truth():
    """At day resolution, the order log's summary matches the simulator's own bookkeeping
    of distinct purchase days."""
    orders = simulate_order_log(
        2_000,
        bgnbd=(0.243, 4.414, 0.793, 2.426),
        gamma_gamma=TRUE_GG,
        start=date(2024, 1, 1),
        acquisition_end=date(2024, 12, 31),
        end=date(2025, 6, 30),
        time_unit="week",
        rng=np.random.default_rng(14),
    )
    as_of = date(2025, 3, 31)
    got = rfm_summary(orders, as_of, "day")
    days = (
        orders.filter(pl.col("order_ts") <= as_of)
        .group_by("customer_id")
        .agg(n_days=pl.col("order_ts").n_unique(), first=pl.col("order_ts").min())
        .sort("customer_id")
    )
    assert got["customer_id"].to_list() == days["customer_id"].to_list()
    assert (got["frequency"] == days["n_days"] - 1).all()
    age = days.select((pl.lit(as_of) - pl.col("first")).dt.total_days().cast(pl.Float64).alias("age"))["age"]
    assert (got["T"] == age).all() and (got["recency"] <= got["T"]).all()
