"""Exact expected futures of customers whose traits are known: the oracle's engine.

Days are discrete and a customer has three states, so the distribution over (state,
"no purchase yet") can be carried forward day by day exactly. Given a starting state
distribution this yields expected purchase days, net revenue, discounted margin and the
probability of no purchase, with no sampling error. Every quantity is linear in the
starting distribution, so one pass with each pure starting state serves any mixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, discount, rate_by_day, tenure_by_age, value_by_day
from ltv_pipeline.scenarios.population import GONE, N_STATES, Customers
from ltv_pipeline.scenarios.spec import FamilySpec, ProcessSpec


@dataclass(frozen=True)
class Expected:
    """Per customer x starting state."""

    orders: np.ndarray
    revenue: np.ndarray
    margin: np.ndarray
    """Discounted."""
    p_no_order: np.ndarray


def state_rate_mult(process: ProcessSpec) -> np.ndarray:
    return np.array([1.0, process.dissatisfied_rate_mult, 0.0])


def revenue_factor(process: ProcessSpec) -> float:
    """Expected net revenue of an order per unit of its gross value."""
    return 1 - process.refund_prob


def margin_factor(process: ProcessSpec) -> float:
    """Expected margin of an order per unit of its gross value."""
    if process.cost_ratio is None:
        return (1 - process.refund_prob) * process.margin_rate
    return 1 - process.refund_prob - process.cost_ratio


def purchase_prob(cust: Customers, rows: np.ndarray | slice, day: int | np.ndarray, rate_day: np.ndarray,
                  tenure: np.ndarray, process: ProcessSpec) -> np.ndarray:
    """(n, 3) probability of a purchase on `day` in each state."""
    age = np.asarray(day) - cust.signup_day[rows]
    intensity = cust.rate[rows] * rate_day[day] * tenure[age]
    return -np.expm1(-intensity[:, None] * state_rate_mult(process)[None, :])


def step(v: list[np.ndarray], transition: np.ndarray) -> list[np.ndarray]:
    """Advance a state distribution one day: v[k] holds the mass in state k, shaped (n,)
    or (n, s); `transition` is each customer's own (n, 3, 3) matrix (gone absorbs)."""
    cols = [[transition[:, a, b].reshape((-1,) + (1,) * (v[0].ndim - 1)) for b in range(N_STATES)]
            for a in range(GONE)]
    return [v[0] * cols[0][b] + v[1] * cols[1][b] + (v[2] if b == GONE else 0.0) for b in range(N_STATES)]


def expected_future(
    cust: Customers,
    family: FamilySpec,
    timeline: Timeline,
    start_day: np.ndarray,
    n_days: int,
    *,
    signup_first: bool,
    discount_offset: int,
    starts: tuple[int, ...],
    annual_rate: float,
) -> Expected:
    """Expectations over days start_day .. start_day + n_days - 1, from each state in
    `starts` (results are (n, len(starts))).

    `signup_first`: the first day is the sign-up day (purchase chance `first_buy`, no
    dropout after that first order). Discount of day k is at k + `discount_offset` days."""
    proc = family.process
    rate_day, value_day = rate_by_day(proc, timeline), value_by_day(proc, timeline)
    tenure = tenure_by_age(proc, timeline.total_days + 1)
    n, s = cust.size, len(starts)
    rows = np.arange(n)
    v = [np.broadcast_to((np.asarray(starts) == k).astype(np.float64), (n, s)).copy() for k in range(N_STATES)]
    w = [x.copy() for x in v]
    orders, revenue, margin = np.zeros((n, s)), np.zeros((n, s)), np.zeros((n, s))
    rev_f, mar_f = revenue_factor(proc), margin_factor(proc)
    disc = discount(np.arange(n_days) + discount_offset, annual_rate)
    p_leave = cust.buy_death[:, None]
    for k in range(n_days):
        day = start_day + k
        pi = purchase_prob(cust, rows, day, rate_day, tenure, proc)
        first = signup_first and k == 0
        if first:
            pi[:, :GONE] = cust.first_buy[:, None]
        bought = [v[0] * pi[:, 0:1], v[1] * pi[:, 1:2]]
        days = bought[0] + bought[1]
        value = cust.value * value_day[day]
        orders += days
        revenue += days * (value * rev_f)[:, None]
        margin += days * (value * mar_f * disc[k])[:, None]
        moved = step(v, cust.transition)
        if not first:
            moved_buy = step(bought + [np.zeros_like(days)], cust.transition)
            moved = [m - p_leave * mb for m, mb in zip(moved, moved_buy)]
            moved[GONE] = moved[GONE] + p_leave * days
        v = moved
        w = step([w[0] * (1 - pi[:, 0:1]), w[1] * (1 - pi[:, 1:2]), w[2]], cust.transition)
    return Expected(orders, revenue, margin, w[0] + w[1] + w[2])
