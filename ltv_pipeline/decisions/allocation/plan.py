"""From daily history and customer values to the channel budget plan.

Why these defaults: the contract plans 30 days at the last 30 days' total spend; bounds
of 0.5x to 2x current spend keep every move within a range a team can execute and,
mostly, within the spend the curves were fitted on. A channel whose curve is not
identified, or whose customers have no value estimate, keeps its current spend (and its
expected new customers are its last 30 days' average), and the optimiser splits what
remains of the budget among the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from ltv_pipeline.decisions.allocation.curves import CurveFit, FitOptions, fit_response_curves
from ltv_pipeline.decisions.allocation.optimise import optimise_spend
from ltv_pipeline.decisions.allocation.reasons import Move, explain, keep
from ltv_pipeline.decisions.allocation.series import current_daily, daily_panel
from ltv_pipeline.decisions.allocation.table import channel_table, curves_table, linear_accrual, totals_table

Bounds = tuple[float, float]


@dataclass(frozen=True)
class Allocation:
    channels: pl.DataFrame
    """`channel_budget_allocation`, one row per paid channel."""
    totals: pl.DataFrame
    """One row: budget, spend, customers, lifetime margin and gain over the period."""
    curves: pl.DataFrame
    """Per channel curve parameters, uncertainty and identification."""
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


def allocate_budget(
    daily: pl.DataFrame,
    value_per_customer: Mapping[str, float],
    *,
    period_days: int = 30,
    total_budget: float | None = None,
    bounds: Bounds | Mapping[str, Bounds] = (0.5, 2.0),
    min_return_per_dollar: float = 1.0,
    horizon_days: int = 365,
    value_accrual: Mapping[str, np.ndarray] | None = None,
    fit_options: FitOptions = FitOptions(),
) -> Allocation:
    """Recommend each paid channel's spend for the next `period_days`.

    daily: `date`, `channel`, `spend`, `new_customers`, history up to as_of (see
        `series.daily_panel`). value_per_customer: channel -> expected discounted margin
        over the horizon of one newly acquired customer. total_budget: for the whole
        period (default: the last 30 days' spend, scaled to `period_days`). bounds:
        (lower, upper) multipliers of current spend, or a mapping channel -> bounds
        (unlisted channels get 0.5x-2x). min_return_per_dollar: see `optimise`.
        value_accrual: channel -> cumulative share of the horizon value by day 0..horizon
        (see `table`), default even accrual.
    """
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    panel = daily_panel(daily)
    current = current_daily(panel)
    names = current["channel"].to_list()
    cur = current["current_daily_spend"].to_numpy()
    recent_new = current["recent_daily_new_customers"].to_numpy()
    lower, upper = (cur[:, None] * _bounds(names, bounds, (0.5, 2.0))).T
    fits = fit_response_curves(panel, fit_options, {c: (lower[i], upper[i]) for i, c in enumerate(names)})
    value = np.array([float(value_per_customer.get(c, np.nan)) for c in names])
    usable = np.array([fits[c].identified for c in names]) & np.isfinite(value)
    budget = cur.sum() if total_budget is None else total_budget / period_days

    opt = optimise_spend(
        max_new=np.array([fits[c].max_new_per_day for c in names])[usable],
        spend_scale=np.array([fits[c].spend_scale for c in names])[usable],
        value=value[usable],
        lower=lower[usable],
        upper=upper[usable],
        budget=budget - cur[~usable].sum(),
        min_return_per_dollar=min_return_per_dollar,
    )
    rec = cur.copy()
    rec[usable] = opt.spend
    new_then, new_now = recent_new.copy(), recent_new.copy()
    return_then = np.full(cur.size, np.nan)
    reasons = []
    for i, c in enumerate(names):
        fit = fits[c]
        if not usable[i]:
            reasons.append(keep(fit.reason or "there is no estimate of what its new customers are worth"))
            continue
        new_then[i], new_now[i] = fit.expected_new(rec[i]), fit.expected_new(cur[i])
        return_then[i] = value[i] * fit.marginal_new(rec[i])
        reasons.append(explain(Move(
            current_daily=cur[i], recommended_daily=rec[i], lower_daily=lower[i], upper_daily=upper[i],
            return_now=value[i] * fit.marginal_new(cur[i]), return_then=return_then[i],
            return_elsewhere=opt.return_per_dollar, budget_binding=opt.budget_binding,
            spend_scale=fit.spend_scale, max_observed_daily=fit.observed_spend[1],
        )))

    accrual = {c: linear_accrual(horizon_days) for c in names} | dict(value_accrual or {})
    return Allocation(
        channels=channel_table(names, cur, rec, new_then, value, return_then, fits, reasons, period_days, accrual),
        totals=totals_table(budget, cur, rec, new_now, new_then, value, opt.return_per_dollar, opt.budget_binding,
                            period_days),
        curves=curves_table(fits),
        fits=fits,
    )
