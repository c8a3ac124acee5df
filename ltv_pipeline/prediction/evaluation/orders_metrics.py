"""Back-test metrics for a predicted number of transactions (purchase days) over a window.

The published `predicted_orders` is summed into demand plans and compared customer by
customer with what happened, so both the total and the per-customer error count: MAE is the
champion rule's ranking metric, the total error and the correlations are reported beside it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ltv_pipeline.prediction.evaluation.ltv_metrics import spearman, total_error_pct


def pearson(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Linear correlation; NaN when either side is constant."""
    a, p = np.asarray(actual, dtype=np.float64).ravel(), np.asarray(predicted, dtype=np.float64).ravel()
    a, p = a - a.mean(), p - p.mean()
    denominator = np.sqrt(np.dot(a, a) * np.dot(p, p))
    return float(np.dot(a, p) / denominator) if denominator > 0 else float("nan")


def orders_metrics(actual: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """Every orders metric under its `model_evaluation` name."""
    a, p = np.asarray(actual, dtype=np.float64).ravel(), np.asarray(predicted, dtype=np.float64).ravel()
    if a.size != p.size or not (np.all(np.isfinite(a)) and np.all(np.isfinite(p))):
        raise ValueError("actual and predicted orders must be finite and of the same length")
    total = total_error_pct(a, p)
    return {
        "mae": float(np.mean(np.abs(p - a))) if a.size else float("nan"),
        "total_error_pct": total,
        "abs_total_error_pct": abs(total),
        "corr": pearson(a, p),
        "spearman": spearman(a, p),
        "n_customers": float(a.size),
    }


def paired_mae_gain(actual: ArrayLike, reference: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """How much lower `predicted`'s absolute errors are than `reference`'s on the same
    customers (`mae_gain`, positive = better), and the standard error of that mean
    difference (`mae_gain_se`): the noise a back-test's MAE ranking is subject to."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    diff = np.abs(np.asarray(reference, dtype=np.float64).ravel() - a) - np.abs(np.asarray(predicted, dtype=np.float64).ravel() - a)
    if diff.size < 2:
        return {"mae_gain": float("nan"), "mae_gain_se": float("nan")}
    return {"mae_gain": float(diff.mean()), "mae_gain_se": float(diff.std(ddof=1) / np.sqrt(diff.size))}
