"""What the report shows: its inputs, and per chart the data it draws, how to read it and
what to say when there is nothing to draw.

The HTML page and the Dagster asset metadata both take their charts from `chart_outcomes`,
so the two never disagree about what was drawn or why a chart is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from ltv_pipeline.publish.report import charts
from ltv_pipeline.publish.report.style import channel_colors


@dataclass(frozen=True)
class ReportInputs:
    """Every frame the report can use. None = not produced by this run; empty = produced but
    nothing in it (e.g. no marketing spend). Either way the section says so instead of failing."""

    cohort_retention: pl.DataFrame | None = None
    channel_cac_monthly: pl.DataFrame | None = None
    cohort_ltv_cac_payback: pl.DataFrame | None = None
    channel_budget_allocation: pl.DataFrame | None = None
    ltv_deciles: Mapping[str, pl.DataFrame] | None = None
    """Model name -> `decile, predicted_mean, actual_mean` from the LTV back-test."""
    churn_calibration: pl.DataFrame | None = None
    """`bin, predicted_mean, observed_rate` (and optionally `customers`) of the churn champion."""
    model_evaluation: pl.DataFrame | None = None
    segment_summary: pl.DataFrame | None = None
    segment_migration: pl.DataFrame | None = None
    retention_targets: pl.DataFrame | None = None


def champion(model_evaluation: pl.DataFrame | None, target: str) -> str | None:
    """The model flagged `is_champion` for `target`, if any."""
    if model_evaluation is None or model_evaluation.is_empty():
        return None
    names = model_evaluation.filter((pl.col("target") == target) & pl.col("is_champion"))["model"].unique().sort()
    return names[0] if names.len() else None


def palette(inputs: ReportInputs) -> dict[str, str]:
    """One colour per channel across all charts, from every channel any input mentions."""
    names: set[str] = set()
    for frame, column in ((inputs.cohort_retention, "acquisition_channel"),
                          (inputs.channel_cac_monthly, "acquisition_channel"),
                          (inputs.channel_budget_allocation, "channel")):
        if frame is not None and column in frame.columns:
            names.update(frame[column].drop_nulls().cast(pl.String).to_list())
    return channel_colors(names)


Draw = Callable[[ReportInputs, str, Mapping[str, str]], bytes]


@dataclass(frozen=True)
class ChartSpec:
    name: str
    heading: str
    group: str
    how_to_read: str
    sources: tuple[str, ...]
    """ReportInputs fields drawn from; when all are None the section shows `missing`."""
    missing: str
    draw: Draw


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "cohort_retention", "Cohort retention", "Retention and value",
        "Read along a row to follow one month's new customers; read down a column to see whether newer "
        "cohorts come back more or less than older ones at the same age. Darker means more of them ordered "
        "again. Months still in progress are left out.",
        ("cohort_retention",), "Cohort retention was not available to this run.",
        lambda i, c, p: charts.cohort_retention_heatmap(i.cohort_retention),
    ),
    ChartSpec(
        "cumulative_value", "Cumulative value per customer", "Retention and value",
        "Each panel is one acquisition channel. A line that keeps rising means customers keep buying; one "
        "that flattens early means the value comes mostly from the first order. Compare the thick lines "
        "across channels, and with the CAC below.",
        ("cohort_retention",), "Cohort value was not available to this run.",
        lambda i, c, p: charts.cumulative_value_chart(i.cohort_retention, currency=c, colors=p),
    ),
    ChartSpec(
        "cac_trend", "CAC trend", "Acquisition and budget",
        "Lower is better. A rising line means each new customer from that channel costs more than "
        "before, often a sign that the channel is saturating.",
        ("channel_cac_monthly",), "Channel CAC was not available to this run.",
        lambda i, c, p: charts.cac_trend_chart(i.channel_cac_monthly, currency=c, colors=p),
    ),
    ChartSpec(
        "ltv_to_cac", "LTV:CAC by channel", "Acquisition and budget",
        "Above the red line (1.0) a channel's customers repay their acquisition cost in margin; above the "
        "green line (3.0) it is healthy. Realised bars pool the cohorts old enough for that age; the "
        "expected bar is the models' forecast over the horizon at the recommended spend.",
        ("cohort_ltv_cac_payback", "channel_budget_allocation"), "LTV:CAC was not available to this run.",
        lambda i, c, p: charts.ltv_to_cac_chart(i.cohort_ltv_cac_payback, i.channel_budget_allocation),
    ),
    ChartSpec(
        "budget", "Budget: current vs recommended", "Acquisition and budget",
        "Grey is what each channel spends now over the planning period; blue is the recommendation for "
        "the next one, with the change. Each channel's reason is in the table.",
        ("channel_budget_allocation",), "The budget allocation was not available to this run.",
        lambda i, c, p: charts.budget_chart(i.channel_budget_allocation, currency=c),
    ),
    ChartSpec(
        "model_deciles", "Model back-test by decile", "Model quality",
        "Customers are sorted by predicted value and cut into ten groups; decile 1 holds the top "
        "predictions. A good model has bars falling from left to right with blue (predicted) close to "
        "orange (actual).",
        ("ltv_deciles",), "The LTV back-test was not available to this run.",
        lambda i, c, p: charts.decile_chart(i.ltv_deciles, currency=c, champion=champion(i.model_evaluation, "ltv")),
    ),
    ChartSpec(
        "churn_calibration", "Churn calibration", "Model quality",
        "Each dot is a group of customers with similar predicted churn risk. On the dashed line the "
        "probabilities can be taken at face value; above it the model understates the risk, below it "
        "overstates it.",
        ("churn_calibration",), "The churn back-test was not available to this run.",
        lambda i, c, p: charts.churn_calibration_chart(i.churn_calibration),
    ),
    ChartSpec(
        "segments", "Segment sizes and value", "Segments",
        "Left: how many customers each segment holds. Right: the margin they are expected to bring over "
        "the horizon. Segments with short left bars and long right bars are where value is concentrated.",
        ("segment_summary",), "The segment summary was not available to this run.",
        lambda i, c, p: charts.segment_chart(i.segment_summary, currency=c),
    ),
    ChartSpec(
        "segment_migration", "Segment migration", "Segments",
        "Each row is a segment at the previous snapshot; the numbers are customers who are now in the "
        "column's segment, and darker cells hold more of the row. (new) were first scored this time; "
        "(gone) are no longer scored.",
        ("segment_migration",), "Segment migration was not available to this run.",
        lambda i, c, p: charts.segment_migration_chart(i.segment_migration),
    ),
)


def chart_outcomes(inputs: ReportInputs, *, currency: str = "$") -> dict[str, bytes | str]:
    """Per chart name: its PNG, or the one-line note that says why it has nothing to show."""
    colors = palette(inputs)
    outcomes: dict[str, bytes | str] = {}
    for spec in CHARTS:
        if all(getattr(inputs, source) is None for source in spec.sources):
            outcomes[spec.name] = spec.missing
            continue
        try:
            outcomes[spec.name] = spec.draw(inputs, currency, colors)
        except charts.NoChartData as empty:
            outcomes[spec.name] = str(empty)
    return outcomes


def render_charts(inputs: ReportInputs, *, currency: str = "$") -> dict[str, bytes]:
    """Chart name -> PNG for every chart with data, e.g. for Dagster asset metadata."""
    return {name: png for name, png in chart_outcomes(inputs, currency=currency).items() if isinstance(png, bytes)}
