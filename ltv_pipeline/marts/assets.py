"""dbt models as Dagster assets: raw Parquet (ingest) -> staging -> intermediate -> marts."""

import functools
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from ltv_pipeline.core import layout
from ltv_pipeline.core.model_store import models_need_training
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.marts import dbt_steps
from ltv_pipeline.marts.dbt_resource import dbt_env, dbt_vars_env
from ltv_pipeline.marts.incremental import forget_builds, plan_build, record_build
from ltv_pipeline.marts.partitions import DAILY_PARTITIONED_SELECT
from ltv_pipeline.marts.project import dbt_invocation, dbt_project, prepare_dbt_manifest


@functools.cache
def marts_dbt_assets() -> dg.AssetsDefinition:
    """The `@dbt_assets` of the whole dbt project (built once, after the manifest)."""
    manifest_path = prepare_dbt_manifest()
    project = dbt_project()

    @dbt_assets(
        manifest=manifest_path,
        project=project,
        exclude=DAILY_PARTITIONED_SELECT,  # built by day: ltv_pipeline/marts/partitioned.py
        dagster_dbt_translator=dbt_steps.LtvDbtTranslator(),
        pool=dbt_steps.WAREHOUSE_POOL,
        op_tags=dbt_steps.RUN_BEFORE_OTHER_READY_STEPS,
    )
    def ltv_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: SettingsResource):
        """`dbt build` (models, seeds, data tests) as of the run's analysis date, with row counts."""
        resolved, as_of = settings.get(), settings.as_of()
        layout.build_warehouse(resolved).parent.mkdir(parents=True, exist_ok=True)
        plan = plan_build(resolved, as_of)
        if plan.full_refresh:
            forget_builds(resolved)
        # Models reused from an earlier run need no training features: the score cutoff only.
        feature_history = models_need_training(resolved, as_of)
        context.log.info(
            f"dbt build as of {as_of.isoformat()} into {layout.build_warehouse(resolved)}: "
            f"{'full refresh' if plan.full_refresh else 'incremental'} ({plan.reason}); "
            f"features {'with' if feature_history else 'without'} the back-test cutoffs"
        )
        # The vars travel in the environment, not as `--vars`, and the invocation starts from
        # the last one's saved parse: dbt then re-parses nothing unless the project changed.
        vars_env = dbt_vars_env(resolved, as_of, {**plan.dbt_vars(), "feature_history": feature_history})
        name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}"
        with dbt_invocation(name, dbt_env(resolved), vars_env) as target_path:
            # dbt's unit tests check the SQL logic on fixed rows, not the data: they belong to CI
            # (tests/dbt runs them), and here would cost every run seconds of fixture tables.
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test", *plan.dbt_args()],
                context=context, raise_on_error=False, target_path=target_path,
            )
            # Buffered rather than streamed: the row counts below need the warehouse, which
            # the dbt process holds read-write until it exits.
            events = list(invocation.stream())

        relations = dbt_steps.relations_by_unique_id(invocation.manifest, events)
        # Row counts come from the DuckDB file; on Spark the tables live in Spark's catalog.
        counts = dbt_steps.row_counts(str(layout.build_warehouse(resolved)), relations.values()) if resolved.engine == "duckdb" else {}
        for event in events:
            if isinstance(event, dg.Output):
                metadata: dict[str, Any] = {"as_of": as_of.isoformat()}
                row_count = counts.get(relations.get(dbt_steps.event_unique_id(event), ("", "")))
                if row_count is not None:
                    metadata["dagster/row_count"] = dg.MetadataValue.int(row_count)
                event = event.with_metadata({**event.metadata, **metadata})
            yield event

        error = invocation.get_error()
        if error is None and context.is_subset:
            # The models left out were not brought up to date: the next build must still redo
            # everything changed since the last complete one, so the record stays as it was.
            context.log.info("a subset of the models was built: the incremental state is left as it was")
        elif error is None:
            record_build(resolved, plan)
        else:
            # Raised after the events, so the models and checks that did build are recorded.
            raise dg.Failure(
                description=f"dbt build failed as of {as_of.isoformat()}: {error}",
                metadata={"dbt_log": dg.MetadataValue.path(str(invocation.target_path / "dbt.log"))},
            )

    return ltv_dbt_models
