"""`prediction_tracking`: every kept past prediction against what has happened since.

For the latest kept version of `customer_scores` of each week whose horizon has begun to
elapse by `measured_through` (the run's as_of), overall and by value tier and acquisition channel:
the customers' predicted and realised orders (purchase days), net revenue and margin over
the elapsed part of the horizon, the band the realised margin should fall in, and, once
the whole horizon has passed, the churn ROC-AUC of that prediction.

The predictions are totals over the whole horizon; the part due by day e of H is taken as
spread evenly over the horizon: e / H of the orders and revenue, and of the margin the
share of the horizon's discount weights that falls in the first e days (the margin is
discounted to the prediction's as_of, per day, as the LTV is). The band is the 80% band of
the group's total: each customer's interval read as a normal one (sigma = width / 2.563),
the sigmas summed in quadrature around the predicted total (customers' outcomes are close
to independent); over the elapsed part, purchases being counts whose variance grows with
the time watched, the mean scales with the share and the sigma with its square root.

Computed in DuckDB over the history files and the orders mart, one prediction date at a
time, so memory stays that of one version whatever the number kept; a prediction whose
horizon has passed is computed once and carried from the last published table after that.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from ltv_pipeline.prediction.evaluation.churn_metrics import roc_auc

Z80 = 1.2816
"""The standard normal's 90% quantile: an 80% band is +-Z80 sigma."""
GROUPS: tuple[tuple[str, str | None], ...] = (("all", None), ("value_tier", "value_tier"),
                                               ("acquisition_channel", "acquisition_channel"))

TRACKING_SCHEMA = {
    "as_of": pl.Date, "measured_through": pl.Date, "elapsed_days": pl.Int64, "horizon_days": pl.Int64,
    "group_type": pl.String, "group": pl.String, "customers": pl.Int64,
    "predicted_orders": pl.Float64, "realised_orders": pl.Float64,
    "predicted_revenue": pl.Float64, "realised_revenue": pl.Float64,
    "predicted_margin": pl.Float64, "realised_margin": pl.Float64,
    "margin_lower": pl.Float64, "margin_upper": pl.Float64, "churn_auc": pl.Float64,
}


def elapsed_shares(elapsed_days: int, horizon_days: int, annual_discount_rate: float) -> tuple[float, float]:
    """(share of the horizon's days, share of its discount weights) in its first `elapsed_days`."""
    days = np.arange(1, horizon_days + 1, dtype=np.float64)
    weights = (1.0 + annual_discount_rate) ** (-days / 365.0)
    return elapsed_days / horizon_days, float(weights[:elapsed_days].sum() / weights.sum())


def _one_prediction(con: duckdb.DuckDBPyConnection, version: Path, as_of: date, measured_through: date,
                    horizon_days: int, rate: float) -> pl.DataFrame:
    elapsed = min((measured_through - as_of).days, horizon_days)
    day_share, margin_share = elapsed_shares(elapsed, horizon_days, rate)
    customers = con.sql(
        """
        with scores as (
            select customer_id, predicted_orders, predicted_revenue, predicted_ltv, churn_probability,
                   coalesce(ltv_lower, predicted_ltv) as ltv_lower, coalesce(ltv_upper, predicted_ltv) as ltv_upper,
                   coalesce(value_tier, 'unknown') as value_tier, coalesce(acquisition_channel, 'unknown') as acquisition_channel
            from read_parquet(?)
        ),
        realised as (
            select customer_id, count(distinct order_date) as orders, sum(net_revenue) as revenue,
                   sum(margin * power(1 + ?, -1 * date_diff('day', ?::date, order_date) / 365)) as margin
            from marts.orders
            where order_date > ?::date and order_date <= ?::date
            group by customer_id
        )
        select s.*, coalesce(r.orders, 0) as realised_orders, coalesce(r.revenue, 0) as realised_revenue,
               coalesce(r.margin, 0) as realised_margin
        from scores s left join realised r using (customer_id)
        """,
        params=[str(version), rate, as_of, as_of, min(measured_through, as_of + timedelta(days=horizon_days))],
    ).pl()
    sigma = ((pl.col("ltv_upper") - pl.col("ltv_lower")) / (2 * Z80)).clip(lower_bound=0)
    rows = []
    for group_type, column in GROUPS:
        keys = [pl.lit("all").alias("group")] if column is None else [pl.col(column).alias("group")]
        totals = customers.group_by(keys).agg(
            pl.len().alias("customers"),
            (pl.col("predicted_orders").sum() * day_share).alias("predicted_orders"),
            pl.col("realised_orders").sum().cast(pl.Float64),
            (pl.col("predicted_revenue").sum() * day_share).alias("predicted_revenue"),
            pl.col("realised_revenue").sum().cast(pl.Float64),
            (pl.col("predicted_ltv").sum() * margin_share).alias("predicted_margin"),
            pl.col("realised_margin").sum().cast(pl.Float64),
            ((sigma**2).sum().sqrt() * Z80 * margin_share**0.5).alias("half_band"),
        )
        auc = {}
        if elapsed >= horizon_days:
            for group, part in customers.with_columns(keys).partition_by("group", as_dict=True).items():
                value = roc_auc(part["realised_orders"].to_numpy() == 0, part["churn_probability"].to_numpy())
                auc[group[0]] = None if np.isnan(value) else value
        rows.append(totals.with_columns(
            pl.lit(group_type).alias("group_type"),
            (pl.col("predicted_margin") - pl.col("half_band")).alias("margin_lower"),
            (pl.col("predicted_margin") + pl.col("half_band")).alias("margin_upper"),
            pl.col("group").replace_strict(auc, default=None, return_dtype=pl.Float64).alias("churn_auc"),
        ))
    return pl.concat(rows).with_columns(
        pl.lit(as_of).alias("as_of"), pl.lit(measured_through).alias("measured_through"),
        pl.lit(elapsed).alias("elapsed_days"), pl.lit(horizon_days).alias("horizon_days"),
    ).select(list(TRACKING_SCHEMA)).cast(TRACKING_SCHEMA)


def tracked_versions(versions: dict[date, Path], measured_through: date) -> list[tuple[date, Path]]:
    """The versions to track: those older than the run's as_of, the latest of each ISO week
    (a version a day adds little that one a week does not, and each costs a join)."""
    weekly: dict[tuple[int, int], tuple[date, Path]] = {}
    for as_of, path in versions.items():
        week = tuple(as_of.isocalendar())[:2]
        if as_of < measured_through and (week not in weekly or as_of > weekly[week][0]):
            weekly[week] = (as_of, path)
    return sorted(weekly.values())


def prediction_tracking(versions: dict[date, Path], warehouse: Path, measured_through: date, horizon_days: int,
                        annual_discount_rate: float, previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """The tracking rows of the `tracked_versions` of `customer_scores`, against
    `marts.orders` of `warehouse`. A version whose whole horizon had passed in `previous`
    (the last published table) keeps its rows from there: only orders corrected since
    could change them."""
    past = tracked_versions(versions, measured_through)
    final = pl.DataFrame(schema=TRACKING_SCHEMA)
    if previous is not None and not previous.is_empty():
        dates = [as_of for as_of, _ in past]
        final = previous.filter(
            (pl.col("horizon_days") == horizon_days) & (pl.col("elapsed_days") >= horizon_days) & pl.col("as_of").is_in(dates)
        ).select(list(TRACKING_SCHEMA)).cast(TRACKING_SCHEMA)
    done = set(final["as_of"].to_list())
    todo = [(as_of, path) for as_of, path in past if as_of not in done]
    if not todo:
        return final.sort("as_of", "group_type", "group")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frames = [_one_prediction(con, path, as_of, measured_through, horizon_days, annual_discount_rate) for as_of, path in todo]
    return pl.concat([final, *frames]).sort("as_of", "group_type", "group")


MIN_JUDGED_DAYS = 28
"""A prediction is held to its band once this much of its horizon has passed: over a few days
the weekday pattern and single large orders say more than the model."""


def outside_band(tracking: pl.DataFrame) -> pl.DataFrame:
    """The whole-base rows, at least MIN_JUDGED_DAYS into their horizon, whose realised
    margin left their band."""
    return tracking.filter(
        (pl.col("group_type") == "all")
        & (pl.col("elapsed_days") >= MIN_JUDGED_DAYS)
        & ((pl.col("realised_margin") < pl.col("margin_lower")) | (pl.col("realised_margin") > pl.col("margin_upper")))
    )
