"""The published frames: one row per channel, the period totals, and the curve diagnostics.

Money and customers are totals over the planning period (daily figures x period days:
the plan holds each channel's daily spend level). Definitions:

- `cac` = recommended spend / expected new customers (average, not marginal, CAC);
- `ltv_to_cac` = expected_ltv_per_customer / cac;
- `marginal_roi` = d(expected lifetime margin)/d(spend) - 1 at the recommendation: the
  net margin returned by the next dollar (0 = break-even; null when the curve is unused);
- `payback_days` = first day d after acquisition on which a customer's cumulative
  margin covers the CAC: ltv * accrual[d] >= cac, where accrual[d] is the share of the
  horizon value earned by the end of day d (d = 0..horizon). Without an accrual curve
  from the models, value is assumed to accrue evenly over the horizon, i.e.
  payback = horizon * cac / ltv. That overstates payback for shops whose first order
  carries much of the value; pass the models' accrual curve when available. Null when
  the horizon value never covers the CAC;
- `p_better_than_current` = share of the curves' parameter draws in which the
  recommended spend earns more than today's; null where the spend does not move. For
  the whole plan (totals) that is lifetime margin minus spend. Per channel, the dollars
  a move takes or frees are valued at what the marginal dollar returns in the plan
  (`return_per_marginal_dollar`: the other channels' return when the budget is spent,
  the hurdle when some is left unspent), so a cut that funds a better channel counts as
  better when the customers it loses are worth less than what the money earns there;
- expected figures are means over the same draws, at the spend each column names.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from ltv_pipeline.decisions.allocation.forms import FORMS
from ltv_pipeline.decisions.allocation.response_curves import CurveFit

FORM_NAMES = tuple(f.name for f in FORMS)


def linear_accrual(horizon_days: int) -> np.ndarray:
    """Share of horizon value earned by the end of each day 0..horizon, if earned evenly."""
    return np.arange(horizon_days + 1) / horizon_days


def payback_days(ltv: float, cac: float, accrual: np.ndarray) -> int | None:
    """First day on which cumulative margin per customer reaches the CAC (None: never)."""
    if not (np.isfinite(ltv) and np.isfinite(cac)) or ltv <= 0 or cac > ltv * accrual[-1]:
        return None
    return int(np.searchsorted(accrual, cac / ltv, side="left"))


def channel_table(
    channels: list[str],
    current_daily: np.ndarray,
    recommended_daily: np.ndarray,
    new_daily: np.ndarray,
    value: np.ndarray,
    marginal_return: np.ndarray,
    p_better: np.ndarray,
    fits: Mapping[str, CurveFit],
    reasons: list[str],
    period_days: int,
    accruals: Mapping[str, np.ndarray],
    mode: str,
) -> pl.DataFrame:
    """`channel_budget_allocation`: arrays are per channel and per day."""
    spend = recommended_daily * period_days
    customers = new_daily * period_days
    with np.errstate(divide="ignore", invalid="ignore"):
        cac = np.where(customers > 0, spend / customers, np.nan)
        ltv_to_cac = value / cac
    return pl.DataFrame(
        {
            "channel": channels,
            "current_spend": current_daily * period_days,
            "recommended_spend": spend,
            "expected_new_customers": customers,
            "expected_ltv_per_customer": value,
            "cac": cac,
            "ltv_to_cac": ltv_to_cac,
            "marginal_roi": marginal_return - 1.0,
            "p_better_than_current": p_better,
            "payback_days": pl.Series(
                [payback_days(v, c, accruals[ch]) for ch, v, c in zip(channels, value, cac)], dtype=pl.Int32
            ),
            "curve_identified": [fits[c].identified for c in channels],
            "curve_pseudo_r2": [fits[c].pseudo_r2 for c in channels],
            "curve_form": [fits[c].best_form or None for c in channels],
            "allocation_mode": mode,
            "reason": reasons,
        }
    ).fill_nan(None)


def totals_table(
    budget_daily: float,
    current_daily: np.ndarray,
    recommended_daily: np.ndarray,
    new_current_daily: np.ndarray,
    new_daily: np.ndarray,
    value: np.ndarray,
    return_per_dollar: float,
    budget_binding: bool,
    period_days: int,
    p_better: float,
    mode: str,
) -> pl.DataFrame:
    """One row of period totals; value sums skip channels without a value estimate.

    The expected figures at current spend come from the same fitted curves as the
    recommendation, so `expected_gain` compares like with like.
    """
    known = np.isfinite(value)
    ltv_now = float(new_current_daily[known] @ value[known]) * period_days
    ltv_then = float(new_daily[known] @ value[known]) * period_days
    spend_now = float(current_daily.sum()) * period_days
    spend_then = float(recommended_daily.sum()) * period_days
    return pl.DataFrame(
        {
            "period_days": [period_days],
            "allocation_mode": [mode],
            "budget": [budget_daily * period_days],
            "current_spend": [spend_now],
            "recommended_spend": [spend_then],
            "unspent_budget": [max(0.0, budget_daily * period_days - spend_then)],
            "budget_fully_spent": [budget_binding],
            "return_per_marginal_dollar": [return_per_dollar],
            "expected_new_customers_current": [float(new_current_daily.sum()) * period_days],
            "expected_new_customers": [float(new_daily.sum()) * period_days],
            "expected_ltv_current": [ltv_now],
            "expected_ltv": [ltv_then],
            "expected_gain": [(ltv_then - spend_then) - (ltv_now - spend_now)],
            "p_better_than_current": [p_better],
        }
    ).fill_nan(None)


def curves_table(fits: Mapping[str, CurveFit]) -> pl.DataFrame:
    """Per channel: the forms' validation weights, the favoured form's carry-over, fit
    quality, the data behind it and whether the curve was learned."""
    rows = []
    for f in fits.values():
        top = f.fits.get(f.best_form)
        rows.append({
            "channel": f.channel,
            "best_form": f.best_form or None,
            **{f"weight_{name}": f.weights.get(name) for name in FORM_NAMES},
            "adstock_carryover": top.theta if top else None,
            "baseline": top.baseline if top else None,
            "weekday_factors": list(top.weekday_factors) if top and top.weekday else None,
            "dispersion": top.dispersion if top else None,
            "pseudo_r2": f.pseudo_r2,
            "n_days": f.n_days,
            "n_spend_days": f.n_spend_days,
            "new_customers": f.new_customers,
            "min_observed_daily_spend": f.observed_spend[0],
            "max_observed_daily_spend": f.observed_spend[1],
            "identified": f.identified,
            "reason": f.reason,
        })
    overrides = {"weekday_factors": pl.List(pl.Float64), "best_form": pl.String, "adstock_carryover": pl.Float64,
                 "baseline": pl.Boolean, "dispersion": pl.Float64} | {f"weight_{n}": pl.Float64 for n in FORM_NAMES}
    return pl.DataFrame(rows, schema_overrides=overrides).fill_nan(None)
