"""True acquisition response curves and the true optimal budget split.

Pure functions, shared by the generator (to draw new customers) and by tests of the
allocator (to score a recommended budget against the real optimum). Each accepts either a
`ChannelParams`, a `ResponseCurve`, or the channel's entry of truth.json (a mapping with a
"response" key), so tests need nothing but the JSON file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ltv_pipeline.synthetic.params import ChannelParams, ResponseCurve

CurveLike = ChannelParams | ResponseCurve | Mapping[str, Any]


def _curve(channel: CurveLike) -> tuple[float, float]:
    if isinstance(channel, ResponseCurve):
        return channel.max_new_per_day, channel.spend_scale
    if isinstance(channel, ChannelParams):
        if channel.response is None:
            raise ValueError(f"channel {channel.key!r} has no spend response (unpaid)")
        return _curve(channel.response)
    curve = channel.get("response", channel)
    if not curve:
        raise ValueError("channel has no spend response (unpaid)")
    return float(curve["max_new_per_day"]), float(curve["spend_scale"])


def true_new_customers(channel_params: CurveLike, daily_spend: float | np.ndarray) -> float | np.ndarray:
    """Expected new customers per day at `daily_spend`: a * (1 - exp(-spend / b))."""
    amplitude, scale = _curve(channel_params)
    return amplitude * -np.expm1(-np.asarray(daily_spend, dtype=np.float64) / scale)


def allocation_value(channels: Sequence[CurveLike], values: Sequence[float], daily_spend: Sequence[float]) -> float:
    """Expected value per day of a budget split: sum of new customers x value per customer."""
    return float(sum(v * true_new_customers(c, s) for c, v, s in zip(channels, values, daily_spend)))


def true_optimal_allocation(
    channels: Sequence[CurveLike], values: Sequence[float], total_daily_budget: float
) -> np.ndarray:
    """Daily spend per channel maximising `allocation_value` for a fixed total budget.

    The objective is separable and concave, so the optimum equalises the marginal value
    v * a / b * exp(-s / b) across funded channels (KKT). Solving for that common marginal
    value by bisection on its log gives the exact split without a generic optimiser.
    """
    curves = np.array([_curve(c) for c in channels], dtype=np.float64)
    amplitude, scale = curves[:, 0], curves[:, 1]
    slope0 = np.asarray(values, dtype=np.float64) * amplitude / scale
    if total_daily_budget <= 0 or not np.any(slope0 > 0):
        return np.zeros(len(channels))

    def spend_at(log_mu: float) -> np.ndarray:
        return np.maximum(0.0, scale * (np.log(np.maximum(slope0, 1e-300)) - log_mu))

    lo, hi = np.log(slope0.max()) - 60.0, np.log(slope0.max())
    for _ in range(200):
        mid = (lo + hi) / 2
        if spend_at(mid).sum() > total_daily_budget:
            lo = mid
        else:
            hi = mid
    spend = spend_at(hi)
    return spend * (total_daily_budget / spend.sum()) if spend.sum() > 0 else spend
