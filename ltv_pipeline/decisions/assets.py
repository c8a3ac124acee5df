"""Dagster assets of the `decisions` group: scores with segments, budget plan, retention list.

Each writes its table to `<lake>/decisions/<name>.parquet` (atomically); the `publish`
group turns them into the contract's published tables.
"""


import dagster as dg
import polars as pl
from dagster_dbt import get_asset_key_for_model

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.decisions.allocation import allocate_budget
from ltv_pipeline.decisions.customer_value import customer_scores as build_customer_scores
from ltv_pipeline.decisions.customer_value import value_per_new_customer
from ltv_pipeline.decisions.retention import retention_targets as build_retention_targets
from ltv_pipeline.decisions.segments import behavioural_cohorts, segment_migration, segment_summary
from ltv_pipeline.marts.assets import marts_dbt_assets
from ltv_pipeline.marts.warehouse import read_relation
from ltv_pipeline.prediction.assets import customer_predictions, features_key


def _mart_key(model: str) -> dg.AssetKey:
    return get_asset_key_for_model([marts_dbt_assets()], model)


def _md(df: pl.DataFrame, rows: int = 15) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(rows).to_pandas().to_markdown(index=False))


def _score_features(settings: Settings, *columns: str) -> pl.DataFrame:
    """The `score` cutoff's features: only `columns` (and customer_id), each step reads what it uses."""
    return read_relation(
        settings, *features_key().path, where="cutoff_role = 'score'", columns=("customer_id", *columns)
    )


@dg.asset(
    group_name="decisions",
    deps=[customer_predictions, features_key(), _mart_key("customer_rfm")],
    kinds={"python", "parquet"},
    description=(
        "customer_scores: the champion models' predictions for every customer, with RFM segment (marts) and "
        "value tier (High-Value / At-Risk / Growth Potential / Low-Value, defined in decisions/segments.py), "
        "plus value if retained and the expected next-order date."
    ),
)
def customer_scores(context: dg.AssetExecutionContext, settings: SettingsResource):
    resolved = settings.get()
    predictions = pl.read_parquet(layout.predictions_path(resolved))
    rfm = read_relation(resolved, *_mart_key("customer_rfm").path, columns=("customer_id", "rfm_segment"))
    features = _score_features(resolved, "total_margin", "total_net_revenue", "acquisition_channel")
    scores = build_customer_scores(predictions, features, rfm)
    path = atomic_write_parquet(scores, layout.decisions_path(resolved, "customer_scores"))
    tiers = scores.group_by("value_tier").agg(pl.len().alias("customers"), pl.col("predicted_ltv").sum()).sort("customers")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": scores.height, "path": dg.MetadataValue.path(str(path)), "value_tiers": _md(tiers)}
    )


@dg.asset(
    group_name="decisions",
    deps=[customer_scores],
    kinds={"python", "parquet"},
    description=(
        "segment_summary (customers, revenue, average predicted LTV and churn rate per value tier and RFM "
        "segment), behavioural cohorts (fast starters, support engagers, lapsing, one-and-done), a snapshot "
        "of every customer's segments per as_of, and the migration between the two latest snapshots."
    ),
)
def segments(context: dg.AssetExecutionContext, settings: SettingsResource):
    resolved, as_of = settings.get(), settings.as_of()
    scores = pl.read_parquet(layout.decisions_path(resolved, "customer_scores"))
    summary = segment_summary(scores)
    cohorts = behavioural_cohorts(
        _score_features(
            resolved, "orders_first_30d", "tickets_total", "n_purchase_days", "recency_days", "ipt_mean", "days_first_to_second"
        )
    )
    folder = layout.segment_snapshots_dir(resolved)
    atomic_write_parquet(scores.select("customer_id", "value_tier", "rfm_segment"), folder / f"as_of={as_of.isoformat()}.parquet")
    snapshots = sorted(folder.glob("as_of=*.parquet"))
    if len(snapshots) >= 2:
        previous, current = (pl.read_parquet(p) for p in snapshots[-2:])
        migration = pl.concat([segment_migration(previous, current, c) for c in ("value_tier", "rfm_segment")])
        note = f"from {snapshots[-2].stem} to {snapshots[-1].stem}"
    else:
        migration = pl.DataFrame(schema={"segmentation": pl.String, "from_segment": pl.String, "to_segment": pl.String, "customers": pl.UInt32})
        note = "only one snapshot so far: migration appears from the next as_of on"
    atomic_write_parquet(summary, layout.decisions_path(resolved, "segment_summary"))
    atomic_write_parquet(cohorts, layout.decisions_path(resolved, "behavioural_cohorts"))
    atomic_write_parquet(migration, layout.decisions_path(resolved, "segment_migration"))
    counts = cohorts.select(pl.exclude("customer_id").sum())
    return dg.MaterializeResult(
        metadata={
            "segment_summary": _md(summary, 20),
            "behavioural_cohorts": _md(counts),
            "migration": note,
            "snapshots": len(snapshots),
        }
    )


@dg.asset(
    group_name="decisions",
    deps=[customer_scores, _mart_key("channel_acquisition_daily")],
    kinds={"python", "parquet"},
    description=(
        "channel_budget_allocation: per paid channel, response curves of several shapes with adstock fitted on "
        "daily spend vs new customers and weighted by out-of-time fit, the value of a new customer from the "
        "models, and the spend for the planning period that maximises expected lifetime margin minus spend "
        "over the curves' uncertainty within 0.5x-2x of current spend (budget_min_ratio / budget_max_ratio), "
        "in the configured allocation_mode, with CAC, LTV:CAC, marginal ROI, the probability that the move "
        "beats today's spend (p_better_than_current), payback and the reason."
    ),
)
def channel_budget_allocation(context: dg.AssetExecutionContext, settings: SettingsResource):
    resolved, as_of = settings.get(), settings.as_of()
    daily = read_relation(resolved, *_mart_key("channel_acquisition_daily").path).rename({"activity_date": "date"})
    if daily.filter(pl.col("spend") > 0).is_empty():
        context.log.warning("no marketing spend delivered: no budget allocation")
        plan = pl.DataFrame(schema={"channel": pl.String, "current_spend": pl.Float64, "recommended_spend": pl.Float64})
        atomic_write_parquet(plan, layout.decisions_path(resolved, "channel_budget_allocation"))
        return dg.MaterializeResult(metadata={"note": "no marketing spend: nothing to allocate"})
    values = value_per_new_customer(
        pl.read_parquet(layout.decisions_path(resolved, "customer_scores"), columns=["customer_id", "predicted_ltv"]),
        _score_features(resolved, "first_order_date", "acquisition_channel", "total_margin"),
        as_of,
    )
    allocation = allocate_budget(
        daily,
        values,
        period_days=resolved.planning_days,
        total_budget=resolved.total_budget,
        bounds=(resolved.budget_min_ratio, resolved.budget_max_ratio),
        mode=resolved.allocation_mode,
        horizon_days=resolved.horizon_days,
    )
    plan = allocation.channels.with_columns(pl.lit(as_of).alias("as_of"))
    atomic_write_parquet(plan, layout.decisions_path(resolved, "channel_budget_allocation"))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": plan.height,
            "allocation_mode": resolved.allocation_mode,
            "plan": _md(plan.select("channel", "current_spend", "recommended_spend", "ltv_to_cac", "marginal_roi",
                                    "p_better_than_current", "reason")),
            "totals": _md(allocation.totals),
        }
    )


@dg.asset(
    group_name="decisions",
    deps=[customer_scores],
    kinds={"python", "parquet"},
    description=(
        "retention_targets: customers ranked by value at risk (churn probability x value if retained), kept "
        "where uplift x value at risk exceeds the cost of an action, within the retention budget, each with "
        "the reason (gap vs their usual gap, low-CSAT tickets, falling P(alive))."
    ),
)
def retention_targets(context: dg.AssetExecutionContext, settings: SettingsResource):
    resolved, as_of = settings.get(), settings.as_of()
    scores = pl.read_parquet(layout.decisions_path(resolved, "customer_scores"))
    features = _score_features(resolved, "recency_days", "ipt_mean", "n_purchase_days", "low_csat_tickets", "tickets_90d")
    targets = build_retention_targets(
        scores.join(features, on="customer_id", how="left"),
        cost_per_action=resolved.retention_cost_per_action,
        uplift=resolved.retention_uplift,
        budget=resolved.retention_budget,
    ).with_columns(pl.lit(as_of).alias("as_of"))
    atomic_write_parquet(targets, layout.decisions_path(resolved, "retention_targets"))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": targets.height,
            "value_at_risk": float(targets["value_at_risk"].sum()) if targets.height else 0.0,
            "top": _md(targets.select("rank", "customer_id", "value_at_risk", "reason")),
        }
    )


decision_assets = [customer_scores, segments, channel_budget_allocation, retention_targets]
