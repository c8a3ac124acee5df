"""The feature frame as the float32 matrix XGBoost reads, identically at training and scoring.

Numeric columns pass through as float32 with nulls as NaN, which XGBoost treats as missing
and routes down a learned default branch, so no imputation is needed. Categorical columns
are one-hot encoded on the levels seen at training time, most frequent first: XGBoost's
native categorical splits were several times slower per round on two threads, and the
categoricals here (acquisition channel) have few levels. A level unseen at training time
(or a null) encodes as all zeros, the same as "none of the known levels".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class FeatureSpec:
    """The columns a model reads and the categorical levels it was trained on."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    """Per categorical column (same order), the levels that get a one-hot column."""

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the matrix columns, `channel=organic` style for one-hot columns."""
        onehot = (
            f"{col}={level}" for col, levels in zip(self.categorical, self.levels, strict=True) for level in levels
        )
        return (*self.numeric, *onehot)

    def to_dict(self) -> dict[str, list]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "levels": [list(v) for v in self.levels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> FeatureSpec:
        return cls(tuple(data["numeric"]), tuple(data["categorical"]), tuple(tuple(v) for v in data["levels"]))


def _require(frame_columns: Sequence[str], wanted: Sequence[str]) -> None:
    missing = [c for c in wanted if c not in frame_columns]
    if missing:
        raise KeyError(f"feature columns missing from the frame: {missing}")


def fit_feature_spec(
    frame: pl.DataFrame,
    features: Sequence[str],
    categorical: Sequence[str] = ("acquisition_channel",),
    max_levels: int = 30,
) -> FeatureSpec:
    """Split `features` into numeric and categorical and record the categorical levels.

    Categorical columns named in `categorical` but absent from `features` are ignored, so the
    default works for feature lists without a channel. At most `max_levels` levels per column
    (the most frequent) get a column, which bounds the matrix width whatever the data holds.
    """
    _require(frame.columns, features)
    cats = tuple(c for c in features if c in set(categorical))
    numeric = tuple(c for c in features if c not in set(cats))
    levels = []
    for col in cats:
        counts = frame.get_column(col).cast(pl.String).drop_nulls().value_counts(name="n")
        top = counts.sort(["n", col], descending=[True, False]).head(max_levels)
        levels.append(tuple(top.get_column(col).to_list()))
    return FeatureSpec(numeric, cats, tuple(levels))


def design_matrix(frame: pl.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The (rows x `spec.columns`) float32 matrix of `frame`, NaN where a value is missing."""
    _require(frame.columns, (*spec.numeric, *spec.categorical))
    exprs = [pl.col(c).cast(pl.Float32) for c in spec.numeric]
    for col, levels in zip(spec.categorical, spec.levels, strict=True):
        value = pl.col(col).cast(pl.String)
        exprs += [(value == level).fill_null(False).cast(pl.Float32).alias(f"{col}={level}") for level in levels]
    if not exprs:
        raise ValueError("the feature list is empty")
    return frame.select(exprs).to_numpy(order="c").astype(np.float32, copy=False)
