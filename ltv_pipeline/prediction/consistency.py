"""One consistent customer prediction from the champions of each target.

The champions are chosen per target (orders, LTV, churn), so on their own they describe
different futures: BG/NBD's orders and a booster's LTV could disagree by tens of percent on
the same customers. This module turns them into one published row that agrees with itself:

- boosted predictions learnt over a shorter label window than the horizon are carried to the
  horizon by the BTYD model's own ratio for the same customer (expected orders, discounted
  value, probability of a purchase), the part of the curve a window cannot show;
- `predicted_revenue` is the net revenue whose discounted margin is `predicted_ltv`: the
  LTV divided by the customer's margin share and by the discount of their expected purchase
  timing, so that revenue and LTV are the same future in two currencies;
- `p_alive` is the probability of being active that makes BG/NBD's relation
  P(no order) = 1 - P(alive) (1 - P(no order | alive)) hold for the published churn
  probability, so a churn champion better than BG/NBD carries its ranking into p_alive.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ltv_pipeline.prediction.evaluation.baselines import horizon_discount_factor

MIN_MARGIN_SHARE = 0.05
"""Margin share floor: a customer whose margin is (nearly) wiped out by costs still has revenue."""


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where both are positive and finite, else 1 (nothing to carry)."""
    ok = (denominator > 0) & np.isfinite(numerator) & np.isfinite(denominator) & (numerator >= 0)
    return np.where(ok, numerator / np.where(ok, denominator, 1.0), 1.0)


def window_to_horizon(btyd_horizon: pl.DataFrame, btyd_window: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per customer, the BTYD factors from a label window to the horizon: `orders` and `ltv`
    multiply expectations, `buy` multiplies the probability of at least one purchase."""
    buy_h = 1.0 - btyd_horizon["churn_probability"].to_numpy()
    buy_w = 1.0 - btyd_window["churn_probability"].to_numpy()
    return {
        "orders": _ratio(btyd_horizon["predicted_orders"].to_numpy(), btyd_window["predicted_orders"].to_numpy()),
        "ltv": _ratio(btyd_horizon["predicted_ltv"].to_numpy(), btyd_window["predicted_ltv"].to_numpy()),
        "buy": _ratio(buy_h, buy_w),
    }


def margin_share(features: pl.DataFrame) -> np.ndarray:
    """Each customer's historical margin / net revenue, within [MIN_MARGIN_SHARE, 1] (1 when unknown)."""
    share = (features["total_margin"] / features["total_net_revenue"]).fill_nan(None).fill_null(1.0)
    return share.clip(MIN_MARGIN_SHARE, 1.0).to_numpy()


def revenue_from_ltv(
    ltv: np.ndarray, share: np.ndarray, btyd: pl.DataFrame, horizon_days: int, annual_discount_rate: float
) -> np.ndarray:
    """Net revenue whose discounted margin is `ltv`.

    The discount of a customer's expected purchases is BTYD's discounted over undiscounted
    value (`predicted_ltv` over `predicted_revenue` x margin share), where that is defined,
    else the mean discount over the horizon."""
    flat = horizon_discount_factor(horizon_days, annual_discount_rate)
    btyd_margin = btyd["predicted_revenue"].to_numpy() * share
    discount = _ratio(btyd["predicted_ltv"].to_numpy(), btyd_margin)
    discount = np.where((btyd_margin > 0) & (discount > 0) & (discount <= 1.0), discount, flat)
    return np.maximum(ltv, 0.0) / (share * discount)


def consistent_p_alive(btyd: pl.DataFrame, churn_probability: np.ndarray) -> np.ndarray:
    """P(alive) that reproduces `churn_probability` under BG/NBD's relation with its own
    P(no order | alive); equal to BG/NBD's p_alive when the churn is BG/NBD's."""
    alive_b = btyd["p_alive"].to_numpy()
    buy_b = 1.0 - btyd["churn_probability"].to_numpy()
    # at most 1: both tiny for customers BG/NBD thinks gone, their ratio can round above it
    buy_if_alive = np.minimum(_ratio(buy_b, alive_b), 1.0)
    # where BG/NBD gives no chance of a purchase even if active, the least p_alive that
    # still allows the published probability of buying
    fallback = np.maximum(alive_b, 1.0 - churn_probability)
    p = np.where(buy_if_alive > 0, (1.0 - churn_probability) / np.where(buy_if_alive > 0, buy_if_alive, 1.0), fallback)
    return np.clip(p, 0.0, 1.0)
