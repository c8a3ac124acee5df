"""True acquisition response curves: three shapes on geometrically adstocked spend.

A curve maps adstocked daily spend (currency) to expected new customers per day. The
adstock is normalised, a_t = (1 - rate) * sum_j rate**j x_(t-j), so a steady daily spend
x has adstock x and the steady-state response is simply f(x).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ltv_pipeline.scenarios.spec import ChannelSpec

FORMS = ("exponential", "power", "hill")


def unit_response(channel: ChannelSpec, u: np.ndarray | float) -> np.ndarray:
    """Response shape in normalised spend units (before the channel's height)."""
    u = np.maximum(np.asarray(u, dtype=np.float64), 0.0)
    if channel.form == "exponential":
        return -np.expm1(-u / channel.shape)
    if channel.form == "power":
        return u**channel.shape
    if channel.form == "hill":
        k = channel.slope
        return u**k / (u**k + channel.shape**k)
    raise ValueError(f"unknown response form {channel.form!r}")


def unit_slope(channel: ChannelSpec, u: float, eps: float = 1e-6) -> float:
    return float((unit_response(channel, u + eps) - unit_response(channel, u - eps)) / (2 * eps))


def currency_curve(channel: ChannelSpec, height: float, scale: float) -> dict[str, Any]:
    """The curve in currency: new/day = height * unit_response(spend / scale), written
    with each form's own parameters so it can be read without this package."""
    params: dict[str, float]
    if channel.form == "exponential":
        params = {"max_per_day": height, "scale": scale * channel.shape}
    elif channel.form == "power":
        params = {"coef": height * scale ** (-channel.shape), "exponent": channel.shape}
    else:
        params = {"max_per_day": height, "half_saturation": scale * channel.shape, "slope": channel.slope}
    return {"form": channel.form, "params": params, "adstock_rate": channel.adstock}


def new_per_day(curve: Mapping[str, Any], daily_spend: np.ndarray | float) -> np.ndarray:
    """Expected new customers per day at a steady (or adstocked) daily spend."""
    x = np.maximum(np.asarray(daily_spend, dtype=np.float64), 0.0)
    p = curve["params"]
    if curve["form"] == "exponential":
        return p["max_per_day"] * -np.expm1(-x / p["scale"])
    if curve["form"] == "power":
        return p["coef"] * x ** p["exponent"]
    if curve["form"] == "hill":
        k = p["slope"]
        return p["max_per_day"] * x**k / (x**k + p["half_saturation"] ** k)
    raise ValueError(f"unknown response form {curve['form']!r}")


def adstock(spend: np.ndarray, rate: float) -> np.ndarray:
    """Normalised geometric adstock along axis 0, starting from the first day's level."""
    out = np.empty_like(spend, dtype=np.float64)
    level = spend[0]
    for t in range(spend.shape[0]):
        level = rate * level + (1 - rate) * spend[t]
        out[t] = level
    return out
