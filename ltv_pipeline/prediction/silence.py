"""Customers silent for longer than any customer a booster learnt from.

Trees cannot extrapolate: a customer 600 days past their last order gets the prediction of
the most silent customers in the training rows (with a short history, a year), which
overstates what a long-dormant customer will do. Their boosted predictions are carried
from the longest silence the booster saw to their own by the BTYD model's ratio for the
same customer observed that much less long (as a label window is carried to the horizon,
prediction/consistency.py); the ratio is never above 1.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ltv_pipeline.prediction.boosted import BoostedModel
from ltv_pipeline.prediction.consistency import window_to_horizon
from ltv_pipeline.prediction.probabilistic import BtydModel, predict_btyd


def silence_factors(
    btyd: BtydModel, frame: pl.DataFrame, booster: BoostedModel, days: int, annual_discount_rate: float
) -> dict[str, np.ndarray]:
    """Per row of `frame`, the factors (`ltv`, `orders`, `buy`: the probability of an order)
    that carry `booster`'s predictions over `days` to the customer's own silence; 1 within
    the booster's support."""
    beyond = booster.beyond_support(frame)
    factors = {key: np.ones(frame.height) for key in ("ltv", "orders", "buy")}
    if not beyond.any():
        return factors
    rows = frame.filter(pl.Series(beyond))
    limit = booster.metrics["max_recency_days"]
    at_limit = rows.with_columns(tenure_days=pl.min_horizontal(pl.col("tenure_days"), pl.col("btyd_recency") + limit))
    args = {"horizon_days": days, "annual_discount_rate": annual_discount_rate, "with_interval": False}
    ratios = window_to_horizon(predict_btyd(btyd, rows, **args), predict_btyd(btyd, at_limit, **args))
    for key, ratio in ratios.items():
        factors[key][beyond] = np.minimum(ratio, 1.0)
    return factors
