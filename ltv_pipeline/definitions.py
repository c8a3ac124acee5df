"""The root of the Dagster code location: assembles each domain's definitions, nothing else."""

from __future__ import annotations

import dagster as dg

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.decisions.definitions import decisions_defs
from ltv_pipeline.ingest.definitions import ingest_defs
from ltv_pipeline.marts import marts_defs
from ltv_pipeline.orchestration.definitions import orchestration_defs
from ltv_pipeline.orchestration.run_lock import lake_locked_executor
from ltv_pipeline.prediction.definitions import prediction_defs
from ltv_pipeline.publish.definitions import publish_defs


def build_definitions(settings: SettingsResource | None = None) -> dg.Definitions:
    """All assets, checks and resources; `settings` lets the CLI and tests pin the config."""
    return dg.Definitions.merge(
        ingest_defs(),
        marts_defs(),
        prediction_defs(),
        decisions_defs(),
        publish_defs(),
        orchestration_defs(),
        # every job's runs (schedules, sensor, UI) hold the lake's run lock, as `ltv run` does
        dg.Definitions(resources={"settings": settings or SettingsResource()}, executor=lake_locked_executor),
    )


defs = build_definitions()
