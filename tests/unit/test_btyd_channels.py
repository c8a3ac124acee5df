"""BTYD with acquisition channel as a static covariate: a channel gets its own parameters
only where BIC prefers them, and its customers are then predicted by them.

Customers are simulated from BG/NBD + Gamma-Gamma with per-channel parameters, observed
for 100-400 days and followed 365 days more; every seed is fixed.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl
import pytest

from ltv_pipeline.prediction.btyd.simulation import simulate_observed
from ltv_pipeline.prediction.probabilistic import MIN_CHANNEL_CUSTOMERS, BtydModel, fit_btyd, predict_btyd

HORIZON = 365
LOYAL = (0.8, 30.0, 0.3, 12.0)
"""(r, alpha, a, b) in days: buys about every 40 days and rarely leaves."""
FICKLE = (0.8, 30.0, 1.2, 2.0)
"""The same purchase rate, but leaves after about two repeat purchases."""
SPEND = (6.0, 4.0, 15.0)


def _channel(name: str, bgnbd: tuple, n: int, rng: np.random.Generator, first_id: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Feature rows of `n` customers and their purchases in the next HORIZON days."""
    T = rng.uniform(100.0, 400.0, n)
    x, t_x, m, customer, time, _ = simulate_observed(bgnbd, SPEND, T, HORIZON, rng)
    future = np.bincount(customer[time > T[customer]], minlength=n).astype(np.float64)
    rows = pl.DataFrame({
        "customer_id": [f"C{first_id + i:07d}" for i in range(n)],
        "acquisition_channel": name,
        "frequency": x.astype(np.int64),
        "btyd_recency": t_x,
        "tenure_days": T,
        "btyd_monetary": np.where(x > 0, m, 0.0),
        "total_margin": m * x + 20.0,
        "total_net_revenue": m * x + 20.0,
        "n_purchase_days": x.astype(np.int64) + 1,
        "cutoff_date": date(2024, 12, 31),
    })
    return rows, future


def _business(channels: dict[str, tuple[tuple, int]], seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts, futures, first = [], [], 0
    for name, (bgnbd, n) in channels.items():
        rows, future = _channel(name, bgnbd, n, rng, first)
        parts.append(rows)
        futures.append(future)
        first += n
    return pl.concat(parts), np.concatenate(futures)


def _orders_by_channel(frame: pl.DataFrame, orders: np.ndarray) -> dict[str, float]:
    totals = frame.select("acquisition_channel").with_columns(orders=orders).group_by("acquisition_channel").agg(pl.col("orders").sum())
    return dict(totals.iter_rows())


def test_channels_that_differ_get_their_own_parameters_and_predict_their_customers():
    frame, future = _business({"search": (LOYAL, 6000), "social": (FICKLE, 6000)}, seed=1)
    model = fit_btyd(frame, HORIZON)
    assert set(model.by_channel) == {"search", "social"}
    assert model.by_channel["social"].bgnbd.a / model.by_channel["social"].bgnbd.b > 3 * (
        model.by_channel["search"].bgnbd.a / model.by_channel["search"].bgnbd.b
    )

    pooled = BtydModel(**{**model.__dict__, "by_channel": {}})
    realised = _orders_by_channel(frame, future)
    stratified = _orders_by_channel(frame, predict_btyd(model, frame, horizon_days=HORIZON, annual_discount_rate=0.1)["predicted_orders"].to_numpy())
    averaged = _orders_by_channel(frame, predict_btyd(pooled, frame, horizon_days=HORIZON, annual_discount_rate=0.1)["predicted_orders"].to_numpy())
    for channel in ("search", "social"):
        assert stratified[channel] == pytest.approx(realised[channel], rel=0.06)
    # the pooled fit extends the fickle channel's customers at the average rate
    assert averaged["social"] > 1.15 * realised["social"]


def test_channels_that_do_not_differ_share_the_pooled_parameters():
    frame, _ = _business({"search": (LOYAL, 5000), "social": (LOYAL, 5000), "display": (LOYAL, 5000)}, seed=2)
    assert fit_btyd(frame, HORIZON).by_channel == {}


def test_a_small_channel_is_predicted_by_the_pooled_parameters():
    frame, _ = _business({"search": (LOYAL, 5000), "social": (FICKLE, 5000), "referral": (FICKLE, MIN_CHANNEL_CUSTOMERS - 1)}, seed=3)
    model = fit_btyd(frame, HORIZON)
    assert "referral" not in model.by_channel and {"search", "social"} <= set(model.by_channel)
    pooled = BtydModel(**{**model.__dict__, "by_channel": {}})
    referral = frame.filter(pl.col("acquisition_channel") == "referral")
    a = predict_btyd(model, referral, horizon_days=HORIZON, annual_discount_rate=0.1)
    b = predict_btyd(pooled, referral, horizon_days=HORIZON, annual_discount_rate=0.1)
    assert a.equals(b)


def test_predictions_keep_the_frame_order_and_the_model_survives_json():
    frame, _ = _business({"search": (LOYAL, 3000), "social": (FICKLE, 3000)}, seed=4)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=0)
    model = fit_btyd(shuffled, HORIZON)
    preds = predict_btyd(model, shuffled, horizon_days=HORIZON, annual_discount_rate=0.1)
    assert preds["customer_id"].equals(shuffled["customer_id"])
    one = shuffled.filter(pl.col("acquisition_channel") == "social")
    alone = predict_btyd(model, one, horizon_days=HORIZON, annual_discount_rate=0.1)
    assert alone.equals(preds.join(one.select("customer_id"), on="customer_id", how="semi"))

    assert BtydModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model
    params = model.parameters(date(2024, 12, 31))
    assert {"bg_nbd", "bg_nbd:social", "bg_nbd:search"} <= set(params["model"])
