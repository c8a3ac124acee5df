"""One more day of deliveries for a business already loaded: the daily (incremental) case.

For the pipeline benchmark's incremental run and the tests of it: the day after the loaded
history gets the last history day's activity again, moved a day on, under new ids: the
same customers' orders, the day's sign-ups as new customers (each with a first order that
day), the day's spend rows and tickets. Written as small CSV deliveries whose names sort
after every earlier delivery of their source, as a daily export would.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ltv_pipeline.core.lake import read_raw_table
from ltv_pipeline.core.settings import Settings

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _last_day(settings: Settings, source: str, column: str) -> tuple[pl.DataFrame, date]:
    frame = read_raw_table(settings, source)
    frame = frame.select([c for c in frame.columns if not c.startswith("_")])
    latest = frame.select(pl.col(column).cast(pl.Date).max()).item()
    return frame.filter(pl.col(column).cast(pl.Date) == latest), latest


def _moved(frame: pl.DataFrame, columns: tuple[str, ...], days: int) -> pl.DataFrame:
    return frame.with_columns([pl.col(c) + pl.duration(days=days) for c in columns])


def write_next_day(settings: Settings, day: date) -> dict[str, int]:
    """Write `<landing>/<source>/<source>_zzzz_daily_<day>.csv` for every source; rows per source."""
    tag = day.isoformat()
    customers, signup_day = _last_day(settings, "customers", "signup_ts")
    new_ids = {old: f"{old}-n{tag}" for old in customers["customer_id"].to_list()}
    customers = _moved(customers, ("signup_ts",), (day - signup_day).days).with_columns(
        pl.col("customer_id").replace_strict(new_ids, return_dtype=pl.String)
    )
    orders, order_day = _last_day(settings, "orders", "order_ts")
    orders = _moved(orders, ("order_ts",), (day - order_day).days).with_columns(
        pl.col("customer_id").replace(new_ids), (pl.col("order_id") + f"-d{tag}").alias("order_id")
    )
    first_orders = customers.select(
        (pl.col("customer_id") + "-first").alias("order_id"), "customer_id", pl.col("signup_ts").alias("order_ts"),
    ).join(orders.select(pl.exclude("order_id", "customer_id", "order_ts")).head(1), how="cross")
    orders = pl.concat([orders, first_orders.select(orders.columns)])
    spend, spend_day = _last_day(settings, "marketing_spend", "spend_date")
    spend = _moved(spend, ("spend_date",), (day - spend_day).days)
    tickets, ticket_day = _last_day(settings, "support_tickets", "created_ts")
    tickets = (
        _moved(tickets, ("created_ts", "resolved_ts"), (day - ticket_day).days)
        .with_columns((pl.col("ticket_id") + f"-d{tag}").alias("ticket_id"))
        .filter(pl.col("resolved_ts").is_null() | (pl.col("resolved_ts").cast(pl.Date) <= day))
    )
    written = {}
    for source, frame in (("orders", orders), ("customers", customers), ("marketing_spend", spend), ("support_tickets", tickets)):
        path = settings.landing_dir / source / f"{source}_zzzz_daily_{tag}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path, datetime_format=TIMESTAMP_FORMAT, date_format="%Y-%m-%d")
        written[source] = frame.height
    return written
