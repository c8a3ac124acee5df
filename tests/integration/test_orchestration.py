"""Schedules, jobs and the landing-zone sensor, evaluated by Dagster itself."""

from __future__ import annotations

import dagster as dg

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.definitions import defs
from ltv_pipeline.orchestration.sensors import new_deliveries_sensor


def test_schedules_and_jobs_are_registered():
    assert {s.name: s.cron_schedule for s in defs.schedules} == {
        "daily_refresh_schedule": "0 6 * * *",
        "weekly_retrain_schedule": "0 2 * * 0",
        "daily_orders_schedule": "0 7 * * *",  # yesterday's partition of marts/daily_orders
    }
    daily = defs.resolve_job_def("daily_refresh")
    assert dg.AssetKey(["raw", "orders"]) in daily.asset_layer.executable_asset_keys


def test_scheduled_and_ui_runs_execute_in_process_unless_configured_otherwise():
    """As `ltv run` does: a process per step costs seconds of start-up each."""
    for job in ("daily_refresh", "weekly_retrain", "daily_orders"):
        executor = defs.resolve_job_def(job).executor_def
        assert executor.name == "lake_locked_executor"
        assert executor.config_schema.as_field().default_value == {"in_process": {}}
        assert set(executor.config_schema.config_type.fields) == {"in_process", "multiprocess"}


def test_sensor_requests_a_run_only_when_deliveries_change(tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    resource = SettingsResource(overrides={"landing_dir": str(landing)})

    def tick(cursor):
        with dg.build_sensor_context(cursor=cursor, resources={"settings": resource}) as ctx:
            result = new_deliveries_sensor(ctx)
            return result, ctx.cursor

    first, cursor = tick(None)
    assert isinstance(first, dg.RunRequest)  # first look: whatever is there is new
    again, same_cursor = tick(cursor)
    assert isinstance(again, dg.SkipReason) and same_cursor == cursor
    (landing / "orders" / "2025-01-02.csv").write_text("order_id,customer_id,order_ts,revenue\n")
    new, new_cursor = tick(cursor)
    assert isinstance(new, dg.RunRequest) and new_cursor != cursor
