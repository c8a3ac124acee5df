"""The true value of a spend plan and the true best plan, from scenario.json alone.

V(x) = sum over paid channels of (expected new customers at steady daily spend x_c / P
over the planning period P) x (true LTV of a customer the channel acquires) - sum x_c.
The best plan maximises V within 0.5x-2x of each channel's current spend, spending at
most the current total (spending exactly it is the budget optimum). The observable best
plan does the same with every thin channel (spend nearly constant through the history, so
no data shows its curve) held at its current spend: the most any allocator can be sure to
gain from what the landing zone shows, the allocation's observable ceiling. Curves may be
S-shaped, so V need not be concave: a dynamic programme over a fine budget grid finds
the global optimum and a local solver polishes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ltv_pipeline.scenarios.curves import new_per_day

LOWER, UPPER = 0.5, 2.0
GRID = 2000


@dataclass(frozen=True)
class Plans:
    current: dict[str, float]
    budget: dict[str, float]
    """Best plan spending exactly the current total."""
    best: dict[str, float]
    """Best plan spending at most the current total."""


def read_truth(truth_dir: Path) -> dict[str, Any]:
    return json.loads((Path(truth_dir) / "scenario.json").read_text())


def _channel_value(entry: Mapping[str, Any], planning_days: int, spend: np.ndarray | float) -> np.ndarray:
    spend = np.asarray(spend, dtype=np.float64)
    return planning_days * new_per_day(entry["curve"], spend / planning_days) * entry["ltv"] - spend


def plan_value(truth: Mapping[str, Any], spend: Mapping[str, float]) -> float:
    channels = truth["allocation"]
    unknown = [c for c, x in spend.items() if c not in channels and x]
    if unknown:
        raise KeyError(f"spend on channels the scenario does not have: {unknown}")
    return float(sum(_channel_value(e, truth["planning_days"], float(spend[c])) for c, e in channels.items()))


def allocation_value(truth_dir: Path, spend: Mapping[str, float]) -> float:
    """V(x) for a plan given as spend per paid channel over the planning period (every
    paid channel of the scenario must be given; unpaid ones may appear with zero)."""
    return plan_value(read_truth(truth_dir), spend)


def _limits(current: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, the lowest and highest spend a plan may give it."""
    return np.where(held, current, LOWER * current), np.where(held, current, UPPER * current)


def _grid_optimum(truth: Mapping[str, Any], names: list[str], current: np.ndarray,
                  held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global optimum on a budget grid: (plan spending exactly the total, best plan within it)."""
    total = current.sum()
    delta = total / GRID
    dp = np.full(GRID + 1, -np.inf)
    dp[0] = 0.0
    picks = []
    lows, highs = _limits(current, held)
    for name, low, high in zip(names, lows, highs):
        units = np.arange(int(np.ceil(low / delta - 1e-9)), min(int(np.floor(high / delta + 1e-9)), GRID) + 1)
        if units.size == 0:  # a held spend between two grid points
            units = np.array([int(round(high / delta))])
        values = _channel_value(truth["allocation"][name], truth["planning_days"], units * delta)
        new, pick = np.full(GRID + 1, -np.inf), np.zeros(GRID + 1, dtype=np.int64)
        for k, v in zip(units, values):
            cand = dp[: GRID + 1 - k] + v
            better = cand > new[k:]
            new[k:][better] = cand[better]
            pick[k:][better] = k
        dp = new
        picks.append(pick)

    def backtrack(end: int) -> np.ndarray:
        units, b = [], end
        for pick in reversed(picks):
            units.append(pick[b])
            b -= pick[b]
        return np.array(units[::-1], dtype=np.float64) * delta

    return backtrack(GRID), backtrack(int(np.argmax(dp)))


def _polish(truth: Mapping[str, Any], names: list[str], current: np.ndarray, held: np.ndarray,
            start: np.ndarray, exact: bool) -> np.ndarray:
    scale = current.sum()

    def negative(z: np.ndarray) -> float:
        return -plan_value(truth, dict(zip(names, z * scale))) / scale

    cons = {"type": "eq" if exact else "ineq", "fun": lambda z: 1.0 - z.sum()}
    bounds = [(low / scale, high / scale) for low, high in zip(*_limits(current, held))]
    start = np.clip(start, *_limits(current, held))
    res = minimize(negative, start / scale, method="SLSQP", bounds=bounds, constraints=[cons],
                   options={"ftol": 1e-12, "maxiter": 500})
    z = np.clip(res.x, [b[0] for b in bounds], [b[1] for b in bounds])
    if exact:
        free = ~held
        z[free] = z[free] * (1.0 - z[held].sum()) / z[free].sum()
    feasible = z.sum() <= 1 + 1e-9
    return z * scale if feasible and negative(z) < negative(start / scale) else start


def true_plans(truth: Mapping[str, Any], observable: bool = False) -> Plans:
    """The current, budget-optimal and best plans; `observable`: with thin channels held."""
    names = list(truth["allocation"])
    current = np.array([truth["allocation"][c]["current_spend"] for c in names], dtype=np.float64)
    held = np.array([observable and bool(truth["allocation"][c].get("thin")) for c in names])
    budget, best = _grid_optimum(truth, names, current, held)
    budget = _polish(truth, names, current, held, budget, exact=True)
    best = _polish(truth, names, current, held, best, exact=False)
    if plan_value(truth, dict(zip(names, budget))) > plan_value(truth, dict(zip(names, best))):
        best = budget
    return Plans(*({c: float(v) for c, v in zip(names, x)} for x in (current, budget, best)))


def allocation_gain(truth_dir: Path, recommended: Mapping[str, float]) -> float:
    """(V(rec) - V(current)) / (V(best) - V(current)); NaN when nothing can be gained."""
    truth = read_truth(truth_dir)
    plans = true_plans(truth)
    v_cur = plan_value(truth, plans.current)
    room = plan_value(truth, plans.best) - v_cur
    if room <= 1e-9 * max(1.0, abs(v_cur)):
        return float("nan")
    return (plan_value(truth, recommended) - v_cur) / room


def observable_allocation_gain(truth_dir: Path) -> float:
    """The observable best plan's `allocation_gain`: 1 without thin channels."""
    truth = read_truth(truth_dir)
    plan = true_plans(truth, observable=True).best
    return allocation_gain(truth_dir, plan)
