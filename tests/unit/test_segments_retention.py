"""Value tiers, cohorts, migration and retention targeting on small hand-made frames."""

from __future__ import annotations

import polars as pl

from ltv_pipeline.decisions.retention import retention_targets
from ltv_pipeline.decisions.segments import behavioural_cohorts, segment_migration, segment_summary, value_tiers


def _scores(n: int = 10) -> pl.DataFrame:
    # customers 0..9: predicted value grows with i; churn risk is high for odd i
    return pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "predicted_ltv": [float(i * 10) for i in range(n)],
            "ltv_if_retained": [float(i * 12) for i in range(n)],
            "total_margin": [float(i * 5) for i in range(n)],
            "churn_probability": [0.8 if i % 2 else 0.1 for i in range(n)],
            "total_net_revenue": [100.0] * n,
            "rfm_segment": ["Champions" if i > 5 else "Lost" for i in range(n)],
        }
    )


def test_value_tiers_follow_the_documented_rules():
    tiers = dict(value_tiers(_scores()).select("customer_id", "value_tier").iter_rows())
    # top 20% by predicted LTV = C8, C9; base churn rate = 0.45
    assert tiers["C8"] == "High-Value"  # top value, low risk
    assert tiers["C9"] == "At-Risk"  # top value, high risk
    assert tiers["C2"] == "Growth Potential"  # low risk, not top value
    assert tiers["C1"] == "Low-Value"  # high risk, never valuable


def test_thresholds_scale_with_the_data_not_the_currency():
    base = value_tiers(_scores())["value_tier"]
    scaled = _scores().with_columns(pl.col("predicted_ltv", "ltv_if_retained", "total_margin") * 1000)
    assert value_tiers(scaled)["value_tier"].equals(base)


def test_behavioural_cohorts():
    features = pl.DataFrame(
        {
            "customer_id": ["fast", "lapsing", "single_old", "single_new", "support"],
            "n_purchase_days": [3, 4, 1, 1, 2],
            "orders_first_30d": [2, 1, 1, 1, 1],
            "tickets_total": [0, 0, 0, 0, 3],
            "recency_days": [10.0, 300.0, 400.0, 5.0, 20.0],
            "ipt_mean": [10.0, 30.0, None, None, 25.0],
            "days_first_to_second": [5.0, 40.0, None, None, 60.0],
        }
    )
    flags = behavioural_cohorts(features).sort("customer_id")
    as_dict = {row["customer_id"]: row for row in flags.iter_rows(named=True)}
    assert as_dict["fast"]["fast_starter"] and not as_dict["fast"]["lapsing"]
    assert as_dict["lapsing"]["lapsing"]  # 300 days > 2.5 x 30
    assert as_dict["single_old"]["one_and_done"] and not as_dict["single_new"]["one_and_done"]
    assert as_dict["support"]["support_engager"]


def test_segment_migration_counts_moves_new_and_gone():
    before = pl.DataFrame({"customer_id": ["a", "b", "c"], "value_tier": ["High-Value", "At-Risk", "Low-Value"]})
    after = pl.DataFrame({"customer_id": ["a", "b", "d"], "value_tier": ["At-Risk", "At-Risk", "Growth Potential"]})
    moves = {(r["from_segment"], r["to_segment"]): r["customers"] for r in segment_migration(before, after, "value_tier").iter_rows(named=True)}
    assert moves == {
        ("High-Value", "At-Risk"): 1,
        ("At-Risk", "At-Risk"): 1,
        ("Low-Value", "(gone)"): 1,
        ("(new)", "Growth Potential"): 1,
    }


def test_segment_summary_adds_up():
    summary = segment_summary(value_tiers(_scores()))
    for kind in ("value_tier", "rfm_segment"):
        part = summary.filter(pl.col("segmentation") == kind)
        assert part["customers"].sum() == 10
        assert abs(part["share_of_customers"].sum() - 1) < 1e-9


def _at_risk_customers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["big", "mid", "small", "tiny"],
            "churn_probability": [0.9, 0.5, 0.6, 0.9],
            "ltv_if_retained": [1000.0, 400.0, 100.0, 20.0],
            "p_alive": [0.3, 0.6, 0.5, 0.2],
            "value_tier": ["At-Risk"] * 4,
            "recency_days": [300.0, 40.0, 90.0, 500.0],
            "ipt_mean": [30.0, 35.0, 60.0, 100.0],
            "n_purchase_days": [5, 3, 2, 2],
            "low_csat_tickets": [2, 0, 0, 0],
            "tickets_90d": [2, 0, 0, 0],
        }
    )


def test_retention_targets_rank_by_value_at_risk_and_keep_only_paying_actions():
    targets = retention_targets(_at_risk_customers(), cost_per_action=5.0, uplift=0.15, budget=None)
    # value at risk: big 900, mid 200, small 60, tiny 18; gain = 0.15 * var - 5 > 0 for big, mid, small
    assert targets["customer_id"].to_list() == ["big", "mid", "small"]
    assert targets["rank"].to_list() == [1, 2, 3]
    reason = targets["reason"][0]
    assert "no order for 300 days, 10.0x their usual gap of 30 days" in reason
    assert "2 ticket(s) with low CSAT" in reason


def test_retention_budget_caps_the_list():
    targets = retention_targets(_at_risk_customers(), cost_per_action=5.0, uplift=0.15, budget=10.0)
    assert targets["customer_id"].to_list() == ["big", "mid"]
