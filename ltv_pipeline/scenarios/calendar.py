"""The scenario's days: history up to as_of, the horizon after it, and per-day multipliers.

Day 0 is the first day of history; `as_of_day` is the last observed day. Everything the
simulation needs about a day (weekday, month, regime) is a vector indexed by day number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ltv_pipeline.scenarios.spec import ProcessSpec

AS_OF = date(2024, 12, 31)
PLANNING_DAYS = 30
LONG_HORIZON, LONG_HORIZONS = 180, 6.0
SHORT_HORIZON, SHORT_HORIZONS = 365, 2.0


@dataclass(frozen=True)
class Timeline:
    start: date
    as_of_day: int
    horizon: int

    @property
    def history_days(self) -> int:
        return self.as_of_day + 1

    @property
    def total_days(self) -> int:
        """Days simulated: history, horizon and a planning period of acquisitions after it."""
        return self.as_of_day + 1 + self.horizon + PLANNING_DAYS + 1

    @property
    def as_of(self) -> date:
        return self.start + timedelta(days=self.as_of_day)

    def dates(self, n: int | None = None) -> np.ndarray:
        n = self.total_days if n is None else n
        return np.datetime64(self.start, "D") + np.arange(n)


def build_timeline(history: str, horizon_days: int | None, history_horizons: float | None) -> Timeline:
    """`long`: about six 180-day horizons of history; `short`: about two 365-day ones."""
    if history not in ("long", "short"):
        raise ValueError(f"history must be 'long' or 'short', not {history!r}")
    default_h, default_n = (LONG_HORIZON, LONG_HORIZONS) if history == "long" else (SHORT_HORIZON, SHORT_HORIZONS)
    horizon = default_h if horizon_days is None else int(horizon_days)
    n_hist = round((history_horizons or default_n) * horizon)
    return Timeline(AS_OF - timedelta(days=n_hist - 1), n_hist - 1, horizon)


def weekday_month(timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Weekday (0 = Monday) and month (0 = January) of every simulated day."""
    days = timeline.dates()
    weekday = (days.astype(np.int64) + 3) % 7
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    return weekday, month


def rate_by_day(process: ProcessSpec, timeline: Timeline) -> np.ndarray:
    """Purchase-rate multiplier of each day: weekday x month seasonality x regime."""
    weekday, month = weekday_month(timeline)
    week = np.asarray(process.weekday) / np.mean(process.weekday)
    year = np.asarray(process.month) / np.mean(process.month)
    mult = week[weekday] * year[month]
    shift = shift_day(process, timeline)
    if shift is not None:
        mult[shift:] *= process.shift_rate_mult
    return mult


def value_by_day(process: ProcessSpec, timeline: Timeline) -> np.ndarray:
    """Order-value multiplier of each day (a price change moves it at the shift)."""
    mult = np.ones(timeline.total_days)
    shift = shift_day(process, timeline)
    if shift is not None:
        mult[shift:] *= process.shift_value_mult
    return mult


def shift_day(process: ProcessSpec, timeline: Timeline) -> int | None:
    if process.shift_at is None:
        return None
    return round(process.shift_at * timeline.history_days)


def tenure_by_age(process: ProcessSpec, n_days: int) -> np.ndarray:
    """Purchase-rate multiplier by customer age in days (1 at sign-up, decaying to a floor)."""
    age = np.arange(n_days, dtype=np.float64)
    if process.tenure_days <= 0:
        return np.ones(n_days)
    return process.tenure_floor + (1 - process.tenure_floor) * np.exp(-age / process.tenure_days)


def discount(days_ahead: np.ndarray, annual_rate: float) -> np.ndarray:
    return (1 + annual_rate) ** (-np.asarray(days_ahead, dtype=np.float64) / 365)
