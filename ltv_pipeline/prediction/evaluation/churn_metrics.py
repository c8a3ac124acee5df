"""Back-test metrics for a churn probability against the realised churn flag (1 = churned).

ROC-AUC and PR-AUC measure ranking (PR-AUC is the one that moves when churners are rare);
the Brier score and the expected calibration error measure whether the probabilities can
be used as probabilities, which retention's value-at-risk (LTV x P(churn)) relies on.
Written with numpy so they agree with scikit-learn's definitions (the tests check that)
without making the pipeline depend on its private tie handling.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from scipy.stats import rankdata

N_CALIBRATION_BINS = 10


def _pair(churned: ArrayLike, probability: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(churned, dtype=np.float64).ravel()
    p = np.asarray(probability, dtype=np.float64).ravel()
    if y.size != p.size:
        raise ValueError(f"churned has {y.size} values but probability has {p.size}")
    if not (np.all(np.isfinite(p)) and np.all((y == 0) | (y == 1))):
        raise ValueError("churned must be 0/1 and probability finite")
    return y, p


def roc_auc(churned: ArrayLike, probability: ArrayLike) -> float:
    """P(a churner scores above a non-churner), ties counting one half (Mann-Whitney U)."""
    y, p = _pair(churned, probability)
    positives, negatives = y.sum(), y.size - y.sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = rankdata(p)[y == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def pr_auc(churned: ArrayLike, probability: ArrayLike) -> float:
    """Average precision: sum over distinct thresholds of (recall step) x precision."""
    y, p = _pair(churned, probability)
    positives = y.sum()
    if positives == 0:
        return float("nan")
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    threshold_end = np.r_[np.flatnonzero(p_sorted[1:] != p_sorted[:-1]), p_sorted.size - 1]
    true_pos = np.cumsum(y_sorted)[threshold_end]
    precision = true_pos / (threshold_end + 1.0)
    recall_step = np.diff(np.r_[0.0, true_pos / positives])
    return float(np.sum(recall_step * precision))


def brier(churned: ArrayLike, probability: ArrayLike) -> float:
    y, p = _pair(churned, probability)
    return float(np.mean((p - y) ** 2)) if y.size else float("nan")


def expected_calibration_error(churned: ArrayLike, probability: ArrayLike) -> float:
    """Customer-weighted mean |mean probability - churn rate| over 10 equal-width bins of [0, 1]."""
    y, p = _pair(churned, probability)
    if y.size == 0:
        return float("nan")
    bins = np.clip((p * N_CALIBRATION_BINS).astype(np.int64), 0, N_CALIBRATION_BINS - 1)
    gap = np.bincount(bins, weights=p, minlength=N_CALIBRATION_BINS) - np.bincount(
        bins, weights=y, minlength=N_CALIBRATION_BINS
    )
    return float(np.abs(gap).sum() / y.size)


def churn_metrics(churned: ArrayLike, probability: ArrayLike) -> dict[str, float]:
    """Every churn metric under its `model_evaluation` name."""
    y, p = _pair(churned, probability)
    return {
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p),
        "churn_rate": float(y.mean()) if y.size else float("nan"),
        "n_customers": float(y.size),
    }


def calibration_table(churned: ArrayLike, probability: ArrayLike, bins: int = 10) -> pl.DataFrame:
    """`bin, predicted_mean, observed_rate, customers` over equal-width probability bins (empty bins dropped)."""
    y, p = _pair(churned, probability)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    frame = pl.DataFrame({"bin": index, "p": p, "y": y})
    return (
        frame.group_by("bin")
        .agg(pl.col("p").mean().alias("predicted_mean"), pl.col("y").mean().alias("observed_rate"), pl.len().alias("customers"))
        .sort("bin")
    )
