"""Scenario suite: synthetic businesses unlike the ones the project's models assume.

Each family writes a landing zone in the data contract's form (only data dated up to
as_of) and, beside it, its exact truth: every customer's realised future, the oracle
(exact expectation of the discounted margin, net revenue, purchase days and probability
of no order over the horizon, given the true process and the customer's true hidden
state), the observable ceiling (the same expectation conditioned only on what the
landing zone shows of the customer: sign-up day, channel, purchase days and values,
tickets and CSAT, given the true population-level process; its own rates, dropout
chances, order value and state are averaged over their posterior by importance sampling
over the population's traits with a forward filter over the hidden states), and the
allocation truth (true response
curves, true per-channel LTV and the true optimal plan from this package's own solver).
The package imports nothing else from ltv_pipeline, so it stays independent of the code
it judges.

The families, and what each assumes that the project's models (BG/NBD with gamma-gamma,
boosted trees on RFM-like features, a saturating-exponential response on same-day
spend) do not:

- `stationary_btyd`: the models' own world, as a control. Discrete-day BG/NBD buying
  with gamma-gamma values and saturating-exponential curves without carry-over; only
  orders split within a day differ from the models' assumptions. Its ceiling is the
  BG/NBD and gamma-gamma conditional expectation with the true parameters, sharpened
  by tickets (a customer files them only while alive).
- `seasonal_decay`: weekday and Q4 seasonality in purchase rates, purchase rates that
  decay with customer age, daily (not purchase-triggered) dropout, lognormal order values
  with refunds, seasonal organic sign-ups, a Hill curve and adstock carry-over.
- `hidden_dissatisfaction`: a hidden content/dissatisfied/gone Markov chain; dissatisfied
  customers buy less, file many more tickets with low CSAT and mostly leave, but can
  recover. Churn shows in support data before it shows in orders; the ceiling is the
  forward filter over the hidden states.
- `regime_shift`: a price rise mid-history (lower purchase rate, higher order value) and a
  change of channel mix and quality (social spend doubles while its customers worsen,
  search customers improve), so the whole history is not one stationary process.
- `response_shapes`: four channels with power-law (no ceiling), two S-shaped Hill and a
  saturating-exponential response on geometrically adstocked spend, frequent campaign
  bursts, and channels whose customers differ strongly in value.
- `short_thin`: under two horizons of history, tenure decay, mixed dropout, refunds and
  no cost column (margin_rate applies), and a thin channel whose spend never varies, so
  its curve cannot be learned.
"""

from ltv_pipeline.scenarios.allocation import allocation_gain, allocation_value, observable_allocation_gain
from ltv_pipeline.scenarios.scenario import FAMILIES, generate_scenario

__all__ = ["FAMILIES", "allocation_gain", "allocation_value", "generate_scenario", "observable_allocation_gain"]
