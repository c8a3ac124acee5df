"""Who signs up when, through which channel: Poisson draws on the true response curves.

Paid channels respond to their adstocked spend; `organic` grows slowly (and follows the
purchase seasonality where the family says so). Heights are set so that at today's
spend the channels bring their `share` of paid sign-ups, then one factor scales the
whole business (curves and spend alike) to the requested size, which leaves the
allocation problem the same at every size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, weekday_month
from ltv_pipeline.scenarios.curves import adstock, unit_response
from ltv_pipeline.scenarios.spec import FamilySpec


@dataclass(frozen=True)
class Acquisition:
    signup_day: np.ndarray
    channel: np.ndarray
    """Index into the family's channels; sorted by sign-up day."""
    heights: np.ndarray
    """New customers per day at full response, per channel (organic: its daily mean)."""


def organic_shape(family: FamilySpec, timeline: Timeline) -> np.ndarray:
    n = timeline.history_days
    growth = (1 + family.organic_growth) ** ((np.arange(n) - n) / 365)
    if not family.organic_seasonal:
        return growth
    weekday, month = weekday_month(timeline)
    proc = family.process
    week = np.asarray(proc.weekday) / np.mean(proc.weekday)
    year = np.asarray(proc.month) / np.mean(proc.month)
    return growth * week[weekday[:n]] * year[month[:n]]


def acquire(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, spend: np.ndarray,
            customers: int) -> Acquisition:
    """`spend`: normalised daily spend (history days x paid channels)."""
    channels = family.channels
    unit = np.zeros((timeline.history_days, len(channels)))
    base = np.zeros(len(channels))
    j = 0
    for i, c in enumerate(channels):
        if c.paid:
            base[i] = c.share / float(unit_response(c, 1.0))
            unit[:, i] = base[i] * unit_response(c, adstock(spend[:, j], c.adstock))
            j += 1
        else:
            base[i] = c.share
            unit[:, i] = base[i] * organic_shape(family, timeline)
    scale = customers / unit.sum()
    counts = rng.poisson(unit * scale)
    day, channel = np.nonzero(counts)
    reps = counts[day, channel]
    return Acquisition(np.repeat(day, reps).astype(np.int32), np.repeat(channel, reps).astype(np.int8),
                       base * scale)
