"""The simulated world as the four contract tables, with realistic ids.

Ids are numbered in time order (C0000001 is the first sign-up, O00000001 the first order)
and wide enough for every forged messy id, so widths never change within one landing zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ltv_pipeline.synthetic.business import World

ID_HEADROOM = 1_000
"""Spare numbers above the clean ids, for the forged rows of the messy deliveries."""


def to_epoch_us(start: date, t_days: np.ndarray) -> np.ndarray:
    """Float days since `start` to whole-second epoch microseconds (NaN/inf map to 0)."""
    seconds = np.floor(np.nan_to_num(t_days, nan=0.0, posinf=0.0) * 86_400).astype(np.int64)
    return (np.datetime64(start, "s").astype(np.int64) + seconds) * 1_000_000


def datetimes(start: date, t_days: np.ndarray) -> pl.Series:
    """Timestamps as a naive (= UTC) Datetime series, null where `t_days` is not finite."""
    us = pl.Series(to_epoch_us(start, t_days)).cast(pl.Datetime("us"))
    return us.to_frame("t").select(pl.when(pl.Series(np.isfinite(t_days))).then(pl.col("t"))).to_series()


def numbered_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    digits = pl.Series("n", numbers).cast(pl.String).str.zfill(width)
    return digits.to_frame().select(pl.concat_str(pl.lit(prefix), pl.col("n"))).to_series()


@dataclass(frozen=True)
class IdWidths:
    customer: int
    order: int
    ticket: int

    @classmethod
    def of(cls, world: World) -> IdWidths:
        def width(n: int, minimum: int) -> int:
            return max(minimum, len(str(n + ID_HEADROOM)))

        return cls(width(world.params.n_customers, 7), width(world.orders.t.size, 8), width(world.tickets.cust.size, 7))


def customer_ids(world: World) -> pl.Series:
    return numbered_ids("C", np.arange(1, world.params.n_customers + 1), IdWidths.of(world).customer)


def customers_table(world: World) -> pl.DataFrame:
    """customers/ rows: every acquired customer except guest checkouts."""
    acq, params = world.acquired, world.params
    campaign = np.where(acq.campaign < 0, len(acq.campaign_names), acq.campaign)
    frame = pl.DataFrame(
        {
            "customer_id": customer_ids(world),
            "signup_ts": datetimes(params.start, acq.signup_t),
            "acquisition_channel": pl.Series([c.label for c in params.channels]).gather(acq.channel),
            "acquisition_campaign": pl.Series([*acq.campaign_names, None]).gather(campaign),
            "country": pl.Series(params.population.countries).gather(acq.country),
        }
    )
    email = pl.format("user{}@example.com", pl.int_range(1, pl.len() + 1))
    return frame.with_columns(email.alias("email")).filter(~pl.Series(world.guest))


def orders_table(world: World) -> pl.DataFrame:
    """orders/ rows in time order; revenue, cost and refund in cents-rounded currency."""
    o = world.orders
    frame = pl.DataFrame(
        {
            "order_ts": pl.Series(to_epoch_us(world.params.start, o.t)).cast(pl.Datetime("us")),
            "cust": o.cust,
            "revenue": o.revenue,
            "cost": o.cost,
            "refund": o.refund,
        }
    ).sort("order_ts", "cust", maintain_order=True)
    return frame.select(
        numbered_ids("O", np.arange(1, frame.height + 1), IdWidths.of(world).order).alias("order_id"),
        customer_ids(world).gather(frame["cust"]).alias("customer_id"),
        "order_ts",
        "revenue",
        "cost",
        "refund",
    )


def tickets_table(world: World) -> pl.DataFrame:
    """support_tickets/ rows in time order; CSAT 0 (no answer) becomes empty."""
    tk, start = world.tickets, world.params.start
    created = to_epoch_us(start, tk.created_t)
    order = np.lexsort((tk.cust, created))
    csat = pl.Series(tk.csat[order]).cast(pl.Int8)
    return pl.DataFrame(
        {
            "ticket_id": numbered_ids("T", np.arange(1, created.size + 1), IdWidths.of(world).ticket),
            "customer_id": customer_ids(world).gather(tk.cust[order]),
            "created_ts": pl.Series(created[order]).cast(pl.Datetime("us")),
            "category": pl.Series(world.params.tickets.categories).gather(tk.category[order]),
            "resolved_ts": datetimes(start, tk.resolved_t[order]),
            "csat": csat.to_frame("c").select(pl.when(pl.col("c") > 0).then(pl.col("c"))).to_series(),
        }
    )
