"""Daily refresh at 06:00 UTC, yesterday's order facts at 07:00 UTC, weekly retrain on Sunday night."""

import dagster as dg

from ltv_pipeline.orchestration.jobs import daily_orders_job, daily_refresh_job, weekly_retrain_job

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

daily_orders_schedule = dg.build_schedule_from_partitioned_job(
    daily_orders_job,
    name="daily_orders_schedule",
    description="Yesterday's partition of marts/daily_orders, an hour after the daily refresh rebuilt the orders mart.",
    hour_of_day=7,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

weekly_retrain_schedule = dg.ScheduleDefinition(
    name="weekly_retrain_schedule",
    job=weekly_retrain_job,
    cron_schedule="0 2 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
