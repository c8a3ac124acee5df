"""From daily history and customer values to the channel budget plan.

Why these defaults: the plan covers 30 days at the last 30 days' total spend; bounds of
0.5x to 2x current spend keep every move within a range a team can execute and, mostly,
within the spend the curves were fitted on. The plan maximises lifetime margin minus
spend averaged over the curves' parameter draws, so a channel whose curve is uncertain
but whose move is clearly favourable in most draws is moved, and one whose move is a
gamble is moved only as far as the average over draws supports. A channel whose curve
cannot be learned, or whose customers have no value estimate, keeps its current spend
(its expected new customers are its last 30 days' average), and the optimiser splits
what remains of the budget among the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from ltv_pipeline.decisions.allocation.optimise import MODES, Optimum, optimise_spend, spend_grid
from ltv_pipeline.decisions.allocation.plan_table import (
    channel_table,
    curves_table,
    linear_accrual,
    totals_table,
)
from ltv_pipeline.decisions.allocation.reasons import Move, explain, keep
from ltv_pipeline.decisions.allocation.response_curves import (
    CurveFit,
    FitOptions,
    fit_response_curves,
)
from ltv_pipeline.decisions.allocation.series import current_daily, daily_panel

Bounds = tuple[float, float]
FORM_WORDS = {"exponential": "saturating (exponential) curve", "power": "power-law curve without a ceiling",
              "hill": "S-shaped (Hill) curve"}


@dataclass(frozen=True)
class Allocation:
    channels: pl.DataFrame
    """`channel_budget_allocation`, one row per paid channel."""
    totals: pl.DataFrame
    """One row: budget, spend, customers, lifetime margin, gain and its probability over the period."""
    curves: pl.DataFrame
    """Per channel curve forms, weights, carry-over and whether the curve was learned."""
    fits: dict[str, CurveFit]


def _bounds(channels: list[str], bounds: Bounds | Mapping[str, Bounds], default: Bounds) -> np.ndarray:
    """(channels, 2) multipliers of current spend; a mapping may name some channels only."""
    if isinstance(bounds, Mapping):
        mult = np.array([bounds.get(c, default) for c in channels], dtype=np.float64).reshape(-1, 2)
    else:
        mult = np.tile(np.asarray(bounds, dtype=np.float64), (len(channels), 1))
    if np.any(mult[:, 0] < 0) or np.any(mult[:, 0] > mult[:, 1]):
        raise ValueError(f"bounds must satisfy 0 <= lower <= upper, got {bounds}")
    return mult


def _curve_words(fit: CurveFit) -> str:
    top = fit.fits[fit.best_form]
    share = fit.weights[fit.best_form]
    lead = FORM_WORDS[fit.best_form] if share >= 0.8 else f"{FORM_WORDS[fit.best_form]} ({share:.0%} of the weight)"
    return f"{lead}, {top.theta:.0%} of a day's effect carried to the next"


def _p_better(gain_draws: np.ndarray, moved: bool) -> float:
    """Share of draws with a positive gain; NaN when nothing moves (nothing to judge)."""
    return float(np.mean(gain_draws > 0)) if moved else float("nan")


def allocate_budget(
    daily: pl.DataFrame,
    value_per_customer: Mapping[str, float],
    *,
    period_days: int = 30,
    total_budget: float | None = None,
    bounds: Bounds | Mapping[str, Bounds] = (0.5, 2.0),
    mode: str = "profit",
    min_return_per_dollar: float = 1.0,
    horizon_days: int = 365,
    value_accrual: Mapping[str, np.ndarray] | None = None,
    fit_options: FitOptions | None = None,
) -> Allocation:
    """Recommend each paid channel's spend for the next `period_days`.

    daily: `date`, `channel`, `spend`, `new_customers`, history up to as_of (see
        `series.daily_panel`). value_per_customer: channel -> expected discounted margin
        over the horizon of one newly acquired customer. total_budget: for the whole
        period (default: the last 30 days' spend, scaled to `period_days`). bounds:
        (lower, upper) multipliers of current spend, or a mapping channel -> bounds
        (unlisted channels get 0.5x-2x). mode: `profit` (the budget is a cap, spent
        where the marginal dollar clears `min_return_per_dollar`) or `budget` (spend
        exactly the budget); see `optimise`. value_accrual: channel -> cumulative share
        of the horizon value by day 0..horizon (see `table`), default even accrual.
    """
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    if mode not in MODES:
        raise ValueError(f"allocation mode must be one of {', '.join(MODES)}, got {mode!r}")
    panel = daily_panel(daily)
    current = current_daily(panel)
    names = current["channel"].to_list()
    cur = current["current_daily_spend"].to_numpy()
    recent_new = current["recent_daily_new_customers"].to_numpy()
    lower, upper = (cur[:, None] * _bounds(names, bounds, (0.5, 2.0))).T
    fits = fit_response_curves(panel, fit_options or FitOptions())
    value = np.array([float(value_per_customer.get(c, np.nan)) for c in names])
    usable = np.array([fits[c].identified for c in names]) & np.isfinite(value)
    budget = cur.sum() if total_budget is None else total_budget / period_days

    used = [c for c, u in zip(names, usable) if u]
    rec = cur.copy()
    if used:
        grid = spend_grid(lower[usable], upper[usable], cur[usable])
        margin = np.array([value[names.index(c)] * fits[c].draws.new_customers(grid[i]).mean(axis=0) for i, c in enumerate(used)])
        opt = optimise_spend(grid, margin, budget - cur[~usable].sum(), mode, min_return_per_dollar)
        rec[usable] = opt.spend
    else:  # no curve to move along: every channel keeps its spend, each with its reason
        opt = Optimum(spend=cur, return_per_dollar=float("nan"), budget_binding=False)
    new_then, new_now = recent_new.copy(), recent_new.copy()
    return_then, p_better = np.full(cur.size, np.nan), np.full(cur.size, np.nan)
    plan_gain = 0.0
    price = opt.return_per_dollar if np.isfinite(opt.return_per_dollar) else 1.0
    reasons = []
    for i, c in enumerate(names):
        fit = fits[c]
        if not usable[i]:
            reasons.append(keep(fit.reason or "there is no estimate of what its new customers are worth"))
            continue
        d = fit.draws
        at = d.new_customers(np.array([cur[i], rec[i]]))
        new_now[i], new_then[i] = at.mean(axis=0)
        plan_gain = plan_gain + value[i] * (at[:, 1] - at[:, 0]) - (rec[i] - cur[i])
        gain = value[i] * (at[:, 1] - at[:, 0]) - price * (rec[i] - cur[i])
        moved = not np.isclose(rec[i], cur[i], rtol=1e-6)
        p_better[i] = _p_better(gain, moved)
        marginal = value[i] * d.marginal(np.array([cur[i], rec[i]])).mean(axis=0)
        return_then[i] = marginal[1]
        reasons.append(explain(Move(
            current_daily=cur[i], recommended_daily=rec[i], lower_daily=lower[i], upper_daily=upper[i],
            return_now=marginal[0], return_then=marginal[1], return_elsewhere=opt.return_per_dollar,
            budget_binding=opt.budget_binding, curve=_curve_words(fit), p_better=p_better[i],
            max_observed_daily=fit.observed_spend[1],
        )))
    plan_p = _p_better(np.atleast_1d(plan_gain), bool(np.any(~np.isclose(rec, cur, rtol=1e-6))))

    accrual = {c: linear_accrual(horizon_days) for c in names} | dict(value_accrual or {})
    return Allocation(
        channels=channel_table(names, cur, rec, new_then, value, return_then, p_better, fits, reasons, period_days,
                               accrual, mode),
        totals=totals_table(budget, cur, rec, new_now, new_then, value, opt.return_per_dollar, opt.budget_binding,
                            period_days, plan_p, mode),
        curves=curves_table(fits),
        fits=fits,
    )
