"""The publish domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.publish.assets import publish_assets


def publish_defs() -> dg.Definitions:
    return dg.Definitions(assets=publish_assets)
