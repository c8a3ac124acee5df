"""Scoring a feature frame with a trained model, a bounded chunk of rows at a time.

Only one chunk's float32 matrix and DMatrix exist at once, so memory is set by
`chunk_rows`, not by the customer base. A `LazyFrame` (e.g. `pl.scan_parquet` of the
feature table) is sliced and collected per chunk, so not even the input has to fit in
memory. Predictions are row-wise, so chunking never changes a result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl
import xgboost as xgb

from ltv_pipeline.prediction.boosted.artifact import BoostedModel
from ltv_pipeline.prediction.boosted.churn import predict_churn_matrix
from ltv_pipeline.prediction.boosted.design import design_matrix
from ltv_pipeline.prediction.boosted.ltv import predict_ltv_matrix
from ltv_pipeline.prediction.boosted.purchase_count import predict_orders_matrix

DEFAULT_CHUNK_ROWS = 200_000
KEY_COLUMNS = ("customer_id", "cutoff_date")


def iter_chunks(frame: pl.DataFrame | pl.LazyFrame, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Consecutive slices of at most `chunk_rows` rows (zero-copy for a DataFrame); an empty
    frame gives one empty chunk, so the output still has its columns."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    lazy = frame.lazy()
    n_rows = frame.height if isinstance(frame, pl.DataFrame) else lazy.select(pl.len()).collect().item()
    for offset in range(0, max(n_rows, 1), chunk_rows):
        yield (
            frame.slice(offset, chunk_rows)
            if isinstance(frame, pl.DataFrame)
            else lazy.slice(offset, chunk_rows).collect()
        )


def _score(
    model: BoostedModel,
    frame: pl.DataFrame | pl.LazyFrame,
    chunk_rows: int,
    columns: Callable[[dict[str, xgb.Booster], np.ndarray], dict[str, np.ndarray]],
) -> pl.DataFrame:
    boosters = model.load_boosters()
    parts = []
    for chunk in iter_chunks(frame, chunk_rows):
        keys = chunk.select([c for c in KEY_COLUMNS if c in chunk.columns])
        parts.append(keys.hstack(pl.DataFrame(columns(boosters, design_matrix(chunk, model.spec)))))
    return pl.concat(parts)


def predict_ltv(
    model: BoostedModel, frame: pl.DataFrame | pl.LazyFrame, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> pl.DataFrame:
    """`customer_id` (and `cutoff_date` if present) with `predicted_ltv`, `ltv_lower`, `ltv_upper`."""
    if model.target != "ltv":
        raise ValueError(f"predict_ltv needs an LTV model, got a {model.target} model")

    def columns(boosters: dict[str, xgb.Booster], x: np.ndarray) -> dict[str, np.ndarray]:
        point, lower, upper = predict_ltv_matrix(
            boosters, model.method, model.interval_offset, x, model.nthread, float(model.params.get("mean_scale", 1.0))
        )
        return {"predicted_ltv": point, "ltv_lower": lower, "ltv_upper": upper}

    return _score(model, frame, chunk_rows, columns)


def predict_churn(
    model: BoostedModel, frame: pl.DataFrame | pl.LazyFrame, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> pl.DataFrame:
    """`customer_id` (and `cutoff_date` if present) with `churn_probability`."""
    if model.target != "churn":
        raise ValueError(f"predict_churn needs a churn model, got a {model.target} model")

    def columns(boosters: dict[str, xgb.Booster], x: np.ndarray) -> dict[str, np.ndarray]:
        return {"churn_probability": predict_churn_matrix(boosters, x, model.nthread)}

    return _score(model, frame, chunk_rows, columns)


def predict_orders(
    model: BoostedModel, frame: pl.DataFrame | pl.LazyFrame, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> pl.DataFrame:
    """`customer_id` (and `cutoff_date` if present) with `predicted_orders`."""
    if model.target != "orders":
        raise ValueError(f"predict_orders needs an orders model, got a {model.target} model")

    def columns(boosters: dict[str, xgb.Booster], x: np.ndarray) -> dict[str, np.ndarray]:
        scale = float(model.params.get("mean_scale", 1.0))
        return {"predicted_orders": predict_orders_matrix(boosters, x, model.nthread) * scale}

    return _score(model, frame, chunk_rows, columns)
