"""From a labelled feature frame to the matrices of the training, validation and calibration
customers: the one preparation step every booster of this package shares.

Customers are split by a hash of their id (every cutoff of a customer lands in the same
split, so validation never sees a customer the model trained on), and rows are ordered by
that hash: the matrices, and so the models, do not depend on the input's row order, and
any prefix of a split is a uniform sample of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.prediction.boosted.config import BoostConfig
from ltv_pipeline.prediction.boosted.design import FeatureSpec, design_matrix, fit_feature_spec
from ltv_pipeline.prediction.boosted.sample import hash_unit

# Added to the seed of the split hash so that it never coincides with a `bounded_sample`
# seed: a split drawn with the sample's own hash would put every sampled customer in one part.
_SPLIT_SALT = 0x5EED_0000_0000


@dataclass(frozen=True)
class TrainingData:
    spec: FeatureSpec
    training_cutoff: date
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_calib: np.ndarray
    y_calib: np.ndarray
    max_recency_days: float
    """The longest silence (days since the last order) of a customer the booster learns from."""

    def sizes(self) -> dict[str, float]:
        return {
            "n_train": float(self.y_train.size),
            "n_valid": float(self.y_valid.size),
            "n_calib": float(self.y_calib.size),
            "max_recency_days": self.max_recency_days,
        }


def prepare_training_data(
    frame: pl.DataFrame,
    features: Sequence[str],
    categorical: Sequence[str],
    label: str,
    config: BoostConfig,
) -> TrainingData:
    """Matrices split by customer; `training_cutoff` is the latest `cutoff_date` in the frame.

    Rows without a finite label are an error rather than silently dropped: the back-test
    builds labels only where the whole horizon is observed, so a missing one is a bug upstream.
    """
    for column in ("customer_id", "cutoff_date", label):
        if column not in frame.columns:
            raise KeyError(f"the training frame needs the column {column!r}")
    y = frame.get_column(label).cast(pl.Float64).to_numpy()
    if not np.all(np.isfinite(y)):
        raise ValueError(f"label {label!r} has null or non-finite values")
    spec = fit_feature_spec(frame, features, categorical)
    u = hash_unit(frame.get_column("customer_id"), config.seed + _SPLIT_SALT)
    order = np.argsort(u, kind="stable")
    x, y, u = design_matrix(frame, spec)[order], y[order], u[order]
    train, valid, calib = split_masks(u, config)
    if not (train.any() and valid.any() and calib.any()):
        raise ValueError(f"too few customers ({frame.get_column('customer_id').n_unique()}) to split for training")
    return TrainingData(
        spec=spec,
        training_cutoff=frame.get_column("cutoff_date").max(),
        x_train=x[train],
        y_train=y[train],
        x_valid=x[valid],
        y_valid=y[valid],
        x_calib=x[calib],
        y_calib=y[calib],
        max_recency_days=float(frame["recency_days"].max()) if "recency_days" in frame.columns else float("inf"),
    )


def split_masks(u: np.ndarray, config: BoostConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, calibration) masks from per-row uniform hash values `u`."""
    valid_end = config.validation_fraction + config.calibration_fraction
    if not (config.validation_fraction > 0.0 and config.calibration_fraction > 0.0 and valid_end < 1.0):
        raise ValueError("validation and calibration fractions must be positive and sum to less than 1")
    return u >= valid_end, u < config.validation_fraction, (u >= config.validation_fraction) & (u < valid_end)
