"""Value tiers and behavioural cohorts: the one documented place for their definitions.

Value tiers (every scored customer gets exactly one, checked in this order):

- **High-Value**: predicted LTV in the top `VALUE_QUANTILE` share of customers, and churn
  risk below the base rate (the mean churn probability of all customers).
- **At-Risk**: churn risk at or above the base rate, and either predicted LTV if retained or
  margin to date in the top `VALUE_QUANTILE` share: valuable customers likely to leave.
- **Growth Potential**: churn risk below the base rate, predicted LTV not (yet) in the top
  share: customers likely to stay, worth developing.
- **Low-Value**: the rest: likely to leave and never were valuable.

Both thresholds come from the data of the run (a quantile and a mean), never from
constants in currency, so they hold for any business size or currency.

Behavioural cohorts (flags, a customer can have several):

- **fast_starter**: 2+ orders in the first 30 days after the first order.
- **support_engager**: at least `SUPPORT_ENGAGER_MIN_TICKETS` tickets.
- **lapsing**: a repeat customer whose current gap (days since last order) is more than
  `LAPSING_GAP_MULTIPLE` times their own mean gap between purchase days.
- **one_and_done**: a single purchase day, and more days since it than 90% of repeat
  customers waited for their second purchase.
"""

from __future__ import annotations

import polars as pl

VALUE_QUANTILE = 0.8
"""Customers at or above this quantile of predicted LTV count as high value (top 20%)."""
LAPSING_GAP_MULTIPLE = 2.5
SUPPORT_ENGAGER_MIN_TICKETS = 2
FAST_START_DAYS = 30
VALUE_TIERS = ("High-Value", "At-Risk", "Growth Potential", "Low-Value")


def value_tiers(scores: pl.DataFrame) -> pl.DataFrame:
    """Add `value_tier` to a frame with predicted_ltv, churn_probability, ltv_if_retained, total_margin."""
    value_cut = scores["predicted_ltv"].quantile(VALUE_QUANTILE, interpolation="lower")
    past_cut = scores["total_margin"].quantile(VALUE_QUANTILE, interpolation="lower")
    retained_cut = scores["ltv_if_retained"].quantile(VALUE_QUANTILE, interpolation="lower")
    risk_cut = scores["churn_probability"].mean()
    risky = pl.col("churn_probability") >= risk_cut
    return scores.with_columns(
        pl.when((pl.col("predicted_ltv") >= value_cut) & ~risky)
        .then(pl.lit("High-Value"))
        .when(risky & ((pl.col("ltv_if_retained") >= retained_cut) | (pl.col("total_margin") >= past_cut)))
        .then(pl.lit("At-Risk"))
        .when(~risky)
        .then(pl.lit("Growth Potential"))
        .otherwise(pl.lit("Low-Value"))
        .alias("value_tier")
    )


def behavioural_cohorts(features: pl.DataFrame) -> pl.DataFrame:
    """Flags per customer from features at as_of (n_purchase_days, orders_first_30d, tickets_total,
    recency_days, ipt_mean, days_first_to_second)."""
    second_gap_p90 = features["days_first_to_second"].drop_nulls().quantile(0.9)
    second_gap_p90 = float("inf") if second_gap_p90 is None else second_gap_p90
    return features.select(
        "customer_id",
        (pl.col("orders_first_30d") >= 2).fill_null(False).alias("fast_starter"),
        (pl.col("tickets_total").fill_null(0) >= SUPPORT_ENGAGER_MIN_TICKETS).alias("support_engager"),
        ((pl.col("n_purchase_days") >= 2) & (pl.col("recency_days") > LAPSING_GAP_MULTIPLE * pl.col("ipt_mean")))
        .fill_null(False)
        .alias("lapsing"),
        ((pl.col("n_purchase_days") == 1) & (pl.col("recency_days") > second_gap_p90)).alias("one_and_done"),
    )


def segment_migration(previous: pl.DataFrame, current: pl.DataFrame, column: str) -> pl.DataFrame:
    """How many customers moved from which segment to which between two snapshots.

    Customers new in `current` come from `(new)`; customers gone from it go to `(gone)`.
    """
    joined = previous.select("customer_id", pl.col(column).alias("from_segment")).join(
        current.select("customer_id", pl.col(column).alias("to_segment")), on="customer_id", how="full", coalesce=True
    )
    return (
        joined.with_columns(pl.col("from_segment").fill_null("(new)"), pl.col("to_segment").fill_null("(gone)"))
        .group_by("from_segment", "to_segment")
        .agg(pl.len().alias("customers"))
        .with_columns(pl.lit(column).alias("segmentation"))
        .select("segmentation", "from_segment", "to_segment", "customers")
        .sort("segmentation", "from_segment", "to_segment")
    )


def segment_summary(scores: pl.DataFrame) -> pl.DataFrame:
    """One row per segment (value tiers and RFM segments): customers, revenue, mean predicted LTV, churn rate.

    `churn_rate` is the mean churn probability of the segment's customers over the horizon.
    """
    frames = []
    for kind, column in (("value_tier", "value_tier"), ("rfm_segment", "rfm_segment")):
        frames.append(
            scores.group_by(pl.col(column).alias("segment"))
            .agg(
                pl.len().alias("customers"),
                pl.col("total_net_revenue").sum().alias("revenue"),
                pl.col("predicted_ltv").sum().alias("total_predicted_ltv"),
                pl.col("predicted_ltv").mean().alias("avg_predicted_ltv"),
                pl.col("churn_probability").mean().alias("churn_rate"),
            )
            .with_columns(pl.lit(kind).alias("segmentation"))
        )
    out = pl.concat(frames).with_columns(
        (pl.col("customers") / pl.col("customers").sum().over("segmentation")).alias("share_of_customers")
    )
    return out.select(
        "segmentation", "segment", "customers", "share_of_customers", "revenue",
        "avg_predicted_ltv", "total_predicted_ltv", "churn_rate",
    ).sort("segmentation", "total_predicted_ltv", descending=[False, True])
