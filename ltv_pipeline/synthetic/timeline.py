"""Calendar and seasonal "business time" for the purchase process.

Why a warped clock: a Poisson process with a seasonal intensity s(t) is a homogeneous one
in the cumulative intensity u = integral of s. Simulating BG/NBD in u and mapping event
times back through the inverse is exact and fully vectorised, and it gives weekly, yearly,
Black-Friday and time-of-day patterns for free. Times are float days since `start`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ltv_pipeline.synthetic.params import Seasonality


@dataclass(frozen=True)
class Timeline:
    start: date
    end: date
    n_days: int
    """History days; the window is [0, n_days) in float days (end date inclusive)."""
    day_intensity: np.ndarray
    """Order intensity per calendar day from `start` over history + horizon (+ margin)."""
    hour_edges_warp: np.ndarray
    """Cumulative intensity at every hour boundary, in average days (len = 24 * days + 1)."""

    @property
    def warp_end(self) -> float:
        """Business time at the end of the history window."""
        return float(self.hour_edges_warp[self.n_days * 24])

    def to_warp(self, t_days: np.ndarray) -> np.ndarray:
        hours = np.arange(self.hour_edges_warp.size, dtype=np.float64)
        return np.interp(np.asarray(t_days) * 24.0, hours, self.hour_edges_warp)

    def from_warp(self, u: np.ndarray) -> np.ndarray:
        """Inverse of `to_warp`; values beyond the grid come back as +inf."""
        hours = np.arange(self.hour_edges_warp.size, dtype=np.float64)
        return np.interp(u, self.hour_edges_warp, hours, right=np.inf) / 24.0

    def future_day_warp(self, horizon_days: int) -> np.ndarray:
        """Business-time length of each of the `horizon_days` days after the window."""
        return self.day_intensity[self.n_days : self.n_days + horizon_days]


def day_dates(start: date, n: int) -> np.ndarray:
    return np.datetime64(start, "D") + np.arange(n)


def months_and_weekdays(start: date, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Month (0-11) and ISO weekday (0 = Monday) of the `n` days from `start`."""
    days = day_dates(start, n)
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    weekdays = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return months, weekdays


def black_friday_days(start: date, n: int) -> np.ndarray:
    """Indices of Black Friday .. Cyber Monday inside the `n` days from `start`."""
    out = []
    last = start + timedelta(days=n)
    for year in range(start.year, last.year + 1):
        nov1 = date(year, 11, 1)
        thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        first = (thanksgiving - start).days + 1
        out.extend(d for d in range(first, first + 4) if 0 <= d < n)
    return np.array(out, dtype=np.int64)


def build_timeline(start: date, end: date, horizon_days: int, seasonality: Seasonality) -> Timeline:
    """Order intensity per day (month x weekday x Black Friday), normalised to mean 1
    over the grid so that purchase rates read as 'per average day'."""
    n_days = (end - start).days + 1
    grid = n_days + horizon_days + 31
    months, weekdays = months_and_weekdays(start, grid)
    month_f = np.asarray(seasonality.order_month) / np.mean(seasonality.order_month)
    week_f = np.asarray(seasonality.order_weekday) / np.mean(seasonality.order_weekday)
    intensity = month_f[months] * week_f[weekdays]
    intensity[black_friday_days(start, grid)] *= seasonality.black_friday_lift
    intensity /= intensity.mean()
    hour = np.asarray(seasonality.hour_profile) / np.sum(seasonality.hour_profile)
    per_hour = (intensity[:, None] * hour[None, :]).ravel()
    edges = np.concatenate([[0.0], np.cumsum(per_hour)])
    return Timeline(start, end, n_days, intensity, edges)


def sample_time_of_day(rng: np.random.Generator, n: int, seasonality: Seasonality) -> np.ndarray:
    """Fractions of a day drawn from the hourly profile (people shop in the evening)."""
    hour = np.asarray(seasonality.hour_profile) / np.sum(seasonality.hour_profile)
    hours = rng.choice(24, size=n, p=hour)
    return (hours + rng.random(n)) / 24.0
