"""Each acquired customer's latent traits, drawn from its channel's population.

Traits are fixed for life: purchase rate, dropout chance after a repeat purchase, daily
state transitions (content -> dissatisfied -> gone), mean order value and the chance of
ordering on the sign-up day. The state itself evolves in the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import stats

from ltv_pipeline.scenarios.calendar import Timeline, shift_day
from ltv_pipeline.scenarios.spec import FamilySpec, ProcessSpec

CONTENT, DISSATISFIED, GONE = 0, 1, 2
N_STATES = 3
MAX_DAILY_EXIT = 0.5


@dataclass(frozen=True)
class Customers:
    """One entry per customer, sorted by sign-up day."""

    signup_day: np.ndarray
    channel: np.ndarray
    rate: np.ndarray
    """Base purchase intensity per day (before day, tenure and state multipliers)."""
    buy_death: np.ndarray
    """Probability of leaving right after a repeat purchase."""
    transition: np.ndarray
    """(n, 3, 3) daily state transition probabilities on a day without a repeat purchase."""
    value: np.ndarray
    """Expected order value (before the day's price multiplier)."""
    first_buy: np.ndarray

    @property
    def size(self) -> int:
        return int(self.signup_day.size)

    def transition_after_purchase(self) -> np.ndarray:
        """Transitions on a day with a repeat purchase: leave first with `buy_death`."""
        p = self.buy_death[:, None, None]
        gone = np.zeros_like(self.transition)
        gone[:, :, GONE] = 1.0
        out = p * gone + (1 - p) * self.transition
        out[:, GONE] = self.transition[:, GONE]
        return out


def _uniforms(rng: np.random.Generator, n: int, stratified: bool) -> np.ndarray:
    """Uniform draws; stratified = one per equal-width stratum, in random order (Latin
    hypercube across traits), which makes a population average far less noisy."""
    if not stratified:
        return rng.random(n)
    return (rng.permutation(n) + rng.random(n)) / n


@dataclass(frozen=True)
class TraitPriors:
    """The population distributions of a customer's base traits, before its channel's
    (and regime's) multipliers; None where the family has no such trait."""

    rate: stats.rv_continuous
    buy_death: stats.rv_continuous | None
    death: stats.rv_continuous | None


def trait_priors(process: ProcessSpec) -> TraitPriors:
    buy = stats.beta(process.buy_death_a, process.buy_death_b) if process.buy_death_a > 0 else None
    death = None
    if process.death_mean > 0:
        death = stats.gamma(process.death_shape, scale=process.death_mean / process.death_shape)
    return TraitPriors(stats.gamma(process.rate_shape, scale=process.rate_mean / process.rate_shape), buy, death)


def trait_multipliers(family: FamilySpec, timeline: Timeline, signup_day: np.ndarray,
                      channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Purchase-rate and dropout multipliers of each customer: its channel's, and the
    regime's for customers acquired after a shift. Both are observable (channel, sign-up)."""
    spec = family.channels
    after = np.zeros(signup_day.size, dtype=bool)
    shift = shift_day(family.process, timeline)
    if shift is not None:
        after = signup_day >= shift

    def per_channel(attr: str) -> np.ndarray:
        return np.array([getattr(c, attr) for c in spec], dtype=np.float64)[channel]

    rate_mult = per_channel("rate_mult") * np.where(after, per_channel("shift_rate_mult"), 1.0)
    death_mult = per_channel("death_mult") * np.where(after, per_channel("shift_death_mult"), 1.0)
    return rate_mult, death_mult


def customers_from_traits(family: FamilySpec, timeline: Timeline, signup_day: np.ndarray, channel: np.ndarray,
                          base_rate: np.ndarray, base_buy_death: np.ndarray | None, base_death: np.ndarray | None,
                          value: np.ndarray) -> Customers:
    """Customers with the given base traits (draws from `trait_priors`) and expected order
    values (channel multiplier included): the one place traits become daily parameters."""
    proc = family.process
    n = signup_day.size
    rate_mult, death_mult = trait_multipliers(family, timeline, signup_day, channel)
    rate = base_rate * rate_mult
    buy_death = np.zeros(n) if base_buy_death is None else np.minimum(base_buy_death * death_mult, 1.0)
    death = np.zeros(n) if base_death is None else np.minimum(base_death * death_mult, MAX_DAILY_EXIT)
    transition = np.zeros((n, 3, 3))
    transition[:, CONTENT, DISSATISFIED] = proc.dissatisfy
    transition[:, CONTENT, GONE] = death
    transition[:, CONTENT, CONTENT] = 1 - proc.dissatisfy - death
    transition[:, DISSATISFIED, CONTENT] = proc.recover
    transition[:, DISSATISFIED, GONE] = np.minimum(proc.dissatisfied_death + death, MAX_DAILY_EXIT)
    transition[:, DISSATISFIED, DISSATISFIED] = 1 - proc.recover - transition[:, DISSATISFIED, GONE]
    transition[:, GONE, GONE] = 1.0
    first_buy = np.array([c.first_buy for c in family.channels])[channel]
    return Customers(signup_day, channel, rate, buy_death, transition, value, first_buy)


def draw_customers(
    rng: np.random.Generator,
    family: FamilySpec,
    timeline: Timeline,
    signup_day: np.ndarray,
    channel: np.ndarray,
    *,
    stratified: bool = False,
) -> Customers:
    proc = family.process
    n = signup_day.size
    priors = trait_priors(proc)
    u_rate, u_buy, u_death = (_uniforms(rng, n, stratified) for _ in range(3))
    buy = None if priors.buy_death is None else priors.buy_death.ppf(u_buy)
    death = None if priors.death is None else priors.death.ppf(u_death)
    if proc.value_kind == "gamma_gamma":
        nu = rng.gamma(proc.gg_q, 1 / proc.gg_v, n)
        value = proc.gg_p / nu
    elif proc.value_kind == "lognormal":
        value = proc.ln_median * np.exp(proc.ln_between * rng.standard_normal(n))
    else:
        raise ValueError(f"unknown value kind {proc.value_kind!r}")
    value_mult = np.array([c.value_mult for c in family.channels])[channel]
    return customers_from_traits(family, timeline, signup_day, channel, priors.rate.ppf(u_rate), buy, death,
                                 value * value_mult)


def mean_value(family: FamilySpec) -> np.ndarray:
    """Population mean of the customers' expected order value, per channel."""
    proc = family.process
    if proc.value_kind == "gamma_gamma":
        base = proc.gg_p * proc.gg_v / (proc.gg_q - 1)
    else:
        base = proc.ln_median * np.exp(proc.ln_between**2 / 2)
    return base * np.array([c.value_mult for c in family.channels])


def order_value_noise(rng: np.random.Generator, family: FamilySpec, n: int) -> np.ndarray:
    """Mean-one multiplicative noise of single order values around the customer's mean."""
    proc = family.process
    if proc.value_kind == "gamma_gamma":
        return rng.gamma(proc.gg_p, 1 / proc.gg_p, n)
    s = proc.ln_within
    return np.exp(s * rng.standard_normal(n) - s * s / 2)


def subset(cust: Customers, rows: np.ndarray) -> Customers:
    return Customers(cust.signup_day[rows], cust.channel[rows], cust.rate[rows], cust.buy_death[rows],
                     cust.transition[rows], cust.value[rows], cust.first_buy[rows])


def concat(parts: list[Customers]) -> Customers:
    return Customers(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Customers)))


def with_mean_values(cust: Customers, family: FamilySpec) -> Customers:
    """The same customers with each one's order value replaced by its channel's mean:
    value is independent of buying and leaving, so population averages keep their
    expectation and lose the value draws' noise."""
    return replace(cust, value=mean_value(family)[cust.channel])
