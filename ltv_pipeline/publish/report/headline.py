"""The headline results as plain-text lines: the top of the report, and what `ltv demo` can print.

Plain text (not HTML) so the same lines serve a terminal and the page; the page escapes them.
"""

from __future__ import annotations

import math

import polars as pl

from ltv_pipeline.decisions.allocation.reasons import KEEP_BAND
from ltv_pipeline.publish.report.sections import ReportInputs, champion
from ltv_pipeline.publish.report.style import money, percent

HEADLINE_METRICS = {
    "ltv": ("normalized_gini", "spearman", "total_error_pct", "decile_mape_pct"),
    "churn": ("roc_auc", "brier", "ece"),
}
RANKING_METRIC = {"ltv": "normalized_gini", "churn": "roc_auc"}
METRIC_LABELS = {
    "normalized_gini": "normalised Gini", "spearman": "Spearman", "total_error_pct": "total error",
    "decile_mape_pct": "decile error", "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "brier": "Brier",
    "ece": "calibration error", "mae": "MAE", "interval_coverage": "interval coverage",
}


def metric_text(metric: str, value: float | None, currency: str = "$") -> str:
    """A metric value as people quote it: percentages signed where the sign means something."""
    if value is None or not math.isfinite(value):
        return "—"
    if metric == "total_error_pct":
        return f"{value:+.1f}%"
    if metric.endswith("_pct"):
        return f"{value:.1f}%"
    if metric == "mae":
        return money(value, currency)
    if metric == "n_customers":
        return f"{value:,.0f}"
    return f"{value:.3f}"


def _model_lines(evaluation: pl.DataFrame | None, currency: str) -> list[str]:
    lines = []
    for target, label in (("ltv", "LTV"), ("churn", "Churn")):
        name = champion(evaluation, target)
        if evaluation is None or name is None:
            continue
        rows = evaluation.filter(pl.col("target") == target)
        kind = "out_of_time" if "out_of_time" in rows["evaluation"].to_list() else rows["evaluation"][0]
        rows = rows.filter(pl.col("evaluation") == kind)
        values = {m: v for model, m, v in rows.select("model", "metric", "value").iter_rows() if model == name}
        figures = [f"{METRIC_LABELS.get(m, m)} {metric_text(m, values[m], currency)}" for m in HEADLINE_METRICS[target] if m in values]
        rank = RANKING_METRIC[target]
        base = rows.filter(pl.col("model").str.starts_with("baseline_") & (pl.col("metric") == rank))["value"].drop_nans().drop_nulls()
        if base.len() and not name.startswith("baseline_"):
            figures.append(f"best baseline {METRIC_LABELS[rank]} {metric_text(rank, base.max())}")
        verdict = " (no model beat the baselines)" if name.startswith("baseline_") else ""
        lines.append(f"{label} champion: {name}{verdict}; {kind.replace('_', '-')} back-test: " + ", ".join(figures) + ".")
    return lines or ["No model back-test is available for this run."]


def _budget_lines(allocation: pl.DataFrame | None, currency: str) -> list[str]:
    if allocation is None or allocation.is_empty():
        return ["No paid channel has spend history, so there is no budget to move."]
    lines = []
    spends = allocation.select("channel", "current_spend", "recommended_spend").drop_nulls().fill_nan(0.0)
    for channel, now, then in spends.iter_rows():
        change = then / now - 1.0 if now else math.inf if then else 0.0
        move = "keep" if abs(change) < KEEP_BAND else "raise" if change > 0 else "cut"
        lines.append(f"{channel}: {move} {money(now, currency)} → {money(then, currency)}"
                     + (f" ({change:+.0%})" if move != "keep" and math.isfinite(change) else ""))
    lines.append(f"Total: {money(spends['current_spend'].sum(), currency)} → "
                 f"{money(spends['recommended_spend'].sum(), currency)} over the planning period.")
    return lines


def _segment_lines(summary: pl.DataFrame | None, currency: str) -> list[str]:
    if summary is None or summary.is_empty():
        return ["No segments are available for this run."]
    kinds = summary["segmentation"].unique().to_list()
    kind = "value_tier" if "value_tier" in kinds else sorted(kinds)[0]
    rows = summary.filter(pl.col("segmentation") == kind).sort("total_predicted_ltv", descending=True, nulls_last=True)
    return [f"{segment}: {customers:,} customers ({percent(share)}), average predicted LTV {money(avg, currency)}"
            for segment, customers, share, avg in rows.select(
                "segment", "customers", "share_of_customers", "avg_predicted_ltv").iter_rows()]


def _retention_lines(targets: pl.DataFrame, currency: str) -> list[str]:
    if targets.is_empty():
        return ["No customer is worth a retention action at the configured cost per action."]
    at_risk = f", {money(targets['value_at_risk'].sum(), currency)} of value at risk" if "value_at_risk" in targets.columns else ""
    return [f"{targets.height:,} customers worth a retention action{at_risk}."]


def headline(inputs: ReportInputs, *, currency: str = "$") -> list[tuple[str, list[str]]]:
    """(heading, lines) blocks: champion models, budget moves, segment sizes, retention list."""
    blocks = [
        ("Champion models", _model_lines(inputs.model_evaluation, currency)),
        ("Budget moves", _budget_lines(inputs.channel_budget_allocation, currency)),
        ("Segments", _segment_lines(inputs.segment_summary, currency)),
    ]
    if inputs.retention_targets is not None:
        blocks.append(("Retention list", _retention_lines(inputs.retention_targets, currency)))
    return blocks
