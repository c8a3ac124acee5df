"""Parameter draws of a channel's steady-state response: the curves' uncertainty, carried
into the budget decision.

For each form, draws come from the pooled Gaussian posterior of its parameters (Laplace
approximation), clipped to the form's search box; the forms are mixed in proportion to
their validation weights. A draw's curve is the average day's response to spend held
level (adstock in its steady state, weekday factors averaged over the week), including
the baseline, so expected new customers are absolute; the baseline cancels from any
comparison of two spends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.decisions.allocation.fit import U_BOUNDS, FormFit

N_DRAWS = 200
SEED = 20240101
"""Fixed seed: the same data always give the same plan."""


@dataclass(frozen=True)
class CurveDraws:
    """Draws of one channel's curve. Money is per day, in dollars."""

    fits: tuple[FormFit, ...]
    """The form of each block of draws."""
    params: tuple[np.ndarray, ...]
    """Per form, (draws, parameters)."""
    unit: float
    """Dollars per spend unit of the fits (the channel's median positive daily spend)."""
    y_ref: float

    def new_customers(self, daily_spend: np.ndarray) -> np.ndarray:
        """Expected new customers per day, (draws, len(daily_spend))."""
        z = np.asarray(daily_spend, dtype=np.float64) / self.unit
        blocks = []
        for fit, p in zip(self.fits, self.params):
            g = fit.form.evaluate(z, p[:, : fit.form_size])[0]
            base = p[:, fit.form_size + 1, None] * self.y_ref if fit.baseline else 0.0
            blocks.append(float(fit.weekday_factors.mean()) * (g + base))
        return np.concatenate(blocks, axis=0)

    def marginal(self, daily_spend: np.ndarray) -> np.ndarray:
        """Extra new customers per extra dollar, (draws, len(daily_spend)), by central
        difference (every form is smooth where spend is positive)."""
        x = np.asarray(daily_spend, dtype=np.float64)
        h = np.maximum(1e-4 * x, 1e-6 * self.unit)
        return (self.new_customers(x + h) - self.new_customers(np.maximum(x - h, 0.0))) / (x + h - np.maximum(x - h, 0.0))


def _gaussian(rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, n: int) -> np.ndarray:
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return mean + rng.standard_normal((n, mean.size)) @ root.T


def draw_curves(fits: dict[str, FormFit], weights: dict[str, float], posteriors: dict[str, tuple[np.ndarray, np.ndarray]],
                unit: float, y_ref: float, log_k: tuple[float, float], rng: np.random.Generator,
                n_draws: int = N_DRAWS) -> CurveDraws:
    """Mix the forms' posterior draws by weight (largest remainder, every draw used)."""
    names = list(fits)
    share = np.array([weights[n] for n in names]) * n_draws
    counts = np.floor(share).astype(int)
    counts[np.argsort(counts - share)[: n_draws - counts.sum()]] += 1
    used, params = [], []
    for name, count in zip(names, counts):
        if count == 0:
            continue
        fit = fits[name]
        mean, cov = posteriors[name]
        box = np.array(fit.form.bounds(log_k) + [U_BOUNDS] + [(0.0, 50.0)] * fit.baseline)
        used.append(fit)
        params.append(np.clip(_gaussian(rng, mean, cov, int(count)), box[:, 0], box[:, 1]))
    return CurveDraws(tuple(used), tuple(params), unit, y_ref)
