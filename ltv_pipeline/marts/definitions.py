"""The marts domain's Definitions, for the root `definitions.py` to merge."""

from __future__ import annotations

import dagster as dg

from ltv_pipeline.marts.assets import marts_dbt_assets
from ltv_pipeline.marts.dbt_resource import dbt_resource
from ltv_pipeline.marts.partitioned import daily_partitioned_dbt_assets


def marts_defs() -> dg.Definitions:
    """dbt models, seeds and tests (as asset checks) plus the `dbt` resource.

    Two `@dbt_assets`: the daily-partitioned models (`marts/daily_orders`) and all the rest.

    Builds the dbt manifest first when it is missing or stale. The `settings` resource
    (`ltv_pipeline.core.resources.SettingsResource`) is registered by the root, which owns it.
    """
    return dg.Definitions(
        assets=[marts_dbt_assets(), daily_partitioned_dbt_assets()], resources={"dbt": dbt_resource()}
    )
