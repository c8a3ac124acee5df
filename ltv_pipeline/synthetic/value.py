"""True expected discounted margins, computed from the generating parameters.

Why closed forms rather than simulated futures: a model's prediction should be judged
against the expectation given the customer's true state, not against one noisy draw.

BG/NBD in business time: a live customer buys at rate lam and, after each purchase,
drops out with probability p, so survival to business time u is exp(-lam * p * u) and
the expected purchases over a day of business length S starting at business time C are
exp(-lam p C) * (1 - exp(-lam p S)) / p.
"""

from __future__ import annotations

import numpy as np
from scipy.special import roots_genlaguerre, roots_jacobi

from ltv_pipeline.synthetic.params import ChannelParams, Economics, PurchaseParams


def daily_discount(horizon_days: int, annual_rate: float) -> np.ndarray:
    """Discount of day d = 1..horizon after the as-of date: (1 + rate) ** (-d / 365)."""
    return (1.0 + annual_rate) ** (-np.arange(1, horizon_days + 1) / 365.0)


def mean_order_value(channel: ChannelParams, purchase: PurchaseParams) -> float:
    """Population mean of the Gamma-Gamma customer mean p / nu, nu ~ Gamma(q, rate v * m)."""
    return purchase.p * purchase.v * channel.quality.value_multiplier / (purchase.q - 1.0)


def margin_rate(channel: ChannelParams, economics: Economics) -> float:
    """Expected margin per unit of revenue: revenue less expected refunds and cost of goods."""
    return 1.0 - channel.quality.refund_prob * economics.mean_refund_fraction - economics.mean_cost_rate


def transaction_revenue_factor(purchase: PurchaseParams) -> float:
    """Orders per transaction: a purchase day sometimes carries a second order."""
    return 1.0 + purchase.same_day_extra_prob


def expected_discounted_transactions(
    lam: np.ndarray, p: np.ndarray, day_warp: np.ndarray, discount: np.ndarray, chunk: int = 16_384
) -> np.ndarray:
    """Expected discounted purchases over the horizon for customers alive at its start.

    `day_warp` is the business-time length of each future day (seasonality), `discount`
    its discount factor. Exact for the piecewise-constant intensity; chunked so memory
    stays bounded at any number of customers.
    """
    before = np.concatenate([[0.0], np.cumsum(day_warp)[:-1]])
    out = np.empty(lam.size, dtype=np.float64)
    for lo in range(0, lam.size, chunk):
        x = (lam[lo : lo + chunk] * p[lo : lo + chunk])[:, None]
        per_day = np.exp(-x * before) * -np.expm1(-x * day_warp)
        out[lo : lo + chunk] = (per_day @ discount) / p[lo : lo + chunk]
    return out


def new_customer_value(
    channel: ChannelParams,
    purchase: PurchaseParams,
    economics: Economics,
    horizon_days: int,
    annual_rate: float,
    nodes: int = 160,
) -> float:
    """True expected discounted margin over `horizon_days` of one newly acquired customer.

    Averages over the channel's population: never-orderers contribute nothing; an ordering
    customer makes a first purchase at acquisition (undiscounted) and then repeats at
    lam until dropout. Acquisition is on an average day (seasonality averaged out), with
    continuous discounting delta = ln(1 + rate) / 365. The expectation over
    lam ~ Gamma(r, alpha / m) and p ~ Beta(a, b * loyalty) uses Gauss-Laguerre x
    Gauss-Jacobi quadrature.
    """
    quality = channel.quality
    rate = purchase.alpha_days / quality.rate_multiplier  # Gamma rate of lam
    b = purchase.b * quality.loyalty_multiplier
    x, wx = roots_genlaguerre(nodes, purchase.r - 1.0)
    lam = x / rate
    wx = wx / wx.sum()
    y, wy = roots_jacobi(nodes, b - 1.0, purchase.a - 1.0)
    p = (y + 1.0) / 2.0
    wy = wy / wy.sum()
    delta = np.log1p(annual_rate) / 365.0
    k = lam[:, None] * p[None, :] + delta
    repeats = lam[:, None] * -np.expm1(-k * horizon_days) / k
    expected_repeats = float(wx @ repeats @ wy)
    revenue_per_tx = mean_order_value(channel, purchase) * transaction_revenue_factor(purchase)
    per_tx = revenue_per_tx * margin_rate(channel, economics)
    return float((1.0 - quality.never_order_prob) * per_tx * (1.0 + expected_repeats))
