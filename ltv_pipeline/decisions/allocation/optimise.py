"""The budget split that maximises expected lifetime margin minus spend.

Problem (per day; a plan holds each channel's daily spend level over the period):

    maximise   sum_i value_i * max_new_i * (1 - exp(-s_i / scale_i)) - s_i
    subject to sum_i s_i <= budget,   lower_i <= s_i <= upper_i

Why bisection on the multiplier: the objective is separable and concave, so the KKT
conditions are necessary and sufficient. Every channel strictly inside its bounds
returns the same lifetime margin per marginal dollar, mu, and its spend is the closed
form s_i(mu) = scale_i * ln(value_i * max_new_i / (scale_i * mu)) clipped to its bounds.
Total spend falls monotonically in mu, so bisecting on log(mu) finds the exact optimum;
no generic optimiser, no starting point, no tolerance on the constraints.

The budget rule: the budget is a cap that is spent in full whenever its last dollar still
returns at least `min_return_per_dollar` of lifetime margin (1.0 = break-even of
'LTV minus spend'; then mu = 1 + the budget constraint's multiplier). If spending all of
it would push the marginal dollar below that hurdle anywhere, each channel stops where
its marginal dollar returns exactly the hurdle (or at its lower bound) and the rest is
left unspent: spending it would destroy value. `min_return_per_dollar=0` always spends
the whole budget (up to the channels' upper bounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BISECTION_STEPS = 100
"""Halvings of the log-multiplier bracket (at most ~30 wide): far below float precision."""


@dataclass(frozen=True)
class Optimum:
    spend: np.ndarray
    """Daily spend per channel."""
    return_per_dollar: float
    """mu: lifetime margin returned by the marginal dollar of every channel strictly
    inside its bounds."""
    budget_binding: bool
    """True when the whole budget is spent (its last dollar still clears the hurdle)."""


def optimise_spend(
    max_new: np.ndarray,
    spend_scale: np.ndarray,
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    budget: float,
    min_return_per_dollar: float = 1.0,
) -> Optimum:
    """Daily spend per channel for saturating-exponential curves (see module docstring).

    Arrays are per channel; `upper` may be inf. If the lower bounds alone exceed the
    budget they are scaled down in proportion, so the result always respects the budget.
    """
    amplitude, scale, val = (np.asarray(a, dtype=np.float64) for a in (max_new, spend_scale, value))
    upper = np.asarray(upper, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    budget = max(0.0, float(budget))
    if lower.sum() > budget:
        lower = lower * (budget / lower.sum())
    peak = np.maximum(val * amplitude / scale, 0.0)  # margin returned by each channel's first dollar

    def spend_at(log_mu: float) -> np.ndarray:
        with np.errstate(divide="ignore"):
            wanted = scale * (np.log(peak) - log_mu)
        return np.clip(wanted, lower, upper)

    if peak.size == 0 or peak.max() <= 0:
        return Optimum(lower, float("nan"), bool(np.isclose(lower.sum(), budget)))
    hurdle = np.log(max(min_return_per_dollar, peak.max() * 1e-12))
    at_hurdle = spend_at(hurdle)
    if at_hurdle.sum() <= budget:
        return Optimum(at_hurdle, float(np.exp(hurdle)), bool(np.isclose(at_hurdle.sum(), budget)))
    lo, hi = hurdle, float(np.log(peak.max()))
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if spend_at(mid).sum() > budget:
            lo = mid
        else:
            hi = mid
    return Optimum(spend_at(hi), float(np.exp(hi)), True)
