"""Importance-sampling proposals for a customer's buying-and-leaving traits.

The posterior of the traits given a customer's history is close to one of two conjugate
shapes: gone soon after its last sign of life (purchase rate seen over the exposure up to
the last purchase, survival up to the last purchase or ticket), or alive through as_of
(exposure and survival up to as_of). The proposal is the even mixture of the two, each
trait's shape widened so that its tails cover the posterior; half the draws come from
each component, stratified per trait, and every draw carries log(prior / mixture).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, betaln, gammaincinv, gammaln

from ltv_pipeline.scenarios.calendar import Timeline
from ltv_pipeline.scenarios.population import trait_multipliers, trait_priors
from ltv_pipeline.scenarios.spec import FamilySpec

WIDEN = 0.7
"""Rate proposals use this fraction of the conjugate shape (same mean, wider)."""



@dataclass(frozen=True)
class Evidence:
    """Per customer, from the landing zone only."""

    repeat: np.ndarray
    """Purchase days after the sign-up day."""
    exposure_seen: np.ndarray
    exposure_all: np.ndarray
    """Sum of the days' purchase-rate multipliers (seasonality x tenure) from the day after
    sign-up to the last purchase, and to as_of."""
    days_seen: np.ndarray
    days_all: np.ndarray
    """Days from sign-up to the last purchase or ticket, and to as_of."""


@dataclass(frozen=True)
class _Shape:
    kind: str
    """`gamma` (a = shape, b = rate) or `beta`."""
    a: np.ndarray
    b: np.ndarray

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        a, b = self.a[:, None], self.b[:, None]
        if self.kind == "gamma":
            return a * np.log(b) - gammaln(a) + (a - 1) * np.log(x) - b * x
        return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        a, b = self.a[:, None], self.b[:, None]
        if self.kind == "gamma":
            return gammaincinv(a, u) / b
        return betaincinv(a, b, u)


def _stratified(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """(n, k) uniforms, one in each of k equal strata per row, in random order."""
    u = (rng.permuted(np.tile(np.arange(k), (n, 1)), axis=1) + rng.random((n, k))) / k
    return np.clip(u, 1e-12, 1 - 1e-12)


def propose(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, signup: np.ndarray,
            channel: np.ndarray, ev: Evidence, draws: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """`draws` base-trait vectors per customer (names as in `customers_from_traits`, each
    (n, draws)) and each one's log(prior density / proposal density)."""
    if draws % 2:
        raise ValueError("draws must be even: half come from each mixture component")
    priors = trait_priors(family.process)
    rate_mult, death_mult = trait_multipliers(family, timeline, signup, channel)
    n, half = signup.size, draws // 2
    one = np.ones(n)
    shapes: dict[str, tuple[_Shape, _Shape, _Shape]] = {}
    k0, scale0 = priors.rate.args[0], priors.rate.kwds["scale"]
    a_rate = WIDEN * (k0 + ev.repeat)
    shapes["rate"] = (
        _Shape("gamma", k0 * one, one / scale0),
        _Shape("gamma", a_rate, WIDEN * (1 / scale0 + rate_mult * ev.exposure_seen)),
        _Shape("gamma", a_rate, WIDEN * (1 / scale0 + rate_mult * ev.exposure_all)),
    )
    if priors.buy_death is not None:
        a, b = priors.buy_death.args
        survived = np.maximum(ev.repeat - 1, 0)
        shapes["buy_death"] = (
            _Shape("beta", a * one, b * one),
            _Shape("beta", a * one, b + death_mult * survived),
            _Shape("beta", a * one, b + death_mult * ev.repeat),
        )
    if priors.death is not None:
        c0, scale = priors.death.args[0], priors.death.kwds["scale"]
        shapes["death"] = (
            _Shape("gamma", c0 * one, one / scale),
            _Shape("gamma", c0 * one, 1 / scale + death_mult * ev.days_seen),
            _Shape("gamma", c0 * one, 1 / scale + death_mult * ev.days_all),
        )
    traits, log_prior = {}, np.zeros((n, draws))
    log_seen, log_all = np.zeros((n, draws)), np.zeros((n, draws))
    for name, (prior, seen, alive) in shapes.items():
        x = np.concatenate([seen.quantile(_stratified(rng, n, half)), alive.quantile(_stratified(rng, n, half))],
                           axis=1)
        x = np.maximum(x, np.finfo(np.float64).tiny)
        if prior.kind == "beta":
            x = np.minimum(x, 1 - 1e-16)
        traits[name] = x
        log_prior += prior.log_pdf(x)
        log_seen += seen.log_pdf(x)
        log_all += alive.log_pdf(x)
    return traits, log_prior - (np.logaddexp(log_seen, log_all) - np.log(2))
