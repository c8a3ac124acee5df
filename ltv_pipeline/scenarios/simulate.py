"""Day-by-day simulation of every customer's purchases, tickets and hidden state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltv_pipeline.scenarios.calendar import Timeline, rate_by_day, tenure_by_age
from ltv_pipeline.scenarios.expectation import purchase_prob
from ltv_pipeline.scenarios.population import CONTENT, GONE, Customers
from ltv_pipeline.scenarios.spec import FamilySpec


@dataclass(frozen=True)
class History:
    buy_customer: np.ndarray
    buy_day: np.ndarray
    """Purchase days of every customer, history and horizon, in day order."""
    ticket_customer: np.ndarray
    ticket_day: np.ndarray
    ticket_csat: np.ndarray
    """1-5, 0 = not answered. Tickets are simulated up to as_of only."""
    state_after: np.ndarray
    """True state entering the horizon (after as_of's transition)."""


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (n, k)."""
    u = rng.random(probs.shape[0])
    return (u[:, None] > np.cumsum(probs, axis=1)[:, :-1]).sum(axis=1)


def simulate(rng: np.random.Generator, family: FamilySpec, timeline: Timeline, cust: Customers) -> History:
    proc = family.process
    rate_day = rate_by_day(proc, timeline)
    tenure = tenure_by_age(proc, timeline.total_days + 1)
    ticket_p = np.array([proc.ticket_rate[0], proc.ticket_rate[1], 0.0])
    csat_p = np.array([proc.csat_probs[0], proc.csat_probs[1], proc.csat_probs[0]])
    n = cust.size
    state = np.full(n, CONTENT, dtype=np.int8)
    last_day = timeline.as_of_day + timeline.horizon
    bounds = np.searchsorted(cust.signup_day, np.arange(last_day + 2), side="left")
    buys_c, buys_d, tix_c, tix_d, tix_s = [], [], [], [], []
    state_after = None
    for t in range(last_day + 1):
        m, first = int(bounds[t + 1]), int(bounds[t])
        if m == 0:
            continue
        rows = slice(0, m)
        s = state[:m]
        pi = purchase_prob(cust, rows, t, rate_day, tenure, proc)
        pi[first:m, :GONE] = cust.first_buy[first:m, None]
        p_now = pi[np.arange(m), s]
        buy = rng.random(m) < p_now
        idx = np.flatnonzero(buy)
        buys_c.append(idx)
        buys_d.append(np.full(idx.size, t, dtype=np.int32))
        repeat = buy.copy()
        repeat[first:m] = False
        observed = t <= timeline.as_of_day
        if observed:
            ticket = rng.random(m) < ticket_p[s]
            tidx = np.flatnonzero(ticket)
            csat = _pick(rng, csat_p[s[tidx]]) + 1
            csat[rng.random(tidx.size) < proc.csat_missing] = 0
            tix_c.append(tidx)
            tix_d.append(np.full(tidx.size, t, dtype=np.int32))
            tix_s.append(csat.astype(np.int8))
        trans = cust.transition[:m][np.arange(m), s]
        leave_now = repeat & (rng.random(m) < cust.buy_death[:m])
        nxt = _pick(rng, trans).astype(np.int8)
        nxt[leave_now] = GONE
        state[:m] = nxt
        if t == timeline.as_of_day:
            state_after = state.copy()
    assert state_after is not None
    cat = np.concatenate
    return History(cat(buys_c), cat(buys_d), cat(tix_c), cat(tix_d), cat(tix_s), state_after)
