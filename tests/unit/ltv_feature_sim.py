"""A vectorised simulator of the per-customer feature frame, with labels, for model tests.

Customers follow a buy-till-you-die process: while alive they order at a gamma-distributed
rate, they drop out after an exponential lifetime (shorter for unhappy customers, who also
give low CSAT), and each order's margin scatters around a customer-level mean. The features
are what the dbt models compute at the cutoff; the labels are what happens in the next
`horizon_days`. So recent, frequent buyers really do have larger future margin and lower
churn, and most customers (about 60%) buy nothing in the horizon: the signal the models
must find and the zero mass they must handle.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

CHANNELS = ("organic", "paid_search", "social", "referral", "unknown")
_CHANNEL_P = (0.3, 0.3, 0.2, 0.1, 0.1)
_CHANNEL_RATE = np.array([1.2, 1.0, 0.7, 1.4, 0.9])
_CHANNEL_SPEND = np.array([1.1, 1.0, 0.8, 1.2, 1.0])

NUMERIC_FEATURES = (
    "recency_days",
    "frequency",
    "n_orders",
    "monetary_mean",
    "total_margin",
    "tenure_days",
    "ipt_mean",
    "ipt_std",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "margin_90d",
    "trend",
    "days_first_to_second",
    "first_order_value",
    "refund_rate",
    "tickets_total",
    "tickets_90d",
    "csat_mean",
    "csat_last",
    "low_csat_tickets",
)
FEATURES = (*NUMERIC_FEATURES, "acquisition_channel")


def _window_orders(rng, x, a, tenure, recency, window) -> np.ndarray:
    """Orders in (cutoff - window, cutoff]: the first order if it falls inside, the last one
    if recency does, and the other repeats in proportion to the active time inside."""
    overlap = np.clip(a - np.maximum(tenure - window, 0.0), 0.0, window)
    share = np.where(a > 0, np.clip(overlap / np.maximum(a, 1e-9), 0.0, 1.0), 0.0)
    inner = rng.binomial(np.maximum(x - 1, 0), share)
    return (tenure <= window) + ((x >= 1) & (recency <= window)) * (1 + inner)


def simulate_features(
    n_customers: int,
    seed: int,
    *,
    horizon_days: int = 365,
    cutoff: date = date(2025, 1, 1),
    annual_discount_rate: float = 0.10,
) -> pl.DataFrame:
    """One row per customer at `cutoff`: the features, `margin_last_horizon`, and the labels
    `label_margin` (discounted margin in the horizon) and `label_churn` (no order in it)."""
    rng = np.random.default_rng(seed)
    n = n_customers
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P)
    unhappy = rng.random(n) < 0.15
    rate = rng.gamma(0.9, 1.0 / 70.0, n) * _CHANNEL_RATE[channel]
    lifetime = rng.exponential(1000.0, n) / np.where(unhappy, 2.5, 1.0)
    spend = np.exp(rng.normal(np.log(40.0), 0.5, n)) * _CHANNEL_SPEND[channel]
    tenure = rng.uniform(1.0, 1095.0, n).round()

    active = np.minimum(lifetime, tenure)
    x = rng.poisson(rate * active)
    t_x = np.where(x > 0, active * rng.random(n) ** (1.0 / np.maximum(x, 1)), 0.0).round()
    recency = tenure - t_x
    n_orders = 1 + x + rng.binomial(x, 0.05)
    monetary = rng.gamma(4.0 * (x + 1), spend / (4.0 * (x + 1)))
    ipt_mean = np.where(x > 0, t_x / np.maximum(x, 1), np.nan)
    ipt_std = np.where(x >= 2, ipt_mean * rng.gamma(4.0, 0.175, n), np.nan)
    orders = {w: _window_orders(rng, x, active, tenure, recency, w) for w in (30, 90, 180, horizon_days)}
    tickets = rng.poisson(0.1 * n_orders * np.where(unhappy, 3.0, 1.0))
    csat = np.clip(rng.normal(np.where(unhappy, 2.0, 4.2), 0.7, n), 1.0, 5.0)
    no_ticket = tickets == 0

    future_active = np.clip(lifetime - tenure, 0.0, horizon_days)
    y = rng.poisson(rate * future_active)
    gross = rng.gamma(np.maximum(4.0 * y, 1e-9), spend / 4.0) * (y > 0)
    discount = (1.0 + annual_discount_rate) ** (-(future_active / 2.0) / 365.0)
    refund = np.where(rng.random(n) < 0.02, 1.1, 0.0) * gross

    return pl.DataFrame(
        {
            "customer_id": [f"s{seed}-{i:07d}" for i in range(n)],
            "cutoff_date": pl.Series([cutoff] * n, dtype=pl.Date),
            "recency_days": recency,
            "frequency": x,
            "n_orders": n_orders,
            "monetary_mean": monetary,
            "total_margin": monetary * n_orders,
            "tenure_days": tenure,
            "ipt_mean": ipt_mean,
            "ipt_std": ipt_std,
            "orders_30d": orders[30],
            "orders_90d": orders[90],
            "orders_180d": orders[180],
            "margin_90d": orders[90] * monetary * np.exp(rng.normal(0.0, 0.2, n)),
            "trend": orders[90] - (orders[180] - orders[90]),
            "days_first_to_second": np.where(x > 0, np.minimum(t_x, rng.exponential(1.0 / rate)), np.nan),
            "first_order_value": spend * np.exp(rng.normal(0.0, 0.3, n)),
            "refund_rate": rng.beta(0.5, 15.0, n),
            "tickets_total": tickets,
            "tickets_90d": rng.binomial(tickets, np.minimum(1.0, 90.0 / tenure)),
            "csat_mean": np.where(no_ticket, np.nan, csat),
            "csat_last": np.where(no_ticket, np.nan, np.clip(csat + rng.normal(0.0, 0.5, n), 1.0, 5.0).round()),
            "low_csat_tickets": rng.binomial(tickets, np.where(unhappy, 0.6, 0.05)),
            "acquisition_channel": np.array(CHANNELS)[channel],
            "margin_last_horizon": orders[horizon_days] * monetary,
            "label_margin": (gross - refund) * discount,
            "label_churn": (y == 0).astype(np.int8),
        },
        nan_to_null=True,
    )


def trainer_rows(n_customers: int, seed: int, *, role: str, cutoff: date, horizon_days: int) -> pl.DataFrame:
    """`simulate_features` rows of one cutoff role with every column the trainer reads
    (customer ids made unique per role; no labels on `score` rows)."""
    frame = simulate_features(n_customers, seed=seed, horizon_days=horizon_days, cutoff=cutoff)
    return frame.with_columns(
        cutoff_role=pl.lit(role),
        customer_id=pl.col("customer_id") + f"-{role}",
        n_purchase_days=pl.col("frequency") + 1,
        btyd_recency=pl.col("tenure_days") - pl.col("recency_days"),
        btyd_monetary=pl.col("monetary_mean"),
        total_net_revenue=pl.col("total_margin") * 2.0,
        first_order_margin=pl.col("first_order_value") * 0.5,
        orders_first_30d=pl.lit(1),
        days_since_ticket=pl.lit(None, pl.Float64),
        days_since_low_csat=pl.lit(None, pl.Float64),
        label_orders=(1 - pl.col("label_churn")).cast(pl.Int64),
        label_days=pl.lit(None if role == "score" else horizon_days, pl.Int32),
    )
