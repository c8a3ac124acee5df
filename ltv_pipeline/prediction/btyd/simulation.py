"""Vectorised simulation from BG/NBD and Gamma-Gamma with known parameters.

Tests use it to check that the fits recover the truth and that predictions and intervals
are calibrated; back-tests and benchmarks use it to build realistic order logs of any size.
Nothing here loops over customers in Python.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.prediction.btyd.summary import TimeUnit, days_per_unit


def simulate_bgnbd_purchases(
    r: float, alpha: float, a: float, b: float, duration: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat-purchase times of customers whose first purchase is at time 0.

    Customer i is followed over `(0, duration[i]]`. Each draws a purchase rate
    lambda ~ Gamma(r, alpha) and a dropout probability p ~ Beta(a, b); after every repeat
    purchase it becomes inactive with probability p. So the number of purchases is
    min(M, K) with M ~ Poisson(lambda * duration) arrivals and K ~ Geometric(p) purchases
    before dropping out, and the purchases are the first min(M, K) arrivals. Those are
    drawn without generating all M arrivals: sorted uniforms are normalised partial sums
    of M + 1 unit exponentials, and the sum of the unused ones is a single gamma draw.

    Returns `(customer, time)`: customer indices (ascending) and times (ascending within a
    customer), in the same unit as `alpha` and `duration`.
    """
    duration = np.asarray(duration, dtype=np.float64)
    n = duration.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * duration)
    purchases = np.minimum(arrivals, rng.geometric(p))
    customer = np.repeat(np.arange(n), purchases)
    partial = np.cumsum(rng.standard_exponential(customer.size))
    ends = np.cumsum(purchases)
    before = np.concatenate(([0.0], partial))[ends - purchases]
    within = partial - np.repeat(before, purchases)
    used = np.concatenate(([0.0], partial))[ends] - before
    total = used + rng.standard_gamma(arrivals + 1 - purchases)
    return customer, duration[customer] * within / total[customer]


def simulate_pareto_nbd_purchases(
    r: float, alpha: float, s: float, beta: float, duration: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat-purchase times under Pareto/NBD, first purchase at time 0.

    Customer i buys at rate lambda ~ Gamma(r, alpha) until an exponential lifetime of rate
    mu ~ Gamma(s, beta), followed over `(0, duration[i]]`: a Poisson process over
    min(lifetime, duration), so its purchase times are sorted uniforms on that span.
    Returns `(customer, time)` as `simulate_bgnbd_purchases` does.
    """
    duration = np.asarray(duration, dtype=np.float64)
    n = duration.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    active = np.minimum(rng.standard_exponential(n) / mu, duration)
    purchases = rng.poisson(lam * active)
    customer = np.repeat(np.arange(n), purchases)
    time = rng.uniform(0.0, 1.0, customer.size) * active[customer]
    order = np.lexsort((time, customer))
    return customer[order], time[order]


def simulate_spend(
    p: float, q: float, v: float, customer: np.ndarray, n_customers: int, rng: np.random.Generator
) -> np.ndarray:
    """Transaction values under Gamma-Gamma: nu_i ~ Gamma(q, rate v), z ~ Gamma(p, rate nu_i)."""
    nu = rng.gamma(q, 1.0 / v, n_customers)
    return rng.standard_gamma(p, customer.size) / nu[customer]


def summarise_purchases(
    customer: np.ndarray, time: np.ndarray, n_customers: int, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`(x, t_x)` of each customer from simulated repeat-purchase times, counting times <= T."""
    seen = time <= np.asarray(T)[customer]
    x = np.bincount(customer[seen], minlength=n_customers).astype(np.float64)
    t_x = np.zeros(n_customers)
    np.maximum.at(t_x, customer[seen], time[seen])
    return x, t_x


def simulate_observed(
    bgnbd: tuple[float, float, float, float],
    gamma_gamma: tuple[float, float, float],
    T: np.ndarray,
    follow: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customers observed over `(0, T]` and followed `follow` longer: their `(x, t_x, m)` (m =
    mean value of the repeat purchases seen, 0 without any), and every repeat purchase's
    customer, time and value (those after T are the future)."""
    n = np.asarray(T).size
    customer, time = simulate_bgnbd_purchases(*bgnbd, T + follow, rng)
    value = simulate_spend(*gamma_gamma, customer, n, rng)
    x, t_x = summarise_purchases(customer, time, n, T)
    seen = time <= T[customer]
    m = np.bincount(customer[seen], weights=value[seen], minlength=n) / np.maximum(x, 1.0)
    return x, t_x, m, customer, time, value


def simulate_order_log(
    n_customers: int,
    *,
    bgnbd: tuple[float, float, float, float],
    gamma_gamma: tuple[float, float, float],
    start: date,
    acquisition_end: date,
    end: date,
    time_unit: TimeUnit,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """An order log (`customer_id`, `order_ts` as a date, `margin`) drawn from the models.

    Customers make their first purchase at a uniformly random moment between `start` and
    `acquisition_end` and are followed until `end` (inclusive). `bgnbd` = (r, alpha, a, b)
    and `gamma_gamma` = (p, q, v), with rates in `time_unit`. Purchases falling on the same
    calendar day stay separate rows, as a real export would have them.
    """
    if not start <= acquisition_end <= end:
        raise ValueError("need start <= acquisition_end <= end")
    unit = days_per_unit(time_unit)
    span = (acquisition_end - start).days + 1
    born = rng.uniform(0.0, span, n_customers)
    horizon_days = (end - start).days + 1 - born
    customer, time = simulate_bgnbd_purchases(*bgnbd, horizon_days / unit, rng)
    everyone = np.arange(n_customers)
    customer = np.concatenate((everyone, customer))
    moment = np.concatenate((born, born[customer[n_customers:]] + time * unit))
    margin = simulate_spend(*gamma_gamma, customer, n_customers, rng)
    return pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.String).str.zfill(len(str(n_customers))),
            "order_ts": np.datetime64(start, "D") + np.floor(moment).astype("timedelta64[D]"),
            "margin": margin,
        }
    ).sort("customer_id", "order_ts")
