"""Who is acquired, when, through which channel and campaign, and how good they are.

Why a multinomial: independent Poisson(response) counts per day and channel, conditioned
on their sum, are multinomial. Drawing n_customers that way keeps the realistic daily
Poisson pattern while the business has exactly the size asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ltv_pipeline.synthetic.marketing_spend import CampaignSpend
from ltv_pipeline.synthetic.params import ChannelParams, Population, PurchaseParams, Seasonality
from ltv_pipeline.synthetic.response import true_new_customers
from ltv_pipeline.synthetic.timeline import months_and_weekdays, sample_time_of_day

MIN_DROPOUT_PROB = 1e-9
"""Floor on p so geometric draws stay finite; recorded in truth as the value used."""


@dataclass(frozen=True)
class Acquired:
    """One entry per acquired customer, sorted by sign-up time (customer number = index + 1)."""

    signup_t: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    """Index into `campaign_names`, -1 = none."""
    campaign_names: tuple[str, ...]
    country: np.ndarray
    lam: np.ndarray
    """Purchase rate per average day while alive."""
    p_drop: np.ndarray
    """Probability of dropping out after each repeat purchase."""
    mean_value: np.ndarray
    """Expected revenue per order."""
    never_orders: np.ndarray


def expected_new_per_day(
    channels: tuple[ChannelParams, ...], daily_spend: np.ndarray, start: date, seasonality: Seasonality
) -> np.ndarray:
    """Expected new customers per day x channel: response curves for paid channels,
    a growing seasonal baseline for the others."""
    n_days = daily_spend.shape[0]
    months, weekdays = months_and_weekdays(start, n_days)
    month_f = np.asarray(seasonality.signup_month) / np.mean(seasonality.signup_month)
    week_f = np.asarray(seasonality.order_weekday) / np.mean(seasonality.order_weekday)
    growth = (1 + seasonality.organic_growth_per_year) ** (np.arange(n_days) / 365)
    organic_shape = growth * month_f[months] * week_f[weekdays]
    columns = [
        true_new_customers(c, daily_spend[:, i]) if c.paid else c.organic_daily_new * organic_shape
        for i, c in enumerate(channels)
    ]
    return np.column_stack(columns)


def _pick_campaigns(
    rng: np.random.Generator, day: np.ndarray, channel: np.ndarray, spend: CampaignSpend, n_channels: int
) -> np.ndarray:
    """Campaign of each paid customer, drawn in proportion to that day's campaign spend."""
    key = spend.day.astype(np.int64) * n_channels + spend.channel
    order = np.lexsort((spend.campaign, key))
    key, cum = key[order], np.cumsum(spend.spend[order])
    wanted = day.astype(np.int64) * n_channels + channel
    lo = np.searchsorted(key, wanted, "left")
    hi = np.searchsorted(key, wanted, "right")
    base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
    target = base + rng.random(day.size) * (cum[np.maximum(hi - 1, 0)] - base)
    idx = np.clip(np.searchsorted(cum, target, "right"), lo, np.maximum(hi - 1, lo))
    return spend.campaign[order][idx]


def acquire(
    rng: np.random.Generator,
    n_customers: int,
    rates: np.ndarray,
    spend: CampaignSpend,
    channels: tuple[ChannelParams, ...],
    purchase: PurchaseParams,
    seasonality: Seasonality,
    population: Population,
) -> Acquired:
    """Draw exactly `n_customers` over days x channels, then each one's latent quality:
    purchase rate, dropout probability and mean order value from the channel's population."""
    counts = rng.multinomial(n_customers, (rates / rates.sum()).ravel()).reshape(rates.shape)
    day, channel = np.nonzero(counts)
    reps = counts[day, channel]
    day, channel = np.repeat(day, reps), np.repeat(channel, reps).astype(np.int8)
    signup_t = day + sample_time_of_day(rng, day.size, seasonality)
    order = np.argsort(signup_t, kind="stable")
    day, channel, signup_t = day[order], channel[order], signup_t[order]

    fixed = sorted({c.fixed_campaign for c in channels if c.fixed_campaign})
    names = spend.names + tuple(fixed)
    fixed_code = np.array([names.index(c.fixed_campaign) if c.fixed_campaign else -1 for c in channels])
    campaign = fixed_code[channel]
    paid_mask = np.array([c.paid for c in channels])[channel]
    campaign[paid_mask] = _pick_campaigns(rng, day[paid_mask], channel[paid_mask], spend, len(channels))

    def per_channel(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[channel]

    quality = [c.quality for c in channels]
    lam = rng.gamma(purchase.r, purchase.alpha_days ** -1 * per_channel([q.rate_multiplier for q in quality]))
    p_drop = np.maximum(rng.beta(purchase.a, purchase.b * per_channel([q.loyalty_multiplier for q in quality])),
                        MIN_DROPOUT_PROB)
    nu = rng.gamma(purchase.q, 1.0 / (purchase.v * per_channel([q.value_multiplier for q in quality])))
    never = rng.random(day.size) < per_channel([q.never_order_prob for q in quality])
    country = rng.choice(len(population.countries), size=day.size, p=np.asarray(population.country_shares))
    return Acquired(signup_t, channel, campaign, names, country.astype(np.int8), lam, p_drop, purchase.p / nu, never)
