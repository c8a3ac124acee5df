"""Retention targets: who is worth a retention action, ranked, with the reason.

value_at_risk = churn_probability x ltv_if_retained: what the business loses in expectation
if it does nothing. An action costs `cost_per_action` and saves `uplift` of that value in
expectation, so it pays when `uplift x value_at_risk > cost_per_action`. Customers are taken
in order of value at risk while the action pays and the budget (if any) lasts.
"""

from __future__ import annotations

import polars as pl

from ltv_pipeline.decisions.segments import LAPSING_GAP_MULTIPLE

LOW_CSAT = 2
"""A ticket rated at or below this CSAT counts as a bad experience."""


def _reason() -> pl.Expr:
    gap_multiple = pl.col("recency_days") / pl.col("ipt_mean")
    parts = [
        pl.when((pl.col("n_purchase_days") >= 2) & (gap_multiple > LAPSING_GAP_MULTIPLE)).then(
            pl.format(
                "no order for {} days, {}x their usual gap of {} days",
                pl.col("recency_days").round(0).cast(pl.Int64),
                gap_multiple.round(1),
                pl.col("ipt_mean").round(0).cast(pl.Int64),
            )
        ),
        pl.when(pl.col("low_csat_tickets") >= 1).then(
            pl.format("{} ticket(s) with low CSAT (<= {})", pl.col("low_csat_tickets"), pl.lit(LOW_CSAT))
        ),
        pl.when(pl.col("tickets_90d") >= 2).then(pl.format("{} tickets in the last 90 days", pl.col("tickets_90d"))),
        pl.when(pl.col("p_alive") < 0.5).then(
            pl.format("probability still active fell to {}%", (pl.col("p_alive") * 100).round(0).cast(pl.Int64))
        ),
    ]
    value = pl.format(
        "worth {} if retained, churn risk {}%",
        pl.col("ltv_if_retained").round(0).cast(pl.Int64),
        (pl.col("churn_probability") * 100).round(0).cast(pl.Int64),
    )
    return pl.concat_str([*parts, value], separator="; ", ignore_nulls=True)


def retention_targets(
    customers: pl.DataFrame,
    *,
    cost_per_action: float,
    uplift: float,
    budget: float | None,
) -> pl.DataFrame:
    """Ranked customers worth acting on.

    `customers` needs: customer_id, churn_probability, ltv_if_retained, p_alive, value_tier,
    recency_days, ipt_mean, n_purchase_days, low_csat_tickets, tickets_90d.
    """
    ranked = (
        customers.with_columns((pl.col("churn_probability") * pl.col("ltv_if_retained")).alias("value_at_risk"))
        .with_columns((pl.col("value_at_risk") * uplift - cost_per_action).alias("expected_net_gain"))
        .filter(pl.col("expected_net_gain") > 0)
        .sort("value_at_risk", "customer_id", descending=[True, False])
        .with_columns((pl.int_range(1, pl.len() + 1)).alias("rank"))
        .with_columns((pl.col("rank") * cost_per_action).alias("cumulative_cost"))
    )
    if budget is not None:
        ranked = ranked.filter(pl.col("cumulative_cost") <= budget)
    return ranked.select(
        "rank",
        "customer_id",
        "value_tier",
        "value_at_risk",
        "churn_probability",
        "ltv_if_retained",
        "expected_net_gain",
        "cumulative_cost",
        _reason().alias("reason"),
    )
