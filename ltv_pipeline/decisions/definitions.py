"""The decisions domain's Dagster definitions."""

import dagster as dg

from ltv_pipeline.decisions.assets import decision_assets


def decisions_defs() -> dg.Definitions:
    return dg.Definitions(assets=decision_assets)
