"""Response curves: expected new customers per day of a paid channel vs its daily spend.

The form is the saturating exponential

    mu(spend) = weekday_factor * (baseline + max_new * (1 - exp(-spend / spend_scale)))

Why this form: it is concave from the first dollar (each extra dollar buys fewer customers
than the last, as audiences saturate), has a ceiling `max_new` and one interpretable
scale (returns halve every `spend_scale * ln 2` of extra daily spend), and its marginal
response inverts in closed form, which makes the budget optimum exact (optimise.py). It
is also the form the synthetic business draws from, so the fit can be checked against
truth. No adstock term: for a plan that holds daily spend level over the period, a
geometric carry-over only rescales `spend_scale`, so it would add a parameter without
changing the recommendation.

Why Poisson maximum likelihood: new customers are counts, often small ones, whose
variance grows with their mean; least squares on them over-weights busy days. Standard
errors use the expected Fisher information inflated by the Pearson dispersion
(quasi-Poisson), so over-dispersed real data do not look better identified than they are.

The `baseline` (customers attributed to the channel on days it does not spend) and the
weekday factors (mean 1) are kept only when they lower the (quasi-)BIC: they must clearly
help, not just fit noise. No trend term: the curve is fitted on the channel's whole
history as given; a caller who expects drift passes a shorter window.

A curve is *identified* (usable for a budget decision) when the history has enough days
with spend and enough new customers, spend that really varies, a scale estimate strictly
inside its search range (neither a straight line nor a step), and a curve position
(`CurveFit.position_se`) known to within the spend range the plan may move in. Otherwise
`reason` says which of these failed, in words a marketer can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from math import log

import numpy as np
import polars as pl
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

WALD_Z = 1.959963984540054
SCALE_BOUNDS = (0.02, 50.0)
"""spend_scale is searched between 2% of the lowest and 50x the highest positive daily
spend: below, every observed spend is already saturated; above, the curve is a straight
line over everything observed. An estimate at either end means 'not identified'."""
AT_BOUND_TOL = 0.01
"""An estimate within 1% of a search bound counts as at the bound."""
GRAD_TOL = 1e-6
"""Projected gradient (per new customer in the history) below which a fit has converged."""


@dataclass(frozen=True)
class FitOptions:
    """When a curve counts as identified. Defaults suit daily data over months to years."""

    min_spend_days: int = 60
    """Days with positive spend needed before a curve is fitted at all."""
    min_new_customers: int = 100
    """New customers (on days with spend) needed before a curve is fitted at all."""
    min_spend_cv: float = 0.1
    """Coefficient of variation of positive daily spend below which spend is 'flat'."""
    max_position_se: float = 2.0
    """Largest standard error of the curve's position accepted, as a multiple of the
    width of the spend range the plan may move in (see `CurveFit.position_se`). Loose on
    purpose: the plan's bounds already cap what a vague curve can cost, and on the
    synthetic business tighter values mostly freeze an under-funded channel whose right
    move (up) is clear from the data even though its bend is not. It stops only curves
    that cannot be placed even within twice that range."""


@dataclass(frozen=True)
class CurveFit:
    """A channel's fitted curve and how far it can be trusted. Money is per day."""

    channel: str
    max_new_per_day: float
    spend_scale: float
    baseline_per_day: float
    weekday_factors: tuple[float, ...] | None
    """Monday..Sunday multipliers with mean 1, or None when they did not help."""
    covariance: np.ndarray
    """Covariance of (log max_new_per_day, log spend_scale), dispersion-inflated."""
    scale_interval: tuple[float, float]
    """95% Wald interval of spend_scale (on the log scale, dispersion-inflated)."""
    dispersion: float
    """Pearson chi-square / residual degrees of freedom, at least 1."""
    pseudo_r2: float
    """Deviance R^2 against a constant daily mean: 1 - D(model) / D(constant)."""
    n_days: int
    n_spend_days: int
    new_customers: int
    observed_spend: tuple[float, float]
    """Lowest and highest positive daily spend in the history."""
    identified: bool
    reason: str
    """Why the curve cannot be used ('' when identified)."""

    def expected_new(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Expected new customers per (average) day at `daily_spend`."""
        spend = np.asarray(daily_spend, dtype=np.float64)
        return self.baseline_per_day + self.max_new_per_day * -np.expm1(-spend / self.spend_scale)

    def marginal_new(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Extra new customers per extra dollar of daily spend at `daily_spend`."""
        spend = np.asarray(daily_spend, dtype=np.float64)
        return self.max_new_per_day / self.spend_scale * np.exp(-spend / self.spend_scale)

    def marginal_log_se(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Standard error of log(marginal_new) at `daily_spend` (delta method).

        log marginal = log a - log b - spend / b, so its gradient in (log a, log b) is
        (1, spend / b - 1). This is what a budget decision rests on: a channel whose
        ceiling and scale are each vague can still have a sharp return per extra dollar.
        """
        spend = np.asarray(daily_spend, dtype=np.float64)
        grad = np.stack([np.ones_like(spend), spend / self.spend_scale - 1.0], axis=-1)
        return np.sqrt(np.einsum("...i,ij,...j->...", grad, self.covariance, grad))

    def position_se(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Standard error of the spend at which the curve's marginal return equals the one
        estimated at `daily_spend`: spend_scale * marginal_log_se.

        Why this measures identification for a budget: the optimum sits where marginal
        returns meet a common level, so this is (to first order) how far the recommended
        spend could move if the curve were re-estimated. It is small for a saturated
        channel whose tiny marginal return is relatively vague, and large for a nearly
        straight curve whose bend is unknown, which is the right way round.
        """
        return self.spend_scale * self.marginal_log_se(daily_spend)


@dataclass(frozen=True)
class _Data:
    x: np.ndarray
    """Spend in units of the median positive daily spend (keeps the fit well scaled)."""
    y: np.ndarray
    weekday: np.ndarray
    """One-hot Monday..Sunday, shape (days, 7)."""
    y_ref: float


@dataclass(frozen=True)
class _Variant:
    baseline: bool
    weekday: bool
    theta: np.ndarray
    nll: float
    converged: bool

    @property
    def n_params(self) -> int:
        return 2 + self.baseline + 6 * self.weekday


def _mean_and_jacobian(theta: np.ndarray, d: _Data, baseline: bool, weekday: bool) -> tuple[np.ndarray, np.ndarray]:
    """Daily means and their derivatives w.r.t. theta = (log a, log scale, [baseline/y_ref],
    [6 weekday logits, Monday fixed at 0])."""
    amplitude, scale = np.exp(theta[0]), np.exp(theta[1])
    decay = np.exp(-d.x / scale)
    curve = amplitude * -np.expm1(-d.x / scale)
    level = curve + (theta[2] * d.y_ref if baseline else 0.0)
    factors = np.ones(7)
    if weekday:
        logits = np.concatenate([[0.0], theta[-6:]])
        factors = 7.0 * np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    w = d.weekday @ factors
    mu = w * level
    columns = [w * curve, -w * amplitude * decay * d.x / scale]
    if baseline:
        columns.append(w * d.y_ref)
    if weekday:
        columns.append(mu[:, None] * (d.weekday[:, 1:] - factors[1:] / 7.0))
    return mu, np.column_stack(columns)


def _nll(theta: np.ndarray, d: _Data, baseline: bool, weekday: bool) -> tuple[float, np.ndarray]:
    """Poisson negative log-likelihood (without the log y! constant) and its gradient."""
    mu, jac = _mean_and_jacobian(theta, d, baseline, weekday)
    safe = np.maximum(mu, 1e-300)
    value = float(mu.sum() - d.y @ np.log(safe))
    return value, jac.T @ (1.0 - d.y / safe)


def _start(d: _Data, log_scale_bounds: tuple[float, float]) -> np.ndarray:
    """(log a, log scale) maximising the plain curve's profile likelihood on a log grid.

    For a fixed scale the Poisson MLE of the amplitude is sum(y) / sum(1 - exp(-x/scale)),
    so the profile over the scale is closed form and vectorised over the grid.
    """
    spent = d.x > 0
    x, y = d.x[spent], d.y[spent]
    log_scales = np.linspace(*log_scale_bounds, 48)
    shape = -np.expm1(-x[:, None] / np.exp(log_scales)[None, :])
    amplitude = y.sum() / shape.sum(axis=0)
    profile = amplitude * shape.sum(axis=0) - y @ np.log(amplitude[None, :] * shape)
    best = int(np.argmin(profile))
    return np.array([np.log(amplitude[best]), log_scales[best]])


def _fit_variant(d: _Data, start: np.ndarray, log_scale_bounds: tuple[float, float], baseline: bool,
                 weekday: bool) -> _Variant:
    """L-BFGS-B from `start`. Converged means its own test passed or the projected gradient
    vanishes (a line search can stall at machine precision right at the optimum)."""
    theta0 = np.concatenate([start, [0.05] if baseline else [], np.zeros(6) if weekday else []])
    bounds = [(-np.inf, np.inf), log_scale_bounds] + [(0.0, np.inf)] * baseline + [(-5.0, 5.0)] * (6 * weekday)
    result = minimize(_nll, theta0, args=(d, baseline, weekday), jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    low, high = np.array(bounds).T
    projected = result.x - np.clip(result.x - result.jac, low, high)
    converged = result.success or float(np.abs(projected).max()) <= GRAD_TOL * max(1.0, float(d.y.sum()))
    return _Variant(baseline, weekday, result.x, float(result.fun), bool(converged))


def _pearson_dispersion(mu: np.ndarray, y: np.ndarray, n_params: int) -> float:
    positive = mu > 0
    chi2 = float(np.sum((y[positive] - mu[positive]) ** 2 / mu[positive]))
    return max(1.0, chi2 / max(1, positive.sum() - n_params))


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    ratio = np.where(y > 0, y / np.maximum(mu, 1e-300), 1.0)
    return float(2.0 * np.sum(y * np.log(ratio) - (y - mu)))


def _pseudo_r2(y: np.ndarray, mu: np.ndarray) -> float:
    """Deviance R^2 against a constant daily mean; NaN when the counts never vary."""
    null = _deviance(y, np.full_like(y, y.mean()))
    return 1.0 - _deviance(y, mu) / null if null > 0 else float("nan")


def _not_identified(channel: str, spend: np.ndarray, y: np.ndarray, reason: str) -> CurveFit:
    positive = spend[spend > 0]
    observed = (float(positive.min()), float(positive.max())) if positive.size else (0.0, 0.0)
    nan = float("nan")
    return CurveFit(channel, nan, nan, nan, None, np.full((2, 2), nan), (nan, nan), nan, nan, int(spend.size),
                    int(positive.size), int(round(y[spend > 0].sum())), observed, False, reason)


def _data_problem(spend: np.ndarray, y: np.ndarray, options: FitOptions) -> str:
    """Why the history is too thin or too flat to fit, or '' when it is fit for fitting."""
    positive = spend[spend > 0]
    if positive.size < options.min_spend_days:
        return f"only {positive.size} days with spend; a curve needs at least {options.min_spend_days}"
    customers = int(round(y[spend > 0].sum()))
    if customers < options.min_new_customers:
        return f"only {customers} new customers on days with spend; a curve needs at least {options.min_new_customers}"
    cv = float(positive.std() / positive.mean())
    if cv < options.min_spend_cv:
        return (f"daily spend hardly varies (about ${positive.mean():,.0f}/day, CV {cv:.0%}), so the history "
                "cannot show how new customers respond to spending more or less")
    return ""


def _verdict(fit: CurveFit, theta_scale: float, log_bounds: tuple[float, float], converged: bool,
             plan_range: tuple[float, float], options: FitOptions) -> str:
    """Why a fitted curve cannot be used for a budget decision ('' when it can)."""
    low, high = fit.observed_spend
    if not converged:
        return "the curve fit did not converge"
    if theta_scale >= log_bounds[1] - AT_BOUND_TOL:
        return (f"no diminishing returns are visible up to ${high:,.0f}/day: the history fits a straight "
                "line, so it cannot say where more spend stops paying")
    if theta_scale <= log_bounds[0] + AT_BOUND_TOL:
        return f"new customers do not rise with spend between ${low:,.0f} and ${high:,.0f}/day"
    lo, hi = plan_range
    se = float(np.max(fit.position_se(np.asarray(plan_range))))
    if hi > lo and not se <= options.max_position_se * (hi - lo):
        return (f"where the curve sits is too uncertain: the spend at which an extra dollar earns a given return "
                f"is known only to +/-${WALD_Z * se:,.0f}/day (95%), against ${lo:,.0f}-${hi:,.0f}/day to plan in")
    return ""


def fit_response_curve(channel: str, spend: np.ndarray, new_customers: np.ndarray, weekday: np.ndarray,
                       options: FitOptions = FitOptions(),
                       plan_range: tuple[float, float] | None = None) -> CurveFit:
    """Fit one channel's curve from aligned daily arrays (weekday 0 = Monday).

    Fits the plain curve and its baseline / weekday extensions, keeps the lowest
    quasi-BIC, and judges identification: enough days and customers, spend that varies,
    a scale estimate inside its search range, and a curve position known well enough
    across `plan_range` (daily spend the plan may move between; default the observed
    range). BLAS is held to one thread meanwhile: the fits are many tiny vector
    operations, which multi-threaded BLAS slows down tenfold on a busy machine.
    """
    spend = np.asarray(spend, dtype=np.float64)
    y = np.asarray(new_customers, dtype=np.float64)
    problem = _data_problem(spend, y, options)
    if problem:
        return _not_identified(channel, spend, y, problem)

    positive = spend[spend > 0]
    unit = float(np.median(positive))
    d = _Data(spend / unit, y, np.eye(7)[np.asarray(weekday, dtype=np.int64)], float(y.mean()))
    log_bounds = (log(SCALE_BOUNDS[0] * positive.min() / unit), log(SCALE_BOUNDS[1] * positive.max() / unit))
    start = _start(d, log_bounds)
    baselines = (True,) if np.any((spend == 0) & (y > 0)) else (False, True)
    with threadpool_limits(limits=1, user_api="blas"):
        variants = [_fit_variant(d, start, log_bounds, b, w) for b in baselines for w in (False, True)]
    richest = variants[-1]
    dispersion = _pearson_dispersion(_mean_and_jacobian(richest.theta, d, richest.baseline, richest.weekday)[0], y,
                                     richest.n_params)
    best = min(variants, key=lambda v: 2.0 * v.nll / dispersion + v.n_params * log(y.size))

    mu, jac = _mean_and_jacobian(best.theta, d, best.baseline, best.weekday)
    live = mu > 0
    cov = dispersion * np.linalg.pinv(jac[live].T @ (jac[live] / mu[live, None]))
    scale = float(np.exp(best.theta[1]) * unit)
    half_width = WALD_Z * np.sqrt(max(cov[1, 1], 0.0))
    factors = None
    if best.weekday:
        logits = np.concatenate([[0.0], best.theta[-6:]])
        factors = tuple(float(f) for f in 7.0 * np.exp(logits) / np.exp(logits).sum())
    fit = CurveFit(
        channel=channel,
        max_new_per_day=float(np.exp(best.theta[0])),
        spend_scale=scale,
        baseline_per_day=float(best.theta[2] * d.y_ref) if best.baseline else 0.0,
        weekday_factors=factors,
        covariance=cov[:2, :2],
        scale_interval=(scale * float(np.exp(-half_width)), scale * float(np.exp(half_width))),
        dispersion=dispersion,
        pseudo_r2=_pseudo_r2(y, mu),
        n_days=int(y.size),
        n_spend_days=int(positive.size),
        new_customers=int(round(y[spend > 0].sum())),
        observed_spend=(float(positive.min()), float(positive.max())),
        identified=True,
        reason="",
    )
    reason = _verdict(fit, float(best.theta[1]), log_bounds, best.converged, plan_range or fit.observed_spend, options)
    return replace(fit, identified=not reason, reason=reason)


def fit_response_curves(panel: pl.DataFrame, options: FitOptions = FitOptions(),
                        plan_ranges: Mapping[str, tuple[float, float]] | None = None) -> dict[str, CurveFit]:
    """One fit per channel of a `daily_panel` (columns date, channel, spend, new_customers);
    `plan_ranges` gives, per channel, the daily spend range the plan may move between."""
    frame = panel.with_columns((pl.col("date").dt.weekday() - 1).alias("weekday"))
    return {
        str(channel): fit_response_curve(
            str(channel), part["spend"].to_numpy(), part["new_customers"].to_numpy(), part["weekday"].to_numpy(),
            options, (plan_ranges or {}).get(str(channel)),
        )
        for (channel,), part in frame.sort("date").group_by("channel", maintain_order=True)
    }
