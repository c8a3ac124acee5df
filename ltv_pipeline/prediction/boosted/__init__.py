"""XGBoost challengers: LTV (margin over the horizon, with an 80% interval) and churn.

Plain functions around XGBoost: train on a bounded, hash-chosen customer sample with early
stopping and fixed seeds, hand a self-describing `BoostedModel` artifact (bytes, no pickle)
to scoring, and score any number of customers in bounded-memory chunks.
"""

from ltv_pipeline.prediction.boosted.artifact import BoostedModel
from ltv_pipeline.prediction.boosted.churn import train_churn_model
from ltv_pipeline.prediction.boosted.config import BoostConfig
from ltv_pipeline.prediction.boosted.design import FeatureSpec, design_matrix, fit_feature_spec
from ltv_pipeline.prediction.boosted.ltv import (
    DEFAULT_LTV_METHOD,
    INTERVAL_LEVEL,
    LtvMethod,
    conformal_offset,
    train_ltv_model,
)
from ltv_pipeline.prediction.boosted.purchase_count import train_orders_model
from ltv_pipeline.prediction.boosted.sample import bounded_sample, customer_hash, hash_unit
from ltv_pipeline.prediction.boosted.score import DEFAULT_CHUNK_ROWS, iter_chunks, predict_churn, predict_ltv, predict_orders

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_LTV_METHOD",
    "INTERVAL_LEVEL",
    "BoostConfig",
    "BoostedModel",
    "FeatureSpec",
    "LtvMethod",
    "bounded_sample",
    "conformal_offset",
    "customer_hash",
    "design_matrix",
    "fit_feature_spec",
    "hash_unit",
    "iter_chunks",
    "predict_churn",
    "predict_ltv",
    "predict_orders",
    "train_churn_model",
    "train_ltv_model",
    "train_orders_model",
]
