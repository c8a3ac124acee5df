"""Simulate one whole business in memory: spend -> acquisition -> purchases -> tickets.

Why separate streams: each stage draws from its own child of SeedSequence(seed), so the
output is a pure function of (seed, n_customers, window) and a change inside one stage
does not reshuffle the randomness of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.synthetic.customers import Acquired, acquire, expected_new_per_day
from ltv_pipeline.synthetic.marketing_spend import CampaignSpend, reference_campaign_spend, scale_spend, spend_table
from ltv_pipeline.synthetic.params import (
    HORIZON_DAYS,
    BusinessParams,
    Economics,
    Population,
    PurchaseParams,
    Seasonality,
    TicketParams,
    default_channels,
    scale_channel,
)
from ltv_pipeline.synthetic.purchases import OrderLines, Transactions, order_lines, simulate_transactions
from ltv_pipeline.synthetic.tickets import Tickets, simulate_tickets
from ltv_pipeline.synthetic.timeline import Timeline, build_timeline


@dataclass(frozen=True)
class World:
    """The simulated business, before it is written as files."""

    params: BusinessParams
    timeline: Timeline
    spend: CampaignSpend
    spend_rows: pl.DataFrame
    acquired: Acquired
    transactions: Transactions
    orders: OrderLines
    tickets: Tickets
    guest: np.ndarray
    """Ordering customers without a customers/ row."""

    def daily_spend(self) -> np.ndarray:
        """Spend per history day x channel (zero for unpaid channels)."""
        return self.spend.daily_totals(self.timeline.n_days, len(self.params.channels))


def simulate_business(n_customers: int, seed: int, start: date, end: date) -> World:
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    seasonality, purchase, economics = Seasonality(), PurchaseParams(), Economics()
    ticket_params, population = TicketParams(), Population()
    timeline = build_timeline(start, end, HORIZON_DAYS, seasonality)
    n_days = timeline.n_days

    reference = default_channels()
    ref_spend = reference_campaign_spend(rng[0], reference, start, n_days, seasonality)
    ref_rates = expected_new_per_day(reference, ref_spend.daily_totals(n_days, len(reference)), start, seasonality)
    factor = n_customers / float(ref_rates.sum())
    channels = tuple(scale_channel(c, factor) for c in reference)
    spend = scale_spend(ref_spend, factor)
    rates = expected_new_per_day(channels, spend.daily_totals(n_days, len(channels)), start, seasonality)

    acquired = acquire(rng[1], n_customers, rates, spend, channels, purchase, seasonality, population)
    tx = simulate_transactions(rng[2], acquired, timeline, purchase)
    orders = order_lines(rng[3], tx, acquired, channels, purchase, economics)
    tickets = simulate_tickets(rng[4], orders, tx, acquired, ticket_params, float(n_days))
    guest = (tx.count > 0) & (rng[5].random(n_customers) < population.guest_share)
    params = BusinessParams(
        seed, n_customers, start, end, factor, channels, purchase, seasonality, economics, ticket_params, population
    )
    return World(params, timeline, spend, spend_table(rng[6], spend, channels, start), acquired, tx, orders,
                 tickets, guest)
