"""The true optimum of a budget split, found without the allocator's optimiser.

Dynamic programming over a fine spend grid: channel by channel, the best value of every
total spend so far. Exact on the grid for any curve shape (no concavity assumed), and it
shares no code with `allocation.optimise`, so a test scoring the allocator against it
cannot pass because both make the same mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Curve = Callable[[np.ndarray], np.ndarray]
"""Daily spend -> true expected new customers per day."""


def plan_value(curves: Sequence[Curve], values: Sequence[float], spend: Sequence[float]) -> float:
    """True lifetime margin minus spend per day of a plan."""
    return float(sum(v * c(np.asarray(s, dtype=float)) - s for c, v, s in zip(curves, values, spend)))


def best_value(curves: Sequence[Curve], values: Sequence[float], lower: np.ndarray, upper: np.ndarray, budget: float,
               exact: bool, steps: int = 3000) -> float:
    """max plan_value over spends on a grid of budget/steps within [lower, upper], with the
    total equal to the budget (`exact`) or at most the budget."""
    step = budget / steps
    best = np.full(steps + 1, -np.inf)
    best[0] = 0.0
    for curve, v, lo, hi in zip(curves, values, lower, upper):
        units = np.arange(int(np.ceil(lo / step - 1e-9)), int(np.floor(hi / step + 1e-9)) + 1)
        gain = v * curve(units * step) - units * step
        new = np.full(steps + 1, -np.inf)
        for u, g in zip(units, gain):
            if u > steps:
                break
            new[u:] = np.maximum(new[u:], best[: steps + 1 - u] + g)
        best = new
    return float(best[steps] if exact else best.max())


def captured_share(curves: Sequence[Curve], values: Sequence[float], current: np.ndarray,
                   recommended: np.ndarray, lower_ratio: float = 0.5, upper_ratio: float = 2.0) -> float:
    """(V(recommended) - V(current)) / (V(best) - V(current)), best being the larger of the
    true optimum at the current total and the true profit optimum, within the bounds."""
    lower, upper = lower_ratio * current, upper_ratio * current
    best = max(best_value(curves, values, lower, upper, current.sum(), exact)
               for exact in (True, False))
    base = plan_value(curves, values, current)
    return (plan_value(curves, values, recommended) - base) / (best - base)
