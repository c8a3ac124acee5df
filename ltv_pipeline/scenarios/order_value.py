"""Posterior mean of each customer's expected order value given its orders so far.

A purchase day's order total (split orders summed) divided by the day's price and the
channel's value multiplier is the customer's expected value times mean-one noise. Under
gamma-gamma values that total is Gamma(p, nu) with nu ~ Gamma(q, v), so the posterior
mean of p / nu is p (v + sum) / (p count + q - 1); under lognormal values the log total
is normal around the log value, a normal-normal update on the log scale.
"""

from __future__ import annotations

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, value_by_day
from ltv_pipeline.scenarios.orders import Orders
from ltv_pipeline.scenarios.spec import FamilySpec

SMALLEST_TOTAL = 0.005
"""Half a cent: the floor of a rounded order total on the log scale."""


def expected_order_value(family: FamilySpec, timeline: Timeline, channel: np.ndarray, orders: Orders,
                         rows: np.ndarray) -> np.ndarray:
    """For customers `rows`: E[expected order value | order totals up to as_of], with the
    channel multiplier and before the day's price multiplier (as `Customers.value`)."""
    proc = family.process
    n_days = timeline.as_of_day + 1
    seen = orders.day <= timeline.as_of_day
    key = orders.customer[seen].astype(np.int64) * n_days + orders.day[seen]
    uniq, inv = np.unique(key, return_inverse=True)
    gross = np.bincount(inv, orders.revenue[seen])
    cust, day = uniq // n_days, uniq % n_days
    value_mult = np.array([c.value_mult for c in family.channels])[channel]
    z = gross / (value_mult[cust] * value_by_day(proc, timeline)[day])
    count = np.bincount(cust, minlength=channel.size)
    if proc.value_kind == "gamma_gamma":
        total = np.bincount(cust, z, minlength=channel.size)
        post = proc.gg_p * (proc.gg_v + total) / (proc.gg_p * count + proc.gg_q - 1)
    elif proc.value_kind == "lognormal":
        within, between = proc.ln_within**2, proc.ln_between**2
        y = np.bincount(cust, np.log(np.maximum(z, SMALLEST_TOTAL)) + within / 2, minlength=channel.size)
        precision = 1 / between + count / within
        mean = (np.log(proc.ln_median) / between + y / within) / precision
        post = np.exp(mean + 0.5 / precision)
    else:
        raise ValueError(f"unknown value kind {proc.value_kind!r}")
    return (post * value_mult)[rows]
