"""XGBoost LTV: discounted margin over the next horizon, with an 80% prediction interval.

Most customers buy nothing in a horizon, so a plain squared-error regressor spends its
trees on the zeros. Two ways to model the zero mass are implemented:

- `two_part`: P(margin > 0) from a logistic booster times E[margin | margin > 0] from a
  `reg:gamma` booster (log link, fitted on buyers only), so each part sees a well-shaped
  target;
- `tweedie`: one `reg:tweedie` booster (variance power 1.5), a compound Poisson-gamma
  distribution with an exact zero mass.

`two_part` is the default: on held-out simulated customers it ranks at least as well as
Tweedie with a far smaller decile MAPE (docs/performance.md; `benchmarks/boosted_benchmark.py`
prints the comparison), and its `p_buy` part is the readable "will they buy again". Negative labels (refunds larger than the purchases) count as 0 for
the point models, which need non-negative targets; they are few and small.

The interval is conformalised quantile regression (Romano et al. 2019): one
`reg:quantileerror` booster predicts the 10% and 90% quantiles, and the band is moved out
(or in) by the conformal offset computed on the calibration customers, which guarantees at
least 80% coverage on new customers from the same distribution whatever the quantile
booster's errors; the back-test measures it out of time. Like the BTYD interval, it is an
interval for the customer's realised margin, not for the mean: where a realised 0 is likely
the band starts at 0 and covers every non-buyer, so coverage sits above 80% (the published
band is calibrated again out of time, prediction/evaluation/conformal.py). The band is finally widened to contain the point estimate
where the mean falls outside it (customers very unlikely to buy), which never lowers coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

import numpy as np
import polars as pl
import xgboost as xgb

from ltv_pipeline.core.version import code_version
from ltv_pipeline.prediction.boosted.artifact import BoostedModel
from ltv_pipeline.prediction.boosted.boost import booster_to_bytes, fit_booster, predict_boosters
from ltv_pipeline.prediction.boosted.config import DEFAULT_CONFIG, BoostConfig
from ltv_pipeline.prediction.boosted.training_data import TrainingData, prepare_training_data
from ltv_pipeline.prediction.evaluation.ltv_metrics import ltv_metrics

LtvMethod = Literal["two_part", "tweedie"]
DEFAULT_LTV_METHOD: LtvMethod = "two_part"
TWEEDIE_VARIANCE_POWER = 1.5
INTERVAL_LEVEL = 0.8


def _fit_point_boosters(data: TrainingData, method: LtvMethod, config: BoostConfig) -> dict[str, xgb.Booster]:
    if method == "tweedie":
        params = config.xgb_params(objective="reg:tweedie", tweedie_variance_power=TWEEDIE_VARIANCE_POWER)
        y_train, y_valid = np.maximum(data.y_train, 0.0), np.maximum(data.y_valid, 0.0)
        return {"tweedie": fit_booster(params, data.x_train, y_train, data.x_valid, y_valid, config)}
    if method != "two_part":
        raise ValueError(f"unknown LTV method {method!r}")
    buy_train, buy_valid = data.y_train > 0, data.y_valid > 0
    p_buy = fit_booster(
        config.xgb_params(objective="binary:logistic", eval_metric="logloss"),
        data.x_train,
        buy_train.astype(np.float32),
        data.x_valid,
        buy_valid.astype(np.float32),
        config,
    )
    spend = fit_booster(
        config.xgb_params(objective="reg:gamma"),
        data.x_train[buy_train],
        data.y_train[buy_train],
        data.x_valid[buy_valid],
        data.y_valid[buy_valid],
        config,
    )
    return {"p_buy": p_buy, "spend": spend}


def _fit_quantile_booster(data: TrainingData, level: float, config: BoostConfig) -> xgb.Booster:
    alphas = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
    params = config.xgb_params(
        objective="reg:quantileerror",
        quantile_alpha=alphas,
        eval_metric="quantile",
        eta=config.interval_learning_rate,
    )
    rows = slice(0, config.interval_max_rows)
    return fit_booster(params, data.x_train[rows], data.y_train[rows], data.x_valid, data.y_valid, config)


def conformal_offset(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> float:
    """The CQR correction: the ceil((n + 1) * level)-th smallest of max(lower - y, y - upper).

    Adding it to both ends gives coverage >= `level` on exchangeable new customers; it is
    negative when the raw quantile band is too wide.
    """
    scores = np.sort(np.maximum(lower - actual, actual - upper))
    rank = int(np.ceil((scores.size + 1) * level))
    return float(scores[min(rank, scores.size) - 1])


def _raw_predictions(
    boosters: Mapping[str, xgb.Booster], method: str, x: np.ndarray, nthread: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lower quantile, upper quantile) before the conformal offset."""
    out = {role: p.astype(np.float64) for role, p in predict_boosters(boosters, x, nthread).items()}
    point = out["p_buy"] * out["spend"] if method == "two_part" else out["tweedie"]
    bands = out["quantiles"].reshape(x.shape[0], 2)
    return point, np.minimum(bands[:, 0], bands[:, 1]), np.maximum(bands[:, 0], bands[:, 1])


def _interval(point: np.ndarray, lower: np.ndarray, upper: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """The quantile band moved out by `offset` (in by -offset, meeting in the middle at most),
    then widened where needed to contain the point estimate, which never lowers coverage."""
    lower, upper = lower - offset, upper + offset
    crossed, middle = lower > upper, (lower + upper) / 2.0
    lower, upper = np.where(crossed, middle, lower), np.where(crossed, middle, upper)
    return np.minimum(lower, point), np.maximum(upper, point)


def predict_ltv_matrix(
    boosters: Mapping[str, xgb.Booster],
    method: str,
    interval_offset: float,
    x: np.ndarray,
    nthread: int,
    mean_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predicted LTV, lower, upper) for the rows of a design matrix; `mean_scale` is the
    total calibration of the point estimate (`mean_calibration`)."""
    point, lower, upper = _raw_predictions(boosters, method, x, nthread)
    point = point * mean_scale
    return (point, *_interval(point, lower, upper, interval_offset))


def mean_calibration(actual: np.ndarray, predicted: np.ndarray) -> float:
    """sum(actual) / sum(predicted) on the calibration customers, within [0.5, 2].

    Boosters with a log link, shrunken leaves and early stopping need not reproduce the
    mean of their target, and budgets add predictions up: one factor makes the total right
    on customers the boosters never saw. The bounds keep a degenerate calibration set from
    doing harm."""
    total = float(np.sum(predicted))
    if total <= 0 or not np.isfinite(total):
        return 1.0
    return float(np.clip(np.sum(actual) / total, 0.5, 2.0))


def train_ltv_model(
    frame: pl.DataFrame,
    features: Sequence[str],
    *,
    horizon_days: int,
    as_of: date,
    method: LtvMethod = DEFAULT_LTV_METHOD,
    categorical: Sequence[str] = ("acquisition_channel",),
    label: str = "label_margin",
    config: BoostConfig = DEFAULT_CONFIG,
    interval_level: float = INTERVAL_LEVEL,
) -> BoostedModel:
    """Fit the LTV model on a labelled frame (pass a `bounded_sample` for large bases).

    `horizon_days` is the horizon `label` was built over; `as_of` is the run's date. The
    returned artifact's metrics are measured on the calibration customers.
    """
    data = prepare_training_data(frame, features, categorical, label, config)
    boosters = _fit_point_boosters(data, method, config)
    boosters["quantiles"] = _fit_quantile_booster(data, interval_level, config)
    point, raw_lower, raw_upper = _raw_predictions(boosters, method, data.x_calib, config.nthread)
    scale = mean_calibration(data.y_calib, point)
    point = point * scale
    offset = conformal_offset(data.y_calib, raw_lower, raw_upper, interval_level)
    lower, upper = _interval(point, raw_lower, raw_upper, offset)
    metrics = {
        **ltv_metrics(data.y_calib, point, lower, upper),
        **data.sizes(),
        **{f"rounds_{role}": float(b.num_boosted_rounds()) for role, b in boosters.items()},
    }
    return BoostedModel(
        target="ltv",
        method=method,
        boosters={role: booster_to_bytes(b) for role, b in boosters.items()},
        spec=data.spec,
        training_cutoff=data.training_cutoff,
        horizon_days=horizon_days,
        as_of=as_of,
        params={
            **config.to_dict(),
            "interval_level": interval_level,
            "mean_scale": scale,
            **({"tweedie_variance_power": TWEEDIE_VARIANCE_POWER} if method == "tweedie" else {}),
        },
        metrics=metrics,
        interval_offset=offset,
        code_version=code_version(),
    )
