"""The orchestration domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.orchestration.jobs import daily_orders_job, daily_refresh_job, weekly_retrain_job
from ltv_pipeline.orchestration.schedules import daily_orders_schedule, daily_refresh_schedule, weekly_retrain_schedule
from ltv_pipeline.orchestration.sensors import new_deliveries_sensor


def orchestration_defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[daily_refresh_job, weekly_retrain_job, daily_orders_job],
        schedules=[daily_refresh_schedule, weekly_retrain_schedule, daily_orders_schedule],
        sensors=[new_deliveries_sensor],
    )
