"""The simple predictions every model must beat to be champion, from the features at the cutoff.

Baseline model names start with `baseline_`, which is how the champion rule and a reader
of `model_evaluation` tell them from candidates. Columns read (the feature frame's names):
`total_margin`, `n_orders`, `tenure_days`, `recency_days`, `ipt_mean` and
`margin_last_horizon` (margin in (cutoff - horizon_days, cutoff]). Nulls count as no
activity (0 margin, 0 orders); a null tenure or recency counts as one horizon.
"""

from __future__ import annotations

import numpy as np
import polars as pl

CLASSIC_FORMULA = "baseline_classic_formula"
LAST_PERIOD = "baseline_last_period"
RECENCY = "baseline_recency"


def _column(frame: pl.DataFrame, name: str, fill: float) -> np.ndarray:
    if name not in frame.columns:
        raise KeyError(f"baseline needs the column {name!r}")
    return frame.get_column(name).cast(pl.Float64).fill_null(fill).fill_nan(fill).to_numpy()


def horizon_discount_factor(horizon_days: int, annual_discount_rate: float) -> float:
    """Mean over days 1..horizon_days of the contract's (1 + rate) ** (-day / 365): the
    discount of a margin spread evenly over the horizon."""
    days = np.arange(1, horizon_days + 1, dtype=np.float64)
    return float(np.mean((1.0 + annual_discount_rate) ** (-days / 365.0)))


def observed_churn_rate(frame: pl.DataFrame, horizon_days: int) -> float:
    """Share of the customers older than one horizon with no order in the last horizon.

    That is the one-horizon churn rate visible at the cutoff, with no look at the future.
    Raises when no customer is a horizon old (too short a history for this baseline).
    """
    tenure = _column(frame, "tenure_days", horizon_days)
    recency = _column(frame, "recency_days", horizon_days)
    old = tenure >= horizon_days
    if not old.any():
        raise ValueError(f"no customer has {horizon_days} days of tenure: the churn rate is unknown")
    return float(np.mean(recency[old] >= horizon_days))


def classic_formula_ltv(
    frame: pl.DataFrame,
    horizon_days: int,
    annual_discount_rate: float,
    churn_rate: float | None = None,
) -> np.ndarray:
    """Average order value x purchase frequency x expected lifespan, discounted.

    Exactly, per customer, with H = `horizon_days` and c = `churn_rate` (default
    `observed_churn_rate`):
    - average order value = total_margin / n_orders (margin, because LTV is margin);
    - purchase frequency = n_orders / max(tenure_days, H) orders per day (a customer
      younger than one horizon is credited its orders per horizon, not extrapolated from
      a few days);
    - expected lifespan within the horizon = H * c / -ln(1 - c) days: the mean time alive
      in H days when lifetimes are exponential and a share c of customers leave within H;
    - times `horizon_discount_factor`.
    """
    H = float(horizon_days)
    c = observed_churn_rate(frame, horizon_days) if churn_rate is None else churn_rate
    c = float(np.clip(c, 1e-9, 1.0 - 1e-9))
    orders = _column(frame, "n_orders", 0.0)
    aov = np.divide(_column(frame, "total_margin", 0.0), orders, out=np.zeros_like(orders), where=orders > 0)
    frequency = orders / np.maximum(_column(frame, "tenure_days", H), H)
    lifespan_days = H * c / -np.log1p(-c)
    return aov * frequency * lifespan_days * horizon_discount_factor(horizon_days, annual_discount_rate)


def last_period_ltv(
    frame: pl.DataFrame,
    horizon_days: int,
    annual_discount_rate: float,
    column: str = "margin_last_horizon",
) -> np.ndarray:
    """ "The last horizon repeats": margin of (cutoff - H, cutoff], discounted as if spread
    evenly over the next H days."""
    return _column(frame, column, 0.0) * horizon_discount_factor(horizon_days, annual_discount_rate)


def recency_churn_score(frame: pl.DataFrame, horizon_days: int) -> np.ndarray:
    """recency / (recency + typical inter-purchase time), in [0, 1).

    0.5 when the customer has been silent for one typical gap; towards 1 as the silence
    grows. The typical gap is the customer's own `ipt_mean`, else (one-order customers) the
    median `ipt_mean` of the frame, else `horizon_days`.
    """
    recency = np.maximum(_column(frame, "recency_days", horizon_days), 0.0)
    own_gap = _column(frame, "ipt_mean", np.nan)
    known = own_gap[np.isfinite(own_gap) & (own_gap > 0)]
    gap = np.where(np.isfinite(own_gap) & (own_gap > 0), own_gap, np.median(known) if known.size else horizon_days)
    return recency / (recency + gap)
