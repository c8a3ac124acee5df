"""Split-conformal calibration of a published interval on held-out customers.

A model's own band (the BTYD Monte Carlo band, XGBoost's conformalised quantiles) is
calibrated where it was fitted; out of time, and with an atom of realised zeros that a band
starting at 0 always covers, its coverage drifts from the nominal level. The band is
therefore stretched or shrunk about the point estimate by one factor `t`, chosen on the
back-test's held-out customers (the ones the model never saw, one period later) so that
the stretched bands cover the nominal share of them:

    [point - t (point - lower), point + t (upper - point)].

The bands are nested in t, so the smallest t that covers a customer is a conformity score,
and its ceil((n + 1) level)-th smallest value gives coverage >= level on exchangeable new
customers (split conformal prediction); t < 1 lifts the lower end off 0 so that a share of
the non-buyers falls outside, which is what brings an over-covering band down to nominal.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

LEVEL = 0.8


def stretch_scores(actual: ArrayLike, point: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """Per customer, the smallest stretch t whose band contains the realised value (inf
    when the band has no width on the side the value fell)."""
    y, p, lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in (actual, point, lower, upper))
    lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    above, below = y > p, y < p
    scores = np.zeros(y.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores[above] = np.where(hi[above] > p[above], (y[above] - p[above]) / (hi[above] - p[above]), np.inf)
        scores[below] = np.where(lo[below] < p[below], (p[below] - y[below]) / (p[below] - lo[below]), np.inf)
    return scores


def conformal_stretch(
    actual: ArrayLike, point: ArrayLike, lower: ArrayLike, upper: ArrayLike, level: float = LEVEL
) -> float:
    """The split-conformal stretch factor for `level` coverage; 1.0 (the band as it is) when
    there are no held-out customers or the quantile is not finite."""
    scores = np.sort(stretch_scores(actual, point, lower, upper))
    if scores.size == 0:
        return 1.0
    rank = min(int(np.ceil((scores.size + 1) * level)), scores.size)
    t = float(scores[rank - 1])
    return t if np.isfinite(t) else 1.0


def stretch_band(
    point: ArrayLike, lower: ArrayLike, upper: ArrayLike, t: float
) -> tuple[np.ndarray, np.ndarray]:
    """The band stretched by `t` about the point; the lower end never goes below the smaller
    of the original lower end and 0 (a value cannot be lost beyond what refunds take)."""
    p, lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in (point, lower, upper))
    lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    new_lo = np.maximum(p - t * (p - lo), np.minimum(lo, 0.0))
    return new_lo, p + t * (hi - p)
