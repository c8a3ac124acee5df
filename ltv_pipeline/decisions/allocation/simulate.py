"""Daily channel histories drawn from known response curves, for tests and benchmarks.

Why here and not only in the synthetic business: the allocator's own checks need many
cheap histories with chosen curves and values (recovery, identification, the captured
share of the true gain across seeds), without simulating a whole shop each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy.signal import lfilter


@dataclass(frozen=True)
class TrueChannel:
    key: str
    max_new_per_day: float
    spend_scale: float
    typical_daily_spend: float
    value_per_customer: float

    def expected_new(self, daily_spend: np.ndarray | float) -> np.ndarray:
        return self.max_new_per_day * -np.expm1(-np.asarray(daily_spend, dtype=np.float64) / self.spend_scale)


EXAMPLE_CHANNELS = (
    TrueChannel("search", 120.0, 3000.0, 2500.0, 150.0),
    TrueChannel("social", 150.0, 2500.0, 4000.0, 90.0),
    TrueChannel("display", 200.0, 1200.0, 2500.0, 35.0),
    TrueChannel("affiliate", 60.0, 5000.0, 1200.0, 300.0),
    TrueChannel("video", 40.0, 1500.0, 1500.0, 120.0),
    TrueChannel("podcast", 25.0, 2000.0, 800.0, 200.0),
)
"""Six channels from well-funded to saturated, with customers worth $35 to $300, so that
re-allocating the current budget has a real gain to find."""


def budget_path(rng: np.random.Generator, typical: float, n_days: int) -> np.ndarray:
    """Daily spend as real budgets move: a mean-reverting log random walk, campaign bursts
    of one to three weeks, four-week blocks held flat and short pauses."""
    level = typical * np.exp(lfilter([1.0], [1.0, -0.97], rng.normal(0.0, 0.06, n_days)))
    bursts = np.zeros(n_days + 30)
    starts = rng.integers(0, n_days, rng.poisson(n_days / 60))
    lifts = rng.uniform(0.3, 1.2, starts.size)
    np.add.at(bursts, starts, lifts)
    np.add.at(bursts, starts + rng.integers(7, 22, starts.size), -lifts)
    spend = level * (1.0 + np.cumsum(bursts)[:n_days])
    block = np.arange(n_days) // 28
    flat = (rng.random(block.max() + 1) < 0.2)[block]
    spend = np.where(flat, spend[block * 28], spend)
    paused = np.convolve(rng.random(n_days) < 0.01, np.ones(4))[:n_days] > 0
    return np.where(paused, 0.0, spend)


def simulate_history(
    rng: np.random.Generator,
    n_days: int,
    channels: tuple[TrueChannel, ...] = EXAMPLE_CHANNELS,
    flat: tuple[str, ...] = (),
    start: date = date(2024, 1, 1),
) -> pl.DataFrame:
    """`date`, `channel`, `spend`, `new_customers` ~ Poisson(true curve at that day's
    spend); channels named in `flat` spend the same amount every day."""
    dates = pl.date_range(start, start + timedelta(days=n_days - 1), eager=True)
    frames = []
    for ch in channels:
        spend = np.full(n_days, ch.typical_daily_spend) if ch.key in flat else budget_path(
            rng, ch.typical_daily_spend, n_days)
        new = rng.poisson(ch.expected_new(spend))
        frames.append(pl.DataFrame({"date": dates, "channel": ch.key, "spend": spend, "new_customers": new}))
    return pl.concat(frames)
