"""The true parameters of the synthetic business, as typed frozen dataclasses.

Why one module: every number that shapes the generated data lives here, so truth.json can
record all of them verbatim and later stages (BTYD fits, CAC marts, the budget allocator)
are tested against the parameters that really generated the data, not against guesses.

Monetary and per-day values in `ChannelParams` are at a *reference scale*; the generator
multiplies spend, response amplitude and organic volume by one factor so the expected
number of acquired customers equals `n_customers` while every CAC stays the same (see
`scale_channels`). truth.json holds the scaled values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from math import exp

DEFAULT_START = date(2024, 1, 1)
DEFAULT_END = date(2026, 9, 30)
"""Last day of history (inclusive). Fixed, never the clock, so runs are reproducible."""
HORIZON_DAYS = 365
ANNUAL_DISCOUNT_RATE = 0.10


@dataclass(frozen=True)
class ResponseCurve:
    """Expected new customers/day = max_new_per_day * (1 - exp(-spend / spend_scale)).

    Concave: the marginal cost of a customer grows like exp(spend / spend_scale), so each
    channel saturates and a budget allocator has a genuine interior optimum to find.
    """

    max_new_per_day: float
    spend_scale: float


@dataclass(frozen=True)
class SpendPattern:
    """How a paid channel's daily budget moves, so its response curve is identifiable.

    The evergreen budget is a mean-reverting random walk in logs around a growing base,
    with weekday effects, months held flat (fixed contracts) and short pauses; campaign
    bursts add spend on top under their own campaign names.
    """

    base_daily_spend: float
    ar_sd: float
    bursts_per_year: float
    burst_lift: float
    weekday_profile: tuple[float, ...]
    flat_month_prob: float
    pause_month_prob: float
    campaigns: tuple[str, ...]
    campaign_weights: tuple[float, ...]
    cpm: float
    ctr: float
    reports_impressions: bool


@dataclass(frozen=True)
class CustomerQuality:
    """Channel multipliers on the population purchase model: who a channel brings in."""

    never_order_prob: float
    rate_multiplier: float
    """Scales the BG/NBD purchase rate (alpha is divided by it)."""
    loyalty_multiplier: float
    """Scales BG/NBD b: above 1 means a lower per-transaction dropout probability."""
    value_multiplier: float
    """Scales the Gamma-Gamma scale v: above 1 means larger orders."""
    refund_prob: float


@dataclass(frozen=True)
class ChannelParams:
    key: str
    """Lower snake_case, as the pipeline normalises it."""
    label: str
    """Human-styled, as written in customers/ and marketing_spend/."""
    quality: CustomerQuality
    response: ResponseCurve | None = None
    spend: SpendPattern | None = None
    organic_daily_new: float = 0.0
    """Baseline new customers/day for channels without spend (seasonal, growing)."""
    fixed_campaign: str | None = None

    @property
    def paid(self) -> bool:
        return self.response is not None


@dataclass(frozen=True)
class PurchaseParams:
    """Population BG/NBD (rates per *average* day) and Gamma-Gamma order values.

    Shape parameters follow CDNOW (a=0.793, Gamma-Gamma p=6.25, q=3.74, v=15.44); r, alpha
    and b (CDNOW: 0.243, 4.414 weeks, 2.426) are rescaled to an e-commerce shop selling ~10
    orders per ordering customer over the window. `CustomerQuality` multipliers apply on top.
    """

    r: float = 0.75
    alpha_days: float = 11.0
    a: float = 0.793
    b: float = 4.5
    p: float = 6.25
    q: float = 3.74
    v: float = 15.44
    same_day_extra_prob: float = 0.05
    first_order_same_session_prob: float = 0.8
    first_order_delay_mean_days: float = 4.0


@dataclass(frozen=True)
class Seasonality:
    """Calendar multipliers on purchase intensity (orders) and on organic sign-ups."""

    order_month: tuple[float, ...] = (0.85, 0.85, 0.95, 0.97, 1.0, 0.95, 0.9, 0.92, 1.0, 1.05, 1.3, 1.4)
    order_weekday: tuple[float, ...] = (1.04, 1.0, 0.98, 0.98, 0.95, 0.97, 1.08)
    hour_profile: tuple[float, ...] = (
        0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.1, 1.2, 1.25,
        1.35, 1.3, 1.2, 1.15, 1.2, 1.35, 1.55, 1.8, 1.9, 1.7, 1.2, 0.6,
    )  # fmt: skip
    black_friday_lift: float = 1.8
    """Black Friday through Cyber Monday."""
    signup_month: tuple[float, ...] = (0.9, 0.9, 0.95, 1.0, 1.0, 0.95, 0.92, 0.95, 1.0, 1.05, 1.2, 1.2)
    organic_growth_per_year: float = 0.2
    spend_growth_per_year: float = 0.15


@dataclass(frozen=True)
class Economics:
    """Per-order cost and refund rules (cost 40-65% of revenue, refunds on 3-5% of orders)."""

    categories: tuple[str, ...] = ("apparel", "home", "electronics", "beauty")
    category_shares: tuple[float, ...] = (0.35, 0.25, 0.2, 0.2)
    category_cost_rates: tuple[float, ...] = (0.45, 0.55, 0.61, 0.44)
    cost_rate_noise: float = 0.03
    refund_full_share: float = 0.35
    refund_partial_range: tuple[float, float] = (0.15, 0.85)

    @property
    def mean_cost_rate(self) -> float:
        return sum(s * c for s, c in zip(self.category_shares, self.category_cost_rates))

    @property
    def mean_refund_fraction(self) -> float:
        """Expected refunded share of revenue, given that an order is refunded."""
        lo, hi = self.refund_partial_range
        return self.refund_full_share + (1 - self.refund_full_share) * (lo + hi) / 2


@dataclass(frozen=True)
class TicketParams:
    """Support tickets: a base rate per order, plus complaints right after a customer's
    final order, so tickets and low CSAT *precede* churn as in real shops."""

    categories: tuple[str, ...] = ("delivery", "product", "billing", "returns", "account")
    base_category_probs: tuple[float, ...] = (0.35, 0.25, 0.15, 0.15, 0.1)
    churn_category_probs: tuple[float, ...] = (0.4, 0.3, 0.05, 0.22, 0.03)
    base_ticket_per_order: float = 0.035
    base_delay_mean_days: float = 3.0
    churn_ticket_prob: float = 0.45
    churn_extra_tickets_mean: float = 0.6
    churn_window_days: tuple[float, float] = (0.2, 21.0)
    never_ordered_ticket_prob: float = 0.03
    base_csat_probs: tuple[float, ...] = (0.05, 0.07, 0.13, 0.3, 0.45)
    churn_csat_probs: tuple[float, ...] = (0.35, 0.3, 0.2, 0.1, 0.05)
    base_resolution_median_hours: float = 20.0
    churn_resolution_median_hours: float = 60.0
    base_unresolved_prob: float = 0.06
    churn_unresolved_prob: float = 0.15
    csat_missing_prob: float = 0.3


@dataclass(frozen=True)
class Population:
    """Who the customers are, outside their channel."""

    guest_share: float = 0.02
    """Share of ordering customers without a customers/ row (guest checkouts)."""
    countries: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU", "NL")
    country_shares: tuple[float, ...] = (0.52, 0.12, 0.1, 0.07, 0.08, 0.06, 0.05)


def _paid(
    key: str,
    label: str,
    quality: CustomerQuality,
    pattern: SpendPattern,
    saturation: float,
    target_cac: float,
) -> ChannelParams:
    """A paid channel whose average CAC at its base spend is `target_cac`, and whose base
    spend sits at `saturation` = spend / spend_scale on the curve (2 = deep in saturation)."""
    scale = pattern.base_daily_spend / saturation
    amplitude = pattern.base_daily_spend / (target_cac * (1 - exp(-saturation)))
    return ChannelParams(key, label, quality, ResponseCurve(amplitude, scale), pattern)


_FLAT_WEEK = (1.0,) * 7


def default_channels() -> tuple[ChannelParams, ...]:
    """Five paid channels plus Organic and Referral, at the reference scale.

    Designed so the cheapest channel is not the best: Display has the lowest CAC but brings
    customers who rarely order, churn fast and spend little, and it is over-funded (deep in
    saturation); Affiliate is the priciest but most loyal and is under-funded, so moving
    budget has a real gain for an allocator to find.
    """
    q = CustomerQuality
    return (
        _paid(
            "paid_search", "Paid Search",
            q(never_order_prob=0.10, rate_multiplier=1.0, loyalty_multiplier=1.0, value_multiplier=1.9,
              refund_prob=0.035),
            SpendPattern(base_daily_spend=3000, ar_sd=0.04, bursts_per_year=3, burst_lift=0.6,
                         weekday_profile=(1.08, 1.06, 1.03, 1.0, 0.95, 0.92, 0.96), flat_month_prob=0.1,
                         pause_month_prob=0.03, campaigns=("Brand - Exact", "Generic - Broad", "Shopping"),
                         campaign_weights=(0.35, 0.4, 0.25), cpm=25.0, ctr=0.035, reports_impressions=True),
            saturation=0.9, target_cac=40,
        ),
        _paid(
            "paid_social", "Paid Social",
            q(never_order_prob=0.18, rate_multiplier=0.85, loyalty_multiplier=0.8, value_multiplier=1.6,
              refund_prob=0.045),
            SpendPattern(base_daily_spend=3500, ar_sd=0.05, bursts_per_year=5, burst_lift=1.0,
                         weekday_profile=(0.95, 0.95, 0.97, 1.0, 1.03, 1.06, 1.04), flat_month_prob=0.1,
                         pause_month_prob=0.05,
                         campaigns=("Prospecting - Lookalike", "Retargeting - Cart", "Video Awareness"),
                         campaign_weights=(0.55, 0.25, 0.2), cpm=9.0, ctr=0.012, reports_impressions=True),
            saturation=1.1, target_cac=32,
        ),
        _paid(
            "display", "Display",
            q(never_order_prob=0.32, rate_multiplier=0.55, loyalty_multiplier=0.55, value_multiplier=1.3,
              refund_prob=0.05),
            SpendPattern(base_daily_spend=2500, ar_sd=0.05, bursts_per_year=2, burst_lift=0.8,
                         weekday_profile=_FLAT_WEEK, flat_month_prob=0.2, pause_month_prob=0.05,
                         campaigns=("Prospecting", "Retargeting"), campaign_weights=(0.6, 0.4), cpm=3.0,
                         ctr=0.004, reports_impressions=True),
            saturation=2.0, target_cac=20,
        ),
        _paid(
            "affiliate", "Affiliate",
            q(never_order_prob=0.05, rate_multiplier=1.3, loyalty_multiplier=1.8, value_multiplier=2.3,
              refund_prob=0.025),
            SpendPattern(base_daily_spend=1200, ar_sd=0.03, bursts_per_year=2, burst_lift=0.5,
                         weekday_profile=_FLAT_WEEK, flat_month_prob=0.25, pause_month_prob=0.02,
                         campaigns=("Cashback Partners", "Coupon Sites", "Content Publishers"),
                         campaign_weights=(0.4, 0.35, 0.25), cpm=12.0, ctr=0.02, reports_impressions=False),
            saturation=0.25, target_cac=70,
        ),
        _paid(
            "influencer", "Influencer",
            q(never_order_prob=0.15, rate_multiplier=1.0, loyalty_multiplier=1.1, value_multiplier=1.8,
              refund_prob=0.07),
            SpendPattern(base_daily_spend=800, ar_sd=0.05, bursts_per_year=8, burst_lift=3.0,
                         weekday_profile=(0.97, 0.97, 0.98, 1.0, 1.02, 1.03, 1.03), flat_month_prob=0.05,
                         pause_month_prob=0.08, campaigns=("Always-on Creators",), campaign_weights=(1.0,),
                         cpm=6.0, ctr=0.015, reports_impressions=False),
            saturation=0.7, target_cac=50,
        ),
        ChannelParams(
            "organic", "Organic",
            q(never_order_prob=0.2, rate_multiplier=1.0, loyalty_multiplier=1.0, value_multiplier=1.7,
              refund_prob=0.035),
            organic_daily_new=150.0,
        ),
        ChannelParams(
            "referral", "Referral",
            q(never_order_prob=0.08, rate_multiplier=1.15, loyalty_multiplier=1.5, value_multiplier=2.0,
              refund_prob=0.03),
            organic_daily_new=35.0, fixed_campaign="Refer a Friend",
        ),
    )  # fmt: skip


def scale_channel(channel: ChannelParams, factor: float) -> ChannelParams:
    """Multiply spend, response amplitude and scale, and organic volume by `factor`.

    Scaling amplitude and spend_scale together with spend keeps every CAC (average and
    marginal) unchanged while new customers scale by `factor`: a 1k and a 1M business
    have the same unit economics.
    """
    if channel.response is None or channel.spend is None:
        return replace(channel, organic_daily_new=channel.organic_daily_new * factor)
    curve = ResponseCurve(channel.response.max_new_per_day * factor, channel.response.spend_scale * factor)
    pattern = replace(channel.spend, base_daily_spend=channel.spend.base_daily_spend * factor)
    return replace(channel, response=curve, spend=pattern)


@dataclass(frozen=True)
class BusinessParams:
    """Everything that generated one synthetic business (recorded in truth.json)."""

    seed: int
    n_customers: int
    start: date
    end: date
    scale_factor: float
    channels: tuple[ChannelParams, ...]
    purchase: PurchaseParams
    seasonality: Seasonality
    economics: Economics
    tickets: TicketParams
    population: Population
    horizon_days: int = HORIZON_DAYS
    annual_discount_rate: float = ANNUAL_DISCOUNT_RATE
