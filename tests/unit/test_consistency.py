"""Conformal interval calibration, the orders champion rule and the consistency helpers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ltv_pipeline.prediction.btyd.simulation import simulate_bgnbd_purchases, simulate_spend
from ltv_pipeline.prediction.consistency import consistent_p_alive, revenue_from_ltv, window_to_horizon
from ltv_pipeline.prediction.evaluation import (
    conformal_stretch,
    interval_coverage,
    paired_mae_gain,
    pick_champion,
    stretch_band,
)


def test_a_conformal_stretch_from_held_out_customers_brings_a_too_wide_band_to_80_percent():
    rng = np.random.default_rng(3)
    n = 40_000
    point = rng.gamma(2.0, 50.0, n)
    # realised values: gamma around the point, and a small atom of customers who bring nothing
    actual = np.where(rng.random(n) < 0.05, 0.0, rng.gamma(4.0, point / 4.0))
    lower, upper = point * 0.1, point * 4.0
    assert interval_coverage(actual, lower, upper) > 0.9
    calib, new = slice(0, n // 2), slice(n // 2, None)
    t = conformal_stretch(actual[calib], point[calib], lower[calib], upper[calib], level=0.8)
    assert t < 1.0
    lo, hi = stretch_band(point[new], lower[new], upper[new], t)
    assert 0.78 <= interval_coverage(actual[new], lo, hi) <= 0.82


def test_a_conformal_stretch_widens_a_too_narrow_band():
    rng = np.random.default_rng(4)
    point = rng.gamma(2.0, 50.0, 20_000)
    actual = point + rng.normal(0.0, 30.0, point.size)
    lower, upper = point - 5.0, point + 5.0
    t = conformal_stretch(actual[:10_000], point[:10_000], lower[:10_000], upper[:10_000])
    assert t > 3.0
    lo, hi = stretch_band(point[10_000:], lower[10_000:], upper[10_000:], t)
    assert 0.78 <= interval_coverage(actual[10_000:], lo, hi) <= 0.82


def test_the_zero_atom_restores_coverage_where_likely_non_buyers_get_a_band_above_zero():
    rng = np.random.default_rng(5)
    n = 40_000
    churn = rng.beta(3.0, 2.0, n)  # probability of no order in the horizon, most customers above 0.1
    mean_if_buying = rng.gamma(2.0, 60.0, n)
    actual = np.where(rng.random(n) < churn, 0.0, rng.gamma(3.0, mean_if_buying / 3.0))
    point = (1.0 - churn) * mean_if_buying
    # a band learnt on the expected value: its lower end sits above 0 for every customer
    lower, upper = 0.5 * point, 2.5 * mean_if_buying
    assert (lower > 0).all()
    assert interval_coverage(actual, lower, upper) < 0.45
    calib, new = slice(0, n // 2), slice(n // 2, None)
    t = conformal_stretch(actual[calib], point[calib], lower[calib], upper[calib], 0.8, churn[calib])
    lo, hi = stretch_band(point[new], lower[new], upper[new], t, churn_probability=churn[new])
    assert 0.78 <= interval_coverage(actual[new], lo, hi) <= 0.82
    assert (lo[churn[new] >= 0.1] == 0.0).all()
    assert (lo[churn[new] < 0.1] > 0.0).all()
    # without the atom every zero needs the one stretch that pulls its lower end down to 0,
    # so the plain calibration jumps past the level to covering nearly everyone
    t_plain = conformal_stretch(actual[calib], point[calib], lower[calib], upper[calib], 0.8)
    lo_plain, hi_plain = stretch_band(point[new], lower[new], upper[new], t_plain)
    assert interval_coverage(actual[new], lo_plain, hi_plain) > 0.95


def test_the_orders_champion_is_the_lowest_mae_among_totals_within_tolerance():
    results = {
        "bgnbd_gamma_gamma": {"mae": 0.80, "abs_total_error_pct": 8.0},
        "xgboost": {"mae": 0.74, "abs_total_error_pct": 5.0},
    }
    assert pick_champion(results, "orders") == "xgboost"
    results["xgboost"]["mae"] = 0.81
    assert pick_champion(results, "orders") == "bgnbd_gamma_gamma"
    # the lowest MAE with a total far off loses to a total within the tolerance
    results["bgnbd_gamma_gamma"]["abs_total_error_pct"] = 40.0
    assert pick_champion(results, "orders") == "xgboost"
    # when no total is within it, the best total is the bar
    results["xgboost"]["abs_total_error_pct"] = 30.0
    assert pick_champion(results, "orders") == "xgboost"


def test_an_orders_model_must_beat_bgnbd_beyond_the_back_tests_noise():
    results = {
        "bgnbd_gamma_gamma": {"mae": 0.785, "abs_total_error_pct": 5.0},
        "xgboost": {"mae": 0.770, "abs_total_error_pct": 3.0, "mae_gain": 0.015, "mae_gain_se": 0.010},
        "pareto_nbd": {"mae": 0.780, "abs_total_error_pct": 4.0, "mae_gain": 0.005, "mae_gain_se": 0.001},
    }
    # XGBoost's lower MAE is within two standard errors; Pareto/NBD's smaller gain is not
    assert pick_champion(results, "orders") == "pareto_nbd"
    results["pareto_nbd"]["mae_gain_se"] = 0.004
    assert pick_champion(results, "orders") == "bgnbd_gamma_gamma"
    results["xgboost"]["mae_gain_se"] = 0.005
    assert pick_champion(results, "orders") == "xgboost"
    # with BG/NBD out on its total, the others compete on MAE alone
    results["xgboost"]["mae_gain_se"] = 0.010
    results["bgnbd_gamma_gamma"]["abs_total_error_pct"] = 60.0
    assert pick_champion(results, "orders") == "xgboost"


def test_paired_mae_gain_hand_computed():
    actual = np.array([0.0, 1.0, 2.0, 5.0])
    reference = np.array([1.0, 1.0, 1.0, 1.0])  # abs errors 1, 0, 1, 4
    predicted = np.array([0.0, 2.0, 2.0, 3.0])  # abs errors 0, 1, 0, 2
    gain = paired_mae_gain(actual, reference, predicted)
    differences = np.array([1.0, -1.0, 1.0, 2.0])
    assert gain["mae_gain"] == pytest.approx(0.75)
    assert gain["mae_gain_se"] == pytest.approx(differences.std(ddof=1) / 2.0)


def _btyd_frame(orders, ltv, revenue, p_alive, churn) -> pl.DataFrame:
    return pl.DataFrame(
        {"predicted_orders": orders, "predicted_ltv": ltv, "predicted_revenue": revenue, "p_alive": p_alive,
         "churn_probability": churn}
    )


def test_p_alive_agrees_with_the_published_churn_and_is_bgnbds_for_bgnbds_churn():
    rng = np.random.default_rng(5)
    n = 2_000
    p_alive = rng.uniform(0.05, 1.0, n)
    buy_if_alive = rng.uniform(0.1, 0.9, n)
    churn_b = 1.0 - p_alive * buy_if_alive
    btyd = _btyd_frame(np.ones(n), np.ones(n), np.ones(n), p_alive, churn_b)
    np.testing.assert_allclose(consistent_p_alive(btyd, churn_b), p_alive, rtol=1e-12)
    better = np.clip(churn_b + rng.normal(0, 0.05, n), 0, 1)
    alive = consistent_p_alive(btyd, better)
    inside = alive < 1.0
    np.testing.assert_allclose((1.0 - alive * buy_if_alive)[inside], better[inside], atol=1e-12)
    assert np.all((alive >= 0) & (alive <= 1))


def test_p_alive_allows_the_published_purchase_where_bgnbd_thinks_the_customer_gone():
    """BG/NBD's p_alive and P(buy) both underflow for long-gone customers (their ratio can
    round above 1, or P(buy) be exactly 0): P(no order) >= 1 - P(alive) still holds."""
    p_alive = np.array([1.0e-13, 4.7e-18, 0.2])
    churn_b = np.array([1.0 - 1.2e-13, 1.0, 0.9])
    btyd = _btyd_frame(np.zeros(3), np.zeros(3), np.zeros(3), p_alive, churn_b)
    published = np.array([0.94, 0.95, 0.97])
    alive = consistent_p_alive(btyd, published)
    assert np.all(published >= 1.0 - alive - 1e-12)
    np.testing.assert_allclose(alive[2], 0.03 / 0.5)


def test_revenue_is_the_net_revenue_whose_discounted_margin_is_the_ltv():
    ltv = np.array([100.0, 50.0, 0.0, 10.0])
    share = np.array([0.5, 1.0, 0.4, 0.25])
    # BTYD's own discount: its LTV over its margin (revenue x share), 0.95 for every customer here
    btyd = _btyd_frame(np.ones(4), 0.95 * 0.5 * np.array([10.0, 20.0, 30.0, 0.0]) * share / 0.5,
                       np.array([10.0, 20.0, 30.0, 0.0]), np.ones(4), np.zeros(4))
    revenue = revenue_from_ltv(ltv, share, btyd, 365, 0.10)
    np.testing.assert_allclose(revenue[:3] * share[:3] * 0.95, ltv[:3])
    # no BTYD revenue: the mean discount over the horizon
    assert 0.9 < ltv[3] / (revenue[3] * share[3]) < 0.96


def test_window_to_horizon_factors_come_from_the_btyd_curve_of_the_same_customer():
    rng = np.random.default_rng(6)
    customer, _ = simulate_bgnbd_purchases(0.243, 4.414 / 7, 0.793, 2.426, np.full(10, 365.0), rng)
    assert simulate_spend(6.25, 3.74, 15.44, customer, 10, rng).size == customer.size
    horizon = _btyd_frame([2.0, 0.0], [20.0, 0.0], [25.0, 0.0], [0.8, 0.5], [0.3, 0.9])
    window = _btyd_frame([1.0, 0.0], [12.0, 0.0], [12.0, 0.0], [0.8, 0.5], [0.5, 0.95])
    factor = window_to_horizon(horizon, window)
    np.testing.assert_allclose(factor["orders"], [2.0, 1.0])
    np.testing.assert_allclose(factor["ltv"], [20.0 / 12.0, 1.0])
    np.testing.assert_allclose(factor["buy"], [0.7 / 0.5, 0.1 / 0.05])
