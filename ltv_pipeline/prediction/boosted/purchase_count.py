"""XGBoost purchase counts: the expected number of purchase days in the next label window.

A `count:poisson` booster (log link) on the same features as the LTV and churn models,
the BTYD model's own expectations among them, so it is the hybrid that corrects BG/NBD
where the business does not follow it (seasonality, purchase rates that decay with
tenure, dissatisfaction that shows in tickets). Like the LTV model its total is calibrated
on the calibration customers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import polars as pl
import xgboost as xgb

from ltv_pipeline.core.version import code_version
from ltv_pipeline.prediction.boosted.artifact import BoostedModel
from ltv_pipeline.prediction.boosted.boost import booster_to_bytes, fit_booster, predict_boosters
from ltv_pipeline.prediction.boosted.config import DEFAULT_CONFIG, BoostConfig
from ltv_pipeline.prediction.boosted.ltv import mean_calibration
from ltv_pipeline.prediction.boosted.training_data import prepare_training_data
from ltv_pipeline.prediction.evaluation.orders_metrics import orders_metrics


def predict_orders_matrix(boosters: Mapping[str, xgb.Booster], x: np.ndarray, nthread: int) -> np.ndarray:
    """Expected purchase days for the rows of a design matrix, before the total calibration."""
    return predict_boosters(boosters, x, nthread)["orders"].astype(np.float64)


def train_orders_model(
    frame: pl.DataFrame,
    features: Sequence[str],
    *,
    horizon_days: int,
    as_of: date,
    categorical: Sequence[str] = ("acquisition_channel",),
    label: str = "label_orders",
    config: BoostConfig = DEFAULT_CONFIG,
) -> BoostedModel:
    """Fit the purchase-count regressor on a labelled frame (`label` = purchase days in the window)."""
    data = prepare_training_data(frame, features, categorical, label, config)
    if np.any(data.y_train < 0):
        raise ValueError(f"label {label!r} must be a non-negative count")
    params = config.xgb_params(objective="count:poisson", eval_metric="poisson-nloglik")
    booster = fit_booster(params, data.x_train, data.y_train, data.x_valid, data.y_valid, config)
    raw = predict_orders_matrix({"orders": booster}, data.x_calib, config.nthread)
    scale = mean_calibration(data.y_calib, raw)
    return BoostedModel(
        target="orders",
        method="poisson",
        boosters={"orders": booster_to_bytes(booster)},
        spec=data.spec,
        training_cutoff=data.training_cutoff,
        horizon_days=horizon_days,
        as_of=as_of,
        params={**config.to_dict(), "mean_scale": scale},
        metrics={
            **orders_metrics(data.y_calib, raw * scale),
            **data.sizes(),
            "rounds_orders": float(booster.num_boosted_rounds()),
        },
        interval_offset=0.0,
        code_version=code_version(),
    )
