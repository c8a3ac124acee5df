"""BG/NBD + Gamma-Gamma (and Pareto/NBD for purchase counts) fitted on `customer_features`
rows of one cutoff, and their predictions.

The features table already holds the sufficient statistics in days (frequency = repeat
purchase days, btyd_recency = t_x, tenure_days = T, btyd_monetary = mean margin of the
repeat purchase days), so the fit never touches order rows and stays small at any scale.

Acquisition channel is a static covariate: a channel with enough customers gets its own
BG/NBD (and Gamma-Gamma) where its likelihood beats the pooled parameters' by more than
BIC's penalty for the extra parameters, the stratified form of a latent-attrition model
with a categorical covariate. Channels bring customers who buy and leave at different
rates, and a pooled fit extends every channel's recent customers at the average rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.core.timing import span
from ltv_pipeline.prediction.boosted.sample import bounded_sample
from ltv_pipeline.prediction.btyd import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    clv_interval,
    discounted_clv,
    discounted_expected_transactions,
    expected_average_value,
    expected_next_purchase_days,
    expected_transactions,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
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
CHANNEL = "acquisition_channel"
MIN_CHANNEL_CUSTOMERS = 1000
"""A channel with fewer customers is predicted by the pooled fit."""
CHANNEL_FIT_CUSTOMERS = 200_000
"""A channel's own fit uses at most this many of its customers (a fixed hash sample): four
parameters are pinned far more tightly by this many than the channels differ."""


@dataclass(frozen=True)
class BtydModel:
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None
    """None when too few repeat buyers: value then falls back to the mean repeat value."""
    cutoff: date
    fallback_value: float
    """Mean margin per purchase day, used where Gamma-Gamma could not be fitted."""
    by_channel: Mapping[str, BtydModel] = field(default_factory=dict)
    """The channels whose own parameters fit their customers better than the pooled ones (by
    BIC); every other customer is predicted by the pooled parameters above."""

    def parameters(self, as_of: date) -> pl.DataFrame:
        """Rows for the contract's `model_parameters` table; a channel's own parameters under
        `bg_nbd:<channel>` / `gamma_gamma:<channel>`."""
        rows = []
        for suffix, model in [("", self), *((f":{c}", m) for c, m in sorted(self.by_channel.items()))]:
            rows += [(f"bg_nbd{suffix}", name, getattr(model.bgnbd, name)) for name in ("r", "alpha", "a", "b")]
            if model.gamma_gamma is not None:
                rows += [(f"gamma_gamma{suffix}", name, getattr(model.gamma_gamma, name)) for name in ("p", "q", "v")]
        return pl.DataFrame(
            [(as_of, model, name, float(value), TIME_UNIT) for model, name, value in rows],
            schema={"as_of": pl.Date, "model": pl.String, "parameter": pl.String, "value": pl.Float64, "time_unit": pl.String},
            orient="row",
        )

    def to_dict(self) -> dict:
        return {
            "bgnbd": asdict(self.bgnbd),
            "gamma_gamma": None if self.gamma_gamma is None else asdict(self.gamma_gamma),
            "cutoff": self.cutoff.isoformat(),
            "fallback_value": self.fallback_value,
            "by_channel": {c: m.to_dict() for c, m in self.by_channel.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> BtydModel:
        gg = d["gamma_gamma"]
        return cls(
            bgnbd=BgNbdParams(**d["bgnbd"]),
            gamma_gamma=None if gg is None else GammaGammaParams(**gg),
            cutoff=date.fromisoformat(d["cutoff"]),
            fallback_value=float(d["fallback_value"]),
            by_channel={c: cls.from_dict(m) for c, m in d.get("by_channel", {}).items()},
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
            with np.errstate(invalid="ignore", over="ignore"):  # a non-finite value raises below
                expected_transactions(params, horizon_days, x_u, tx_u, T_u)
            return params
        except FloatingPointError:
            continue
    raise FloatingPointError(f"BG/NBD could not be fitted to predict finitely even with penalizer {PENALIZERS[-1]}")


def _fit_pooled(frame: pl.DataFrame, horizon_days: int) -> BtydModel:
    x, t_x, T, m = _stats(frame)
    with span("bgnbd_fit"):
        bgnbd = _fit_bgnbd_robust(x, t_x, T, float(horizon_days))
    repeat = (x > 0) & (m > 0)
    with span("gamma_gamma_fit"):
        gg = fit_gamma_gamma(x[repeat], m[repeat]) if repeat.sum() >= MIN_REPEAT_CUSTOMERS else None
    fallback = float(frame["total_margin"].sum() / max(frame["n_purchase_days"].sum(), 1))
    return BtydModel(bgnbd=bgnbd, gamma_gamma=gg, cutoff=frame["cutoff_date"][0], fallback_value=fallback)


def _bic_prefers(own_ll: float, pooled_ll: float, n_params: int, n: float) -> bool:
    """Whether a channel's own parameters beat the pooled ones on its customers by more than
    BIC's penalty for `n_params` extra parameters."""
    return own_ll - pooled_ll > 0.5 * n_params * np.log(max(n, 2.0))


def _channel_model(pooled: BtydModel, rows: pl.DataFrame, horizon_days: int) -> BtydModel | None:
    """The channel's own fit where BIC prefers it for BG/NBD or Gamma-Gamma, else None."""
    try:
        own = _fit_pooled(rows, horizon_days)
    except (FloatingPointError, ValueError):
        return None
    x, t_x, T, m = _stats(rows)
    p = pooled.bgnbd
    own_bg = _bic_prefers(own.bgnbd.log_likelihood, bgnbd_log_likelihood(np.array([p.r, p.alpha, p.a, p.b]), x, t_x, T), 4, x.size)
    own_gg = False
    if own.gamma_gamma is not None and pooled.gamma_gamma is not None:
        g = pooled.gamma_gamma
        repeat = (x > 0) & (m > 0)
        pooled_ll = gamma_gamma_log_likelihood(np.array([g.p, g.q, g.v]), x[repeat], m[repeat])
        own_gg = _bic_prefers(own.gamma_gamma.log_likelihood, pooled_ll, 3, repeat.sum())
    if not (own_bg or own_gg):
        return None
    return replace(
        own,
        bgnbd=own.bgnbd if own_bg else pooled.bgnbd,
        gamma_gamma=own.gamma_gamma if own_gg else pooled.gamma_gamma,
        fallback_value=own.fallback_value if own_gg else pooled.fallback_value,
    )


def fit_btyd(frame: pl.DataFrame, horizon_days: int = 365) -> BtydModel:
    """Fit both models on one cutoff's rows (grouped sufficient statistics for BG/NBD), pooled
    and, where BIC prefers them, per acquisition channel."""
    pooled = _fit_pooled(frame, horizon_days)
    if CHANNEL not in frame.columns:
        return pooled
    counts = frame.group_by(CHANNEL).len().filter(pl.col(CHANNEL).is_not_null())
    large = counts.filter(pl.col("len") >= MIN_CHANNEL_CUSTOMERS)[CHANNEL].sort().to_list()
    if counts.height < 2 or not large:
        return pooled
    by_channel = {}
    with span("btyd_channel_fits"):
        for channel in large:
            rows = frame.filter(pl.col(CHANNEL) == channel)
            if rows.height > CHANNEL_FIT_CUSTOMERS:
                rows = bounded_sample(rows, CHANNEL_FIT_CUSTOMERS, seed=0)
            model = _channel_model(pooled, rows, horizon_days)
            if model is not None:
                by_channel[channel] = model
    return replace(pooled, by_channel=by_channel)


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
    """Per customer (in `frame`'s order): expected orders, revenue, discounted margin LTV (+80%
    interval), P(alive), churn, each from their channel's parameters where it has its own."""
    args = {"horizon_days": horizon_days, "annual_discount_rate": annual_discount_rate, "with_interval": with_interval}
    if not model.by_channel or CHANNEL not in frame.columns:
        return _predict_one(model, frame, **args)
    stratum = pl.when(pl.col(CHANNEL).is_in(list(model.by_channel))).then(pl.col(CHANNEL)).otherwise(None)
    parts = frame.with_row_index("_row").with_columns(stratum.alias("_stratum")).partition_by("_stratum", as_dict=True)
    pooled = replace(model, by_channel={})
    preds = [
        _predict_one(model.by_channel.get(key[0], pooled), rows, **args).with_columns(rows["_row"])
        for key, rows in parts.items()
    ]
    return pl.concat(preds).sort("_row").drop("_row")


def _predict_one(
    model: BtydModel, frame: pl.DataFrame, *, horizon_days: int, annual_discount_rate: float, with_interval: bool
) -> pl.DataFrame:
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

