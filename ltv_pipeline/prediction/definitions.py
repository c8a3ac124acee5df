"""The prediction domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.prediction.assets import prediction_assets
from ltv_pipeline.prediction.model_io import MODEL_IO_MANAGER_KEY, model_artifact_io_manager


def prediction_defs() -> dg.Definitions:
    return dg.Definitions(assets=prediction_assets, resources={MODEL_IO_MANAGER_KEY: model_artifact_io_manager})
