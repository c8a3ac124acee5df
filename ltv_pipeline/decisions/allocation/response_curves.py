"""Response curves: expected new customers per day of a paid channel vs its daily spend.

No single shape is assumed. Each channel is fitted with three forms (forms.py: saturating
exponential, power law without ceiling, S-shaped Hill), each with geometric adstock
carry-over (adstock.py), by Poisson maximum likelihood (fit.py); the forms are weighted
by how well they predict later days from earlier ones (select.py); shape and carry-over
are pooled across channels (pooling.py); and the result is a set of parameter draws
(draws.py), so the budget decision sees what the data do not pin down.

The baseline (customers attributed to the channel on days without spend) and weekday
factors are kept only when they lower the quasi-BIC of the exponential fit: they must
clearly help, not just fit noise; the other forms then use the same terms. No trend
term: the curve is fitted on the channel's whole history as given; a caller who expects
drift passes a shorter window.

A curve is *learned* when the history has enough days with spend, enough new customers,
and spend that really varies, and at least one form's fit converged. Otherwise `reason`
says what is missing in words a marketer can act on, and the channel keeps its spend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from ltv_pipeline.decisions.allocation.adstock import THETA_MAX, adstock, theta_of
from ltv_pipeline.decisions.allocation.draws import SEED, CurveDraws, draw_curves
from ltv_pipeline.decisions.allocation.fit import FormFit, Series, fit_form, level
from ltv_pipeline.decisions.allocation.forms import EXPONENTIAL, FORMS
from ltv_pipeline.decisions.allocation.pooling import pooled_posteriors
from ltv_pipeline.decisions.allocation.select import cv_scores, form_weights

SCALE_BOUNDS = (0.02, 50.0)
"""Spend scales are searched between 2% of the lowest and 50x the highest positive daily
spend: below, every observed spend is already saturated; above, the curve is a straight
line over everything observed."""
START_THETAS = (0.0, 0.3, 0.6, 0.85)


@dataclass(frozen=True)
class FitOptions:
    """When a curve counts as learnable. Defaults suit daily data over months to years."""

    min_spend_days: int = 60
    """Days with positive spend needed before a curve is fitted at all."""
    min_new_customers: int = 100
    """New customers (on days with spend) needed before a curve is fitted at all."""
    min_spend_cv: float = 0.1
    """Coefficient of variation of positive daily spend below which spend is 'flat'."""


@dataclass(frozen=True)
class CurveFit:
    """A channel's fitted forms, their weights and the data they rest on. Money is per day."""

    channel: str
    fits: dict[str, FormFit]
    weights: dict[str, float]
    """Validation weight of each form (sums to 1)."""
    unit: float
    """The channel's median positive daily spend: the fits' spend unit."""
    y_ref: float
    log_k: tuple[float, float]
    pseudo_r2: float
    """Deviance R^2 of the best-weighted form against a constant daily mean."""
    n_days: int
    n_spend_days: int
    new_customers: int
    observed_spend: tuple[float, float]
    """Lowest and highest positive daily spend in the history."""
    identified: bool
    reason: str
    """Why the curve cannot be used ('' when it can)."""
    draws: CurveDraws | None = field(default=None, compare=False)

    @property
    def best_form(self) -> str:
        return max(self.weights, key=self.weights.get) if self.weights else ""


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    ratio = np.where(y > 0, y / np.maximum(mu, 1e-300), 1.0)
    return float(2.0 * np.sum(y * np.log(ratio) - (y - mu)))


def _data_problem(spend: np.ndarray, y: np.ndarray, options: FitOptions) -> str:
    """Why the history is too thin or too flat to fit, or '' when it is fit for fitting."""
    positive = spend[spend > 0]
    if positive.size < options.min_spend_days:
        return f"only {positive.size} days with spend; a curve needs at least {options.min_spend_days}"
    customers = round(float(y[spend > 0].sum()))
    if customers < options.min_new_customers:
        return f"only {customers} new customers on days with spend; a curve needs at least {options.min_new_customers}"
    cv = float(positive.std() / positive.mean())
    if cv < options.min_spend_cv:
        return (f"daily spend hardly varies (about ${positive.mean():,.0f}/day, CV {cv:.0%}), so the history "
                "cannot show how new customers respond to spending more or less")
    return ""


def _start_u(s: Series, log_k: tuple[float, float]) -> float:
    """Adstock logit to start from: the carry-over whose exponential profile likelihood
    (closed form in the amplitude, on a grid of scales) is best."""
    best, best_u = np.inf, 0.0
    for theta in START_THETAS:
        z = adstock(s.x, theta)[0]
        shape = -np.expm1(-z[:, None] / np.exp(np.linspace(*log_k, 32))[None, :])
        amplitude = s.y.sum() / np.maximum(shape.sum(axis=0), 1e-300)
        nll = s.y.sum() - s.y @ np.log(np.maximum(amplitude * shape, 1e-300))
        if nll.min() < best:
            t = min(max(theta, 0.01), THETA_MAX - 0.01) / THETA_MAX
            best, best_u = float(nll.min()), float(np.log(t / (1.0 - t)))
    return best_u


def _terms(s: Series, start: np.ndarray, log_k: tuple[float, float]) -> tuple[bool, bool]:
    """(baseline, weekday) of the exponential variant with the lowest quasi-BIC. Customers
    on days without spend do not force a baseline: carry-over brings them too."""
    options = [(b, w) for b in (False, True) for w in (False, True)]
    variants = [fit_form(EXPONENTIAL, s, start, log_k, b, w) for b, w in options]
    dispersion = variants[-1].dispersion
    best = min(variants, key=lambda v: 2.0 * v.nll / dispersion + v.n_params * log(s.y.size))
    return best.baseline, best.weekday


def _not_learned(channel: str, spend: np.ndarray, y: np.ndarray, reason: str) -> CurveFit:
    positive = spend[spend > 0]
    observed = (float(positive.min()), float(positive.max())) if positive.size else (0.0, 0.0)
    return CurveFit(channel, {}, {}, float("nan"), float("nan"), (0.0, 0.0), float("nan"), int(spend.size),
                    int(positive.size), round(float(y[spend > 0].sum())), observed, False, reason)


def fit_response_curve(channel: str, spend: np.ndarray, new_customers: np.ndarray, weekday: np.ndarray,
                       options: FitOptions = FitOptions()) -> CurveFit:
    """Fit every form to one channel's aligned daily arrays (weekday 0 = Monday) and weight
    them by validation; no draws yet (they need the other channels, see `fit_response_curves`).

    BLAS is held to one thread meanwhile: the fits are many tiny vector operations, which
    multi-threaded BLAS slows down on a busy machine.
    """
    spend = np.asarray(spend, dtype=np.float64)
    y = np.asarray(new_customers, dtype=np.float64)
    problem = _data_problem(spend, y, options)
    if problem:
        return _not_learned(channel, spend, y, problem)
    positive = spend[spend > 0]
    unit = float(np.median(positive))
    s = Series(spend / unit, y, np.asarray(weekday, dtype=np.int64), float(y.mean()))
    log_k = (log(SCALE_BOUNDS[0] * positive.min() / unit), log(SCALE_BOUNDS[1] * positive.max() / unit))
    with threadpool_limits(limits=1, user_api="blas"):
        u = _start_u(s, log_k)
        z0 = adstock(s.x, theta_of(u)[0])[0]
        baseline, weekday_terms = _terms(s, np.r_[EXPONENTIAL.start(z0, y), u], log_k)
        fits = {f.name: fit_form(f, s, np.r_[f.start(z0, y), u], log_k, baseline, weekday_terms) for f in FORMS}
        fits = {n: f for n, f in fits.items() if f.converged and np.all(np.isfinite(f.info))}
        if not fits:
            return _not_learned(channel, spend, y, "the curve fit did not converge")
        best = min(fits.values(), key=lambda f: f.nll)
        weights = form_weights(cv_scores(fits, s, log_k), best.dispersion)
    top = fits[max(weights, key=weights.get)]
    mu = top.weekday_factors[s.weekday] * level(top.form, top.params, s, top.baseline)[0]
    null = _deviance(y, np.full_like(y, y.mean()))
    return CurveFit(channel, fits, weights, unit, s.y_ref, log_k, 1.0 - _deviance(y, mu) / null if null > 0 else float("nan"),
                    int(y.size), int(positive.size), round(float(y[spend > 0].sum())),
                    (float(positive.min()), float(positive.max())), True, "")


def with_draws(curves: dict[str, CurveFit], seed: int = SEED) -> dict[str, CurveFit]:
    """Pool each form's shape and carry-over across the learned channels, then draw."""
    learned = {c: f for c, f in curves.items() if f.identified}
    posteriors: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {c: {} for c in learned}
    for form in FORMS:
        having = {c: f.fits[form.name] for c, f in learned.items() if form.name in f.fits}
        if having:
            for c, post in pooled_posteriors(having).items():
                posteriors[c][form.name] = post
    rng = np.random.default_rng(seed)
    out = dict(curves)
    for c, f in learned.items():
        draws = draw_curves(f.fits, f.weights, posteriors[c], f.unit, f.y_ref, f.log_k, rng)
        out[c] = CurveFit(**{**f.__dict__, "draws": draws})
    return out


def fit_response_curves(panel: pl.DataFrame, options: FitOptions = FitOptions()) -> dict[str, CurveFit]:
    """One fit per channel of a `daily_panel` (columns date, channel, spend, new_customers),
    with pooled parameter draws for every learned channel."""
    frame = panel.with_columns((pl.col("date").dt.weekday() - 1).alias("weekday"))
    curves = {
        str(channel): fit_response_curve(str(channel), part["spend"].to_numpy(), part["new_customers"].to_numpy(),
                                         part["weekday"].to_numpy(), options)
        for (channel,), part in frame.sort("date").group_by("channel", maintain_order=True)
    }
    return with_draws(curves)
