"""The champion rule: which model's predictions go into `customer_scores`. Documented here only.

For each target, on one back-test:

- **ltv**: the candidate with the highest `normalized_gini`, among the candidates whose
  `spearman` is strictly higher than the best baseline's (the Gini of a baseline that
  predicts 0 for most customers is carried by a few large values, so it is no bar on small
  bases), and whose `abs_total_error_pct` (how far the predicted total is from the actual
  total) is not higher than the best baseline's or than `TOTAL_ERROR_TOLERANCE` percent:
  budget and retention decisions add customer values up, so a model that ranks well but gets
  the total badly wrong must not drive them; a total within the tolerance is good enough,
  so a baseline whose total happens to land closer (a naive repeat of the last period when
  seasonality and decay cancel out over one window) does not bar a better-ranking model.
- **churn**: the candidate with the highest `roc_auc`, among the candidates whose `roc_auc`
  is strictly higher than the best baseline's and whose `brier` is not higher than the best
  (lowest) baseline's.
- **orders**: the candidate with the lowest `mae` of predicted vs realised purchase days,
  among the candidates whose `abs_total_error_pct` is within `TOTAL_ERROR_TOLERANCE` or
  no worse than the best candidate's (there is no orders baseline): a count that is right
  customer by customer on average but far off in sum would disagree with the LTV and
  revenue that budgets add up. While BG/NBD (the reference: the model without a `mae_gain`)
  is eligible, another candidate must lower the MAE by more than `NOISE_SE` paired
  standard errors (`mae_gain` > `NOISE_SE` x `mae_gain_se`, on the same customers): on a
  few thousand customers a flexible model can win a back-test by noise and lose on the
  next horizon, and the simpler model is kept then.

Totals over the whole horizon: when the back-test's window is shorter than the horizon
(a short history) and the `evaluate` cutoff's horizon-long labels exist, the results also
carry `horizon_<metric>` figures measured on those labels (training.py says how), and the
total-error bars read them instead of the window's: a window of half a year cannot judge a
year's total when sales follow the seasons or fall with customer age, while the ranking
metrics stay out of time on the window, which is what catches a model that ignores drift.

A candidate is any model whose name does not start with `baseline_`. A candidate missing a
metric of its rule (NaN or absent) is never eligible. When no candidate is eligible (the
models lose to a baseline), the baseline with the highest ranking metric is the champion,
and `model_evaluation` says so by flagging it. A metric that no baseline has places no bar,
except the total error, whose bar is then the tolerance or the best candidate's, whichever
is looser.
Ties go to the model name first in alphabetical order, so the choice is deterministic.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Target = Literal["ltv", "churn", "orders"]
BASELINE_PREFIX = "baseline_"


@dataclass(frozen=True)
class ChampionRule:
    rank_by: str
    """Picks among the eligible models: higher is better unless `lower_is_better`."""
    must_beat: tuple[str, ...]
    """Higher-is-better metrics on which a candidate must strictly beat the best baseline."""
    not_worse_than: tuple[str, ...]
    """Lower-is-better metrics on which a candidate may not be worse than the best baseline."""
    lower_is_better: bool = False
    paired_gain: str | None = None
    """A `<name>` / `<name>_se` pair of metrics: while the reference model (the eligible one
    without them) is eligible, another must show a gain above `NOISE_SE` standard errors."""


NOISE_SE = 2.0
"""Paired standard errors by which an orders candidate must beat the reference's MAE."""
TOTAL_ERROR_TOLERANCE = 10.0
"""An LTV candidate's abs total error (percent) within this passes the baseline bar."""
BAR_FLOORS: dict[str, float] = {"abs_total_error_pct": TOTAL_ERROR_TOLERANCE}
"""Lower-is-better bars never stricter than these values."""

RULES: dict[str, ChampionRule] = {
    "ltv": ChampionRule("normalized_gini", ("spearman",), ("abs_total_error_pct",)),
    "churn": ChampionRule("roc_auc", ("roc_auc",), ("brier",)),
    "orders": ChampionRule("mae", (), ("mae", "abs_total_error_pct"), lower_is_better=True, paired_gain="mae_gain"),
}


HORIZON_PREFIX = "horizon_"
"""Figures over the whole horizon where the back-test's window is shorter (see above)."""


def is_baseline(model: str) -> bool:
    return model.startswith(BASELINE_PREFIX)


def _value(metrics: Mapping[str, float], name: str) -> float:
    value = float(metrics.get(name, math.nan))
    return value if math.isfinite(value) else math.nan


def _clears(value: float, bar: float, better: Callable[[float, float], bool]) -> bool:
    """A finite value clears a bar it is better than, or a NaN bar (no baseline has the metric)."""
    return not math.isnan(value) and (math.isnan(bar) or better(value, bar))


def pick_champion(results: Mapping[str, Mapping[str, float]], target: Target) -> str | None:
    """The champion among `results` (model -> metric -> value, one target); None when no
    model has a finite ranking metric."""
    rule = RULES[target]
    baselines = [m for m in sorted(results) if is_baseline(m)]
    candidates = [m for m in sorted(results) if not is_baseline(m)]

    def best(models: list[str], metric: str, pick: Callable[[list[float]], float]) -> float:
        values = [v for m in models if not math.isnan(v := _value(results[m], metric))]
        return pick(values) if values else math.nan

    def judged_on(metric: str) -> str:
        """The horizon-long figure of a total-error bar where the results carry it."""
        horizon = HORIZON_PREFIX + metric
        if metric in BAR_FLOORS and any(not math.isnan(_value(results[m], horizon)) for m in candidates):
            return horizon
        return metric

    def low_bar(metric: str) -> float:
        bar = best(baselines, metric, min)
        floor = BAR_FLOORS.get(metric.removeprefix(HORIZON_PREFIX))
        if floor is None:
            return bar
        if math.isnan(bar):
            bar = best(candidates, metric, min)
        return bar if math.isnan(bar) else max(bar, floor)

    highs = {metric: best(baselines, metric, max) for metric in rule.must_beat}
    lows = {metric: low_bar(metric) for metric in map(judged_on, rule.not_worse_than)}

    def eligible(model: str) -> bool:
        metrics = results[model]
        return (
            not math.isnan(_value(metrics, rule.rank_by))
            and all(_clears(_value(metrics, k), bar, operator.gt) for k, bar in highs.items())
            and all(_clears(_value(metrics, k), bar, operator.le) for k, bar in lows.items())
        )

    def beyond_noise(model: str, gain_metric: str) -> bool:
        gain = _value(results[model], gain_metric)
        return math.isnan(gain) or gain > NOISE_SE * _value(results[model], f"{gain_metric}_se")

    pool = [m for m in candidates if eligible(m)]
    if rule.paired_gain and any(math.isnan(_value(results[m], rule.paired_gain)) for m in pool):
        pool = [m for m in pool if beyond_noise(m, rule.paired_gain)]
    pool = pool or [
        m for m in baselines if not math.isnan(_value(results[m], rule.rank_by))
    ]
    sign = -1.0 if rule.lower_is_better else 1.0
    return max(pool, key=lambda m: sign * _value(results[m], rule.rank_by)) if pool else None
