"""Order rows to the per-customer sufficient statistics of the BTYD models.

BG/NBD and Gamma-Gamma only ever see four numbers per customer: the number of repeat
transactions `x`, the age at the last one `t_x`, the age at the analysis date `T` and the
mean value of the repeat transactions. Computing them in one place keeps the literature's
conventions (same-day orders are one transaction, the first one is not a repeat, nothing
after `as_of` is used) identical for fitting, scoring and back-testing.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import polars as pl

TimeUnit = Literal["day", "week"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}


def days_per_unit(time_unit: str) -> float:
    """Length of one model time unit in days; rejects units the models do not know."""
    try:
        return DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, got {time_unit!r}") from None


def rfm_summary(
    orders: pl.DataFrame | pl.LazyFrame,
    as_of: date,
    time_unit: TimeUnit = "day",
    *,
    customer_col: str = "customer_id",
    timestamp_col: str = "order_ts",
    value_col: str = "margin",
) -> pl.DataFrame:
    """One row per customer with an order on or before `as_of`.

    Columns: `customer_id`, `frequency` (repeat transaction days), `recency` (first to last
    transaction), `T` (first transaction to `as_of`), both in `time_unit`, and
    `monetary_value`, the mean value of the repeat transactions (a transaction's value is
    the sum over that calendar day; 0 when `frequency` is 0). The first transaction's value
    is excluded from the mean because the Gamma-Gamma model is fitted on repeat spend.
    Timestamps are reduced to calendar dates (UTC per the contract) before anything else,
    and `as_of` is inclusive.
    """
    unit = days_per_unit(time_unit)
    daily = (
        orders.lazy()
        .select(
            pl.col(customer_col).alias("customer_id"),
            pl.col(timestamp_col).cast(pl.Date).alias("day"),
            pl.col(value_col).cast(pl.Float64).fill_null(0.0).alias("value"),
        )
        .filter(pl.col("day") <= as_of)
        .group_by("customer_id", "day")
        .agg(pl.col("value").sum())
    )
    per_customer = daily.group_by("customer_id").agg(
        first_day=pl.col("day").min(),
        last_day=pl.col("day").max(),
        frequency=(pl.len() - 1).cast(pl.Int64),
        repeat_value=pl.col("value").sum() - pl.col("value").get(pl.col("day").arg_min()),
    )
    return (
        per_customer.select(
            "customer_id",
            "frequency",
            recency=(pl.col("last_day") - pl.col("first_day")).dt.total_days() / unit,
            T=(pl.lit(as_of) - pl.col("first_day")).dt.total_days() / unit,
            monetary_value=pl.when(pl.col("frequency") > 0)
            .then(pl.col("repeat_value") / pl.col("frequency"))
            .otherwise(0.0),
        )
        .sort("customer_id")
        .collect()
    )


def unique_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of equally long 1-d arrays and, per input row, its distinct row.

    A lexicographic sort is used rather than `np.unique(axis=0)` (which sorts a structured
    copy and is several times slower on a million rows).
    """
    cols = [np.asarray(c) for c in columns]
    order = np.lexsort(cols[::-1])
    sorted_cols = [c[order] for c in cols]
    is_new = np.ones(order.size, dtype=bool)
    if order.size:
        is_new[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in sorted_cols])
    group_of_sorted = np.cumsum(is_new) - 1
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = group_of_sorted
    return tuple(c[is_new] for c in sorted_cols), inverse


def group_sufficient_stats(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse customers with identical `(x, t_x, T)` into weighted rows.

    With day resolution most customers share their triple with others (every one-time
    buyer acquired on the same day has the same one), so likelihoods and Monte Carlo runs
    evaluated on the distinct rows are much cheaper. Returns `(x_u, tx_u, T_u, weights,
    inverse)` with `x_u[inverse] == x` etc. and `weights` the number of customers per row.
    """
    (x_u, tx_u, T_u), inverse = unique_rows(
        np.asarray(x, dtype=np.float64), np.asarray(t_x, dtype=np.float64), np.asarray(T, dtype=np.float64)
    )
    weights = np.bincount(inverse, minlength=x_u.size).astype(np.float64)
    return x_u, tx_u, T_u, weights, inverse
