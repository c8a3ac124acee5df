"""The HTML report and its charts on small hand-made frames: every chart is a real PNG,
missing or empty inputs give a note instead of a crash, the page is self-contained and
escapes its text."""

from __future__ import annotations

import math
import re
import struct
from datetime import date, datetime

import polars as pl
import pytest

from ltv_pipeline.publish.report import (
    CHARTS,
    NoChartData,
    ReportInputs,
    chart_outcomes,
    charts,
    headline,
    render_charts,
    render_report,
    write_report,
)

AS_OF = date(2024, 12, 15)
GENERATED_AT = datetime(2024, 12, 16, 6, 30)
PAID = ("paid_search", "paid_social")
CHANNELS = (*PAID, "organic")
MONTHS = [date(2024, m, 1) for m in range(1, 13)]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cohort_retention() -> pl.DataFrame:
    """12 monthly cohorts x 3 channels; retention decays geometrically; December is in progress."""
    rows = []
    for c, channel in enumerate(CHANNELS):
        for m, month in enumerate(MONTHS):
            size = 60 + 15 * c + 3 * m
            cumulative = 0.0
            for k in range(12 - m):
                active = size if k == 0 else round(size * (0.32 - 0.04 * c + 0.006 * (m % 4)) * 0.86 ** k)
                cumulative += active * (38.0 + 6 * c - 2 * (m % 3))
                calendar = MONTHS[m + k]
                rows.append((month, channel, k, calendar, calendar < MONTHS[-1], size, active, active / size,
                             cumulative / size))
    return pl.DataFrame(rows, orient="row", schema=[
        "cohort_month", "acquisition_channel", "months_since_acquisition", "calendar_month", "is_complete_month",
        "cohort_size", "active_customers", "retention_rate", "cumulative_margin_per_customer"])


def channel_cac_monthly() -> pl.DataFrame:
    """Paid channels get dearer over the year; organic has no spend, so no CAC."""
    rows = []
    for c, channel in enumerate(CHANNELS):
        for m, month in enumerate(MONTHS):
            new = 60 + 15 * c + 3 * m
            spend = None if channel == "organic" else new * (42.0 + 9 * c + 1.5 * m)
            rows.append((month, channel, month < MONTHS[-1], spend is not None, spend, new,
                         None if spend is None else spend / new))
    return pl.DataFrame(rows, orient="row", schema=[
        "month", "acquisition_channel", "is_complete_month", "has_spend_data", "spend", "new_customers", "cac"])


def cohort_ltv_cac_payback() -> pl.DataFrame:
    cohorts = cohort_retention()
    cac = channel_cac_monthly().select(cohort_month="month", acquisition_channel="acquisition_channel",
                                       cac="cac", acquisition_spend="spend")
    def at(k: int) -> pl.Expr:
        hit = (pl.col("months_since_acquisition") == k - 1) & pl.col("is_complete_month")
        return pl.col("cumulative_margin_per_customer").filter(hit).first().alias(f"margin_per_customer_{k}m")
    per = cohorts.group_by("cohort_month", "acquisition_channel").agg(
        pl.col("cohort_size").first(), months_observed=pl.len(), *(at(k) for k in (3, 6, 12)),
        margin_per_customer_to_date=pl.col("cumulative_margin_per_customer").last(),
    ).join(cac, on=["cohort_month", "acquisition_channel"], how="left")
    paid = cohorts.join(cac, on=["cohort_month", "acquisition_channel"]).filter(
        pl.col("cumulative_margin_per_customer") >= pl.col("cac")
    ).group_by("cohort_month", "acquisition_channel").agg(payback_months=pl.col("months_since_acquisition").min() + 1)
    return per.join(paid, on=["cohort_month", "acquisition_channel"], how="left").with_columns(
        is_paid_back=pl.col("payback_months").is_not_null(),
        ltv_to_cac_3m=pl.col("margin_per_customer_3m") / pl.col("cac"),
    ).sort("cohort_month", "acquisition_channel")


def allocation() -> pl.DataFrame:
    return pl.DataFrame({
        "channel": [*PAID, "affiliates"],
        "current_spend": [30_000.0, 24_000.0, 6_000.0],
        "recommended_spend": [39_000.0, 15_000.0, 6_000.0],
        "expected_new_customers": [610.0, 260.0, 90.0],
        "expected_ltv_per_customer": [182.0, 121.0, 95.0],
        "cac": [63.9, 57.7, 66.7],
        "ltv_to_cac": [2.85, 2.10, 1.42],
        "marginal_roi": [0.35, 0.35, None],
        "payback_days": pl.Series([128, 174, None], dtype=pl.Int32),
        "curve_identified": [True, True, False],
        "reason": ["Raise spend 30% to $1,300/day: an extra $1 returns $1.80 of lifetime margin.",
                   "Cut spend 38% to $500/day: at the 0.5x floor the last $1 returns only $1.10.",
                   "Keep spend: spend was flat for 90 days, so the response curve is not identified."],
    })


def deciles(scale: float) -> pl.DataFrame:
    return pl.DataFrame({
        "decile": list(range(1, 11)),
        "predicted_mean": [scale * 0.72 ** d for d in range(10)],
        "actual_mean": [scale * 0.7 ** d * (1.1 if d % 2 else 0.93) for d in range(10)],
    })


def churn_calibration() -> pl.DataFrame:
    return pl.DataFrame({
        "bin": list(range(10)),
        "predicted_mean": [0.05 + 0.1 * b for b in range(10)],
        "observed_rate": [min(1.0, 0.03 + 0.105 * b) for b in range(10)],
        "customers": [400, 380, 300, 260, 220, 200, 180, 150, 120, 90],
    })


def model_evaluation() -> pl.DataFrame:
    results = {
        ("ltv", "bg_nbd_gamma_gamma"): {"normalized_gini": 0.61, "spearman": 0.55, "total_error_pct": 4.2,
                                        "decile_mape_pct": 14.0, "mae": 38.5},
        ("ltv", "xgb_ltv"): {"normalized_gini": 0.58, "spearman": 0.52, "total_error_pct": -7.9,
                             "decile_mape_pct": 19.0, "mae": 41.0},
        ("ltv", "baseline_last_period"): {"normalized_gini": 0.41, "spearman": 0.37, "total_error_pct": -12.0,
                                          "decile_mape_pct": 31.0, "mae": 52.0},
        ("churn", "xgb_churn"): {"roc_auc": 0.79, "pr_auc": 0.81, "brier": 0.17, "ece": 0.03},
        ("churn", "baseline_recency"): {"roc_auc": 0.71, "pr_auc": 0.74, "brier": 0.21, "ece": 0.08},
    }
    champions = {"bg_nbd_gamma_gamma", "xgb_churn"}
    rows = [(AS_OF, model, target, metric, value, "out_of_time", model in champions)
            for (target, model), metrics in results.items() for metric, value in metrics.items()]
    return pl.DataFrame(rows, orient="row", schema=["as_of", "model", "target", "metric", "value", "evaluation", "is_champion"])


def segment_summary() -> pl.DataFrame:
    tiers = [("High-Value", 410, 310.0, 0.12), ("Growth Potential", 1_250, 95.0, 0.25),
             ("At-Risk", 520, 140.0, 0.71), ("Low-Value", 1_820, 12.0, 0.83)]
    rfm = [("Champions", 380, 260.0, 0.10), ("Loyal", 640, 150.0, 0.22), ("Potential Loyalists", 700, 80.0, 0.35),
           ("New Customers", 520, 55.0, 0.45), ("At Risk", 410, 90.0, 0.68), ("Hibernating", 640, 14.0, 0.86),
           ("Lost", 710, 4.0, 0.95)]
    rows = []
    for kind, segments in (("value_tier", tiers), ("rfm_segment", rfm)):
        total = sum(n for _, n, _, _ in segments)
        rows += [(kind, name, n, n / total, n * avg * 1.4, avg, n * avg, churn) for name, n, avg, churn in segments]
    return pl.DataFrame(rows, orient="row", schema=[
        "segmentation", "segment", "customers", "share_of_customers", "revenue", "avg_predicted_ltv",
        "total_predicted_ltv", "churn_rate"])


def segment_migration() -> pl.DataFrame:
    tiers = ["High-Value", "Growth Potential", "At-Risk", "Low-Value"]
    rows = [("value_tier", a, b, (300 if a == b else 40) + 7 * i + 3 * j)
            for i, a in enumerate(tiers) for j, b in enumerate(tiers)]
    rows += [("value_tier", "(new)", "Growth Potential", 210), ("value_tier", "Low-Value", "(gone)", 95)]
    return pl.DataFrame(rows, orient="row", schema=["segmentation", "from_segment", "to_segment", "customers"])


def retention_targets() -> pl.DataFrame:
    return pl.DataFrame({"rank": range(1, 26), "customer_id": [f"C{i}" for i in range(25)],
                         "value_at_risk": [120.0 - 3 * i for i in range(25)]})


def full_inputs() -> ReportInputs:
    return ReportInputs(
        cohort_retention=cohort_retention(), channel_cac_monthly=channel_cac_monthly(),
        cohort_ltv_cac_payback=cohort_ltv_cac_payback(), channel_budget_allocation=allocation(),
        ltv_deciles={"bg_nbd_gamma_gamma": deciles(400.0), "xgb_ltv": deciles(380.0),
                     "baseline_last_period": deciles(300.0)},
        churn_calibration=churn_calibration(), model_evaluation=model_evaluation(),
        segment_summary=segment_summary(), segment_migration=segment_migration(),
        retention_targets=retention_targets(),
    )


def _png_ok(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    assert 300 <= width <= 1200 and 200 <= height <= 2000
    assert len(png) <= 120_000, f"{len(png)} bytes"


@pytest.fixture(scope="module")
def full_outcomes() -> dict[str, bytes | str]:
    return chart_outcomes(full_inputs())


def test_every_chart_is_a_small_valid_png(full_outcomes: dict[str, bytes | str]) -> None:
    assert list(full_outcomes) == [spec.name for spec in CHARTS]
    for png in full_outcomes.values():
        assert isinstance(png, bytes)
        _png_ok(png)


def test_a_large_business_still_gets_small_readable_pngs() -> None:
    months = [date(2021 + m // 12, m % 12 + 1, 1) for m in range(36)]
    rows = [(month, channel, k, True, 500, 50 + (k * 7 + m) % 40) for channel in CHANNELS
            for m, month in enumerate(months) for k in range(36 - m)]
    cohorts = pl.DataFrame(rows, orient="row", schema=[
        "cohort_month", "acquisition_channel", "months_since_acquisition", "is_complete_month", "cohort_size",
        "active_customers"]).with_columns(retention_rate=pl.col("active_customers") / pl.col("cohort_size"))
    _png_ok(charts.cohort_retention_heatmap(cohorts))  # the densest chart: 24 cohorts x 18 months of numbers


def test_missing_inputs_give_a_note_per_section_not_a_crash() -> None:
    outcomes = chart_outcomes(ReportInputs())
    assert all(isinstance(v, str) and "not available" in v for v in outcomes.values())
    page = render_report(ReportInputs(), as_of=AS_OF, generated_at=GENERATED_AT, title="Empty")
    assert "<img" not in page and page.count('class="note"') == len(CHARTS)
    assert render_charts(ReportInputs()) == {}


def test_empty_frames_say_why_they_are_empty() -> None:
    empty = {name: frame.clear() for name, frame in (
        ("cohort_retention", cohort_retention()), ("channel_cac_monthly", channel_cac_monthly()),
        ("cohort_ltv_cac_payback", cohort_ltv_cac_payback()), ("channel_budget_allocation", allocation()),
        ("churn_calibration", churn_calibration()), ("model_evaluation", model_evaluation()),
        ("segment_summary", segment_summary()), ("segment_migration", segment_migration()),
        ("retention_targets", retention_targets()))}
    inputs = ReportInputs(ltv_deciles={}, **empty)
    outcomes = chart_outcomes(inputs)
    assert all(isinstance(v, str) and "not available" not in v for v in outcomes.values()), outcomes
    page = render_report(inputs, as_of=AS_OF, generated_at=GENERATED_AT, title="Empty")
    assert "<img" not in page
    assert "no budget to move" in page and "No customer is worth a retention action" in page


def test_a_business_without_marketing_spend_keeps_its_cohort_charts() -> None:
    no_spend = channel_cac_monthly().with_columns(spend=None, cac=None, has_spend_data=False)
    payback = cohort_ltv_cac_payback().with_columns(cac=None, acquisition_spend=None)
    inputs = ReportInputs(cohort_retention=cohort_retention(), channel_cac_monthly=no_spend,
                          cohort_ltv_cac_payback=payback, channel_budget_allocation=allocation().clear())
    outcomes = chart_outcomes(inputs)
    assert isinstance(outcomes["cohort_retention"], bytes) and isinstance(outcomes["cumulative_value"], bytes)
    for name in ("cac_trend", "ltv_to_cac", "budget"):
        assert isinstance(outcomes[name], str)
    assert "No marketing spend" in outcomes["cac_trend"]


def test_only_the_first_month_observed_has_no_retention_to_show() -> None:
    young = cohort_retention().filter(pl.col("months_since_acquisition") == 0)
    with pytest.raises(NoChartData, match="complete month after"):
        charts.cohort_retention_heatmap(young)


def test_pooled_ltv_to_cac_is_total_margin_over_total_spend() -> None:
    frame = pl.DataFrame({
        "acquisition_channel": ["a", "a"], "cohort_size": [10, 30], "acquisition_spend": [500.0, 600.0],
        "cac": [50.0, 20.0], "margin_per_customer_3m": [40.0, 30.0],
        "margin_per_customer_6m": [None, None], "margin_per_customer_12m": [None, None],
    }, schema_overrides={"margin_per_customer_6m": pl.Float64, "margin_per_customer_12m": pl.Float64})
    pooled = charts.pooled_ltv_to_cac(frame)
    assert pooled.height == 1
    assert math.isclose(pooled["ltv_to_cac"][0], (10 * 40 + 30 * 30) / 1100)


def test_headline_names_champions_moves_segments_and_retention() -> None:
    text = "\n".join(line for _, lines in headline(full_inputs()) for line in lines)
    assert "LTV champion: bg_nbd_gamma_gamma" in text and "best baseline normalised Gini 0.410" in text
    assert "Churn champion: xgb_churn" in text
    assert "paid_search: raise $30,000 → $39,000 (+30%)" in text and "affiliates: keep" in text
    assert "Total: $60,000 → $60,000" in text
    assert "High-Value: 410 customers" in text
    assert "25 customers worth a retention action" in text


def test_page_is_self_contained(full_outcomes: dict[str, bytes | str]) -> None:
    page = render_report(full_inputs(), as_of=AS_OF, generated_at=GENERATED_AT, title="LTV report", outcomes=full_outcomes)
    assert page.count("<img") == len(CHARTS) == page.count('src="data:image/png;base64,')
    for pattern in ("http://", "https://", 'src="//', "href=\"//", "url(", "@import", "<script"):
        assert pattern not in page, pattern
    assert re.findall(r'(?:src|href)="([^"]*)"', page) and all(
        link.startswith(("data:", "#")) for link in re.findall(r'(?:src|href)="([^"]*)"', page))
    assert "How to read this" in page and "Reason" in page and "bg_nbd_gamma_gamma ★" in page


def test_text_from_data_is_escaped() -> None:
    hostile = "<script>alert('x')</script> & \"co\""
    inputs = ReportInputs(
        channel_budget_allocation=allocation().with_columns(pl.lit(hostile).alias("reason"), pl.lit(hostile).alias("channel")),
        segment_summary=segment_summary().with_columns(pl.lit(hostile).alias("segment")),
    )
    page = render_report(inputs, as_of=AS_OF, generated_at=GENERATED_AT, title=f"Report {hostile}")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;co&quot;" in page


def test_write_report_replaces_the_file_whole(tmp_path) -> None:
    target = tmp_path / "out" / "report.html"
    write_report("<p>old</p>", target)
    write_report("<p>new</p>", target)
    assert target.read_text(encoding="utf-8") == "<p>new</p>"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_charts_are_the_same_bytes_whatever_the_row_order() -> None:
    # a report re-run on the same data must not differ: overlapping translucent cohort lines
    # are drawn in cohort order, not in the order a (parallel) group-by happens to give
    rows = cohort_retention()
    shuffled = [rows.sample(fraction=1.0, shuffle=True, seed=seed) for seed in (1, 2)]
    assert charts.cumulative_value_chart(shuffled[0]) == charts.cumulative_value_chart(shuffled[1])
    assert charts.cohort_retention_heatmap(shuffled[0]) == charts.cohort_retention_heatmap(shuffled[1])
