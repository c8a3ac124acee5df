"""Daily partitions of the order facts (`marts/daily_orders`): backfills, re-runs, jobs.

One small generated business goes through `run_pipeline` (what `ltv run` does), which
must leave a complete `daily_orders` in the readers' warehouse. Then Dagster runs the
partitioned asset the way the UI, the CLI and the schedule do: a range of days as one run
(a single-run backfill), and one day again after a delivery corrected an order of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ltv_pipeline.commands.run import run_pipeline
from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import read_raw_table
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.marts.assets import marts_dbt_assets
from ltv_pipeline.marts.dbt_resource import dbt_resource
from ltv_pipeline.marts.partitioned import daily_partitioned_dbt_assets
from ltv_pipeline.marts.partitions import DAILY_PARTITIONS_START, daily_partitions, order_date_vars
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("daily_partitions")

DAILY_ORDERS = dg.AssetKey(["marts", "daily_orders"])
STALENESS_CHECK = "assert_daily_orders_match_orders"
KEY = ["order_date", "acquisition_channel"]
# The generated history starts on 2024-01-01; with 300 customers its first order comes a
# few days later, so this week holds days without orders and days with some.
FIRST_WEEK = ("2024-01-01", "2024-01-07")


class Business:
    def __init__(self, root: Path):
        self.overrides = {
            "landing_dir": str(root / "landing"),
            "lake_dir": str(root / "lake"),
            "warehouse": str(root / "warehouse.duckdb"),
            "mode": "demo",
        }
        self.settings: Settings = load_settings(env={}, cwd=root, overrides=self.overrides)

    def resources(self) -> dict[str, object]:
        return {"dbt": dbt_resource(), "settings": SettingsResource(overrides=self.overrides)}

    def daily_orders(self, warehouse: Path | None = None) -> pl.DataFrame:
        with duckdb.connect(str(warehouse or layout.build_warehouse(self.settings)), read_only=True) as con:
            return con.sql("select * from marts.daily_orders").pl().sort(KEY)

    def materialize_days(self, first: str, last: str | None = None) -> dg.ExecuteInProcessResult:
        """One run of the partitioned asset over `first`..`last` (a single-run backfill), or `first` alone."""
        if last is None:
            return dg.materialize([daily_partitioned_dbt_assets()], resources=self.resources(), partition_key=first)
        return dg.materialize(
            [daily_partitioned_dbt_assets()],
            resources=self.resources(),
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        )


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> tuple[Business, pl.DataFrame]:
    """The business after `run_pipeline`, and its daily_orders as the readers got it."""
    root = tmp_path_factory.mktemp("daily_partitions")
    generate_business(root / "landing", n_customers=300, seed=3)
    business = Business(root)
    run_pipeline(business.settings, log_level="WARNING")
    return business, business.daily_orders(business.settings.warehouse)


@pytest.fixture(scope="module")
def published_orders_per_day(business) -> pl.DataFrame:
    """Orders and net revenue per day of the `orders` mart the same run published."""
    biz, _ = business
    with duckdb.connect(str(biz.settings.warehouse), read_only=True) as con:
        return con.sql(
            "select order_date, count(*) as orders, sum(net_revenue) as net_revenue from marts.orders group by 1"
        ).pl().sort("order_date")


def _in_days(frame: pl.DataFrame, first: str, last: str) -> pl.DataFrame:
    return frame.filter(pl.col("order_date").is_between(date.fromisoformat(first), date.fromisoformat(last)))


def test_ltv_run_publishes_every_day_of_daily_orders(business, published_orders_per_day):
    """A run without a partition (`ltv run`) builds every day, before the warehouse goes to readers."""
    _, published = business
    totals = published.group_by("order_date").agg(pl.col("orders").sum(), pl.col("net_revenue").sum())
    assert published.height > 500
    assert_frame_equal(totals.sort("order_date"), published_orders_per_day, check_dtypes=False, rel_tol=1e-9)


def test_a_backfill_of_a_date_range_writes_exactly_those_days(business):
    """One run for a week (days without orders included) rewrites that week and nothing else."""
    biz, full = business
    with duckdb.connect(str(layout.build_warehouse(biz.settings))) as con:
        con.execute("delete from marts.daily_orders")  # whatever the run writes is then all that is there

    result = biz.materialize_days(*FIRST_WEEK)

    expected = _in_days(full, *FIRST_WEEK)
    assert 0 < expected["order_date"].n_unique() < 7  # the week has days with and without orders
    assert_frame_equal(biz.daily_orders(), expected)
    assert_frame_equal(biz.daily_orders(biz.settings.warehouse), expected)  # handed to readers at once
    week = daily_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(*FIRST_WEEK))
    assert sorted(e.partition for e in result.get_asset_materialization_events()) == week
    assert len(result.get_step_success_events()) == 1  # one dbt run for the seven days
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows_in_window"].value == expected.height
    failed = {(c.check_name, c.severity) for c in result.get_asset_check_evaluations() if not c.passed}
    # every other day is missing now: the warning says so, nothing fails
    assert failed == {(STALENESS_CHECK, dg.AssetCheckSeverity.WARN)}


def test_a_day_without_orders_builds_no_row_and_changes_nothing(business):
    """The first partition, years before the first order: an empty day, not an error."""
    biz, _ = business
    before = biz.daily_orders()

    result = biz.materialize_days(DAILY_PARTITIONS_START)

    assert_frame_equal(biz.daily_orders(), before)
    (event,) = result.get_asset_materialization_events()
    assert event.partition == DAILY_PARTITIONS_START
    assert event.materialization.metadata["rows_in_window"].value == 0


def test_a_correction_is_applied_by_rerunning_its_day_only(business):
    """A delivery corrects an order; the refresh rebuilds `orders`; re-running that order's day
    updates that day's row of daily_orders, and no other day changes."""
    biz, _ = business
    raw = read_raw_table(biz.settings, "orders").sort("order_ts", "order_id")
    order = raw.row(0, named=True)
    day = order["order_ts"].date().isoformat()
    assert FIRST_WEEK[0] <= day <= FIRST_WEEK[1]  # a day every test leaves filled
    cost = "" if order["cost"] is None else order["cost"]
    Path(biz.overrides["landing_dir"], "orders", "orders_zz_correction.csv").write_text(
        "order_id,customer_id,order_ts,revenue,cost,refund\n"
        f"{order['order_id']},{order['customer_id']},{order['order_ts'].isoformat()},"
        f"{round(order['revenue'] + 100, 2)},{cost},{order['refund'] or 0}\n"
    )
    ingest_source(biz.settings, "orders")
    before = biz.daily_orders()
    state = layout.build_state_path(biz.settings).read_text()

    refresh = dg.materialize(
        [marts_dbt_assets()],
        selection=[dg.AssetKey(["staging", "stg_raw__orders"]), dg.AssetKey(["staging", "stg_raw__customers"]), dg.AssetKey(["marts", "orders"])],
        resources=biz.resources(),
    )
    assert refresh.success
    assert_frame_equal(biz.daily_orders(), before)  # the unpartitioned refresh leaves the daily facts alone
    # a subset build does not move the incremental state: the models it left out still
    # count the correction as news (checked at the end of this test)
    assert layout.build_state_path(biz.settings).read_text() == state

    result = biz.materialize_days(day)

    after = biz.daily_orders()
    assert [e.partition for e in result.get_asset_materialization_events()] == [day]
    others = pl.col("order_date") != date.fromisoformat(day)
    assert_frame_equal(after.filter(others), before.filter(others))
    changed = after.filter(~others).join(before.filter(~others), on=KEY, suffix="_before")
    assert changed.height == before.filter(~others).height == after.filter(~others).height
    for column in ("revenue", "net_revenue", "margin"):
        assert (changed[column] - changed[f"{column}_before"]).abs().sum() == pytest.approx(100)
    assert (changed["orders"] == changed["orders_before"]).all()
    errors = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    assert errors == []

    # the next build of every model brings the customer's summary up to date with the correction
    assert dg.materialize([marts_dbt_assets()], resources=biz.resources()).success
    with duckdb.connect(str(layout.build_warehouse(biz.settings)), read_only=True) as con:
        summary, detail = con.execute(
            "select (select revenue from intermediate.int_orders_aggregated_to_customers where customer_id = $1),"
            " (select sum(revenue) from marts.orders where customer_id = $1)",
            [order["customer_id"]],
        ).fetchone()
    assert summary == pytest.approx(detail)


def test_definitions_hold_the_partitioned_job_and_its_schedule():
    from ltv_pipeline.definitions import defs

    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    assert {"daily_refresh", "weekly_retrain", "daily_orders"} <= set(jobs)
    daily_orders = jobs["daily_orders"]
    assert daily_orders.partitions_def == daily_partitions
    assert daily_orders.asset_layer.executable_asset_keys == {DAILY_ORDERS}
    for name in ("daily_refresh", "weekly_retrain"):  # unpartitioned jobs, without the partitioned asset
        assert jobs[name].partitions_def is None
        assert DAILY_ORDERS not in jobs[name].asset_layer.executable_asset_keys
        assert dg.AssetKey(["marts", "orders"]) in jobs[name].asset_layer.executable_asset_keys
    assert daily_partitions.get_first_partition_key() == DAILY_PARTITIONS_START

    schedule = defs.resolve_schedule_def("daily_orders_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == ("0 7 * * *", "UTC", "daily_orders")
    tick_time = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    with dg.build_schedule_context(scheduled_execution_time=tick_time, repository_def=defs.get_repository_def()) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [(tick_time - timedelta(days=1)).date().isoformat()]


def test_a_partition_window_becomes_inclusive_order_date_vars():
    day = daily_partitions.time_window_for_partition_key("2026-01-31")
    assert order_date_vars(day) == {"min_order_date": "2026-01-31", "max_order_date": "2026-01-31"}
    start = daily_partitions.time_window_for_partition_key("2026-01-01")
    end = daily_partitions.time_window_for_partition_key("2026-01-07")
    assert order_date_vars(dg.TimeWindow(start.start, end.end)) == {"min_order_date": "2026-01-01", "max_order_date": "2026-01-07"}
