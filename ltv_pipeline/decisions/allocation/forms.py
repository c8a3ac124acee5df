"""The response-curve forms: expected new customers per day as a function of (adstocked)
daily spend z, in units of the channel's median positive daily spend.

- exponential: m * (1 - exp(-z / k)), a ceiling m reached at the rate 1/k;
- power: a * z^b with 0 < b < 1, diminishing returns without any ceiling;
- hill: m * z^s / (k^s + z^s), S-shaped for s > 1 (a threshold before spend works),
  concave for s <= 1, ceiling m, half of it at z = k.

Each is written on unbounded or box-bounded transformed parameters (logs, a logit) so
Laplace draws stay inside each form's valid region. `evaluate` broadcasts: parameters
may carry a leading axis of draws against a grid of spends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit


def _safe_log(z: np.ndarray) -> np.ndarray:
    return np.log(np.where(z > 0, z, 1.0))


@dataclass(frozen=True)
class Form:
    name: str
    params: tuple[str, ...]
    """Transformed parameter names; the first is always the log of the amplitude."""
    shape: tuple[int, ...]
    """Indices of the shape parameters (pooled across channels); amplitude is not."""

    def bounds(self, log_k: tuple[float, float]) -> list[tuple[float, float]]:
        """Search box of the transformed parameters; `log_k` bounds any spend scale."""
        box = {"log_m": (-30.0, 30.0), "log_k": log_k, "logit_b": (-6.0, 6.0), "log_s": (np.log(0.3), np.log(6.0))}
        return [box[p] for p in self.params]

    def start(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A neutral start: scale at the median spend, b = 0.5, s = 1.5, amplitude matched to
        the mean count (its Poisson MLE for the other parameters fixed)."""
        guess = {"log_m": 0.0, "log_k": 0.0, "logit_b": 0.0, "log_s": np.log(1.5)}
        p = np.array([guess[name] for name in self.params])
        g = self.evaluate(z, p)[0]
        p[0] = np.log(max(y.sum(), 1.0) / max(g.sum(), 1e-12))
        return p

    def evaluate(self, z: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Curve g, its gradient in the parameters (last axis) and its derivative in z."""
        p = np.asarray(p, dtype=np.float64)
        m = np.exp(p[..., 0, None])
        if self.name == "exponential":
            k = np.exp(p[..., 1, None])
            e = np.exp(-z / k)
            g = m * -np.expm1(-z / k)
            return g, np.stack([g, -m * e * z / k], axis=-1), m * e / k
        if self.name == "power":
            b = expit(p[..., 1, None])
            zb = np.where(z > 0, np.exp(b * _safe_log(z)), 0.0)
            g = m * zb
            dz = np.where(z > 0, m * b * zb / np.where(z > 0, z, 1.0), 0.0)
            return g, np.stack([g, g * _safe_log(z) * b * (1.0 - b)], axis=-1), dz
        k, s = np.exp(p[..., 1, None]), np.exp(p[..., 2, None])
        log_ratio = _safe_log(z) - np.log(k)
        h = np.where(z > 0, expit(s * log_ratio), 0.0)
        g = m * h
        slope = m * h * (1.0 - h)
        dz = np.where(z > 0, slope * s / np.where(z > 0, z, 1.0), 0.0)
        return g, np.stack([g, -slope * s, slope * s * log_ratio], axis=-1), dz


EXPONENTIAL = Form("exponential", ("log_m", "log_k"), (1,))
POWER = Form("power", ("log_m", "logit_b"), (1,))
HILL = Form("hill", ("log_m", "log_k", "log_s"), (1, 2))
FORMS: tuple[Form, ...] = (EXPONENTIAL, POWER, HILL)
