"""Dagster assets of the `ingest` group: one per source of the contract, built from its spec.

Thin wrappers over `ingest_source`: they log progress, record the load accounting as
metadata, and attach checks (readable deliveries, the accounting identity, and the
Great Expectations suite of the raw table).
"""


from datetime import timedelta

import dagster as dg
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.layout import raw_table_files
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.ingest.loader import SourceLoadResult, ingest_source
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.quality.checks import expectation_checks

RAW_PREFIX = "raw"
RAW_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=30), warn_window=timedelta(hours=26))
"""The daily refresh runs at 06:00 UTC: a raw table not refreshed for 26 h warns, for 30 h fails."""


def raw_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_PREFIX, source])


def _deliveries_markdown(result: SourceLoadResult) -> str:
    header = "| delivery | status | read | loaded | quarantined | duplicates | message |\n|---|---|---|---|---|---|---|\n"
    rows = "".join(
        f"| {e['delivery']} | {e['status']} | {e['rows_read']} | {e['rows_loaded']} | {e['rows_quarantined']} "
        f"| {e['rows_duplicate']} | {e.get('message') or ''} |\n"
        for e in result.entries
    )
    return header + (rows or "| (no new deliveries) | | | | | | |\n")


def _ingest_asset(source: str) -> dg.AssetsDefinition:
    spec = SPECS[source]
    required = "Required" if source == "orders" else "Optional (absent = empty table with a note)"

    @dg.asset(
        key=raw_asset_key(source),
        group_name="ingest",
        kinds={"polars", "parquet"},
        freshness_policy=RAW_FRESHNESS,
        description=(
            f"Raw `{source}` records: every delivery in `<landing>/{source}/` (CSV, CSV.gz, Parquet) "
            f"validated against the contract, corrections applied (later delivery wins on "
            f"{', '.join(spec.key)}), bad rows quarantined with a reason. {required}. "
            f"Written atomically to `<lake>/raw/{source}/`: `{source}.parquet`, plus one part per load "
            f"that only added records (consolidated again on a correction or every 30 parts)."
        ),
        check_specs=[
            dg.AssetCheckSpec("deliveries_readable", asset=raw_asset_key(source), description="No delivery of this run was rejected as unreadable."),
            dg.AssetCheckSpec("rows_accounted_for", asset=raw_asset_key(source), description="rows read = loaded + quarantined + duplicates, for every delivery."),
        ],
    )
    def _asset(context: dg.AssetExecutionContext, settings: SettingsResource):
        resolved = settings.get()
        result = ingest_source(resolved, source, progress=context.log.info)
        for note in result.notes:
            context.log.warning(note)
        rejected = result.rejected
        unbalanced = [
            e["delivery"] for e in result.entries
            if e["rows_read"] != e["rows_loaded"] + e["rows_quarantined"] + e["rows_duplicate"]
        ]
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows_in_table,
                "path": dg.MetadataValue.path(str(layout.raw_dir(resolved, source))),
                "files": len(raw_table_files(resolved, source)),
                "rows_read": result.total("rows_read"),
                "rows_loaded": result.total("rows_loaded"),
                "rows_quarantined": result.total("rows_quarantined"),
                "rows_duplicate": result.total("rows_duplicate"),
                "deliveries_rejected": len(rejected),
                "deliveries": dg.MetadataValue.md(_deliveries_markdown(result)),
                "notes": "; ".join(result.notes) or "none",
            }
        )
        yield dg.AssetCheckResult(
            check_name="deliveries_readable",
            passed=not rejected,
            description="; ".join(f"{e['delivery']}: {e['message']}" for e in rejected) or "all deliveries readable",
            metadata={"rejected": len(rejected)},
        )
        yield dg.AssetCheckResult(
            check_name="rows_accounted_for",
            passed=not unbalanced,
            description=f"identity broken for {unbalanced}" if unbalanced else "identity holds for every delivery",
        )

    return _asset


LATEST_LOAD = "the rows of the latest load (the deliveries it loaded, corrections included)"


def latest_load_rows(settings: Settings, source: str) -> pl.DataFrame:
    """The raw rows written by the most recent load of `source` (its `_loaded_at`).

    Earlier rows were validated when they were loaded and are not changed since, so the
    suite re-checks only what is new: a daily run validates a day's rows, not the history.
    """
    table = pl.scan_parquet(raw_table_files(settings, source))
    latest = table.select(pl.col("_loaded_at").max()).collect().item()
    if latest is None:
        return table.head(0).collect()
    # a literal bound lets the Parquet statistics skip every file and row group of older loads
    return table.filter(pl.col("_loaded_at") == latest).collect()


def _raw_frame(source: str):
    def load(settings: Settings) -> pl.DataFrame:
        return latest_load_rows(settings, source)

    return load


ingest_assets = [_ingest_asset(source) for source in SPECS]
raw_expectation_checks = [
    expectation_checks(raw_asset_key(source), f"raw_{source}", _raw_frame(source), scope=LATEST_LOAD)
    for source in SPECS
]
