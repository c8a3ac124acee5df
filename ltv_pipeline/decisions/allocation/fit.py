"""Poisson maximum likelihood of one curve form with adstock, an optional baseline and
optional weekday factors, on one channel's daily series.

Parameters: the form's own (forms.py), then u with adstock theta = 0.9 * sigmoid(u),
then the baseline (new customers per day the channel gets without spend, in units of
the mean daily count) when kept. Weekday factors are profiled out in closed form: for
fixed curve levels L_t the Poisson MLE of a weekday's factor is its customers over the
sum of its L_t, so they cost no search dimension. The information matrix is the
profile one (weekday factors' own uncertainty removed) inflated by the Pearson
dispersion (quasi-Poisson), so over-dispersed data do not look better known than they
are. `rows` restricts the likelihood to a window (rolling-origin validation); the
adstock always runs over the whole series, which is causal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from ltv_pipeline.decisions.allocation.adstock import adstock, theta_of
from ltv_pipeline.decisions.allocation.forms import Form

U_BOUNDS = (-12.0, 5.0)
"""Search box of the adstock logit: theta from 6e-6 (none: a pause brings no customers
through the curve) to 0.894."""


@dataclass(frozen=True)
class Series:
    x: np.ndarray
    """Daily spend in units of the median positive daily spend (keeps the fit well scaled)."""
    y: np.ndarray
    weekday: np.ndarray
    """0 = Monday .. 6 = Sunday."""
    y_ref: float
    """Mean daily count: the baseline's unit."""


@dataclass(frozen=True)
class FormFit:
    form: Form
    params: np.ndarray
    baseline: bool
    weekday: bool
    nll: float
    """Full Poisson negative log-likelihood on the fitted rows."""
    info: np.ndarray
    """Profile Fisher information of `params`, divided by the dispersion."""
    weekday_factors: np.ndarray
    """Seven multipliers of the curve level (all 1 without weekday factors)."""
    dispersion: float
    converged: bool

    @property
    def n_params(self) -> int:
        return self.params.size + 6 * self.weekday

    @property
    def theta(self) -> float:
        return float(theta_of(self.params[self.form_size])[0])

    @property
    def form_size(self) -> int:
        return len(self.form.params)


def level(form: Form, p: np.ndarray, s: Series, baseline: bool) -> tuple[np.ndarray, np.ndarray]:
    """Curve level L_t = baseline + g(adstock) and its Jacobian in the parameters."""
    k = len(form.params)
    theta, dtheta = theta_of(p[k])
    z, dz = adstock(s.x, theta)
    g, dg, dg_dz = form.evaluate(z, p[:k])
    columns = [dg, (dg_dz * dz * dtheta)[:, None]]
    if baseline:
        g = g + p[k + 1] * s.y_ref
        columns.append(np.full((s.x.size, 1), s.y_ref))
    return g, np.hstack(columns)


def _factors(L: np.ndarray, s: Series, rows: np.ndarray, weekday: bool) -> np.ndarray:
    if not weekday:
        return np.ones(7)
    totals = np.bincount(s.weekday[rows], weights=L[rows], minlength=7)
    counts = np.bincount(s.weekday[rows], weights=s.y[rows], minlength=7)
    return np.where(totals > 0, counts / np.maximum(totals, 1e-300), 1.0)


def _objective(p: np.ndarray, form: Form, s: Series, rows: np.ndarray, baseline: bool,
               weekday: bool) -> tuple[float, np.ndarray]:
    L, jac = level(form, p, s, baseline)
    L, jac, y = np.maximum(L[rows], 1e-300), jac[rows], s.y[rows]
    w = _factors(L, Series(s.x[rows], y, s.weekday[rows], s.y_ref), np.arange(y.size), weekday)[s.weekday[rows]]
    mu = w * L
    return float(mu.sum() - y @ np.log(np.maximum(mu, 1e-300))), jac.T @ (w - y / L)


def _information(p: np.ndarray, form: Form, s: Series, rows: np.ndarray, baseline: bool,
                 factors: np.ndarray, weekday: bool) -> np.ndarray:
    L, jac = level(form, p, s, baseline)
    L, jac, day = np.maximum(L[rows], 1e-300), jac[rows], s.weekday[rows]
    w = factors[day]
    info = jac.T @ (jac * (w / L)[:, None])
    if weekday:
        for d in range(7):
            on = day == d
            total = L[on].sum()
            if total > 0:
                v = jac[on].sum(axis=0)
                info -= np.outer(v, v) * factors[d] / total
    return info


def fit_form(form: Form, s: Series, start: np.ndarray, log_k: tuple[float, float], baseline: bool, weekday: bool,
             rows: np.ndarray | None = None) -> FormFit:
    """L-BFGS-B from `start` (form parameters and u; a baseline start is appended)."""
    rows = np.arange(s.x.size) if rows is None else rows
    p0 = np.concatenate([start, [0.05] if baseline else []])
    bounds = form.bounds(log_k) + [U_BOUNDS] + [(0.0, 50.0)] * baseline
    p0 = np.clip(p0, *np.array(bounds).T)
    result = minimize(_objective, p0, args=(form, s, rows, baseline, weekday), jac=True, method="L-BFGS-B",
                      bounds=bounds, options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7})
    p = result.x
    L = np.maximum(level(form, p, s, baseline)[0], 1e-300)
    factors = _factors(L, s, rows, weekday)
    mu, y = (factors[s.weekday] * L)[rows], s.y[rows]
    n_params = p.size + 6 * weekday
    dispersion = max(1.0, float(np.sum((y - mu) ** 2 / mu)) / max(1, y.size - n_params))
    info = _information(p, form, s, rows, baseline, factors, weekday) / dispersion
    nll = float(mu.sum() - y @ np.log(mu) + gammaln(y + 1.0).sum())
    low, high = np.array(bounds).T
    projected = p - np.clip(p - result.jac, low, high)
    converged = bool(result.success or np.abs(projected).max() <= 1e-5 * max(1.0, float(y.sum())))
    return FormFit(form, p, baseline, weekday, nll, info, factors, dispersion, converged)


def predictive_loglik(fit: FormFit, s: Series, rows: np.ndarray) -> float:
    """Poisson log-likelihood of `rows` under the fitted curve and weekday factors."""
    L = np.maximum(level(fit.form, fit.params, s, fit.baseline)[0], 1e-300)
    mu, y = (fit.weekday_factors[s.weekday] * L)[rows], s.y[rows]
    return float(y @ np.log(mu) - mu.sum() - gammaln(y + 1.0).sum())
