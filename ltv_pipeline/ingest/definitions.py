"""The ingest domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.ingest.assets import ingest_assets, raw_expectation_checks


def ingest_defs() -> dg.Definitions:
    return dg.Definitions(assets=ingest_assets, asset_checks=raw_expectation_checks)
