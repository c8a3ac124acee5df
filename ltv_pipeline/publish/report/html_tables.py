"""The small HTML tables under some charts: allocation with reasons, payback, model
evaluation, segment summary. Every cell is escaped here, so callers pass plain text."""

from __future__ import annotations

import html

import polars as pl

from ltv_pipeline.publish.report.charts import SEGMENTATION_TITLES, pooled_ltv_to_cac, segmentation_order
from ltv_pipeline.publish.report.headline import METRIC_LABELS, metric_text
from ltv_pipeline.publish.report.sections import ReportInputs
from ltv_pipeline.publish.report.style import money, percent

METRIC_ORDER = {
    "ltv": ("normalized_gini", "spearman", "total_error_pct", "decile_mape_pct", "mae", "interval_coverage"),
    "churn": ("roc_auc", "pr_auc", "brier", "ece"),
}


def table(headers: list[str], rows: list[list[str]], *, text_columns: int = 1, highlight: set[int] | None = None,
          wide_last: bool = False) -> str:
    """An escaped table; the first `text_columns` are left-aligned text, the rest numbers."""
    def cell(tag: str, i: int, value: str) -> str:
        kind = "text wide" if wide_last and i == len(headers) - 1 else "text" if i < text_columns else "num"
        return f'<{tag} class="{kind}">{html.escape(value)}</{tag}>'

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    marked = highlight or set()
    body = "".join(
        ('<tr class="hl">' if r in marked else "<tr>") + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
        for r, row in enumerate(rows)
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _number(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None or value != value else fmt.format(value)


def allocation_table(allocation: pl.DataFrame | None, currency: str) -> str:
    if allocation is None or allocation.is_empty():
        return ""
    rows = []
    for r in allocation.sort("recommended_spend", descending=True).iter_rows(named=True):
        payback = r.get("payback_days")
        rows.append([
            str(r["channel"]), money(r["current_spend"], currency), money(r["recommended_spend"], currency),
            _number(r.get("expected_new_customers")), money(r.get("expected_ltv_per_customer"), currency),
            money(r.get("cac"), currency), _number(r.get("ltv_to_cac"), "{:.1f}x"),
            _number(r.get("marginal_roi"), "{:+.0%}"), "—" if payback is None else f"{payback} days",
            str(r.get("reason") or ""),
        ])
    headers = ["Channel", "Current spend", "Recommended", "Expected new customers", "Expected LTV per customer",
               "CAC", "LTV:CAC", "Return on the next $", "Payback", "Reason"]
    return table(headers, rows, wide_last=True)


def payback_table(payback: pl.DataFrame | None) -> str:
    """Per channel: how many cohorts repaid their CAC, how fast, and pooled realised LTV:CAC."""
    if payback is None or payback.is_empty():
        return ""
    rows = payback.filter(pl.col("cac").is_not_null())
    if rows.is_empty():
        return ""
    ratios = {(c, m): v for c, m, v in pooled_ltv_to_cac(payback).iter_rows()}
    summary = rows.group_by("acquisition_channel").agg(
        cohorts=pl.len(), paid_back=pl.col("is_paid_back").sum(), median=pl.col("payback_months").median()
    ).sort("acquisition_channel")
    body = [
        [str(ch), f"{n:,}", f"{paid:,}", _number(median, "{:.0f} months")]
        + [_number(ratios.get((ch, f"Realised after {k} months")), "{:.1f}x") for k in (3, 6, 12)]
        for ch, n, paid, median in summary.iter_rows()
    ]
    return table(["Channel", "Cohorts with CAC", "Paid back", "Median payback", "LTV:CAC 3 months",
                  "LTV:CAC 6 months", "LTV:CAC 12 months"], body)


def evaluation_tables(evaluation: pl.DataFrame | None, currency: str) -> str:
    """A table per target: models (rows) x key metrics, champion highlighted."""
    if evaluation is None or evaluation.is_empty():
        return ""
    parts = []
    for target, label in (("ltv", "LTV models"), ("churn", "Churn models")):
        rows = evaluation.filter(pl.col("target") == target)
        if rows.is_empty():
            continue
        present = set(rows["metric"].to_list())
        metrics = [m for m in METRIC_ORDER[target] if m in present]
        values = {(e, mo, me): v for e, mo, me, v in rows.select("evaluation", "model", "metric", "value").iter_rows()}
        keys = rows.select("evaluation", "model", "is_champion").unique().sort("evaluation", "is_champion", "model",
                                                                               descending=[False, True, False])
        body, champions = [], set()
        for i, (kind, model, is_champion) in enumerate(keys.iter_rows()):
            if is_champion:
                champions.add(i)
            body.append([kind.replace("_", "-"), f"{model} ★" if is_champion else model]
                        + [metric_text(m, values.get((kind, model, m)), currency) for m in metrics])
        headers = ["Back-test", "Model"] + [METRIC_LABELS.get(m, m) for m in metrics]
        parts.append(f"<h4>{html.escape(label)} (★ champion)</h4>" + table(headers, body, text_columns=2, highlight=champions))
    return "".join(parts)


def segment_tables(summary: pl.DataFrame | None, currency: str) -> str:
    if summary is None or summary.is_empty():
        return ""
    parts = []
    for kind in segmentation_order(summary):
        rows = summary.filter(pl.col("segmentation") == kind)
        body = [
            [str(r["segment"]), f"{r['customers']:,}", percent(r.get("share_of_customers")), money(r.get("revenue"), currency),
             money(r.get("avg_predicted_ltv"), currency), money(r.get("total_predicted_ltv"), currency),
             percent(r.get("churn_rate"))]
            for r in rows.sort("total_predicted_ltv", descending=True, nulls_last=True).iter_rows(named=True)
        ]
        parts.append(f"<h4>{html.escape(SEGMENTATION_TITLES.get(kind, kind))}</h4>" + table(
            ["Segment", "Customers", "Share", "Revenue to date", "Avg predicted LTV", "Total predicted LTV", "Churn risk"], body))
    return "".join(parts)


def tables_for(name: str, inputs: ReportInputs, currency: str) -> str:
    """The table shown with chart `name` ('' for none)."""
    if name == "ltv_to_cac":
        return payback_table(inputs.cohort_ltv_cac_payback)
    if name == "budget":
        return allocation_table(inputs.channel_budget_allocation, currency)
    if name == "churn_calibration":
        return evaluation_tables(inputs.model_evaluation, currency)
    if name == "segments":
        return segment_tables(inputs.segment_summary, currency)
    return ""
