"""Which curve form to believe: time-ordered cross-validation.

Rolling origin: each form is refitted on the history before an origin and scored by its
Poisson log-likelihood on the block after it, for the last few blocks of the history.
The sum over blocks estimates how well each form predicts days it has not seen, which
is what a budget decision relies on; in-sample fit would favour the most flexible form.
The forms are then averaged with weights proportional to exp(score / dispersion)
(pseudo Bayesian model averaging on the quasi-likelihood scale): a clear winner takes
nearly all the weight, close calls are shared.
"""

from __future__ import annotations

import numpy as np

from ltv_pipeline.decisions.allocation.fit import (
    FormFit,
    Series,
    fit_form,
    predictive_loglik,
)

FOLDS = 3
"""Validation blocks at the end of the history."""
MIN_TRAIN_SHARE = 0.5
"""No origin earlier than half the history: every fold trains on at least that much."""
MIN_BLOCK_DAYS = 28


def origins(n_days: int) -> list[tuple[int, int]]:
    """(origin, end) of each validation block, oldest first; empty for short histories."""
    block = max(MIN_BLOCK_DAYS, n_days // 8)
    folds = [(n_days - (FOLDS - i) * block, n_days - (FOLDS - i - 1) * block) for i in range(FOLDS)]
    return [(start, end) for start, end in folds if start >= MIN_TRAIN_SHARE * n_days]


def cv_scores(fits: dict[str, FormFit], s: Series, log_k: tuple[float, float]) -> dict[str, float]:
    """Out-of-time log-likelihood of each form, summed over the validation blocks; each
    fold's fit starts from the full-history fit (the start, not the data, is shared)."""
    scores = dict.fromkeys(fits, 0.0)
    for origin, end in origins(s.x.size):
        train, test = np.arange(origin), np.arange(origin, end)
        for name, full in fits.items():
            fold = fit_form(full.form, s, full.params[: full.form_size + 1], log_k, full.baseline, full.weekday, train)
            scores[name] += predictive_loglik(fold, s, test)
    return scores


def form_weights(scores: dict[str, float], dispersion: float) -> dict[str, float]:
    """Pseudo-BMA weights from the out-of-time scores (equal when nothing was scored)."""
    names = list(scores)
    z = np.array([scores[n] for n in names]) / max(dispersion, 1.0)
    w = np.exp(z - z.max())
    return dict(zip(names, (w / w.sum()).tolist()))
