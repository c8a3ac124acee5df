"""The truth beside a scenario: per-customer outcomes, oracle and ceiling, allocation.

The oracle takes the exact expectation from each customer's true traits and state
entering the horizon; the observable ceiling (`ceiling.py`) conditions only on what the
landing zone shows, averaging over the population's traits. Each channel's LTV is the exact expectation for a large sample of fresh
customers drawn from the channel's population, acquired over the planning period.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ltv_pipeline.scenarios.calendar import PLANNING_DAYS, Timeline, discount
from ltv_pipeline.scenarios.ceiling import observable_ceiling
from ltv_pipeline.scenarios.expectation import expected_future
from ltv_pipeline.scenarios.orders import Orders
from ltv_pipeline.scenarios.population import (
    CONTENT,
    DISSATISFIED,
    GONE,
    Customers,
    concat,
    draw_customers,
    subset,
    with_mean_values,
)
from ltv_pipeline.scenarios.simulate import History
from ltv_pipeline.scenarios.spec import FamilySpec

CHANNEL_SAMPLE = 10_000


def customer_truth(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, cust: Customers,
                   history: History, orders: Orders, ids: np.ndarray, annual_rate: float) -> pl.DataFrame:
    as_of, h = timeline.as_of_day, timeline.horizon
    observed = np.zeros(cust.size, dtype=bool)
    observed[history.buy_customer[history.buy_day <= as_of]] = True
    rows = np.flatnonzero(observed)
    future_buy = (history.buy_day > as_of) & (history.buy_day <= as_of + h)
    n_days = np.bincount(history.buy_customer[future_buy], minlength=cust.size)
    future = (orders.day > as_of) & (orders.day <= as_of + h)
    net = orders.revenue - orders.refund
    margin = net * family.process.margin_rate if family.process.cost_ratio is None else orders.margin
    weight = discount(orders.day - as_of, annual_rate)
    realised_ltv = np.bincount(orders.customer[future], (margin * weight)[future], minlength=cust.size)
    realised_rev = np.bincount(orders.customer[future], net[future], minlength=cust.size)

    sub = subset(cust, rows)
    exp = expected_future(sub, family, timeline, np.full(rows.size, as_of + 1), h, signup_first=False,
                          discount_offset=1, annual_rate=annual_rate, starts=(CONTENT, DISSATISFIED, GONE))
    true_state = history.state_after[rows]
    pick = np.arange(rows.size), true_state
    ceiling = observable_ceiling(rng, family, timeline, cust.signup_day, cust.channel, history, orders, rows,
                                 annual_rate)
    return pl.DataFrame({
        "customer_id": ids[rows],
        "realised_ltv": realised_ltv[rows],
        "realised_revenue": realised_rev[rows],
        "realised_orders": n_days[rows],
        "churned": n_days[rows] == 0,
        "alive_at_as_of": true_state != GONE,
        "oracle_ltv": exp.margin[pick],
        "oracle_revenue": exp.revenue[pick],
        "oracle_orders": exp.orders[pick],
        "oracle_p_no_order": exp.p_no_order[pick],
        "ceiling_ltv": ceiling.ltv,
        "ceiling_revenue": ceiling.revenue,
        "ceiling_orders": ceiling.orders,
        "ceiling_p_no_order": ceiling.p_no_order,
        "acquisition_channel": np.asarray([c.name for c in family.channels])[cust.channel[rows]],
        "hidden_state": np.asarray(["content", "dissatisfied", "gone"])[true_state],
    })


def channel_ltv(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, annual_rate: float) -> np.ndarray:
    """True expected discounted margin over the horizon of one customer each channel
    acquires during the planning period after as_of (from its sign-up day)."""
    n = CHANNEL_SAMPLE
    signup = timeline.as_of_day + 1 + np.arange(n) % PLANNING_DAYS
    fresh = concat([draw_customers(rng, family, timeline, signup, np.full(n, i, dtype=np.int8), stratified=True)
                    for i in range(len(family.channels))])
    fresh = with_mean_values(fresh, family)
    exp = expected_future(fresh, family, timeline, fresh.signup_day, timeline.horizon, signup_first=True,
                          discount_offset=0, annual_rate=annual_rate, starts=(CONTENT,))
    return exp.margin[:, 0].reshape(len(family.channels), n).mean(axis=1)
