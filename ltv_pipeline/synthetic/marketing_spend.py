"""Daily marketing spend per paid channel and campaign.

Why so much movement: a response curve can only be recovered from data where spend
varies. Each channel's evergreen budget is a mean-reverting log random walk around a
growing base, with weekday effects, months held flat, short pauses (zero spend shows the
curve's origin) and campaign bursts that push it up the saturated part of the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from scipy.signal import lfilter

from ltv_pipeline.synthetic.params import ChannelParams, Seasonality, SpendPattern
from ltv_pipeline.synthetic.timeline import day_dates, months_and_weekdays

AR_PERSISTENCE = 0.97
SEASON_NAMES = ("New Year",) * 2 + ("Spring Sale",) * 3 + ("Summer",) * 3 + ("Back to School",) * 2 + ("Holiday",) * 2


@dataclass(frozen=True)
class CampaignSpend:
    """Long table, one entry per (day, channel, campaign) with positive spend."""

    day: np.ndarray
    channel: np.ndarray
    """Index into the business's channel tuple."""
    campaign: np.ndarray
    """Index into `names`."""
    spend: np.ndarray
    names: tuple[str, ...]

    def daily_totals(self, n_days: int, n_channels: int) -> np.ndarray:
        totals = np.zeros((n_days, n_channels))
        np.add.at(totals, (self.day, self.channel), self.spend)
        return totals


def _channel_matrix(
    rng: np.random.Generator, pattern: SpendPattern, start: date, n_days: int, growth: float
) -> tuple[np.ndarray, list[str]]:
    """Spend per day x campaign for one channel at reference scale, plus campaign names."""
    months, weekdays = months_and_weekdays(start, n_days)
    years = day_dates(start, n_days).astype("datetime64[Y]").astype(np.int64) + 1970
    month_id = (day_dates(start, n_days).astype("datetime64[M]") - np.datetime64(start, "M")).astype(np.int64)
    t = np.arange(n_days)
    innovations = rng.normal(0.0, pattern.ar_sd, n_days)
    innovations[0] /= np.sqrt(1 - AR_PERSISTENCE**2)  # start in the stationary distribution
    walk = lfilter([1.0], [1.0, -AR_PERSISTENCE], innovations)  # AR(1) in logs
    level = pattern.base_daily_spend * (1 + growth) ** (t / 365) * np.exp(walk)
    daily_noise = np.exp(rng.normal(0.0, 0.05, n_days))
    evergreen = level * np.asarray(pattern.weekday_profile)[weekdays] * daily_noise

    n_months = int(month_id[-1]) + 1
    flat = (rng.random(n_months) < pattern.flat_month_prob)[month_id]
    month_first_level = level[np.searchsorted(month_id, month_id)]
    evergreen = np.where(flat, month_first_level, evergreen)

    weights = np.asarray(pattern.campaign_weights) * np.exp(rng.normal(0.0, 0.2, (n_days, len(pattern.campaigns))))
    weights = np.where(flat[:, None], np.asarray(pattern.campaign_weights), weights)
    ever = evergreen[:, None] * weights / weights.sum(axis=1, keepdims=True)

    names = list(pattern.campaigns)
    n_bursts = rng.poisson(pattern.bursts_per_year * n_days / 365)
    starts = rng.integers(0, n_days, n_bursts)
    lengths = rng.integers(7, 22, n_bursts)
    lifts = pattern.burst_lift * rng.uniform(0.5, 1.5, n_bursts)
    burst_cols = []
    for s, length, lift in zip(starts, lengths, lifts):
        name = f"{SEASON_NAMES[months[s]]} {years[s]}"
        if name not in names:
            names.append(name)
            burst_cols.append(np.zeros(n_days))
        days = slice(s, min(s + length, n_days))
        burst_cols[names.index(name) - len(pattern.campaigns)][days] += lift * level[days] * daily_noise[days]
    matrix = np.column_stack([ever, *burst_cols]) if burst_cols else ever

    paused = np.zeros(n_days, dtype=bool)
    for m in np.flatnonzero(rng.random(n_months) < pattern.pause_month_prob):
        first = int(np.searchsorted(month_id, m)) + int(rng.integers(0, 28))
        paused[first : first + int(rng.integers(3, 11))] = True
    matrix[paused] = 0.0
    return matrix, names


def reference_campaign_spend(
    rng: np.random.Generator, channels: tuple[ChannelParams, ...], start: date, n_days: int, seasonality: Seasonality
) -> CampaignSpend:
    """Unrounded spend at the reference scale, for every paid channel (loop over channels)."""
    days, chans, camps, spends, names = [], [], [], [], []
    for ci, channel in enumerate(channels):
        if channel.spend is None:
            continue
        matrix, campaign_names = _channel_matrix(rng, channel.spend, start, n_days, seasonality.spend_growth_per_year)
        d, j = np.nonzero(matrix > 0)
        days.append(d)
        chans.append(np.full(d.size, ci))
        camps.append(j + len(names))
        spends.append(matrix[d, j])
        names.extend(campaign_names)
    return CampaignSpend(
        np.concatenate(days), np.concatenate(chans), np.concatenate(camps), np.concatenate(spends), tuple(names)
    )


def scale_spend(ref: CampaignSpend, factor: float) -> CampaignSpend:
    """Scale to the business size and round to cents, as an ad platform reports it.

    Zero rows are dropped: exports list only campaigns that spent that day.
    """
    spend = np.round(ref.spend * factor, 2)
    keep = spend > 0
    return CampaignSpend(ref.day[keep], ref.channel[keep], ref.campaign[keep], spend[keep], ref.names)


def spend_table(
    rng: np.random.Generator, spend: CampaignSpend, channels: tuple[ChannelParams, ...], start: date
) -> pl.DataFrame:
    """The marketing_spend/ rows: impressions from CPM, clicks from CTR, both noisy;
    channels that do not report impressions leave the column empty."""
    cpm = np.array([c.spend.cpm if c.spend else 1.0 for c in channels])[spend.channel]
    ctr = np.array([c.spend.ctr if c.spend else 0.0 for c in channels])[spend.channel]
    reports = np.array([bool(c.spend and c.spend.reports_impressions) for c in channels])[spend.channel]
    impressions = np.round(spend.spend / cpm * 1000 * np.exp(rng.normal(0, 0.15, spend.spend.size))).astype(np.int64)
    clicks = rng.binomial(impressions, np.clip(ctr * np.exp(rng.normal(0, 0.1, spend.spend.size)), 0, 1))
    frame = pl.DataFrame(
        {
            "spend_date": day_dates(start, int(spend.day.max()) + 1)[spend.day],
            "channel": pl.Series([c.label for c in channels]).gather(spend.channel),
            "campaign": pl.Series(spend.names).gather(spend.campaign),
            "spend": spend.spend,
            "impressions": pl.Series(impressions).scatter(np.flatnonzero(~reports), None),
            "clicks": clicks,
        }
    )
    return frame.with_columns(pl.col("spend_date").cast(pl.Date)).sort("spend_date", "channel", "campaign")
