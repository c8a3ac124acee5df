"""Daily spend of each paid channel, in normalised units (1 = today's level).

A slowly wandering base level (AR(1) on the log), campaign bursts of one to three weeks
and lighter weekends give the variation a response curve can be learned from. A thin
channel is held nearly flat, so its curve cannot be. The series is rescaled so the mean
of the last `PLANNING_DAYS` before as_of is exactly 1.
"""

from __future__ import annotations

import numpy as np

from ltv_pipeline.scenarios.calendar import PLANNING_DAYS, Timeline, shift_day, weekday_month
from ltv_pipeline.scenarios.spec import FamilySpec

WEEKEND_SPEND = 0.8
THIN_NOISE = 0.02


def normalised_spend(rng: np.random.Generator, family: FamilySpec, timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Spend per history day x paid channel, and a campaign-burst flag of the same shape."""
    paid = [c for c in family.channels if c.paid]
    n_hist = timeline.history_days
    weekday, _ = weekday_month(timeline)
    week = np.where(weekday[:n_hist] >= 5, WEEKEND_SPEND, 1.0)
    week = week / week.mean()
    shift = shift_day(family.process, timeline)
    spend = np.ones((n_hist, len(paid)))
    burst = np.zeros((n_hist, len(paid)), dtype=bool)
    for j, channel in enumerate(paid):
        if channel.thin:
            spend[:, j] = 1 + THIN_NOISE * rng.standard_normal(n_hist)
            continue
        sd = family.spend_volatility
        phi = 1 - (sd / 0.5) ** 2
        log_level = np.empty(n_hist)
        log_level[0] = 0.5 * rng.standard_normal()
        shocks = sd * rng.standard_normal(n_hist)
        for t in range(1, n_hist):
            log_level[t] = phi * log_level[t - 1] + shocks[t]
        level = np.exp(log_level) * week
        n_bursts = rng.poisson(family.bursts_per_year * n_hist / 365)
        for _ in range(n_bursts):
            begin = int(rng.integers(0, n_hist))
            length = int(rng.integers(7, 22))
            level[begin : begin + length] *= rng.uniform(1.5, 3.0)
            burst[begin : begin + length, j] = True
        if shift is not None:
            level[shift:] *= channel.shift_spend_mult
        spend[:, j] = level
    spend /= spend[-PLANNING_DAYS:].mean(axis=0)
    return spend, burst
