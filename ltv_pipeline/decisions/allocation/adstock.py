"""Geometric adstock: the carry-over of past spend into today's response.

Each dollar keeps working after the day it is spent, decaying by `theta` per day:
a_t = x_t + theta * a_{t-1}. The fits use the normalised form (1 - theta) * a_t, which
equals x when spend holds level at x: a curve's spend parameters then keep their meaning
in dollars per day whatever the carry-over, and the steady-state response to a plan that
holds daily spend level is the curve itself at that spend. The series starts in the
steady state of its first day, so the first weeks are not read as a ramp-up.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

THETA_MAX = 0.9
"""Largest daily carry-over considered: a dollar's effect halving in about 6.6 days."""


def theta_of(u: float) -> tuple[float, float]:
    """theta = THETA_MAX * sigmoid(u) and d theta / d u: the fits search u, unbounded in
    principle, so every theta in (0, THETA_MAX) is reachable without a boundary."""
    s = 1.0 / (1.0 + np.exp(-u))
    return THETA_MAX * s, THETA_MAX * s * (1.0 - s)


def adstock(x: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalised adstock z_t = theta * z_{t-1} + (1 - theta) * x_t (z_{-1} = x_0) and its
    derivative in theta: dz_t = z_{t-1} - x_t + theta * dz_{t-1}."""
    z = lfilter([1.0 - theta], [1.0, -theta], x, zi=[theta * x[0]])[0]
    previous = np.concatenate([[x[0]], z[:-1]])
    dz = lfilter([1.0], [1.0, -theta], previous - x)
    return z, dz
