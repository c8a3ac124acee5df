"""Plain-language reasons for each channel's budget move.

Why in words: the table is read by marketers who act on it. Each reason says what to do,
what the next (or last) dollar returns in lifetime margin, what limits the move (a
bound, the other channels, the break-even hurdle), which curve shape the data favour,
how likely the move is to beat today's spend, and when the curve is extrapolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isnan

KEEP_BAND = 0.02
"""Moves smaller than 2% of current spend are reported as 'keep'."""


@dataclass(frozen=True)
class Move:
    """One channel's recommendation, per day, with the curve facts that explain it."""

    current_daily: float
    recommended_daily: float
    lower_daily: float
    upper_daily: float
    return_now: float
    """Lifetime margin from the marginal dollar at current spend."""
    return_then: float
    """Lifetime margin from the marginal dollar at the recommendation."""
    return_elsewhere: float
    """The common return of the marginal dollar in channels between their bounds."""
    budget_binding: bool
    curve: str
    """The curve in words, e.g. 'S-shaped (Hill) curve, 40% daily carry-over'."""
    p_better: float
    """Share of curve draws in which the recommendation earns more than today's spend."""
    max_observed_daily: float


def _money(x: float) -> str:
    return f"${x:,.0f}"


def _limit(m: Move) -> str:
    """What stops the move where it stops."""
    r, mu = m.return_then, m.return_elsewhere
    if m.recommended_daily >= m.upper_daily * (1 - 1e-9):
        return f"even at the {m.upper_daily / m.current_daily:g}x cap the last $1 still returns ${r:.2f}"
    if m.recommended_daily <= m.lower_daily * (1 + 1e-9):
        tail = "" if isnan(mu) else f", below the ${mu:.2f} {'it earns in other channels' if m.budget_binding else 'hurdle'}"
        return f"even at the {m.lower_daily / m.current_daily:g}x floor the last $1 returns only ${r:.2f}{tail}"
    if m.budget_binding:
        return f"the last $1 returns ${r:.2f}, level with the other channels"
    if isnan(mu):
        return f"the last $1 returns ${r:.2f}"
    return (f"the last $1 returns ${r:.2f}; any more would return less than the ${mu:.2f} hurdle, so part of "
            "the budget is better left unspent")


def explain(m: Move) -> str:
    """'Raise spend 40% to $4,200/day: ...' for a channel whose curve the optimiser used."""
    if m.current_daily <= 0:
        return "Keep spend at $0: nothing was spent in the last 30 days, and bounds are relative to current spend."
    change = m.recommended_daily / m.current_daily - 1.0
    if abs(change) < KEEP_BAND:
        text = f"Keep spend: {_limit(m)}"
    else:
        text = (f"{'Raise' if change > 0 else 'Cut'} spend {abs(change):.0%} to {_money(m.recommended_daily)}/day: "
                f"at today's {_money(m.current_daily)}/day an extra $1 returns ${m.return_now:.2f} of lifetime "
                f"margin; {_limit(m)}")
    text += f"; {m.curve}"
    if not isnan(m.p_better):
        text += f"; {m.p_better:.0%} chance this beats today's spend"
    if m.recommended_daily > m.max_observed_daily * 1.05:
        text += (f"; {_money(m.recommended_daily)}/day is above the most ever spent in a day "
                 f"({_money(m.max_observed_daily)}), so the curve is extrapolated there")
    return text + "."


def keep(why: str) -> str:
    """Reason for a channel held at current spend because its curve or value is unusable."""
    return f"Keep spend: {why}."
