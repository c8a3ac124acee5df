"""Support tickets, with the complaint-then-churn pattern a churn model should find.

Why tied to the final order: in BG/NBD a customer drops out right after a purchase. Real
shops see that moment as a bad experience: a delivery or product complaint, slow
resolution and a low CSAT a few days after the last order. So customers who are about to
drop out get extra tickets with poor scores, while live customers only raise the routine
per-order tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.synthetic.customers import Acquired
from ltv_pipeline.synthetic.params import TicketParams
from ltv_pipeline.synthetic.purchases import OrderLines, Transactions


@dataclass(frozen=True)
class Tickets:
    cust: np.ndarray
    created_t: np.ndarray
    category: np.ndarray
    resolved_t: np.ndarray
    """NaN = unresolved at the end of the window."""
    csat: np.ndarray
    """1-5, 0 = no survey answer."""
    churn_signal: np.ndarray
    """Raised because the customer was dropping out (truth only, not in the files)."""


def _choose(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    return rng.choice(len(probs), size=n, p=np.asarray(probs))


def simulate_tickets(
    rng: np.random.Generator, orders: OrderLines, tx: Transactions, acq: Acquired, params: TicketParams, end_t: float
) -> Tickets:
    routine = rng.random(orders.t.size) < params.base_ticket_per_order
    routine_cust = orders.cust[routine]
    routine_t = orders.t[routine] + rng.exponential(params.base_delay_mean_days, routine_cust.size)

    leaving = np.flatnonzero(tx.died & (rng.random(tx.died.size) < params.churn_ticket_prob))
    churn_cust = np.repeat(leaving, 1 + rng.poisson(params.churn_extra_tickets_mean, leaving.size))
    churn_t = tx.death_t[churn_cust] + rng.uniform(*params.churn_window_days, churn_cust.size)

    idle = np.flatnonzero(acq.never_orders & (rng.random(acq.never_orders.size) < params.never_ordered_ticket_prob))
    idle_t = acq.signup_t[idle] + rng.exponential(5.0, idle.size)

    cust = np.concatenate([routine_cust, churn_cust, idle])
    created = np.concatenate([routine_t, churn_t, idle_t])
    churn = np.repeat([False, True, False], [routine_cust.size, churn_cust.size, idle.size])
    keep = created < end_t
    cust, created, churn = cust[keep], created[keep], churn[keep]
    n = cust.size

    category = np.where(
        churn, _choose(rng, params.churn_category_probs, n), _choose(rng, params.base_category_probs, n)
    )
    csat = 1 + np.where(churn, _choose(rng, params.churn_csat_probs, n), _choose(rng, params.base_csat_probs, n))
    median_h = np.where(churn, params.churn_resolution_median_hours, params.base_resolution_median_hours)
    resolved = created + median_h / 24.0 * np.exp(rng.normal(0.0, 1.0, n))
    unresolved = rng.random(n) < np.where(churn, params.churn_unresolved_prob, params.base_unresolved_prob)
    unresolved |= resolved >= end_t
    resolved = np.where(unresolved, np.nan, resolved)
    csat = np.where(unresolved | (rng.random(n) < params.csat_missing_prob), 0, csat)
    return Tickets(cust, created, category, resolved, csat, churn)
