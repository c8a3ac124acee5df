"""Turn simulated purchase days into order lines: values, costs, refunds, timestamps.

A purchase day sometimes holds two orders (the value split between them), so order
lines and purchase days differ as they do in real exports. Every order's expected
margin is the customer's expected value x the day's price x `margin_factor`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, value_by_day
from ltv_pipeline.scenarios.population import Customers, order_value_noise
from ltv_pipeline.scenarios.spec import FamilySpec

COST_CONCENTRATION = 20.0
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Orders:
    customer: np.ndarray
    day: np.ndarray
    second: np.ndarray
    """Second of the day."""
    revenue: np.ndarray
    cost: np.ndarray
    refund: np.ndarray

    @property
    def margin(self) -> np.ndarray:
        return self.revenue - self.refund - self.cost


def signup_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sign-up time of day, early enough to leave room for the first order."""
    return rng.integers(6 * 3600, 22 * 3600, n)


def order_lines(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, cust: Customers,
                buy_customer: np.ndarray, buy_day: np.ndarray, signup_second: np.ndarray) -> Orders:
    proc = family.process
    gross = cust.value[buy_customer] * value_by_day(proc, timeline)[buy_day] * order_value_noise(
        rng, family, buy_customer.size)
    split = rng.random(buy_customer.size) < proc.split_prob
    share = rng.uniform(0.2, 0.8, buy_customer.size)
    customer = np.concatenate([buy_customer, buy_customer[split]])
    day = np.concatenate([buy_day, buy_day[split]])
    revenue = np.concatenate([np.where(split, share, 1.0) * gross, (1 - share[split]) * gross[split]])
    on_signup = day == cust.signup_day[customer]
    earliest = np.where(on_signup, signup_second[customer] + 60, 0)
    second = earliest + (rng.random(day.size) * (SECONDS_PER_DAY - 1 - earliest)).astype(np.int64)
    if proc.cost_ratio is None:
        cost = np.zeros(day.size)
    else:
        c = proc.cost_ratio * COST_CONCENTRATION
        cost = revenue * rng.beta(c, COST_CONCENTRATION - c, day.size)
    refund = np.where(rng.random(day.size) < proc.refund_prob, revenue, 0.0)
    revenue, cost, refund = (np.round(x, 2) for x in (revenue, cost, refund))
    refund = np.minimum(refund, revenue)
    order = np.lexsort((second, day))
    return Orders(customer[order], day[order], second[order], revenue[order], cost[order], refund[order])
