"""Purchases (BG/NBD in business time) and the order lines they produce.

Why this construction is exact and loop-free: with N ~ Geometric(p) repeat purchases until
dropout, the dropout time D is the N-th event of a Poisson(lam) process, D ~ Gamma(N, lam).
Given D, the first N-1 events are uniform on [0, D); if D lies past the window end W,
the number of them inside the window is Binomial(N-1, W/D), again uniform. So every
customer's history is a handful of array draws, whatever N is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.synthetic.customers import Acquired
from ltv_pipeline.synthetic.params import ChannelParams, Economics, PurchaseParams
from ltv_pipeline.synthetic.timeline import Timeline

SECOND = 1.0 / 86_400


@dataclass(frozen=True)
class Transactions:
    """Purchase days (the BTYD unit) inside the window, plus each customer's true state."""

    cust: np.ndarray
    t: np.ndarray
    first_t: np.ndarray
    """First order time per customer; NaN when there is none in the window."""
    death_t: np.ndarray
    """Calendar time of the last purchase before dropout; +inf beyond the grid, NaN if no orders."""
    died: np.ndarray
    """Dropped out inside the window (its last order was its final one)."""
    count: np.ndarray
    """Transactions per customer inside the window."""

    @property
    def alive_at_end(self) -> np.ndarray:
        return (self.count > 0) & ~self.died


def simulate_transactions(
    rng: np.random.Generator, acq: Acquired, timeline: Timeline, purchase: PurchaseParams
) -> Transactions:
    n = acq.signup_t.size
    end_t = float(timeline.n_days)
    same_session = rng.random(n) < purchase.first_order_same_session_prob
    delay = np.where(
        same_session, rng.uniform(2.0, 45.0, n) / 1440.0, rng.exponential(purchase.first_order_delay_mean_days, n)
    )
    first_t = acq.signup_t + delay
    buys = ~acq.never_orders & (first_t < end_t)
    u0 = timeline.to_warp(np.where(buys, first_t, 0.0))
    window = np.where(buys, timeline.warp_end - u0, 0.0)

    n_repeat = rng.geometric(acq.p_drop)
    death = rng.gamma(n_repeat.astype(np.float64), 1.0 / np.maximum(acq.lam, 1e-300))
    died = buys & (death <= window)
    inside = rng.binomial(n_repeat - 1, np.clip(window / death, 0.0, 1.0))
    k = np.where(died, n_repeat - 1, np.where(buys, inside, 0))
    span = np.where(died, death, window)

    rep = np.repeat(np.arange(n), k)
    u_rep = u0[rep] + rng.random(rep.size) * span[rep]
    dead = np.flatnonzero(died)
    cust = np.concatenate([np.flatnonzero(buys), rep, dead])
    t = np.concatenate(
        [first_t[buys], timeline.from_warp(u_rep), timeline.from_warp(u0[dead] + death[dead])]
    )
    t = np.clip(t, first_t[cust], end_t - SECOND)
    death_t = np.where(buys, timeline.from_warp(u0 + death), np.nan)
    count = np.bincount(cust, minlength=n)
    return Transactions(cust, t, np.where(buys, first_t, np.nan), death_t, died, count)


@dataclass(frozen=True)
class OrderLines:
    cust: np.ndarray
    t: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray
    refund: np.ndarray


def order_lines(
    rng: np.random.Generator,
    tx: Transactions,
    acq: Acquired,
    channels: tuple[ChannelParams, ...],
    purchase: PurchaseParams,
    economics: Economics,
) -> OrderLines:
    """Orders of every transaction: sometimes a second order the same day, Gamma-Gamma
    revenue, category-driven cost (40-65%) and occasional partial or full refunds."""
    extra = rng.random(tx.t.size) < purchase.same_day_extra_prob
    last_second = np.floor(tx.t[extra]) + 1.0 - SECOND
    extra_t = np.minimum(tx.t[extra] + rng.uniform(5.0, 240.0, int(extra.sum())) / 1440.0, last_second)
    cust = np.concatenate([tx.cust, tx.cust[extra]])
    t = np.concatenate([tx.t, extra_t])
    n = cust.size

    revenue = np.round(rng.gamma(purchase.p, acq.mean_value[cust] / purchase.p), 2)
    category = rng.choice(len(economics.categories), size=n, p=np.asarray(economics.category_shares))
    cost_rate = np.asarray(economics.category_cost_rates)[category] + rng.uniform(
        -economics.cost_rate_noise, economics.cost_rate_noise, n
    )
    cost = np.round(revenue * cost_rate, 2)
    refund_prob = np.array([c.quality.refund_prob for c in channels])[acq.channel[cust]]
    refunded = rng.random(n) < refund_prob
    lo, hi = economics.refund_partial_range
    share = np.where(rng.random(n) < economics.refund_full_share, 1.0, rng.uniform(lo, hi, n))
    refund = np.where(refunded, np.round(revenue * share, 2), 0.0)
    return OrderLines(cust, t, revenue, cost, refund)
