"""Turn an expectation suite into Dagster asset checks: one check per expectation."""


from collections.abc import Callable

import dagster as dg
import polars as pl

from ltv_pipeline.quality.expectations import describe, expectation_name, load_suite_spec, run_suite
from ltv_pipeline.resources import SettingsResource
from ltv_pipeline.settings import Settings


def expectation_checks(
    asset_key: dg.AssetKey, suite: str, load_frame: Callable[[Settings], pl.DataFrame], prefix: str = ""
) -> dg.AssetChecksDefinition:
    """Checks named `[<prefix>__]<expectation>__<column>` on `asset_key`, from `expectations/<suite>.json`.

    `prefix` tells apart the suites of several tables written by one asset.
    """
    spec = load_suite_spec(suite)

    def check_name(name: str) -> str:
        return f"{prefix}__{name}" if prefix else name

    specs = [
        dg.AssetCheckSpec(name=check_name(expectation_name(e)), asset=asset_key, description=describe(e))
        for e in spec["expectations"]
    ]

    @dg.multi_asset_check(specs=specs, name=f"{suite}_expectations", can_subset=False)
    def _checks(settings: SettingsResource):
        for outcome in run_suite(load_frame(settings.get()), spec):
            failed = f"{outcome.unexpected_count} unexpected value(s), e.g. {outcome.examples}" if not outcome.success else "ok"
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=check_name(outcome.name),
                passed=outcome.success,
                description=f"{outcome.description}: {failed}",
                metadata={
                    "unexpected_count": outcome.unexpected_count if outcome.unexpected_count is not None else 0,
                    "examples": ", ".join(outcome.examples),
                },
            )

    return _checks
