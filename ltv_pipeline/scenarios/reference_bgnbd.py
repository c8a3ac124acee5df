"""Plain BG/NBD (Fader, Hardie & Lee 2005), fitted here by maximum likelihood: the reference
a published forecast is compared with on real data.

It is written from the paper's formulas and shares no code with the pipeline's own BTYD
models, so a comparison against it cannot pass because both sides carry the same bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, T) under BG/NBD with params (r, alpha, a, b)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BGNBD:
    """Maximum-likelihood r, alpha, a, b (optimised on the log scale, from the paper's start)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))

    def negative(log_params: np.ndarray) -> float:
        return -float(log_likelihood(np.exp(log_params), x, t_x, T).sum())

    start = np.log([1.0, max(float(T.mean()), 1.0), 1.0, 1.0])
    best = minimize(negative, start, method="Nelder-Mead",
                    options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20_000, "maxfev": 40_000})
    best = minimize(negative, best.x, method="L-BFGS-B")
    r, alpha, a, b = np.exp(best.x)
    return BGNBD(float(r), float(alpha), float(a), float(b), -float(best.fun))


def expected_transactions(model: BGNBD, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[transactions in (T, T + t] | x, t_x, T]: the paper's conditional expectation."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    repeat = x > 0
    odds = np.where(repeat, a / np.where(repeat, b + x - 1, 1.0) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return head * body / (1.0 + odds)
