"""BG/NBD + Gamma-Gamma (and Pareto/NBD for purchase counts) fitted on `customer_features`
rows of one cutoff, and their predictions.

The features table already holds the sufficient statistics in days (frequency = repeat
purchase days, btyd_recency = t_x, tenure_days = T, btyd_monetary = mean margin of the
repeat purchase days), so the fit never touches order rows and stays small at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.core.timing import span
from ltv_pipeline.prediction.boosted.sample import bounded_sample
from ltv_pipeline.prediction.btyd import (
    BgNbdParams,
    GammaGammaParams,
    clv_interval,
    discounted_clv,
    discounted_expected_transactions,
    expected_average_value,
    expected_next_purchase_days,
    expected_transactions,
    fit_bgnbd,
    fit_gamma_gamma,
    group_sufficient_stats,
    p_alive,
)
from ltv_pipeline.prediction.btyd.pareto_nbd import (
    ParetoNbdParams,
    fit_pareto_nbd,
    pareto_nbd_expected_transactions,
)

TIME_UNIT = "day"
MIN_REPEAT_CUSTOMERS = 20
"""Gamma-Gamma needs repeat buyers with a positive mean value; below this it is skipped."""
LIKELY_ALIVE = 0.5
"""An expected next-order date is given only to customers at least this likely to be active."""
MAX_NEXT_ORDER_DAYS = 3650
"""Beyond ten years a "next order date" says nothing (degenerate fits on tiny data give inf)."""


@dataclass(frozen=True)
class BtydModel:
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None
    """None when too few repeat buyers: value then falls back to the mean repeat value."""
    cutoff: date
    fallback_value: float
    """Mean margin per purchase day, used where Gamma-Gamma could not be fitted."""

    def parameters(self, as_of: date) -> pl.DataFrame:
        """Rows for the contract's `model_parameters` table."""
        rows = [("bg_nbd", name, getattr(self.bgnbd, name)) for name in ("r", "alpha", "a", "b")]
        if self.gamma_gamma is not None:
            rows += [("gamma_gamma", name, getattr(self.gamma_gamma, name)) for name in ("p", "q", "v")]
        return pl.DataFrame(
            [(as_of, model, name, float(value), TIME_UNIT) for model, name, value in rows],
            schema={"as_of": pl.Date, "model": pl.String, "parameter": pl.String, "value": pl.Float64, "time_unit": pl.String},
            orient="row",
        )


def _stats(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["frequency"].cast(pl.Float64).to_numpy(),
        frame["btyd_recency"].cast(pl.Float64).to_numpy(),
        frame["tenure_days"].cast(pl.Float64).to_numpy(),
        frame["btyd_monetary"].cast(pl.Float64).fill_null(0).to_numpy(),
    )


PENALIZERS = (0.0, 0.001, 0.01, 0.1)
"""Tried in turn until the fit predicts finitely for every customer: a small or odd base can
drive the unpenalised maximum to a degenerate corner (a -> inf, b -> 0) where the expected
transactions formula has a pole; an L2 penalty on the log-parameters (as in `lifetimes`)
keeps it inside."""


def _fit_bgnbd_robust(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, horizon_days: float) -> BgNbdParams:
    x_u, tx_u, T_u, weights, _ = group_sufficient_stats(x, t_x, T)
    for penalizer in PENALIZERS:
        params = fit_bgnbd(x_u, tx_u, T_u, weights, time_unit=TIME_UNIT, penalizer=penalizer)
        try:
            expected_transactions(params, horizon_days, x_u, tx_u, T_u)
            return params
        except FloatingPointError:
            continue
    raise FloatingPointError(f"BG/NBD could not be fitted to predict finitely even with penalizer {PENALIZERS[-1]}")


def fit_btyd(frame: pl.DataFrame, horizon_days: int = 365) -> BtydModel:
    """Fit both models on one cutoff's rows (grouped sufficient statistics for BG/NBD)."""
    x, t_x, T, m = _stats(frame)
    with span("bgnbd_fit"):
        bgnbd = _fit_bgnbd_robust(x, t_x, T, float(horizon_days))
    repeat = (x > 0) & (m > 0)
    with span("gamma_gamma_fit"):
        gg = fit_gamma_gamma(x[repeat], m[repeat]) if repeat.sum() >= MIN_REPEAT_CUSTOMERS else None
    fallback = float(frame["total_margin"].sum() / max(frame["n_purchase_days"].sum(), 1))
    return BtydModel(bgnbd=bgnbd, gamma_gamma=gg, cutoff=frame["cutoff_date"][0], fallback_value=fallback)


PARETO_FIT_CUSTOMERS = 100_000
"""Pareto/NBD is fitted on at most this many customers (a fixed hash sample): its likelihood
needs a hypergeometric function per distinct row, and four parameters are pinned far more
tightly by this many customers than the model's own misfit moves them."""


def fit_pareto(frame: pl.DataFrame) -> ParetoNbdParams:
    """Pareto/NBD on one cutoff's rows (grouped sufficient statistics, bounded sample), with
    the same escalating penalty as BG/NBD when the unpenalised fit predicts non-finitely."""
    sample = frame if frame.height <= PARETO_FIT_CUSTOMERS else bounded_sample(frame, PARETO_FIT_CUSTOMERS, seed=0)
    x, t_x, T, _ = _stats(sample)
    x_u, tx_u, T_u, weights, _ = group_sufficient_stats(x, t_x, T)
    with span("pareto_nbd_fit"):
        for penalizer in PENALIZERS:
            params = fit_pareto_nbd(x_u, tx_u, T_u, weights, time_unit=TIME_UNIT, penalizer=penalizer)
            if np.all(np.isfinite(pareto_nbd_expected_transactions(params, 1.0, x_u, tx_u, T_u))):
                return params
    raise FloatingPointError(f"Pareto/NBD could not be fitted to predict finitely even with penalizer {PENALIZERS[-1]}")


def predict_pareto_orders(params: ParetoNbdParams, frame: pl.DataFrame, horizon_days: int) -> np.ndarray:
    """Pareto/NBD's expected purchase days over the next `horizon_days` for each row."""
    x, t_x, T, _ = _stats(frame)
    return pareto_nbd_expected_transactions(params, float(horizon_days), x, t_x, T)


def btyd_churn_probability(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """P(no purchase in the next `horizon`) = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+h))^(r+x)).

    An alive customer buys at rate lambda ~ Gamma(r + x, alpha + T) given the history, and
    cannot drop out without buying, so P(no purchase | alive) is the gamma mixture of
    exp(-lambda h).
    """
    no_purchase_if_alive = np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + horizon)))
    return 1.0 - p_alive(params, x, t_x, T) * (1.0 - no_purchase_if_alive)


def predict_btyd(
    model: BtydModel, frame: pl.DataFrame, *, horizon_days: int, annual_discount_rate: float, with_interval: bool = True
) -> pl.DataFrame:
    """Per customer: expected orders, revenue, discounted margin LTV (+80% interval), P(alive), churn."""
    x, t_x, T, m = _stats(frame)
    alive = p_alive(model.bgnbd, x, t_x, T)
    orders = expected_transactions(model.bgnbd, float(horizon_days), x, t_x, T)
    if model.gamma_gamma is not None:
        value = expected_average_value(model.gamma_gamma, x, m)
        ltv = discounted_clv(model.bgnbd, model.gamma_gamma, x, t_x, T, m, horizon_days, annual_discount_rate, TIME_UNIT)
    else:
        value = np.full(x.shape, model.fallback_value)
        ltv = value * discounted_expected_transactions(
            model.bgnbd, x, t_x, T, horizon_days, annual_discount_rate, TIME_UNIT
        )
    margin_share = (frame["total_margin"] / frame["total_net_revenue"]).fill_nan(None).fill_null(1.0).clip(0.05, 1.0)
    out = frame.select("customer_id").with_columns(
        pl.Series("predicted_orders", orders),
        pl.Series("predicted_revenue", orders * value / margin_share.to_numpy()),
        pl.Series("predicted_ltv", ltv),
        pl.Series("p_alive", alive),
        pl.Series("churn_probability", btyd_churn_probability(model.bgnbd, x, t_x, T, float(horizon_days))),
        pl.Series("next_order_days", expected_next_purchase_days(model.bgnbd, x, T)),
    )
    if with_interval and model.gamma_gamma is not None:
        lower, upper = clv_interval(
            model.bgnbd, model.gamma_gamma, x, t_x, T, m, horizon_days, annual_discount_rate, TIME_UNIT, point=ltv
        )
        out = out.with_columns(pl.Series("ltv_lower", lower), pl.Series("ltv_upper", upper))
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("ltv_lower"), pl.lit(None, pl.Float64).alias("ltv_upper"))
    return out


def next_order_date(cutoff: date, next_days: pl.Expr, alive: pl.Expr) -> pl.Expr:
    """Expected date of the next order, only for customers likely to be active."""
    usable = (alive >= LIKELY_ALIVE) & next_days.is_finite() & (next_days <= MAX_NEXT_ORDER_DAYS)
    days = pl.when(usable).then(next_days).round(0).cast(pl.Int64)
    return pl.when(usable).then(pl.lit(cutoff) + pl.duration(days=days))

