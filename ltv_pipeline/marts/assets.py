"""dbt models as Dagster assets: raw Parquet (ingest) -> staging -> intermediate -> marts."""


import functools
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ltv_pipeline.core.lake import resolve_as_of
from ltv_pipeline.marts.incremental import forget_builds, plan_build, record_build
from ltv_pipeline.marts.partitions import DAILY_PARTITIONED_SELECT
from ltv_pipeline.marts.project import dbt_invocation, dbt_project, prepare_dbt_manifest
from ltv_pipeline.marts.dbt_resource import dbt_vars_env
from ltv_pipeline.preload import import_announced
from ltv_pipeline.prediction.reuse import models_need_training
from ltv_pipeline.core.resources import SettingsResource

WAREHOUSE_POOL = "duckdb_warehouse"
"""Concurrency pool shared by every step that writes the DuckDB file (single writer)."""

RUN_BEFORE_OTHER_READY_STEPS = {"dagster/priority": "1"}
"""Op tags of the dbt steps: in a run of the whole graph (`ltv run`) each starts as soon as it
is ready, ahead of the other ready steps (the raw expectation checks, which are not
blocking). The marts step thus starts right after ingest and the checks' GX import happens
while it waits for dbt (ltv_pipeline/preload.py); the daily-partitioned step is always done
before `published_tables` hands the warehouse to readers (which it does not depend on)."""


GROUP_BY_SCHEMA = {"features": "prediction"}
"""dbt schemas whose models belong to another Dagster group than `marts` (features feed the models)."""


class LtvDbtTranslator(DagsterDbtTranslator):
    """Puts dbt nodes in the `marts` group (features: `prediction`), otherwise dagster-dbt's defaults.

    Those defaults are what the rest of the pipeline relies on: a model's key is
    `[schema, model]` (e.g. `["marts", "customers"]`) because each layer sets its own
    schema, and a source's key is the ingest asset's key carried in its
    `meta.dagster.asset_key`, which is how lineage reaches the raw assets. A `layer` tag
    (staging / intermediate / marts / reference) lets the UI and selections filter by layer.
    The raw sources' dbt tests are checks of the raw assets they test; otherwise dagster-dbt
    logs each as an observation, with a warning in every run's output.
    """

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP_BY_SCHEMA.get(dbt_resource_props.get("config", {}).get("schema"), "marts")

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        schema = dbt_resource_props.get("config", {}).get("schema")
        if schema:
            tags["layer"] = schema
        return tags


def _unique_id(event: dg.Output) -> str | None:
    value = event.metadata.get("unique_id")
    return getattr(value, "value", value)


def _relations_by_unique_id(manifest: Mapping[str, Any], events: Iterable[Any]) -> dict[str, tuple[str, str]]:
    """(schema, table) of every dbt node that produced an Output in this run."""
    nodes = manifest["nodes"]
    return {
        unique_id: (nodes[unique_id]["schema"], nodes[unique_id]["alias"])
        for event in events
        if isinstance(event, dg.Output) and (unique_id := _unique_id(event)) in nodes
    }


def _row_counts(warehouse: str, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Exact row counts of built relations, read once dbt has released the warehouse."""
    wanted = set(relations)
    if not wanted:
        return {}
    counts: dict[tuple[str, str], int] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        for schema, name in sorted(wanted & existing):
            counts[(schema, name)] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    return counts


@functools.cache
def marts_dbt_assets() -> dg.AssetsDefinition:
    """The `@dbt_assets` of the whole dbt project (built once, after the manifest)."""
    manifest_path = prepare_dbt_manifest()
    project = dbt_project()

    @dbt_assets(
        manifest=manifest_path,
        project=project,
        exclude=DAILY_PARTITIONED_SELECT,  # built by day: ltv_pipeline/marts/partitioned.py
        dagster_dbt_translator=LtvDbtTranslator(),
        pool=WAREHOUSE_POOL,
        op_tags=RUN_BEFORE_OTHER_READY_STEPS,
    )
    def ltv_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: SettingsResource):
        """`dbt build` (models, seeds, data tests) as of the run's analysis date, with row counts."""
        import_announced()  # this process idles while dbt runs
        resolved = settings.get()
        as_of = resolve_as_of(resolved)
        resolved.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
        plan = plan_build(resolved, as_of)
        if plan.full_refresh:
            forget_builds(resolved)
        # Models reused from an earlier run need no training features: the score cutoff only.
        feature_history = models_need_training(resolved, as_of)
        context.log.info(
            f"dbt build as of {as_of.isoformat()} into {resolved.build_warehouse}: "
            f"{'full refresh' if plan.full_refresh else 'incremental'} ({plan.reason}); "
            f"features {'with' if feature_history else 'without'} the back-test cutoffs"
        )
        # The vars travel in the environment, not as `--vars`, and the invocation starts from
        # the last one's saved parse: dbt then re-parses nothing unless the project changed.
        vars_env = dbt_vars_env(resolved, as_of, {**plan.dbt_vars(), "feature_history": feature_history})
        name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}"
        with dbt_invocation(name, resolved.dbt_env(), vars_env) as target_path:
            # dbt's unit tests check the SQL logic on fixed rows, not the data: they belong to CI
            # (tests/dbt runs them), and here would cost every run seconds of fixture tables.
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test", *plan.dbt_args()],
                context=context, raise_on_error=False, target_path=target_path,
            )
            # Buffered rather than streamed: the row counts below need the warehouse, which
            # the dbt process holds read-write until it exits.
            events = list(invocation.stream())

        relations = _relations_by_unique_id(invocation.manifest, events)
        # Row counts come from the DuckDB file; on Spark the tables live in Spark's catalog.
        counts = _row_counts(str(resolved.build_warehouse), relations.values()) if resolved.engine == "duckdb" else {}
        for event in events:
            if isinstance(event, dg.Output):
                metadata: dict[str, Any] = {"as_of": as_of.isoformat()}
                row_count = counts.get(relations.get(_unique_id(event), ("", "")))
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
