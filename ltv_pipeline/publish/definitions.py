"""The publish domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.publish.assets import publish_assets, published_expectation_checks


def publish_defs() -> dg.Definitions:
    return dg.Definitions(assets=publish_assets, asset_checks=published_expectation_checks)
