"""The accuracy targets a scenario run is judged by, and by how much a miss misses.

A model's LTV ranking, churn separation and allocation gain are judged against the
observable ceiling (the best any model can do from the landing zone; for the allocation,
the best plan that holds channels whose curve no data shows at their current spend) where
the truth has one, otherwise against the oracle; totals, calibration and coverage against
fixed bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

SPEARMAN_SHARE = 0.90
TOTAL_ERROR_PCT = 10.0
DECILE_MAPE = 0.15
CHURN_AUC_GAP = 0.03
COVERAGE = (0.75, 0.85)
LARGE_BASE = 100_000
ALLOCATION_GAIN = {"small": 0.80, "large": 0.95}


@dataclass(frozen=True)
class Verdict:
    target: str
    """The bound, in words and numbers, e.g. `>= 0.90 x 0.734 = 0.661`."""
    passed: bool | None
    """None when the measure or its reference is missing."""
    miss: str
    """By how much a failed target is missed ('' when passed)."""


def _at_least(value: float, bound: float, text: str) -> Verdict:
    if not (math.isfinite(value) and math.isfinite(bound)):
        return Verdict(text, None, "")
    return Verdict(text, value >= bound, "" if value >= bound else f"short by {bound - value:.3f}")


def _within(value: float, low: float, high: float, text: str, unit: str = "") -> Verdict:
    if not math.isfinite(value):
        return Verdict(text, None, "")
    if value < low:
        return Verdict(text, False, f"{low - value:.3g}{unit} below")
    if value > high:
        return Verdict(text, False, f"{value - high:.3g}{unit} above")
    return Verdict(text, True, "")


def reference(measures: Mapping[str, Mapping[str, float]], name: str) -> float:
    """The ceiling's figure for `name` where there is one, else the oracle's, else NaN."""
    for who in ("ceiling", "oracle"):
        value = measures.get(who, {}).get(name, math.nan)
        if math.isfinite(value):
            return value
    return math.nan


def judge(name: str, value: float, measures: Mapping[str, Mapping[str, float]], customers: int) -> Verdict | None:
    """The verdict on one model measure, or None when the measure has no target."""
    if name == "ltv_spearman":
        bound = SPEARMAN_SHARE * reference(measures, name)
        return _at_least(value, bound, f">= {SPEARMAN_SHARE:.2f} x ceiling = {bound:.3f}")
    if name in ("ltv_total_error_pct", "revenue_total_error_pct", "orders_total_error_pct"):
        return _within(value, -TOTAL_ERROR_PCT, TOTAL_ERROR_PCT, f"within +-{TOTAL_ERROR_PCT:.0f}%", " pts")
    if name == "ltv_decile_mape":
        if not math.isfinite(value):
            return Verdict(f"<= {DECILE_MAPE:.2f}", None, "")
        return Verdict(f"<= {DECILE_MAPE:.2f}", value <= DECILE_MAPE, "" if value <= DECILE_MAPE else f"over by {value - DECILE_MAPE:.3f}")
    if name == "churn_auc":
        bound = reference(measures, name) - CHURN_AUC_GAP
        return _at_least(value, bound, f">= ceiling - {CHURN_AUC_GAP:.2f} = {bound:.3f}")
    if name == "interval_coverage":
        return _within(value, *COVERAGE, f"{COVERAGE[0]:.2f}-{COVERAGE[1]:.2f}")
    if name == "allocation_gain":
        share = ALLOCATION_GAIN["large" if customers >= LARGE_BASE else "small"]
        bound = share * reference(measures, name)
        return _at_least(value, bound, f">= {share:.2f} x ceiling = {bound:.3f}")
    if name == "scored_fraction":
        return _at_least(value, 1.0, "= 1")
    return None
