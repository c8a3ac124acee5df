"""The prediction domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.prediction.assets import prediction_assets


def prediction_defs() -> dg.Definitions:
    return dg.Definitions(assets=prediction_assets)
