"""The budget split that maximises expected lifetime margin minus spend.

Problem (per day; a plan holds each channel's daily spend level over the period):

    maximise   sum_c margin_c(s_c) - s_c
    subject to lower_c <= s_c <= upper_c and, by mode,
               profit: sum_c s_c <= budget;   budget: sum_c s_c = budget

where margin_c(s) is the lifetime margin of the new customers spend s brings, averaged
over the curve draws (so the optimum is the best plan in expectation, not for one
guessed curve). Each margin_c is given on a grid of spends between its bounds.

Why a Lagrangian on grids: the objective is separable, and for a price mu of the
marginal dollar each channel's best spend is the grid point maximising
margin_c(s) - mu * s, exact whatever the curve's shape (an S-shaped curve is not
concave, so no closed form or first-order condition applies). Total spend falls as mu
rises, so bisection on mu finds the split; the last bit of budget a step of the grid
leaves over goes, in pieces along the grid, to the channels whose next step returns most.

The modes: `profit` treats the budget as a cap, spent only while the marginal dollar
returns at least `min_return_per_dollar` of lifetime margin (1.0 = break-even of 'LTV
minus spend'); if spending all of it would push the marginal dollar below that hurdle,
the rest is left unspent, since spending it would destroy value. `budget` spends exactly
the budget (up to the channels' upper bounds), reallocated where it returns most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.core.settings import ALLOCATION_MODES as MODES

GRID_POINTS = 401
BISECTION_STEPS = 80


@dataclass(frozen=True)
class Optimum:
    spend: np.ndarray
    """Daily spend per channel."""
    return_per_dollar: float
    """mu: lifetime margin returned by the marginal dollar where channels are between bounds."""
    budget_binding: bool
    """True when the whole budget is spent."""


def spend_grid(lower: np.ndarray, upper: np.ndarray, current: np.ndarray, points: int = GRID_POINTS) -> np.ndarray:
    """(channels, points + 1) ascending spends from lower to upper, current spend included
    exactly so that keeping it is always a candidate."""
    base = np.linspace(lower, upper, points, axis=1)
    inside = np.clip(current, lower, upper)[:, None]
    return np.sort(np.hstack([base, inside]), axis=1)


def _fill(grid: np.ndarray, margin: np.ndarray, idx: np.ndarray, left: float, hurdle: float) -> np.ndarray:
    """Spend `left` more dollars, step by step along the grids, where the next step returns
    most per dollar (at least `hurdle`); the last step may stop between grid points."""
    rows = np.arange(grid.shape[0])
    spend = grid[rows, idx].copy()
    idx = idx.copy()
    while left > 1e-9 * max(1.0, spend.sum()):
        best, pick, to = -np.inf, -1, -1
        for c in rows:
            if idx[c] + 1 >= grid.shape[1]:
                continue
            cost = grid[c, idx[c] + 1:] - grid[c, idx[c]]
            ratio = np.where(cost > 0, (margin[c, idx[c] + 1:] - margin[c, idx[c]]) / np.maximum(cost, 1e-300), -np.inf)
            j = int(np.argmax(ratio))
            if ratio[j] > best:
                best, pick, to = float(ratio[j]), c, idx[c] + 1 + j
        if pick < 0 or best < hurdle:
            break
        step = grid[pick, to] - grid[pick, idx[pick]]
        if step > left:
            spend[pick] += left
            break
        left -= step
        idx[pick], spend[pick] = to, grid[pick, to]
    return spend


def optimise_spend(grid: np.ndarray, margin: np.ndarray, budget: float, mode: str = "profit",
                   min_return_per_dollar: float = 1.0) -> Optimum:
    """Daily spend per channel (see module docstring). `grid` and `margin` are (channels,
    points), grids ascending from each channel's lower to its upper bound. If the lower
    bounds alone exceed the budget they are scaled down in proportion."""
    if mode not in MODES:
        raise ValueError(f"allocation mode must be one of {', '.join(MODES)}, got {mode!r}")
    grid, margin = np.atleast_2d(grid).astype(np.float64), np.atleast_2d(margin).astype(np.float64)
    budget = max(0.0, float(budget))
    lower = grid[:, 0]
    if grid.shape[0] == 0:
        return Optimum(lower, float("nan"), False)
    if lower.sum() >= budget:
        spend = lower * (budget / lower.sum()) if lower.sum() > 0 else lower
        return Optimum(spend, float("nan"), True)
    rows = np.arange(grid.shape[0])

    def choice(mu: float) -> np.ndarray:
        return np.argmax(margin - mu * grid, axis=1)

    slopes = np.diff(margin, axis=1) / np.maximum(np.diff(grid, axis=1), 1e-300)
    top = float(max(slopes.max(), 0.0)) + 1.0
    hurdle = min_return_per_dollar if mode == "profit" else min(float(slopes.min()), 0.0) - 1.0
    at_hurdle = choice(hurdle)
    total = grid[rows, at_hurdle].sum()
    if total <= budget:
        return Optimum(grid[rows, at_hurdle], hurdle if mode == "profit" else float("nan"),
                       bool(np.isclose(total, budget, rtol=1e-9)))
    lo, hi = hurdle, top
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if grid[rows, choice(mid)].sum() > budget:
            lo = mid
        else:
            hi = mid
    idx = choice(hi)
    spend = _fill(grid, margin, idx, budget - grid[rows, idx].sum(), hurdle)
    return Optimum(spend, hi, bool(np.isclose(spend.sum(), budget, rtol=1e-9)))
