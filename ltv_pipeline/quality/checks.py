"""Turn an expectation suite into Dagster asset checks: one check per expectation.

GX validates pandas frames, which costs seconds per million rows and per expectation,
and the whole table's copy in pandas memory. So a suite runs on a bounded number of rows: the rows in its scope (the whole
table, or for raw tables the rows of the latest load) when they are at most `max_rows`,
else every k-th of them, evenly spread (deterministic: the same table gives the same
rows). Every check's description says what it saw. An expectation over several rows
(uniqueness) then only sees the sample: the raw keys' uniqueness over the whole table is
enforced by the ingest merge and tested by dbt (`unique` on the staging and mart keys).
"""


import math
from collections.abc import Callable

import dagster as dg
import polars as pl

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.quality.expectations import describe, expectation_name, load_suite_spec, run_suite

MAX_VALIDATED_ROWS = 200_000
"""Rows a suite validates at most: enough to catch a systematic fault, few enough to stay cheap."""


def bounded_rows(frame: pl.DataFrame, max_rows: int) -> pl.DataFrame:
    """`frame` itself if it has at most `max_rows` rows, else every k-th row (k as small as
    possible), so that the rows validated are spread over the whole table."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    if frame.height <= max_rows:
        return frame
    return frame.gather_every(math.ceil(frame.height / max_rows))


def expectation_checks(
    asset_key: dg.AssetKey,
    suite: str,
    load_frame: Callable[[Settings], pl.DataFrame],
    prefix: str = "",
    *,
    scope: str = "the whole table",
    max_rows: int = MAX_VALIDATED_ROWS,
) -> dg.AssetChecksDefinition:
    """Checks named `[<prefix>__]<expectation>__<column>` on `asset_key`, from `expectations/<suite>.json`.

    `prefix` tells apart the suites of several tables written by one asset. `load_frame`
    returns the rows in scope (`scope` says which, for the descriptions); at most
    `max_rows` of them are validated (`bounded_rows`).
    """
    spec = load_suite_spec(suite)
    coverage = f"validated on {scope}; at most {max_rows:,} rows, every k-th beyond that"

    def check_name(name: str) -> str:
        return f"{prefix}__{name}" if prefix else name

    specs = [
        dg.AssetCheckSpec(name=check_name(expectation_name(e)), asset=asset_key, description=f"{describe(e)} ({coverage})")
        for e in spec["expectations"]
    ]

    @dg.multi_asset_check(specs=specs, name=f"{suite}_expectations", can_subset=False)
    def _checks(settings: SettingsResource):
        in_scope = load_frame(settings.get())
        validated = bounded_rows(in_scope, max_rows)
        seen = f"{validated.height:,} of {in_scope.height:,} rows in scope ({scope})"
        for outcome in run_suite(validated, spec):
            failed = f"{outcome.unexpected_count} unexpected value(s), e.g. {outcome.examples}" if not outcome.success else "ok"
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=check_name(outcome.name),
                passed=outcome.success,
                description=f"{outcome.description}: {failed}; validated {seen}",
                metadata={
                    "unexpected_count": outcome.unexpected_count if outcome.unexpected_count is not None else 0,
                    "examples": ", ".join(outcome.examples),
                    "rows_validated": validated.height,
                    "rows_in_scope": in_scope.height,
                },
            )

    return _checks
