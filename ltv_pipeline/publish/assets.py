"""Dagster assets of the `publish` group: the contract's tables, then the readers' warehouse.

`published_tables` writes every table as Parquet and into the `published` schema of the
build warehouse (one transaction), copies the build beside the readers' warehouse, and only
then renames the Parquet files and the copy into place, so no reader ever sees a half-written
table, a mix of old and new tables, or waits on a lock.
"""

import base64
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.decisions.assets import channel_budget_allocation, retention_targets, segments
from ltv_pipeline.marts.warehouse import read_relation
from ltv_pipeline.prediction.training import TrainedModels
from ltv_pipeline.publish.history import kept_versions
from ltv_pipeline.publish.report import ReportInputs, chart_outcomes, render_report, write_report
from ltv_pipeline.publish.tables import PUBLISHED_TABLES, publish_tables
from ltv_pipeline.publish.tracking import TRACKING_SCHEMA, outside_band, prediction_tracking
from ltv_pipeline.quality.checks import expectation_checks

BAND_CHECK = "predictions_within_band"


@dg.asset(
    group_name="publish",
    deps=[segments, channel_budget_allocation, retention_targets],
    kinds={"duckdb", "parquet"},
    description=(
        "The published tables of the contract (customer_scores, segment_summary, channel_budget_allocation, "
        "retention_targets, model_evaluation, model_parameters) as <lake>/published/<table>.parquet and as "
        "`published.<table>` in the warehouse file, each replaced atomically; this as_of's version of each under "
        "<lake>/published_history/<table>/ (kept for history_days), read through `published.<table>_history`; "
        "and prediction_tracking: every kept past prediction of customer_scores (the latest of each week) against the orders since "
        "(publish/tracking.py)."
    ),
    check_specs=[dg.AssetCheckSpec(
        BAND_CHECK, asset="published_tables",
        description="Warns when a past prediction's realised margin, over the elapsed part of its horizon, left its 80% band.",
    )],
)
def published_tables(context: dg.AssetExecutionContext, settings: SettingsResource, ltv_models: TrainedModels):
    resolved, as_of = settings.get(), settings.as_of()
    tables = {
        name: pl.read_parquet(layout.decisions_path(resolved, name))
        for name in ("customer_scores", "segment_summary", "channel_budget_allocation", "retention_targets")
    }
    tables["model_evaluation"] = ltv_models.evaluation
    tables["model_parameters"] = ltv_models.parameters(as_of)
    assert set(tables) == set(PUBLISHED_TABLES)
    tracking, tracking_note = _tracking(resolved, as_of)
    tables["prediction_tracking"] = tracking
    paths = publish_tables(resolved, tables, as_of=as_of, run_id=context.run_id)
    warehouse = resolved.warehouse
    context.log.info(f"published {len(paths)} tables; readers' warehouse replaced at {warehouse}")
    left = outside_band(tracking)
    return dg.MaterializeResult(
        metadata={
            "warehouse": dg.MetadataValue.path(str(warehouse)),
            "prediction_tracking": tracking_note,
            **{f"rows_{name}": df.height for name, df in tables.items()},
        },
        check_results=[dg.AssetCheckResult(
            check_name=BAND_CHECK,
            passed=left.is_empty(),
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                "; ".join(f"prediction of {r['as_of']}: realised margin {r['realised_margin']:,.0f} over {r['elapsed_days']} "
                          f"days, band {r['margin_lower']:,.0f}-{r['margin_upper']:,.0f}" for r in left.iter_rows(named=True))
                or tracking_note
            ),
        )],
    )


def _tracking(settings, as_of) -> tuple[pl.DataFrame, str]:
    """The prediction_tracking table, and a line saying what it holds."""
    if settings.engine != "duckdb":
        return pl.DataFrame(schema=TRACKING_SCHEMA), f"not built on the {settings.engine} engine (it reads marts.orders in DuckDB)"
    last = layout.published_path(settings, "prediction_tracking")
    tracking = prediction_tracking(kept_versions(settings, "customer_scores"), layout.build_warehouse(settings), as_of,
                                   settings.horizon_days, settings.annual_discount_rate,
                                   previous=pl.read_parquet(last) if last.exists() else None)
    if tracking.is_empty():
        return tracking, "no earlier prediction kept yet"
    return tracking, f"{tracking['as_of'].n_unique()} earlier predictions measured through {as_of}"


def _report_inputs(settings, models: TrainedModels) -> ReportInputs:
    def mart(name: str) -> pl.DataFrame:
        return read_relation(settings, "marts", name)

    def published(name: str) -> pl.DataFrame:
        return pl.read_parquet(layout.published_path(settings, name))

    churn_champion = models.champions["churn"]
    return ReportInputs(
        cohort_retention=mart("cohort_retention"),
        channel_cac_monthly=mart("channel_cac_monthly"),
        cohort_ltv_cac_payback=mart("cohort_ltv_cac_payback"),
        channel_budget_allocation=published("channel_budget_allocation"),
        ltv_deciles=models.deciles,
        churn_calibration=models.calibration.get(churn_champion),
        model_evaluation=published("model_evaluation"),
        segment_summary=published("segment_summary"),
        segment_migration=pl.read_parquet(layout.decisions_path(settings, "segment_migration")),
        retention_targets=published("retention_targets"),
    )


@dg.asset(
    group_name="publish",
    deps=[published_tables],
    kinds={"html"},
    description=(
        "A static, self-contained HTML report for marketers (<lake>/reports/ltv_report.html; `ltv report` prints "
        "its path): cohort retention, value per customer by cohort and channel, CAC trend, LTV:CAC, current vs "
        "recommended budget, model deciles and calibration, segment sizes and value, segment migration."
    ),
)
def report(context: dg.AssetExecutionContext, settings: SettingsResource, ltv_models: TrainedModels):
    resolved, as_of = settings.get(), settings.as_of()
    inputs = _report_inputs(resolved, ltv_models)
    outcomes = chart_outcomes(inputs)
    html = render_report(inputs, as_of=as_of, generated_at=datetime.now(UTC), outcomes=outcomes)
    path = write_report(html, layout.report_path(resolved))
    charts = {
        f"chart_{name}": dg.MetadataValue.md(f"![{name}](data:image/png;base64,{base64.b64encode(png).decode()})")
        for name, png in outcomes.items()
        if isinstance(png, bytes)
    }
    notes = {name: note for name, note in outcomes.items() if isinstance(note, str)}
    context.log.info(f"report written to {path}")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "charts_missing": str(notes or "none"), **charts}
    )


def _published_frame(table: str):
    def load(settings) -> pl.DataFrame:
        return pl.read_parquet(layout.published_path(settings, table))

    return load


published_expectation_checks = [
    expectation_checks(published_tables.key, f"published_{table}", _published_frame(table), prefix=table)
    for table in PUBLISHED_TABLES
]
publish_assets = [published_tables, report]
