"""Fitting one booster with early stopping, and moving boosters to and from bytes.

Every model of this package is one or more boosters trained the same way: on the training
customers, stopped when the validation customers' metric has not improved for
`early_stopping_rounds`, then cut to the best round so that the saved model is the one
that was validated (XGBoost's `predict` would otherwise use every tree it grew).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xgboost as xgb

from ltv_pipeline.prediction.boosted.config import BoostConfig


def fit_booster(
    params: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    config: BoostConfig,
) -> xgb.Booster:
    """Train with early stopping on (x_valid, y_valid); returns the booster cut to its best round.

    `QuantileDMatrix` bins the training matrix once, without keeping a second float copy,
    which is what keeps a 200k-row fit within a few hundred MB.
    """
    if y_train.size == 0 or y_valid.size == 0:
        raise ValueError("training and validation sets must both be non-empty")
    dtrain = xgb.QuantileDMatrix(x_train, y_train, max_bin=config.max_bin, nthread=config.nthread)
    dvalid = xgb.QuantileDMatrix(x_valid, y_valid, ref=dtrain, max_bin=config.max_bin, nthread=config.nthread)
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=config.max_rounds,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=config.early_stopping_rounds,
        verbose_eval=False,
    )
    return booster[: booster.best_iteration + 1]


def booster_to_bytes(booster: xgb.Booster) -> bytes:
    """XGBoost's own portable UBJSON model format (never pickle)."""
    return bytes(booster.save_raw(raw_format="ubj"))


def booster_from_bytes(raw: bytes, nthread: int) -> xgb.Booster:
    booster = xgb.Booster(model_file=bytearray(raw))
    booster.set_param({"nthread": nthread})
    return booster


def predict_boosters(boosters: Mapping[str, xgb.Booster], x: np.ndarray, nthread: int) -> dict[str, np.ndarray]:
    """Each booster's predictions on the response scale (a quantile booster gives an (n, k)
    block). `inplace_predict` reads the float32 matrix as it is, without a DMatrix: the same
    predictions (NaN is missing in both), and faster."""
    if x.shape[0] == 0:
        return {role: np.zeros(0, dtype=np.float32) for role in boosters}
    out = {}
    for role, booster in boosters.items():
        booster.set_param({"nthread": nthread})
        out[role] = booster.inplace_predict(x)
    return out
