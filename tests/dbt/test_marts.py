"""Mart values on the hand-made lake (handmade_lake.py), each checked against arithmetic done by hand.

as_of 2024-03-31, margin_rate 0.5, churn_days 60, support_cost_per_ticket 2.
"""

from __future__ import annotations

from datetime import date

import pytest

# One xdist worker builds the warehouses once (run with `--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("dbt_marts")


def by_key(rows, *keys):
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def test_orders_net_revenue_margin_sequence_and_gaps(query):
    orders = by_key(query("select * from marts.orders"), "order_id")
    assert sorted(orders) == ["o1", "o2", "o3", "o4", "o5", "o6", "o7"]  # o8, o9 are after as_of
    # net revenue = revenue - refund (null refund = 0)
    assert [orders[o]["net_revenue"] for o in ("o1", "o2", "o4", "o6")] == [100.0, 40.0, 150.0, 40.0]
    # margin = net - cost where cost is given ...
    assert orders["o1"]["margin"] == 60.0 and orders["o3"]["margin"] == 50.0
    assert orders["o1"]["is_margin_from_rate"] is False
    # ... and net * margin_rate (0.5) where it is not
    assert orders["o2"]["margin"] == 20.0 and orders["o4"]["margin"] == 75.0
    assert orders["o2"]["is_margin_from_rate"] is True
    assert [orders[o]["order_sequence"] for o in ("o1", "o2", "o3")] == [1, 2, 3]
    assert [orders[o]["days_since_previous_order"] for o in ("o1", "o2", "o3")] == [None, 17, 50]
    assert orders["o6"]["order_sequence"] == 2 and orders["o6"]["days_since_previous_order"] == 0  # same day
    assert orders["o3"]["months_since_acquisition"] == 2
    assert orders["o7"]["acquisition_channel"] == "unknown"


def test_orders_total_equals_raw_revenue_minus_refunds_up_to_as_of(query):
    [totals] = query("select sum(net_revenue) as net, sum(margin) as margin, count(*) as n from marts.orders")
    assert totals == {"net": 500.0, "margin": 285.0, "n": 7}


def test_customers_mart(query):
    customers = by_key(query("select * from marts.customers"), "customer_id")
    assert sorted(customers) == ["c1", "c2", "c3", "c4", "c5"]  # c6 signs up after as_of
    c1, c2, c4, c5 = customers["c1"], customers["c2"], customers["c4"], customers["c5"]
    assert (c1["orders"], c1["net_revenue"], c1["margin"], c1["refund"]) == (3, 220.0, 130.0, 10.0)
    assert c1["average_order_value"] == pytest.approx(220 / 3)
    assert (c1["first_order_date"], c1["last_order_date"]) == (date(2024, 1, 3), date(2024, 3, 10))
    assert (c1["tenure_days"], c1["recency_days"], c1["days_to_second_order"]) == (88, 21, 17)
    assert c1["days_from_signup_to_first_order"] == 2
    assert c1["refund_rate"] == pytest.approx(10 / 230)
    assert c1["orders_per_month"] == pytest.approx(3 * 30.4375 / 89)
    assert (c1["tickets"], c1["mean_csat"], c1["support_cost"], c1["margin_after_support"]) == (2, 4.5, 4.0, 126.0)
    assert (c1["acquisition_channel"], c1["acquisition_campaign"], c1["is_churned"]) == ("paid_search", "brand", False)
    # churned: last order 76 days before as_of >= churn_days 60
    assert (c2["recency_days"], c2["is_churned"], c2["days_to_second_order"]) == (76, True, None)
    # signed up, never ordered
    assert (c4["is_purchaser"], c4["orders"], c4["net_revenue"], c4["cohort_month"], c4["is_churned"]) == (False, 0, 0.0, None, None)
    # known only from orders: derived, channel unknown, signup = first order; its ticket is after as_of
    assert c5["is_derived_from_orders"] is True and c5["acquisition_channel"] == "unknown"
    assert c5["signup_ts"].date() == date(2024, 1, 25) and c5["orders"] == 1 and c5["tickets"] == 0
    # the ticket resolved after as_of counts, its CSAT does not
    assert (customers["c3"]["tickets"], customers["c3"]["mean_csat"]) == (1, None)


def test_cohort_retention_and_value_progression(query):
    rows = by_key(query("select * from marts.cohort_retention"), "cohort_month", "acquisition_channel", "months_since_acquisition")
    jan = [rows[(date(2024, 1, 1), "paid_search", m)] for m in range(3)]
    assert [r["cohort_size"] for r in jan] == [2, 2, 2]
    assert [r["active_customers"] for r in jan] == [2, 0, 1]
    assert [r["retention_rate"] for r in jan] == [1.0, 0.0, 0.5]
    assert [r["cumulative_margin_per_customer"] for r in jan] == [77.5, 77.5, 102.5]
    assert [r["cumulative_net_revenue_per_customer"] for r in jan] == [145.0, 145.0, 185.0]
    assert [r["is_complete_month"] for r in jan] == [True, True, True]  # as_of is the last day of March
    assert sorted(k for k in rows if k[0] == date(2024, 2, 1)) == [(date(2024, 2, 1), "social", 0), (date(2024, 2, 1), "social", 1)]
    assert rows[(date(2024, 2, 1), "social", 0)]["orders"] == 2  # two orders, one active customer
    assert rows[(date(2024, 2, 1), "social", 0)]["active_customers"] == 1
    assert sum(r["cohort_size"] for k, r in rows.items() if k[2] == 0) == 4  # the purchasing customers


def test_cac_by_channel_and_campaign_with_trend(query):
    channel = by_key(query("select * from marts.channel_cac_monthly"), "acquisition_channel", "month")
    jan, feb, mar = (channel[("paid_search", date(2024, m, 1))] for m in (1, 2, 3))
    assert (jan["spend"], jan["new_customers"], jan["cac"]) == (200.0, 2, 100.0)
    assert (feb["spend"], feb["new_customers"], feb["cac"]) == (150.0, 0, None)
    assert mar["spend"] == 0.0  # a month without spend in a channel that has spend data: 0, not null
    assert mar["rolling_3m_cac"] == 175.0  # (200 + 150 + 0) / 2
    social = channel[("social", date(2024, 3, 1))]
    assert (social["previous_month_cac"], social["rolling_3m_cac"]) == (50.0, 110.0)
    unknown = channel[("unknown", date(2024, 1, 1))]
    assert (unknown["spend"], unknown["new_customers"], unknown["cac"]) == (None, 1, None)
    assert ("paid_search", date(2024, 4, 1)) not in channel  # spend after as_of
    campaigns = by_key(query("select * from marts.campaign_cac_monthly"), "acquisition_campaign", "month")
    assert campaigns[("brand", date(2024, 1, 1))]["cac"] == 75.0
    assert (campaigns[("generic", date(2024, 1, 1))]["spend"], campaigns[("generic", date(2024, 1, 1))]["cac"]) == (50.0, None)


def test_ltv_to_cac_and_payback(query):
    rows = by_key(query("select * from marts.cohort_ltv_cac_payback"), "cohort_month", "acquisition_channel")
    paid = rows[(date(2024, 1, 1), "paid_search")]
    # CAC 100; margin per customer 77.5 after month 1 and 2, 102.5 after month 3
    assert (paid["cac"], paid["margin_per_customer_3m"], paid["ltv_to_cac_3m"]) == (100.0, 102.5, 1.025)
    assert (paid["margin_per_customer_6m"], paid["payback_months"], paid["is_paid_back"]) == (None, 3, True)
    social = rows[(date(2024, 2, 1), "social")]
    assert (social["cac"], social["payback_months"], social["margin_per_customer_3m"]) == (50.0, 1, None)
    unknown = rows[(date(2024, 1, 1), "unknown")]
    assert (unknown["cac"], unknown["payback_months"], unknown["is_paid_back"]) == (None, None, False)


def test_rfm_segments(query):
    rfm = by_key(query("select * from marts.customer_rfm"), "customer_id")
    assert sorted(rfm) == ["c1", "c2", "c3", "c5"]
    cells = {c: (r["recency_score"], r["frequency_score"], r["monetary_score"], r["fm_score"]) for c, r in rfm.items()}
    assert cells == {"c1": (5, 5, 5, 5), "c2": (1, 1, 4, 3), "c3": (4, 4, 2, 3), "c5": (2, 1, 1, 1)}
    segments = {c: r["rfm_segment"] for c, r in rfm.items()}
    assert segments == {"c1": "Champions", "c2": "At Risk", "c3": "Potential Loyalists", "c5": "Hibernating"}


def test_retention_and_churn_movements(query):
    rows = by_key(query("select * from marts.retention_churn where breakdown = 'all'"), "period_month")
    jan, feb, mar = (rows[date(2024, m, 1)] for m in (1, 2, 3))
    assert (jan["active_at_start"], jan["new_customers"], jan["churned_customers"], jan["active_at_end"]) == (0, 3, 0, 3)
    assert (feb["active_at_start"], feb["new_customers"], feb["active_at_end"]) == (3, 1, 4)
    # c2 (last order 01-15) churns on 03-15, c5 (01-25) on 03-25
    assert (mar["churned_customers"], mar["active_at_end"], mar["churn_rate"], mar["retention_rate"]) == (2, 2, 0.5, 0.5)
    assert [r["ordering_customers"] for r in (jan, feb, mar)] == [3, 1, 1]
    assert mar["churn_days"] == 60
    by_segment = by_key(query("select * from marts.retention_churn where breakdown = 'rfm_segment'"), "breakdown_value", "period_month")
    assert by_segment[("At Risk", date(2024, 3, 1))]["churned_customers"] == 1


def test_support_vs_value(query):
    rows = by_key(query("select * from marts.support_vs_value"), "ticket_bucket", "csat_bucket")
    assert set(rows) == {("0", "no rating"), ("1", "no rating"), ("1", "low (1-2)"), ("2-3", "high (4-5)")}
    high = rows[("2-3", "high (4-5)")]
    assert (high["customers"], high["margin_per_customer"], high["margin_after_support_per_customer"]) == (1, 130.0, 126.0)
    assert (rows[("1", "low (1-2)")]["retention_rate"], high["retention_rate"]) == (0.0, 1.0)
    assert sum(r["share_of_customers"] for r in rows.values()) == pytest.approx(1.0)
