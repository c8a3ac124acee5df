"""The observable ceiling: each customer's expected future given only what the landing
zone shows of it (sign-up day, channel, purchase days and values, tickets, CSAT) and the
true population-level process.

Hidden are the customer's own traits (purchase rate, dropout chances, expected order
value) and its state. The traits are independent in the population and order values
say nothing about buying or leaving, so the two parts are conditioned separately:

- the expected order value has a closed-form posterior mean given the customer's daily
  order totals (`order_value.py`);
- the buying-and-leaving traits are integrated by importance sampling (`proposal.py`):
  K trait vectors per customer, each weighted by prior / proposal x the likelihood of
  the customer's purchase days, tickets and CSAT. A day-level forward recursion over the
  hidden states yields that likelihood together with the state distribution entering
  the horizon, from which each draw's future is carried forward exactly; the weighted
  average is the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, discount, rate_by_day, tenure_by_age, value_by_day
from ltv_pipeline.scenarios.expectation import margin_factor, revenue_factor
from ltv_pipeline.scenarios.order_value import expected_order_value
from ltv_pipeline.scenarios.orders import Orders
from ltv_pipeline.scenarios.population import customers_from_traits
from ltv_pipeline.scenarios.proposal import Evidence, propose
from ltv_pipeline.scenarios.simulate import History
from ltv_pipeline.scenarios.spec import FamilySpec

DRAWS = 64
CHUNK = 1_000
RENORMALISE = 8


@dataclass(frozen=True)
class Ceiling:
    """Per customer: expected discounted margin, net revenue, purchase days, probability
    of no purchase over the horizon, and the importance sample's effective size."""

    ltv: np.ndarray
    revenue: np.ndarray
    orders: np.ndarray
    p_no_order: np.ndarray
    ess: np.ndarray


@dataclass(frozen=True)
class _Daily:
    """Per-draw daily parameters of one chunk, each (n, K) or a scalar 0."""

    rate: np.ndarray
    buy_death: np.ndarray | float
    stay: list[np.ndarray | float]
    """Transition probabilities content->content, content->dissatisfied,
    dissatisfied->content, dissatisfied->dissatisfied (the rest goes to gone)."""


@dataclass(frozen=True)
class _Seen:
    """One chunk's landing-zone view as dense (customer, day) arrays, from its first
    sign-up day to as_of."""

    first_day: int
    buy: np.ndarray
    ticket: np.ndarray
    csat: np.ndarray
    """1-5; 0 = no ticket or not answered."""


def _dense(customer: np.ndarray, day: np.ndarray, rows: np.ndarray, first_day: int, n_days: int,
           values: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), n_days) array of the events of `rows` (sorted customer indices)."""
    pos = np.clip(np.searchsorted(rows, customer), 0, rows.size - 1)
    keep = (rows[pos] == customer) & (day >= first_day) & (day < first_day + n_days)
    out = np.zeros((rows.size, n_days), dtype=np.int8 if values is not None else bool)
    out[pos[keep], day[keep] - first_day] = True if values is None else values[keep]
    return out


def _seen(history: History, rows: np.ndarray, signup: np.ndarray, as_of: int) -> _Seen:
    first = int(signup[0])
    n_days = as_of + 1 - first
    past = history.buy_day <= as_of
    buy = _dense(history.buy_customer[past], history.buy_day[past], rows, first, n_days)
    ticket = _dense(history.ticket_customer, history.ticket_day, rows, first, n_days)
    csat = _dense(history.ticket_customer, history.ticket_day, rows, first, n_days, history.ticket_csat)
    return _Seen(first, buy, ticket, csat)


def _evidence(family: FamilySpec, timeline: Timeline, seen: _Seen, signup: np.ndarray) -> Evidence:
    """What the proposal is built from: repeat purchase days, last sign of life, and the
    cumulative purchase exposure (days weighted by seasonality and tenure)."""
    as_of = timeline.as_of_day
    days = seen.first_day + np.arange(seen.buy.shape[1])
    age = days[None, :] - signup[:, None]
    mult = np.where(age > 0, rate_by_day(family.process, timeline)[days][None, :]
                    * tenure_by_age(family.process, timeline.total_days + 1)[np.maximum(age, 0)], 0.0)
    exposure = np.cumsum(mult, axis=1)
    last_buy = days[seen.buy.shape[1] - 1 - np.argmax(seen.buy[:, ::-1], axis=1)]
    any_ticket = seen.ticket.any(axis=1)
    last_ticket = np.where(any_ticket, days[seen.ticket.shape[1] - 1 - np.argmax(seen.ticket[:, ::-1], axis=1)], 0)
    last_seen = np.maximum(last_buy, last_ticket)
    rows = np.arange(signup.size)
    return Evidence(
        repeat=(seen.buy & (age > 0)).sum(axis=1),
        exposure_seen=exposure[rows, last_buy - seen.first_day],
        exposure_all=exposure[:, -1],
        days_seen=last_seen - signup,
        days_all=as_of - signup,
    )


def _daily(family: FamilySpec, timeline: Timeline, signup: np.ndarray, channel: np.ndarray,
           traits: dict[str, np.ndarray]) -> _Daily:
    """Each draw's daily rate, dropout after a purchase and state transitions, through
    the same mapping the simulation uses."""
    n, k = traits["rate"].shape
    flat = {name: (None if v is None else v.ravel()) for name, v in traits.items()}
    cust = customers_from_traits(family, timeline, np.repeat(signup, k), np.repeat(channel, k), flat["rate"],
                                 flat.get("buy_death"), flat.get("death"), np.ones(n * k))
    tr = cust.transition.reshape(n, k, 3, 3)
    buy_death = cust.buy_death.reshape(n, k) if "buy_death" in traits else 0.0
    return _Daily(cust.rate.reshape(n, k), buy_death,
                  [tr[..., 0, 0].copy(), tr[..., 0, 1].copy(), tr[..., 1, 0].copy(), tr[..., 1, 1].copy()])


def _forward(family: FamilySpec, timeline: Timeline, seen: _Seen, signup: np.ndarray, first_buy: np.ndarray,
             d: _Daily) -> tuple[np.ndarray, list[np.ndarray]]:
    """Log-likelihood of each customer's landing-zone history under each draw, and the
    distribution (content, dissatisfied, gone) entering the horizon. The same filter as
    the simulation's: purchase and ticket/CSAT emissions, then the day's transition
    (leaving first with `buy_death` after a repeat purchase). Every day applies the
    no-event emission to all customers and corrects the few with a purchase or ticket;
    masses are renormalised every `RENORMALISE` days."""
    proc = family.process
    rate_day = rate_by_day(proc, timeline)
    tenure = tenure_by_age(proc, timeline.total_days + 1)
    three = proc.dissatisfy > 0
    mults = (1.0, proc.dissatisfied_rate_mult) if three else (1.0,)
    ticket_p = np.array(proc.ticket_rate)
    csat_p = np.array([(1.0,) + tuple(proc.csat_probs[0]), (1.0,) + tuple(proc.csat_probs[1])])
    quiet = np.log1p(-ticket_p)
    n, k = d.rate.shape
    a = [np.ones((n, k)), np.zeros((n, k)), np.zeros((n, k))]
    loglik = np.zeros((n, k))
    buy_days, ticket_days, csat_days = seen.buy.T.copy(), seen.ticket.T.copy(), seen.csat.T.copy()
    bounds = np.searchsorted(signup, np.arange(seen.first_day, timeline.as_of_day + 2), side="left")

    def renormalise(m: int) -> None:
        total = a[0][:m] + a[1][:m] + a[2][:m]
        possible = total > 0
        loglik[:m] += np.log(np.where(possible, total, 1.0)) + np.where(possible, 0.0, -np.inf)
        total = np.where(possible, total, 1.0)
        for x in a:
            x[:m] /= total

    last = timeline.as_of_day - seen.first_day
    for j, t in enumerate(range(seen.first_day, timeline.as_of_day + 1)):
        old, m = int(bounds[j]), int(bounds[j + 1])
        buy, tix, cs = buy_days[j, :m], ticket_days[j, :m], csat_days[j, :m]
        intensity = d.rate[:m] * (rate_day[t] * tenure[t - signup[:m]])[:, None]
        event = np.flatnonzero(buy[:old] | tix[:old])
        for s, mult in enumerate(mults):
            x = a[s][:m]
            x *= np.exp(quiet[s] - intensity * mult)
            if event.size:
                fix = np.where(buy[event, None], np.expm1(intensity[event] * mult), 1.0)
                ratio = np.where(tix[event], ticket_p[s] / (1 - ticket_p[s]) * csat_p[s, cs[event]], 1.0)
                x[event] *= fix * ratio[:, None]
            if m > old:
                pi = first_buy[old:m]
                support = np.where(tix[old:m], ticket_p[s], 1 - ticket_p[s]) * csat_p[s, cs[old:m]]
                x[old:m] = (np.where(buy[old:m], pi, 1 - pi) * support)[:, None] if s == 0 else 0.0
        a[2][event] = 0.0
        a[2][old:m] = 0.0
        if not np.isscalar(d.buy_death):
            repeat = np.flatnonzero(buy[:old])
            if repeat.size:
                p = d.buy_death[repeat]
                gone = a[0][repeat] * p + a[1][repeat] * p
                a[0][repeat] *= 1 - p
                a[1][repeat] *= 1 - p
                a[2][repeat] += gone
        cc, cd, dc, dd = (x if np.isscalar(x) else x[:m] for x in d.stay)
        a_c, a_d = a[0][:m], a[1][:m]
        if three:
            new_c, new_d = a_c * cc + a_d * dc, a_c * cd + a_d * dd
            a[2][:m] += a_c + a_d - new_c - new_d
            a[0][:m], a[1][:m] = new_c, new_d
        elif not (np.isscalar(cc) and cc == 1.0):
            a[2][:m] += a_c * (1 - cc)
            a_c *= cc
        if j % RENORMALISE == 0 or j == last:
            renormalise(m)
    return loglik, a


def _future(family: FamilySpec, timeline: Timeline, annual_rate: float, signup: np.ndarray, d: _Daily,
            start: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per draw, from the state distribution `start` entering the horizon: expected
    purchase days, net revenue and discounted margin per unit of expected order value,
    and the probability of no purchase (the recursion of `expected_future`, for
    (customer, draw) arrays)."""
    proc = family.process
    rate_day, value_day = rate_by_day(proc, timeline), value_by_day(proc, timeline)
    tenure = tenure_by_age(proc, timeline.total_days + 1)
    three = proc.dissatisfy > 0
    h, begin = timeline.horizon, timeline.as_of_day + 1
    disc = discount(np.arange(h) + 1, annual_rate) * margin_factor(proc)
    v_c, v_d = start[0].copy(), start[1].copy()
    w_c, w_d = v_c.copy(), v_d.copy()
    orders, revenue, margin, first = (np.zeros_like(v_c) for _ in range(4))
    cc, cd, dc, dd = d.stay
    for j in range(h):
        day = begin + j
        intensity = d.rate * (rate_day[day] * tenure[day - signup])[:, None]
        pi_c = -np.expm1(-intensity)
        bought = v_c * pi_c
        first += w_c * pi_c
        w_c = w_c - w_c * pi_c
        if three:
            pi_d = -np.expm1(-intensity * proc.dissatisfied_rate_mult)
            bought_d = v_d * pi_d
            first += w_d * pi_d
            w_d = w_d - w_d * pi_d
            days = bought + bought_d
        else:
            days = bought
        orders += days
        revenue += days * value_day[day]
        margin += days * (value_day[day] * disc[j])
        if np.isscalar(d.buy_death):
            stay_c, stay_d = v_c, v_d
        else:
            stay_c = v_c - d.buy_death * bought
            stay_d = v_d - d.buy_death * bought_d if three else v_d
        if three:
            v_c, v_d = stay_c * cc + stay_d * dc, stay_c * cd + stay_d * dd
            w_c, w_d = w_c * cc + w_d * dc, w_c * cd + w_d * dd
        else:
            v_c, w_c = stay_c * cc, w_c * cc
    return orders, revenue * revenue_factor(proc), margin, 1 - first


def observable_ceiling(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, signup_day: np.ndarray,
                       channel: np.ndarray, history: History, orders: Orders, rows: np.ndarray,
                       annual_rate: float, *, draws: int = DRAWS, chunk: int = CHUNK) -> Ceiling:
    """The ceiling for customers `rows` (sorted indices of customers with an order by
    as_of). Reads only sign-up days, channels and the landing zone's events; never a
    customer's true traits or state."""
    as_of = timeline.as_of_day
    value = expected_order_value(family, timeline, channel, orders, rows)
    first_buy_all = np.array([c.first_buy for c in family.channels])
    parts = []
    for lo in range(0, rows.size, chunk):
        sel = rows[lo:lo + chunk]
        signup, chan = signup_day[sel], channel[sel]
        seen = _seen(history, sel, signup, as_of)
        evidence = _evidence(family, timeline, seen, signup)
        traits, log_ratio = propose(rng, family, timeline, signup, chan, evidence, draws)
        d = _daily(family, timeline, signup, chan, traits)
        loglik, state = _forward(family, timeline, seen, signup, first_buy_all[chan], d)
        log_w = loglik + log_ratio
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        fut = _future(family, timeline, annual_rate, signup, d, state)
        parts.append(np.stack([(w * f).sum(axis=1) for f in fut] + [1 / (w * w).sum(axis=1)]))
    out = np.concatenate(parts, axis=1)
    return Ceiling(ltv=value * out[2], revenue=value * out[1], orders=out[0], p_no_order=out[3], ess=out[4])

