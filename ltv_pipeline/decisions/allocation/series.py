"""The daily spend and new-customer series of each paid channel, as the curve fits need it.

Why a filled panel: ad platforms export only the days a channel spent, so a day missing
from a channel's history is a day of zero spend (a pause), and pauses are the most
informative days about where a response curve starts. Days before a channel's first row
are not its history and are not invented.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

INPUT_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "channel": pl.String(),
    "spend": pl.Float64(),
    "new_customers": pl.Float64(),
}
CURRENT_WINDOW_DAYS = 30
"""'Current spend' is the mean daily spend of the last 30 days (contract, total_budget)."""


def daily_panel(daily: pl.DataFrame) -> pl.DataFrame:
    """One row per paid channel and day, from its first row to the last date in `daily`.

    `daily` holds `date`, `channel`, `spend`, `new_customers`: best a full join of daily
    spend and daily new customers per channel. Repeated (date, channel) rows are summed,
    so spend may come per campaign as long as each new customer is counted once; nulls
    and absent days count as zero.
    Channels that never spent anything (organic, referral) are dropped: they have no
    response curve to fit.
    """
    missing = sorted(set(INPUT_SCHEMA) - set(daily.columns))
    if missing:
        raise ValueError(f"daily series lacks column(s) {missing}; expected {list(INPUT_SCHEMA)}")
    frame = (
        daily.select(pl.col(name).cast(dtype) for name, dtype in INPUT_SCHEMA.items())
        .drop_nulls(["date", "channel"])
        .fill_null(0.0)
        .group_by("date", "channel")
        .agg(pl.col("spend").sum(), pl.col("new_customers").sum())
    )
    if frame.is_empty():
        raise ValueError("daily series is empty")
    if (frame["spend"] < 0).any() or (frame["new_customers"] < 0).any():
        raise ValueError("spend and new_customers must be >= 0")
    end = frame["date"].max()
    grid = (
        frame.group_by("channel")
        .agg(pl.col("date").min().alias("first"), pl.col("spend").sum().alias("total_spend"))
        .filter(pl.col("total_spend") > 0)
        .select("channel", pl.date_ranges("first", pl.lit(end), interval="1d").alias("date"))
        .explode("date")
    )
    return (
        grid.join(frame, on=["date", "channel"], how="left")
        .with_columns(pl.col("spend", "new_customers").fill_null(0.0))
        .sort("channel", "date")
    )


def current_daily(panel: pl.DataFrame) -> pl.DataFrame:
    """Per channel: mean daily spend and new customers over the last 30 days of the panel."""
    start = panel["date"].max() - timedelta(days=CURRENT_WINDOW_DAYS - 1)
    recent = pl.col("date") >= start
    return (
        panel.group_by("channel")
        .agg(
            (pl.col("spend").filter(recent).sum() / CURRENT_WINDOW_DAYS).alias("current_daily_spend"),
            (pl.col("new_customers").filter(recent).sum() / CURRENT_WINDOW_DAYS).alias("recent_daily_new_customers"),
        )
        .sort("channel")
    )
