"""Pooling across channels: shape and carry-over borrow strength from the other channels.

Per form, each channel's fit gives a Gaussian (Laplace) approximation of its likelihood
in the transformed parameters. The shape parameters (the form's scale and exponent, on
the scale of the channel's own typical spend) and the adstock logit get a normal prior
whose mean and spread are estimated from all channels (empirical Bayes, DerSimonian-
Laird between-channel variance); the amplitude and baseline stay each channel's own.
The posterior is the exact Gaussian update, so a thin channel whose own data hardly
place its bend is pulled toward the others, while a well-measured one barely moves.
"""

from __future__ import annotations

import numpy as np

from ltv_pipeline.decisions.allocation.fit import FormFit

MIN_PRIOR_SD = 0.5
"""Floor of the between-channel spread (transformed units): with a handful of channels
the variance estimate is noisy, and a zero would force every channel onto one shape."""
LONE_PRIOR_SD = 2.0
"""Prior spread around a lone channel's own estimate: conditioning only, no shrinkage."""


def _between(estimates: np.ndarray, variances: np.ndarray) -> tuple[float, float]:
    """DerSimonian-Laird mean and variance of the channels' true values of one parameter."""
    w = 1.0 / variances
    mean_fe = float(w @ estimates / w.sum())
    q = float(w @ (estimates - mean_fe) ** 2)
    tau2 = max(0.0, (q - (estimates.size - 1)) / max(w.sum() - (w**2).sum() / w.sum(), 1e-12))
    tau2 = max(tau2, MIN_PRIOR_SD**2)
    wt = 1.0 / (variances + tau2)
    return float(wt @ estimates / wt.sum()), tau2


def pooled_posteriors(fits: dict[str, FormFit]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """channel -> (posterior mean, covariance) of one form's parameters."""
    first = next(iter(fits.values()))
    pooled = [*first.form.shape, first.form_size]
    covs = {c: np.linalg.pinv(f.info) for c, f in fits.items()}
    prior_mean, prior_var = {}, {}
    for j in pooled:
        est = np.array([f.params[j] for f in fits.values()])
        var = np.array([max(covs[c][j, j], 1e-8) for c in fits])
        if len(fits) >= 2:
            prior_mean[j], prior_var[j] = _between(est, np.minimum(var, 1e6))
    out = {}
    for c, f in fits.items():
        precision = np.zeros_like(f.info)
        target = f.params.copy()
        for j in pooled:
            mean, var = (prior_mean[j], prior_var[j]) if prior_mean else (f.params[j], LONE_PRIOR_SD**2)
            precision[j, j], target[j] = 1.0 / var, mean
        post_precision = f.info + precision
        cov = np.linalg.pinv(post_precision)
        cov = 0.5 * (cov + cov.T)
        out[c] = (cov @ (f.info @ f.params + precision @ target), cov)
    return out
