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

A customer's value has an atom at 0: with probability churn_probability there is no order in
the horizon. Where that probability is at least (1 - level) / 2, the equal-tailed interval's
lower quantile is 0 whatever the model's band says, so the published band starts at 0 there
(`with_zero_atom`). The stretch is calibrated on that same final band: such a customer whose
realised value lies between 0 and the point is covered at every t (score 0), so the factor
is not spent lifting lower ends that the atom puts back at 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

LEVEL = 0.8


def zero_atom(churn_probability: ArrayLike, level: float = LEVEL) -> np.ndarray:
    """Customers whose probability of no order in the horizon is at least (1 - level) / 2:
    the lower end of their equal-tailed `level` interval is 0."""
    churn = np.asarray(churn_probability, dtype=np.float64).ravel()
    return np.nan_to_num(churn, nan=0.0) >= (1.0 - level) / 2.0


def with_zero_atom(lower: ArrayLike, upper: ArrayLike, atom: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The band with 0 inside it for the `atom` customers (lower end at most 0, upper end at
    least 0); other customers keep their band."""
    lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in (lower, upper))
    mask = np.asarray(atom, dtype=bool).ravel()
    return np.where(mask, np.minimum(lo, 0.0), lo), np.where(mask, np.maximum(hi, 0.0), hi)


def stretch_scores(
    actual: ArrayLike, point: ArrayLike, lower: ArrayLike, upper: ArrayLike, atom: ArrayLike | None = None
) -> np.ndarray:
    """Per customer, the smallest stretch t whose band (after `with_zero_atom` for the `atom`
    customers) contains the realised value (inf when the band has no width on the side the
    value fell)."""
    y, p, lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in (actual, point, lower, upper))
    lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    above, below = y > p, y < p
    scores = np.zeros(y.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores[above] = np.where(hi[above] > p[above], (y[above] - p[above]) / (hi[above] - p[above]), np.inf)
        scores[below] = np.where(lo[below] < p[below], (p[below] - y[below]) / (p[below] - lo[below]), np.inf)
    if atom is not None:
        # [min(lower, 0), max(upper, 0)] holds every value from 0 to the point at any t.
        mask = np.asarray(atom, dtype=bool).ravel()
        scores[mask & (y >= 0.0) & (y <= np.maximum(p, 0.0))] = 0.0
    return scores


def conformal_stretch(
    actual: ArrayLike,
    point: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    level: float = LEVEL,
    churn_probability: ArrayLike | None = None,
) -> float:
    """The split-conformal stretch factor for `level` coverage of the final band (with the
    zero atom where `churn_probability` is given); 1.0 (the band as it is) when there are no
    held-out customers or the quantile is not finite."""
    atom = None if churn_probability is None else zero_atom(churn_probability, level)
    scores = np.sort(stretch_scores(actual, point, lower, upper, atom))
    if scores.size == 0:
        return 1.0
    rank = min(int(np.ceil((scores.size + 1) * level)), scores.size)
    t = float(scores[rank - 1])
    return t if np.isfinite(t) else 1.0


def stretch_band(
    point: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    t: float,
    churn_probability: ArrayLike | None = None,
    level: float = LEVEL,
) -> tuple[np.ndarray, np.ndarray]:
    """The band stretched by `t` about the point; the lower end never goes below the smaller
    of the original lower end and 0 (a value cannot be lost beyond what refunds take). With
    `churn_probability`, the customers with an atom at 0 then get 0 inside their band."""
    p, lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in (point, lower, upper))
    lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    new_lo, new_hi = np.maximum(p - t * (p - lo), np.minimum(lo, 0.0)), p + t * (hi - p)
    if churn_probability is None:
        return new_lo, new_hi
    return with_zero_atom(new_lo, new_hi, zero_atom(churn_probability, level))
