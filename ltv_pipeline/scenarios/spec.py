"""The parameters that define one scenario family: its channels and its customer process.

Plain frozen dataclasses, so a family is data and every stage (spend, acquisition,
purchases, oracle, allocation truth) reads the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAT_WEEK = (1.0,) * 7
FLAT_YEAR = (1.0,) * 12


@dataclass(frozen=True)
class ChannelSpec:
    """One acquisition channel. Paid channels respond to spend; `organic` does not.

    The response is written in normalised spend units (1 = the mean daily spend of the
    last 30 days before as_of): `exponential` 1 - exp(-u / shape), `power` u ** shape,
    `hill` u ** slope / (u ** slope + shape ** slope). `marginal_roi` is the true lifetime
    margin one more unit of currency buys at today's spend; the currency scale of the
    channel is set from it, so over- and under-funded channels are a design choice.
    """

    name: str
    paid: bool = True
    form: str = "exponential"
    shape: float = 1.5
    slope: float = 1.0
    adstock: float = 0.0
    share: float = 0.25
    """Share of paid acquisitions at today's spend (organic: share of all paid ones)."""
    marginal_roi: float = 1.0
    rate_mult: float = 1.0
    value_mult: float = 1.0
    death_mult: float = 1.0
    first_buy: float = 0.9
    """Probability that a sign-up orders on its sign-up day."""
    thin: bool = False
    """Nearly constant spend: its curve cannot be learned from the history."""
    shift_rate_mult: float = 1.0
    """Purchase-rate multiplier of customers acquired after the regime shift."""
    shift_death_mult: float = 1.0
    shift_spend_mult: float = 1.0
    """Spend level after the regime shift relative to before."""


@dataclass(frozen=True)
class ProcessSpec:
    """How an acquired customer buys, complains and leaves, in days.

    Three latent states: 0 content, 1 dissatisfied, 2 gone. Every day an active customer
    buys with probability 1 - exp(-rate), files a ticket with the state's probability, and
    then moves between states; after a repeat purchase it may also leave (`buy_death`).
    """

    rate_mean: float = 0.02
    rate_shape: float = 1.0
    buy_death_a: float = 0.0
    buy_death_b: float = 1.0
    death_mean: float = 0.0
    death_shape: float = 2.0
    dissatisfy: float = 0.0
    recover: float = 0.0
    dissatisfied_death: float = 0.0
    dissatisfied_rate_mult: float = 1.0
    ticket_rate: tuple[float, float] = (0.003, 0.003)
    csat_probs: tuple[tuple[float, ...], tuple[float, ...]] = (
        (0.05, 0.07, 0.15, 0.33, 0.40),
        (0.05, 0.07, 0.15, 0.33, 0.40),
    )
    csat_missing: float = 0.3
    value_kind: str = "gamma_gamma"
    """`gamma_gamma`: order value ~ Gamma(p, nu), nu ~ Gamma(q, v); `lognormal`."""
    gg_p: float = 6.25
    gg_q: float = 3.74
    gg_v: float = 15.44
    ln_median: float = 50.0
    ln_between: float = 0.5
    ln_within: float = 0.5
    weekday: tuple[float, ...] = FLAT_WEEK
    month: tuple[float, ...] = FLAT_YEAR
    tenure_floor: float = 1.0
    tenure_days: float = 0.0
    shift_at: float | None = None
    """Fraction of the history after which the regime shift happens (None: never)."""
    shift_rate_mult: float = 1.0
    shift_value_mult: float = 1.0
    refund_prob: float = 0.0
    cost_ratio: float | None = 0.6
    """Mean cost / revenue of an order; None: no cost column, margin_rate applies."""
    margin_rate: float = 0.35
    split_prob: float = 0.05
    """Probability that a purchase day holds two orders."""


@dataclass(frozen=True)
class FamilySpec:
    name: str
    description: str
    process: ProcessSpec
    channels: tuple[ChannelSpec, ...]
    history_horizons: float | None = None
    """Fixed history length in horizons (None: the history shape's default)."""
    organic_growth: float = 0.1
    organic_seasonal: bool = False
    bursts_per_year: float = 4.0
    spend_volatility: float = 0.05
