"""The six business families: each one a `FamilySpec`.

They differ in how customers buy and leave (BG/NBD-like dropout after purchases, daily
Pareto/NBD-like dropout, a hidden dissatisfied state, tenure decay), in what moves over
time (weekday and Q4 seasonality, a price rise and channel-quality change mid-history),
in value distributions (gamma-gamma, lognormal, refunds, no cost column) and in how
channels respond to spend (three curve shapes, adstock carry-over, bursts, a thin
channel with nearly constant spend).
"""

from __future__ import annotations

from ltv_pipeline.scenarios.spec import ChannelSpec, FamilySpec, ProcessSpec

ORGANIC = ChannelSpec("organic", paid=False, share=0.4, first_buy=0.85)

STATIONARY_BTYD = FamilySpec(
    name="stationary_btyd",
    description=(
        "The models' own world, kept as a control: discrete-day BG/NBD buying (gamma "
        "purchase rates, beta dropout after each repeat purchase) with gamma-gamma order "
        "values, no seasonality, no trend, saturating-exponential response to spend without "
        "carry-over. It assumes nothing the models do not, apart from orders split within a day."
    ),
    process=ProcessSpec(rate_mean=0.015, rate_shape=0.9, buy_death_a=0.8, buy_death_b=4.0),
    channels=(
        ChannelSpec("search", share=0.4, marginal_roi=1.6, rate_mult=1.1),
        ChannelSpec("social", share=0.35, marginal_roi=0.6, rate_mult=0.8, death_mult=1.3),
        ChannelSpec("display", share=0.25, shape=1.0, marginal_roi=1.2, value_mult=0.9),
        ORGANIC,
    ),
)

SEASONAL_DECAY = FamilySpec(
    name="seasonal_decay",
    description=(
        "Purchase rates follow the week (weekend peak) and the year (a Q4 peak near twice "
        "the spring rate) and fall with customer age to 30% of the first months' rate; "
        "customers leave on any day (Pareto/NBD-like), not after purchases; order values are "
        "lognormal with refunds; organic sign-ups are seasonal and channels respond with "
        "carry-over. Stationary BTYD models and RFM features see none of the calendar."
    ),
    process=ProcessSpec(
        rate_mean=0.03, rate_shape=1.5, death_mean=1 / 900, death_shape=2.0,
        weekday=(0.8, 0.85, 0.9, 0.95, 1.1, 1.3, 1.2),
        month=(0.8, 0.75, 0.85, 0.9, 0.9, 0.85, 0.85, 0.9, 0.95, 1.1, 1.6, 2.0),
        tenure_floor=0.3, tenure_days=180.0,
        value_kind="lognormal", ln_median=45.0, ln_between=0.6, ln_within=0.45,
        refund_prob=0.04, cost_ratio=0.55,
    ),
    channels=(
        ChannelSpec("search", form="hill", shape=0.9, slope=1.8, adstock=0.4, share=0.4, marginal_roi=1.7),
        ChannelSpec("social", adstock=0.6, share=0.35, marginal_roi=0.7, rate_mult=0.85),
        ChannelSpec("display", shape=1.0, adstock=0.5, share=0.25, marginal_roi=1.1, value_mult=1.2),
        ORGANIC,
    ),
    organic_seasonal=True,
)

HIDDEN_DISSATISFACTION = FamilySpec(
    name="hidden_dissatisfaction",
    description=(
        "Each customer moves between a content and a dissatisfied state (a hidden Markov "
        "chain) before leaving: dissatisfied customers buy less, file support tickets about "
        "thirty times as often and give low CSAT, and most leave within weeks, but some "
        "recover. Departures are announced by tickets, not by purchase gaps, so a model "
        "that reads only orders sees churn late; the observable ceiling filters the hidden "
        "state from orders, tickets and CSAT."
    ),
    process=ProcessSpec(
        rate_mean=0.025, rate_shape=2.0, death_mean=1 / 3000,
        dissatisfy=1 / 200, recover=1 / 40, dissatisfied_death=1 / 30, dissatisfied_rate_mult=0.4,
        ticket_rate=(1 / 500, 1 / 12),
        csat_probs=((0.02, 0.03, 0.10, 0.35, 0.50), (0.40, 0.30, 0.18, 0.08, 0.04)),
        csat_missing=0.25,
    ),
    channels=(
        ChannelSpec("search", adstock=0.3, share=0.4, marginal_roi=1.5),
        ChannelSpec("social", form="power", shape=0.6, adstock=0.3, share=0.35, marginal_roi=0.7),
        ChannelSpec("display", adstock=0.3, share=0.25, marginal_roi=1.3, rate_mult=0.9),
        ORGANIC,
    ),
)

REGIME_SHIFT = FamilySpec(
    name="regime_shift",
    description=(
        "Six tenths into the history a price rise lowers every customer's purchase rate by "
        "30% and raises order values by 30%, and the channel mix changes: social spend "
        "doubles while the customers it brings now buy half as often and leave twice as "
        "fast, and search brings better customers than before. Models fitted on the whole "
        "history as one stationary process mix the two regimes."
    ),
    process=ProcessSpec(
        rate_mean=0.02, rate_shape=1.2, buy_death_a=1.0, buy_death_b=6.0, death_mean=1 / 1500,
        shift_at=0.6, shift_rate_mult=0.7, shift_value_mult=1.3,
    ),
    channels=(
        ChannelSpec("search", adstock=0.2, share=0.35, marginal_roi=1.5, shift_rate_mult=1.3),
        ChannelSpec("social", adstock=0.2, share=0.4, marginal_roi=0.6, shift_rate_mult=0.5,
                    shift_death_mult=2.0, shift_spend_mult=2.0),
        ChannelSpec("display", adstock=0.2, share=0.25, marginal_roi=1.2, shift_spend_mult=0.6),
        ORGANIC,
    ),
)

RESPONSE_SHAPES = FamilySpec(
    name="response_shapes",
    description=(
        "Four paid channels whose sign-ups respond to spend through different shapes: a "
        "power law with no ceiling, two S-shaped Hill curves (increasing returns at low "
        "spend) and a saturating exponential, each on geometrically adstocked spend (up to "
        "70% carried to the next day) with frequent campaign bursts; channels bring "
        "customers of very different value. A single saturating curve on same-day spend "
        "misreads every channel but one."
    ),
    process=ProcessSpec(rate_mean=0.02, rate_shape=1.0, death_mean=1 / 800, death_shape=2.0),
    channels=(
        ChannelSpec("search", form="power", shape=0.55, adstock=0.2, share=0.3, marginal_roi=1.8,
                    rate_mult=1.4, value_mult=1.2),
        ChannelSpec("social", form="hill", shape=1.2, slope=2.5, adstock=0.6, share=0.3, marginal_roi=1.4,
                    rate_mult=0.6, death_mult=1.5),
        ChannelSpec("display", shape=0.8, adstock=0.4, share=0.25, marginal_roi=0.5, rate_mult=0.9),
        ChannelSpec("video", form="hill", shape=0.9, slope=3.0, adstock=0.7, share=0.15, marginal_roi=0.8,
                    rate_mult=1.2, value_mult=1.4),
        ORGANIC,
    ),
    bursts_per_year=8.0,
    spend_volatility=0.07,
)

SHORT_THIN = FamilySpec(
    name="short_thin",
    description=(
        "A young business: 1.6 horizons of history whatever the horizon, purchase rates "
        "that fall with tenure, dropout both after purchases and on any day, refunds, and "
        "no cost column (margin is a configured rate). One paid channel, affiliate, has "
        "spent the same amount every day, so its response curve cannot be learned; it is "
        "in truth underfunded, and a careful allocator leaves it near today's spend."
    ),
    process=ProcessSpec(
        rate_mean=0.04, rate_shape=0.7, buy_death_a=0.6, buy_death_b=3.0, death_mean=1 / 1200,
        tenure_floor=0.5, tenure_days=90.0, refund_prob=0.05, cost_ratio=None, margin_rate=0.3,
    ),
    channels=(
        ChannelSpec("search", adstock=0.3, share=0.4, marginal_roi=1.4),
        ChannelSpec("social", adstock=0.3, share=0.3, marginal_roi=0.7, rate_mult=0.8),
        ChannelSpec("display", shape=1.0, adstock=0.3, share=0.15, marginal_roi=1.2),
        ChannelSpec("affiliate", share=0.15, marginal_roi=1.6, thin=True, rate_mult=1.2),
        ORGANIC,
    ),
    history_horizons=1.6,
)

FAMILY_SPECS = {f.name: f for f in (STATIONARY_BTYD, SEASONAL_DECAY, HIDDEN_DISSATISFACTION, REGIME_SHIFT,
                                    RESPONSE_SHAPES, SHORT_THIN)}
