"""Daily channel histories drawn from known response curves, for tests and benchmarks.

Why here and not only in the synthetic business: the allocator's own checks need many
cheap histories with chosen curves, carry-over and values (recovery, form selection,
the captured share of the true gain across seeds), without simulating a whole shop.
The truth is written independently of the fitted forms: the plain (not normalised)
adstock a_t = x_t + carryover * a_{t-1} feeds the curve, so spend held at x reaches
x / (1 - carryover) in the steady state.
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
    """Ceiling (exponential, hill) or new customers per day at adstocked spend `spend_scale` (power)."""
    spend_scale: float
    typical_daily_spend: float
    value_per_customer: float
    shape: str = "exponential"
    exponent: float = 1.0
    """b of the power law, s of the Hill curve; unused by the exponential."""
    carryover: float = 0.0

    def response(self, adstocked: np.ndarray | float) -> np.ndarray:
        """Expected new customers per day at adstocked spend."""
        a = np.asarray(adstocked, dtype=np.float64) / self.spend_scale
        if self.shape == "exponential":
            return self.max_new_per_day * (1.0 - np.exp(-a))
        if self.shape == "power":
            return self.max_new_per_day * a**self.exponent
        if self.shape == "hill":
            return self.max_new_per_day * a**self.exponent / (1.0 + a**self.exponent)
        raise ValueError(f"unknown shape {self.shape!r}")

    def expected_new(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Expected new customers per day when spend holds level at `daily_spend`."""
        return self.response(np.asarray(daily_spend, dtype=np.float64) / (1.0 - self.carryover))

    def expected_series(self, spend: np.ndarray) -> np.ndarray:
        """Expected new customers on each day of a spend history (carry-over before day 0
        as if the first day's spend had always held)."""
        adstocked = lfilter([1.0], [1.0, -self.carryover], spend, zi=[self.carryover * spend[0] / (1 - self.carryover)])[0]
        return self.response(adstocked)


EXAMPLE_CHANNELS = (
    TrueChannel("search", 120.0, 3000.0, 2500.0, 150.0),
    TrueChannel("social", 150.0, 2500.0, 4000.0, 90.0),
    TrueChannel("display", 200.0, 1200.0, 2500.0, 35.0),
    TrueChannel("affiliate", 60.0, 5000.0, 1200.0, 300.0),
    TrueChannel("video", 40.0, 1500.0, 1500.0, 120.0),
    TrueChannel("podcast", 25.0, 2000.0, 800.0, 200.0),
)
"""Six saturating-exponential channels without carry-over, from well-funded to saturated,
with customers worth $35 to $300, so that re-allocating the current budget has a real gain."""

SHAPED_CHANNELS: dict[str, tuple[TrueChannel, ...]] = {
    "exponential": (
        TrueChannel("search", 90.0, 4000.0, 2500.0, 120.0, "exponential", carryover=0.3),
        TrueChannel("social", 80.0, 3000.0, 4000.0, 60.0, "exponential", carryover=0.5),
        TrueChannel("display", 60.0, 1500.0, 2500.0, 40.0, "exponential", carryover=0.2),
        TrueChannel("affiliate", 40.0, 6000.0, 1200.0, 250.0, "exponential", carryover=0.0),
        TrueChannel("video", 30.0, 2500.0, 1500.0, 150.0, "exponential", carryover=0.6),
    ),
    "power": (
        TrueChannel("search", 30.0, 2500.0, 2500.0, 130.0, "power", 0.6, 0.3),
        TrueChannel("social", 25.0, 4000.0, 4000.0, 80.0, "power", 0.35, 0.5),
        TrueChannel("display", 30.0, 2500.0, 2500.0, 50.0, "power", 0.3, 0.2),
        TrueChannel("affiliate", 15.0, 1200.0, 1200.0, 220.0, "power", 0.75, 0.0),
        TrueChannel("video", 12.0, 1500.0, 1500.0, 140.0, "power", 0.5, 0.6),
    ),
    "hill": (
        TrueChannel("search", 70.0, 4000.0, 2500.0, 120.0, "hill", 2.5, 0.3),
        TrueChannel("social", 60.0, 3500.0, 4000.0, 70.0, "hill", 2.0, 0.5),
        TrueChannel("display", 50.0, 2000.0, 2500.0, 45.0, "hill", 3.0, 0.2),
        TrueChannel("affiliate", 40.0, 2500.0, 1200.0, 200.0, "hill", 2.0, 0.0),
        TrueChannel("video", 30.0, 3000.0, 1500.0, 160.0, "hill", 2.5, 0.6),
    ),
}
"""Five channels per true shape, with carry-over from none to 0.6 and tens of new
customers a day, so that the right plan moves money between them."""


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
    adstocked spend); channels named in `flat` spend the same amount every day."""
    dates = pl.date_range(start, start + timedelta(days=n_days - 1), eager=True)
    frames = []
    for ch in channels:
        spend = np.full(n_days, ch.typical_daily_spend) if ch.key in flat else budget_path(
            rng, ch.typical_daily_spend, n_days)
        new = rng.poisson(ch.expected_series(spend))
        frames.append(pl.DataFrame({"date": dates, "channel": ch.key, "spend": spend, "new_customers": new}))
    return pl.concat(frames)
