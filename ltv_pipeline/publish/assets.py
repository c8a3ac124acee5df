"""Dagster assets of the `publish` group: the contract's tables, then the readers' warehouse.

`published_tables` writes every table as Parquet (atomic rename) and into the `published`
schema of the build warehouse (one transaction), then replaces the readers' warehouse file
with the build atomically, so no reader ever sees a half-written table or waits on a lock.
"""

import dagster as dg
import polars as pl

from ltv_pipeline.decisions.assets import channel_budget_allocation, decisions_path, retention_targets, segments
from ltv_pipeline.lake import resolve_as_of
from ltv_pipeline.prediction.training import TrainedModels
from ltv_pipeline.publish.tables import PUBLISHED_TABLES, publish_tables
from ltv_pipeline.publish.warehouse import snapshot_warehouse
from ltv_pipeline.resources import SettingsResource


@dg.asset(
    group_name="publish",
    deps=[segments, channel_budget_allocation, retention_targets],
    kinds={"duckdb", "parquet"},
    description=(
        "The published tables of the contract (customer_scores, segment_summary, channel_budget_allocation, "
        "retention_targets, model_evaluation, model_parameters) as <lake>/published/<table>.parquet and as "
        "`published.<table>` in the warehouse file, each replaced atomically."
    ),
)
def published_tables(context: dg.AssetExecutionContext, settings: SettingsResource, ltv_models: TrainedModels):
    resolved = settings.get()
    as_of = resolve_as_of(resolved)
    tables = {
        name: pl.read_parquet(decisions_path(resolved, name))
        for name in ("customer_scores", "segment_summary", "channel_budget_allocation", "retention_targets")
    }
    tables["model_evaluation"] = ltv_models.evaluation
    tables["model_parameters"] = ltv_models.btyd.parameters(as_of)
    assert set(tables) == set(PUBLISHED_TABLES)
    paths = publish_tables(resolved, tables)
    warehouse = snapshot_warehouse(resolved)
    context.log.info(f"published {len(paths)} tables; readers' warehouse replaced at {warehouse}")
    return dg.MaterializeResult(
        metadata={
            "warehouse": dg.MetadataValue.path(str(warehouse)),
            **{f"rows_{name}": df.height for name, df in tables.items()},
        }
    )


publish_assets = [published_tables]
