"""Join model predictions, features and RFM into the contract's `customer_scores`, and value
new customers per channel for the budget allocator.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ltv_pipeline.decisions.segments import value_tiers

CUSTOMER_SCORES_COLUMNS: tuple[str, ...] = (
    "customer_id", "as_of", "predicted_orders", "predicted_revenue", "predicted_ltv", "p_alive",
    "churn_probability", "ltv_lower", "ltv_upper", "rfm_segment", "value_tier",
    "expected_next_order_date", "ltv_if_retained", "acquisition_channel",
)
"""The contract's columns first, then extras a marketer acts on."""
MIN_P_ALIVE = 0.05
RECENT_ACQUISITION_DAYS = 90


def with_ltv_if_retained(predictions: pl.DataFrame) -> pl.DataFrame:
    """Value if the customer stays active: predicted LTV / P(alive), capped at 20x.

    Under BG/NBD the expected value is P(alive) x value-if-alive, so dividing recovers the
    value a retention action protects; the floor keeps near-dead customers finite.
    """
    return predictions.with_columns(
        (pl.col("predicted_ltv") / pl.col("p_alive").clip(lower_bound=MIN_P_ALIVE)).alias("ltv_if_retained")
    )


def customer_scores(predictions: pl.DataFrame, features: pl.DataFrame, rfm: pl.DataFrame) -> pl.DataFrame:
    """One row per scored customer with value tier and RFM segment (contract columns first)."""
    joined = (
        with_ltv_if_retained(predictions)
        .join(features.select("customer_id", "total_margin", "total_net_revenue", "acquisition_channel"), on="customer_id", how="left")
        .join(rfm.select("customer_id", "rfm_segment"), on="customer_id", how="left")
        .with_columns(pl.col("rfm_segment").fill_null("Unscored"))
    )
    tiered = value_tiers(joined)
    return tiered.select(*CUSTOMER_SCORES_COLUMNS, "total_margin", "total_net_revenue")


def value_per_new_customer(scores: pl.DataFrame, features: pl.DataFrame, as_of: date) -> dict[str, float]:
    """Expected discounted margin of a newly acquired customer, per acquisition channel.

    For customers acquired in the last `RECENT_ACQUISITION_DAYS` days: the margin they have
    already brought plus the champion model's predicted LTV over the horizon, averaged per
    channel. Measures what a new customer of each channel is worth, not their first order.
    """
    since = pl.lit(as_of) - pl.duration(days=RECENT_ACQUISITION_DAYS)
    recent = features.filter(pl.col("first_order_date") > since).select("customer_id", "acquisition_channel", "total_margin")
    values = (
        recent.join(scores.select("customer_id", "predicted_ltv"), on="customer_id", how="inner")
        .group_by("acquisition_channel")
        .agg((pl.col("total_margin") + pl.col("predicted_ltv")).mean().alias("value"))
    )
    return dict(values.iter_rows())
