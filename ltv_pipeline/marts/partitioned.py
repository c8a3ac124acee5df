"""The daily-partitioned dbt models (`marts.daily_orders`) as one partitioned Dagster asset.

A run for one day or a range of days (a single-run backfill: `BackfillPolicy.single_run()`)
is one `dbt build` over those days. A run without a partition, which is what `ltv run`
does when it materialises every asset, rebuilds every day: the command line gets a
complete table without knowing which days the lake holds. Jobs and the schedule that runs
yesterday's partition are in `ltv_pipeline/orchestration/`.
"""

import functools
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from ltv_pipeline.core import layout
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.marts import dbt_steps
from ltv_pipeline.marts.dbt_resource import dbt_env, dbt_vars_env
from ltv_pipeline.marts.partitions import DAILY_PARTITIONED_SELECT, daily_partitions, order_date_vars
from ltv_pipeline.marts.project import dbt_invocation, dbt_project, prepare_dbt_manifest
from ltv_pipeline.marts.snapshot import snapshot_warehouse


def _window_vars(context: AssetExecutionContext) -> dict[str, str]:
    """`min_order_date`/`max_order_date` of the run's partition(s); none for a run without a partition."""
    if context.has_partition_key or context.has_partition_key_range:
        return order_date_vars(context.partition_time_window)
    return {}


def _window_row_counts(warehouse: str, relations: set[tuple[str, str]], window: dict[str, str]) -> dict[tuple[str, str], int]:
    """Rows of each relation inside the window's days (daily-partitioned models have `order_date`)."""
    counts: dict[tuple[str, str], int] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        for schema, name in sorted(relations):
            counts[(schema, name)] = con.execute(
                f'select count(*) from "{schema}"."{name}" where order_date between ? and ?',
                [window["min_order_date"], window["max_order_date"]],
            ).fetchone()[0]
    return counts


@functools.cache
def daily_partitioned_dbt_assets() -> dg.AssetsDefinition:
    """The `@dbt_assets` of the models tagged `daily_partitioned` (built once, after the manifest)."""

    @dbt_assets(
        manifest=prepare_dbt_manifest(),
        project=dbt_project(),
        select=DAILY_PARTITIONED_SELECT,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=dbt_steps.LtvDbtTranslator(),
        pool=dbt_steps.WAREHOUSE_POOL,
        op_tags=dbt_steps.RUN_BEFORE_OTHER_READY_STEPS,
    )
    def ltv_dbt_daily_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: SettingsResource):
        """`dbt build` of the run's days (every day without a partition), as of the analysis date."""
        resolved, as_of = settings.get(), settings.as_of()
        window = _window_vars(context)
        days = f"{window['min_order_date']}..{window['max_order_date']}" if window else "every day"
        context.log.info(f"dbt build of the daily-partitioned models for {days}, as of {as_of.isoformat()}")
        layout.build_warehouse(resolved).parent.mkdir(parents=True, exist_ok=True)
        # The vars (with the window's days) travel in the environment and the invocation starts
        # from a saved parse, as in `ltv_dbt_models` (marts/assets.py).
        vars_env = dbt_vars_env(resolved, as_of, window)
        name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}"
        with dbt_invocation(name, dbt_env(resolved), vars_env) as target_path:
            # Unit tests check the SQL on fixed rows, not the data: CI runs them (as for the other models).
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test"],
                context=context, raise_on_error=False, target_path=target_path,
            )
            events = list(invocation.stream())  # the row counts need dbt to have released the warehouse

        relations = dbt_steps.relations_by_unique_id(invocation.manifest, events)
        on_duckdb = resolved.engine == "duckdb"
        totals = dbt_steps.row_counts(str(layout.build_warehouse(resolved)), relations.values()) if on_duckdb else {}
        in_window = _window_row_counts(str(layout.build_warehouse(resolved)), set(totals), window) if on_duckdb and window else {}
        for event in events:
            if isinstance(event, dg.Output):
                relation = relations.get(dbt_steps.event_unique_id(event), ("", ""))
                metadata: dict[str, Any] = {"as_of": as_of.isoformat(), "order_days": days}
                if relation in totals:
                    metadata["dagster/row_count"] = dg.MetadataValue.int(totals[relation])
                if relation in in_window:
                    metadata["rows_in_window"] = dg.MetadataValue.int(in_window[relation])
                event = event.with_metadata({**event.metadata, **metadata})
            yield event

        error = invocation.get_error()
        if error is not None:
            raise dg.Failure(
                description=f"dbt build of the daily-partitioned models failed for {days}: {error}",
                metadata={"dbt_log": dg.MetadataValue.path(str(invocation.target_path / "dbt.log"))},
            )
        if window and on_duckdb:
            # A partition runs on its own (schedule, backfill), after the refresh that published
            # everything else: hand readers the build now, not with the next refresh. A run
            # without a partition is part of a whole-graph run, whose publish step does it.
            # (On Spark readers read the tables in place.)
            snapshot_warehouse(resolved)

    return ltv_dbt_daily_models
