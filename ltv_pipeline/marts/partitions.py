"""The daily partitions of the order facts, and how a partition reaches dbt.

dbt models tagged `daily_partitioned` (today `marts.daily_orders`) are one Dagster asset
with a partition per UTC day; every other model is unpartitioned. A run over a range of
days hands dbt the range as the vars `min_order_date` / `max_order_date` (both inclusive),
and the model replaces exactly those days (dbt_project/macros/order_date_window.sql).
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

DAILY_PARTITIONED_TAG = "daily_partitioned"
"""The dbt tag of the daily-partitioned models; Dagster carries it as the asset tag `daily_partitioned: ""`."""

DAILY_PARTITIONED_SELECT = f"tag:{DAILY_PARTITIONED_TAG}"
"""dbt selection of those models: the partitioned `@dbt_assets` selects it, the unpartitioned one excludes it."""

DAILY_PARTITIONS_START = "2020-01-01"
"""First day that has a partition. Fixed, because Dagster builds the partitions when the code
loads, before any setting or data may be read. A lake with older orders loses nothing: a
build without a partition (`ltv run`, a plain `dbt build`) covers every day, and only the
days before this one cannot be re-run one by one."""

daily_partitions = dg.DailyPartitionsDefinition(start_date=DAILY_PARTITIONS_START, timezone="UTC")
"""One partition per UTC day (orders' `order_date` is the UTC day), up to yesterday."""


def order_date_vars(window: dg.TimeWindow) -> dict[str, str]:
    """The dbt vars of a partition time window: its first and last day, both inclusive.

    Dagster's window ends at the start of the day after the last partition (exclusive).
    """
    return {
        "min_order_date": window.start.date().isoformat(),
        "max_order_date": (window.end - timedelta(days=1)).date().isoformat(),
    }
