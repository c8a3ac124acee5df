"""The few lines a person reads after a run: champion and its back-test, segments, budget, retention.

Read from the published Parquet files, so it shows exactly what BI tools will see.
"""

from __future__ import annotations

import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings


def _read(settings: Settings, table: str) -> pl.DataFrame | None:
    path = layout.published_dir(settings) / f"{table}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def headline_lines(settings: Settings) -> list[str]:
    lines: list[str] = []
    evaluation = _read(settings, "model_evaluation")
    if evaluation is not None and evaluation.height:
        kind = evaluation["evaluation"][0].replace("_", "-")
        for target, metrics in (("ltv", ("normalized_gini", "spearman", "total_error_pct")), ("churn", ("roc_auc", "brier"))):
            rows = evaluation.filter((pl.col("target") == target) & pl.col("is_champion"))
            if rows.height:
                values = dict(rows.select("metric", "value").iter_rows())
                figures = ", ".join(f"{m} {values[m]:.3f}" for m in metrics if m in values)
                lines.append(f"Champion {target} model: {rows['model'][0]} ({kind} back-test: {figures})")
    scores = _read(settings, "customer_scores")
    if scores is not None:
        lines.append(
            f"Scored {scores.height:,} customers: predicted {scores['predicted_ltv'].sum():,.0f} of discounted margin "
            f"over the horizon"
        )
    summary = _read(settings, "segment_summary")
    if summary is not None:
        tiers = summary.filter(pl.col("segmentation") == "value_tier")
        lines.append(
            "Value tiers: "
            + ", ".join(f"{r['segment']} {r['customers']:,} ({r['share_of_customers']:.0%})" for r in tiers.iter_rows(named=True))
        )
    plan = _read(settings, "channel_budget_allocation")
    if plan is not None and plan.height and "reason" in plan.columns:
        lines.append("Budget moves for the planning period:")
        for r in plan.sort("channel").iter_rows(named=True):
            change = r["recommended_spend"] / r["current_spend"] - 1 if r["current_spend"] else 0.0
            lines.append(
                f"  {r['channel']:<14} {r['current_spend']:>12,.0f} -> {r['recommended_spend']:>12,.0f} ({change:+.0%}), "
                # a channel without acquisitions in the window has no CAC, hence no ratio
                f"LTV:CAC {'n/a' if r['ltv_to_cac'] is None else format(r['ltv_to_cac'], '.1f')}"
            )
    targets = _read(settings, "retention_targets")
    if targets is not None:
        at_risk = targets["value_at_risk"].sum() if targets.height else 0.0
        lines.append(f"Retention list: {targets.height:,} customers worth an action ({at_risk:,.0f} of value at risk)")
    return lines
