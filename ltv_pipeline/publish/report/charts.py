"""One function per report chart: a frame in, PNG bytes out.

A chart whose frame has no usable rows raises `NoChartData` with a one-line reason a
marketer understands, so the report can say why the section is empty instead of drawing
an empty or fake chart. Months still in progress (`is_complete_month` false) are left out
of the monthly charts: a half month would look like a sudden drop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.ticker import FuncFormatter

from ltv_pipeline.decisions.allocation.reasons import KEEP_BAND
from ltv_pipeline.decisions.segments import VALUE_TIERS
from ltv_pipeline.publish.report import style


class NoChartData(ValueError):
    """The frame has nothing to draw; the message says why, in plain language."""


def _usable(frame: pl.DataFrame | None, *columns: str) -> pl.DataFrame:
    """Rows of `frame` with finite values in `columns`, and only complete months where flagged."""
    if frame is None or frame.is_empty():
        return pl.DataFrame()
    if "is_complete_month" in frame.columns:
        frame = frame.filter(pl.col("is_complete_month"))
    for column in columns:
        frame = frame.filter(pl.col(column).is_not_null())
        if frame.schema[column].is_float():
            frame = frame.filter(pl.col(column).is_finite())
    return frame


def _month(value: date | str) -> str:
    return value.strftime("%b %Y") if isinstance(value, date) else str(value)[:7]


def _colors(names: list[str], colors: Mapping[str, str] | None) -> Mapping[str, str]:
    return colors if colors is not None and all(n in colors for n in names) else style.channel_colors(names)


def _grid(n: int, columns: int) -> tuple[int, int]:
    cols = min(n, columns)
    return math.ceil(n / cols), cols


def _annotate_cells(ax: Axes, matrix: np.ndarray, labels: list[list[str]], dark_above: float, size: float) -> None:
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value) and labels[i][j]:
            color = "white" if value > dark_above else style.INK
            ax.text(j, i, labels[i][j], ha="center", va="center", fontsize=size, color=color)


def cohort_retention_heatmap(cohort_retention: pl.DataFrame | None, *, max_cohorts: int = 24, max_months: int = 18) -> bytes:
    """Repeat-purchase rate per acquisition month (rows) and months since (columns), all channels.

    Month 0 is left out: everyone orders in their acquisition month by definition, and its
    100% would squeeze the colour scale of the months that matter.
    """
    rows = _usable(cohort_retention, "retention_rate")
    if rows.height:
        rows = rows.filter(pl.col("months_since_acquisition").is_between(1, max_months))
    if rows.is_empty():
        raise NoChartData("No cohort has a complete month after its first-order month yet, so there is no repeat behaviour to show.")
    grid = (
        rows.group_by("cohort_month", "months_since_acquisition")
        .agg(active=pl.col("active_customers").sum(), size=pl.col("cohort_size").sum())
        .with_columns(rate=pl.col("active") / pl.col("size"))
        .pivot(on="months_since_acquisition", index="cohort_month", values="rate", sort_columns=True)
        .sort("cohort_month")
        .tail(max_cohorts)
    )
    sizes = dict(
        rows.group_by("cohort_month", "acquisition_channel").agg(pl.col("cohort_size").max())
        .group_by("cohort_month").agg(pl.col("cohort_size").sum()).iter_rows()
    )
    offsets = sorted(int(c) for c in grid.columns[1:])
    matrix = grid.select([str(o) for o in offsets]).to_numpy().astype(float)
    vmax = max(float(np.nanmax(matrix)), 0.01)
    fig = style.figure(9.5, 1.6 + 0.3 * grid.height)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=vmax, aspect="auto")
    labels = [[f"{v:.0%}" if v >= 0.095 else f"{v:.1%}" if np.isfinite(v) else "" for v in row] for row in matrix]
    _annotate_cells(ax, matrix, labels, 0.6 * vmax, 7.5 if len(offsets) <= 12 else 6.5)
    ax.set_xticks(range(len(offsets)), [str(o) for o in offsets])
    cohorts = grid["cohort_month"].to_list()
    ax.set_yticks(range(len(cohorts)), [f"{_month(c)}  ({sizes.get(c, 0):,})" for c in cohorts])
    style.style_axes(ax, title="Share of each month's new customers who order again N months later",
                     xlabel="Months since first order", ylabel="Month of first order (new customers)", grid="")
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    style.percent_axis(bar.ax.yaxis)
    bar.ax.tick_params(labelsize=8)
    fig.tight_layout()
    return style.png(fig)


def cumulative_value_chart(
    cohort_retention: pl.DataFrame | None, *, currency: str = "$", colors: Mapping[str, str] | None = None
) -> bytes:
    """Cumulative margin per acquired customer by month since acquisition: a panel per channel,
    a thin line per monthly cohort and a thick size-weighted average across cohorts."""
    rows = _usable(cohort_retention, "cumulative_margin_per_customer")
    if rows.is_empty():
        raise NoChartData("No cohort has a complete month yet, so there is no realised value per customer to show.")
    channels = sorted(rows["acquisition_channel"].unique().to_list())
    palette = _colors(channels, colors)
    n_rows, n_cols = _grid(len(channels), 3)
    fig = style.figure(10.0, 0.7 + 2.5 * n_rows)
    axes = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False).ravel()
    for ax, channel in zip(axes, channels):
        part = rows.filter(pl.col("acquisition_channel") == channel).sort("cohort_month", "months_since_acquisition")
        for _, line in part.group_by("cohort_month", maintain_order=True):
            ax.plot(line["months_since_acquisition"], line["cumulative_margin_per_customer"],
                    color=palette[channel], alpha=0.22, linewidth=0.9)
        mean = (
            part.group_by("months_since_acquisition")
            .agg(value=(pl.col("cumulative_margin_per_customer") * pl.col("cohort_size")).sum() / pl.col("cohort_size").sum())
            .sort("months_since_acquisition")
        )
        ax.plot(mean["months_since_acquisition"], mean["value"], color=palette[channel], linewidth=2.6)
        style.style_axes(ax, title=channel, xlabel="Months since first order")
        style.money_axis(ax.yaxis, currency)
    axes[0].set_ylim(bottom=min(0.0, float(rows["cumulative_margin_per_customer"].min()) * 1.1))
    for ax in axes[len(channels):]:
        ax.set_visible(False)
    for ax in axes[::n_cols]:
        ax.set_ylabel("Margin per customer", fontsize=9.5, color=style.MUTED)
    style.suptitle(fig, "Cumulative margin per acquired customer, by channel (thin: one monthly cohort; thick: average)")
    fig.tight_layout()
    return style.png(fig)


def cac_trend_chart(
    channel_cac_monthly: pl.DataFrame | None, *, currency: str = "$", colors: Mapping[str, str] | None = None
) -> bytes:
    """Monthly CAC per channel; channels without spend records have no CAC and are not drawn."""
    rows = _usable(channel_cac_monthly, "cac")
    if rows.is_empty():
        raise NoChartData("No marketing spend was delivered (or no month had both spend and new customers), so CAC cannot be computed.")
    channels = sorted(rows["acquisition_channel"].unique().to_list())
    palette = _colors(channels, colors)
    fig = style.figure(9.5, 4.0)
    ax = fig.add_subplot()
    for channel in channels:
        line = rows.filter(pl.col("acquisition_channel") == channel).sort("month")
        ax.plot(line["month"].to_list(), line["cac"], marker="o", markersize=3.5, linewidth=1.8,
                color=palette[channel], label=channel)
    locator = AutoDateLocator(maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    style.style_axes(ax, title="Cost to acquire one customer (CAC) by channel, per month",
                     xlabel="Month", ylabel="CAC = spend / new customers")
    style.money_axis(ax.yaxis, currency)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8.5, ncols=min(len(channels), 5), loc="upper left", bbox_to_anchor=(0, -0.14))
    fig.tight_layout()
    return style.png(fig)


def pooled_ltv_to_cac(payback: pl.DataFrame | None) -> pl.DataFrame:
    """Realised LTV:CAC per channel at 3/6/12 months, pooled over the cohorts that reached
    each age: total margin of those customers over what was spent to acquire them."""
    rows = _usable(payback, "cac")
    if rows.is_empty():
        return pl.DataFrame(schema={"channel": pl.String, "measure": pl.String, "ltv_to_cac": pl.Float64})
    frames = [
        rows.filter(pl.col(f"margin_per_customer_{k}m").is_not_null() & (pl.col("acquisition_spend") > 0))
        .group_by(channel="acquisition_channel")
        .agg(ltv_to_cac=(pl.col(f"margin_per_customer_{k}m") * pl.col("cohort_size")).sum() / pl.col("acquisition_spend").sum())
        .with_columns(measure=pl.lit(f"Realised after {k} months"))
        for k in (3, 6, 12)
    ]
    return pl.concat(frames).select("channel", "measure", "ltv_to_cac").cast({"ltv_to_cac": pl.Float64})


EXPECTED = "Expected (models, at recommended spend)"
MEASURE_COLORS = {"Realised after 3 months": "#9ecae1", "Realised after 6 months": "#4a90c8",
                  "Realised after 12 months": "#1f5a96", EXPECTED: style.ACTUAL}


def ltv_to_cac_chart(payback: pl.DataFrame | None, allocation: pl.DataFrame | None) -> bytes:
    """Grouped bars per channel: realised LTV:CAC at 3/6/12 months (cohort marts) and the
    models' expected LTV:CAC at the recommended spend, against the 1.0 and 3.0 lines."""
    measures = pooled_ltv_to_cac(payback)
    expected = _usable(allocation, "ltv_to_cac")
    if not expected.is_empty():
        measures = pl.concat([measures, expected.select(
            "channel", measure=pl.lit(EXPECTED), ltv_to_cac=pl.col("ltv_to_cac").cast(pl.Float64)
        )])
    measures = measures.filter(pl.col("ltv_to_cac").is_finite())
    if measures.is_empty():
        raise NoChartData("No channel has both marketing spend and acquired customers, so LTV:CAC cannot be computed.")
    channels = sorted(measures["channel"].unique().to_list())
    names = [name for name in MEASURE_COLORS if name in set(measures["measure"].to_list())]
    width = 0.8 / len(names)
    fig = style.figure(9.5, 4.2)
    ax = fig.add_subplot()
    values = {(c, m): v for c, m, v in measures.iter_rows()}
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j, c in enumerate(channels) if (c, name) in values]
        ys = [values[(c, name)] for c in channels if (c, name) in values]
        bars = ax.bar(xs, ys, width=width * 0.92, color=MEASURE_COLORS[name], label=name)
        ax.bar_label(bars, labels=[f"{y:.1f}x" for y in ys], fontsize=7, padding=1.5, color=style.INK)
    ax.axhline(1.0, color=style.BAD, linestyle="--", linewidth=1.1, label="1.0: margin just repays CAC")
    ax.axhline(3.0, color=style.GOOD, linestyle="--", linewidth=1.1, label="3.0: healthy target")
    ax.set_xticks(range(len(channels)), channels)
    ax.set_xlim(-0.6, len(channels) - 0.4)
    low, high = float(measures["ltv_to_cac"].min()), float(measures["ltv_to_cac"].max())
    ax.set_ylim(min(0.0, low * 1.15), max(3.4, high * 1.15))
    style.style_axes(ax, title="LTV:CAC by channel: margin per acquired customer for each $ of acquisition cost",
                     ylabel="Margin per customer / CAC")
    ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper left", bbox_to_anchor=(0, -0.08))
    fig.tight_layout()
    return style.png(fig)


def budget_chart(allocation: pl.DataFrame | None, *, currency: str = "$") -> bytes:
    """Current vs recommended spend per channel for the planning period, with the change."""
    rows = _usable(allocation, "current_spend", "recommended_spend")
    if rows.is_empty():
        raise NoChartData("No paid channel has spend history, so there is no budget to allocate.")
    rows = rows.sort("current_spend")
    y = np.arange(rows.height)
    fig = style.figure(9.5, 1.3 + 0.62 * rows.height)
    ax = fig.add_subplot()
    ax.barh(y + 0.2, rows["current_spend"], height=0.38, color=style.CURRENT, label="Current spend")
    bars = ax.barh(y - 0.2, rows["recommended_spend"], height=0.38, color=style.PREDICTED, label="Recommended spend")
    labels = []
    for now, then in zip(rows["current_spend"], rows["recommended_spend"]):
        change = then / now - 1.0 if now > 0 else math.inf if then > 0 else 0.0
        labels.append(f"{style.money(then, currency)}  " + ("keep" if abs(change) < KEEP_BAND else f"{change:+.0%}" if math.isfinite(change) else "new"))
    ax.bar_label(bars, labels=labels, fontsize=8, padding=3, color=style.INK)
    ax.set_yticks(y, rows["channel"].to_list())
    ax.set_xlim(0, float(max(rows["current_spend"].max(), rows["recommended_spend"].max())) * 1.3)
    style.style_axes(ax, title="Spend per channel over the planning period: current vs recommended",
                     xlabel="Spend", grid="x")
    style.money_axis(ax.xaxis, currency)
    ax.legend(frameon=False, fontsize=8.5, loc="lower right")
    fig.tight_layout()
    return style.png(fig)


def decile_chart(deciles: Mapping[str, pl.DataFrame] | None, *, currency: str = "$", champion: str | None = None) -> bytes:
    """Predicted vs actual mean value per decile of prediction, a panel per model (champion first)."""
    usable = {m: _usable(f, "predicted_mean", "actual_mean") for m, f in (deciles or {}).items()}
    models = {m: f.sort("decile") for m, f in usable.items() if f.height}
    if not models:
        raise NoChartData("No back-test was run (too little history to hold out a period), so there is no decile chart.")
    order = sorted(models, key=lambda m: (m != champion, m))
    n_rows, n_cols = _grid(len(order), 3)
    fig = style.figure(10.0, 0.8 + 2.7 * n_rows)
    axes = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False).ravel()
    for ax, model in zip(axes, order):
        frame = models[model]
        x = np.arange(frame.height)
        ax.bar(x - 0.2, frame["predicted_mean"], width=0.4, color=style.PREDICTED, label="Predicted")
        ax.bar(x + 0.2, frame["actual_mean"], width=0.4, color=style.ACTUAL, label="Actual")
        ax.set_xticks(x, [str(d) for d in frame["decile"].to_list()])
        style.style_axes(ax, title=f"{model} (champion)" if model == champion else model,
                         xlabel="Decile of prediction (1 = highest)")
        style.money_axis(ax.yaxis, currency)
    for ax in axes[len(order):]:
        ax.set_visible(False)
    axes[0].set_ylabel("Mean value per customer", fontsize=9.5, color=style.MUTED)
    axes[0].legend(frameon=False, fontsize=8.5)
    style.suptitle(fig, "Back-test: predicted vs actual value per customer, by decile of prediction")
    fig.tight_layout()
    return style.png(fig)


def churn_calibration_chart(calibration: pl.DataFrame | None) -> bytes:
    """Observed churn rate against predicted churn probability per bin, with the perfect diagonal."""
    rows = _usable(calibration, "predicted_mean", "observed_rate")
    if rows.is_empty():
        raise NoChartData("No churn back-test was run (too little history to hold out a period), so there is no calibration chart.")
    rows = rows.sort("predicted_mean")
    fig = style.figure(5.6, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color=style.MUTED, linestyle="--", linewidth=1, label="Perfectly calibrated")
    weighted = "customers" in rows.columns
    sizes = rows["customers"].fill_null(0).to_numpy() if weighted else np.ones(rows.height)
    area = 25 + 300 * sizes / max(float(sizes.max()), 1.0)
    label = "Customers by predicted risk" + (" (dot size = customers)" if weighted else "")
    ax.plot(rows["predicted_mean"], rows["observed_rate"], color=style.PREDICTED, linewidth=1.4)
    ax.scatter(rows["predicted_mean"], rows["observed_rate"], s=area, color=style.PREDICTED, alpha=0.75,
               edgecolor="white", label=label, zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    style.percent_axis(ax.xaxis)
    style.percent_axis(ax.yaxis)
    style.style_axes(ax, title="Churn risk: predicted vs what happened", xlabel="Predicted churn probability",
                     ylabel="Share who actually churned", grid="both")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return style.png(fig)


SEGMENTATION_TITLES = {"value_tier": "Value tiers", "rfm_segment": "RFM segments"}


def segmentation_order(frame: pl.DataFrame) -> list[str]:
    """Value tiers first, then RFM segments, then any other segmentation by name."""
    present = frame["segmentation"].unique().to_list()
    return [s for s in SEGMENTATION_TITLES if s in present] + sorted(s for s in present if s not in SEGMENTATION_TITLES)


def segment_chart(segment_summary: pl.DataFrame | None, *, currency: str = "$") -> bytes:
    """Per segmentation: customers per segment (with share) and their total predicted LTV."""
    rows = _usable(segment_summary, "customers")
    if rows.is_empty():
        raise NoChartData("No customer has been scored yet, so there are no segments.")
    kinds = segmentation_order(rows)
    heights = [max(rows.filter(pl.col("segmentation") == k).height, 2) for k in kinds]
    fig = style.figure(10.0, 0.8 + 0.32 * sum(heights) + 0.9 * len(kinds))
    axes = fig.subplots(len(kinds), 2, squeeze=False, gridspec_kw={"height_ratios": heights})
    for (left, right), kind in zip(axes, kinds):
        part = rows.filter(pl.col("segmentation") == kind).sort("total_predicted_ltv", nulls_last=False)
        y = np.arange(part.height)
        names = part["segment"].cast(pl.String).fill_null("(none)").to_list()
        bars = left.barh(y, part["customers"], color=style.PREDICTED)
        shares = part["share_of_customers"].to_list() if "share_of_customers" in part.columns else [None] * part.height
        left.bar_label(bars, labels=[f"{c:,} ({style.percent(s)})" for c, s in zip(part["customers"], shares)],
                       fontsize=7.5, padding=2)
        left.set_xlim(0, float(part["customers"].max()) * 1.35)
        left.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        left.set_yticks(y, names)
        style.style_axes(left, title=f"{SEGMENTATION_TITLES.get(kind, kind)}: customers", grid="x")
        value = part["total_predicted_ltv"].fill_null(0.0)
        bars = right.barh(y, value, color=style.GOOD)
        right.bar_label(bars, labels=[style.money_short(v, currency) for v in value], fontsize=7.5, padding=2)
        right.set_xlim(0, max(float(value.max()), 1.0) * 1.25)
        right.set_yticks(y, [""] * len(y))
        style.style_axes(right, title="Total predicted LTV (margin, next horizon)", grid="x")
        style.money_axis(right.xaxis, currency)
    fig.tight_layout()
    return style.png(fig)


def _ordered_segments(values: list[str], edge: str) -> list[str]:
    """Value tiers in their documented order, other segments alphabetically, then (new)/(gone)."""
    present = set(values) - {edge}
    known = [v for v in VALUE_TIERS if v in present]
    return known + sorted(present - set(known)) + ([edge] if edge in values else [])


def segment_migration_chart(migration: pl.DataFrame | None) -> bytes:
    """Heatmap per segmentation: customers from each previous segment (rows) to each current one.

    Colour is the share of the row, so 'where did last month's Champions go' reads along a
    row; the numbers are customer counts. `(new)` and `(gone)` sit last.
    """
    rows = _usable(migration, "customers")
    if rows.is_empty():
        raise NoChartData("Only one segment snapshot exists so far; migration appears after the next scoring run.")
    kinds = segmentation_order(rows)
    sizes = [rows.filter(pl.col("segmentation") == k)["from_segment"].n_unique() for k in kinds]
    fig = style.figure(9.5, 0.6 + sum(1.3 + 0.36 * s for s in sizes))
    axes = fig.subplots(len(kinds), 1, squeeze=False, gridspec_kw={"height_ratios": [1.3 + 0.36 * s for s in sizes]})[:, 0]
    for ax, kind in zip(axes, kinds):
        part = rows.filter(pl.col("segmentation") == kind).with_columns(
            pl.col("from_segment", "to_segment").cast(pl.String).fill_null("(none)"))
        sources = _ordered_segments(part["from_segment"].to_list(), "(new)")
        targets = _ordered_segments(part["to_segment"].to_list(), "(gone)")
        counts = np.zeros((len(sources), len(targets)))
        for source, target, n in part.select("from_segment", "to_segment", "customers").iter_rows():
            counts[sources.index(source), targets.index(target)] += n
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / counts.sum(axis=1, keepdims=True)
        shown = np.where(counts > 0, share, np.nan)
        ax.imshow(shown, cmap="Purples", vmin=0, vmax=1, aspect="auto")
        labels = [[f"{int(c):,}" if c > 0 else "" for c in row] for row in counts]
        _annotate_cells(ax, shown, labels, 0.55, 7.5 if len(targets) <= 8 else 6.5)
        ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
        ax.set_yticks(range(len(sources)), sources)
        style.style_axes(ax, title=f"{SEGMENTATION_TITLES.get(kind, kind)}: customers moved from (row) to (column)",
                         xlabel="Segment now", ylabel="Segment before", grid="")
    fig.tight_layout()
    return style.png(fig)
