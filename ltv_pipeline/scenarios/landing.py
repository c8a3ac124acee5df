"""Write the landing zone in the data contract's columns: only what is dated up to as_of.

One CSV delivery per source and calendar year, named so file-name order is time order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ltv_pipeline.scenarios.calendar import Timeline
from ltv_pipeline.scenarios.orders import Orders
from ltv_pipeline.scenarios.simulate import History

TICKET_CATEGORIES = ("delivery", "billing", "product", "account")
MEAN_RESOLUTION_DAYS = 1.5


def customer_ids(n: int) -> np.ndarray:
    return np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))


def _timestamps(timeline: Timeline, day: np.ndarray, second: np.ndarray) -> pl.Series:
    base = np.datetime64(timeline.start, "s")
    ts = base + day.astype("timedelta64[D]").astype("timedelta64[s]") + second.astype("timedelta64[s]")
    return pl.Series(ts.astype("datetime64[ms]")).dt.strftime("%Y-%m-%dT%H:%M:%S")


def _write_by_year(frame: pl.DataFrame, year: np.ndarray, folder: Path, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for y in np.unique(year):
        frame.filter(pl.Series(year == y)).write_csv(folder / f"{source}_{y}.csv")


def _years(timeline: Timeline, day: np.ndarray) -> np.ndarray:
    return (np.datetime64(timeline.start, "D") + day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
        np.int64) + 1970


def write_landing(landing: Path, timeline: Timeline, channel_names: list[str], paid_names: list[str],
                  signup_day: np.ndarray, channel: np.ndarray, signup_second: np.ndarray, orders: Orders,
                  history: History, spend: np.ndarray, burst: np.ndarray, with_cost: bool,
                  rng: np.random.Generator) -> None:
    ids = customer_ids(signup_day.size)
    seen = orders.day <= timeline.as_of_day
    o = {k: getattr(orders, k)[seen] for k in ("customer", "day", "second", "revenue", "cost", "refund")}
    order_cols = {
        "order_id": np.char.add("O", np.char.zfill(np.arange(1, o["day"].size + 1).astype(str), 9)),
        "customer_id": ids[o["customer"]],
        "order_ts": _timestamps(timeline, o["day"], o["second"]),
        "revenue": o["revenue"],
    }
    if with_cost:
        order_cols["cost"] = o["cost"]
    order_cols["refund"] = o["refund"]
    _write_by_year(pl.DataFrame(order_cols), _years(timeline, o["day"]), landing / "orders", "orders")

    customers = pl.DataFrame({
        "customer_id": ids,
        "signup_ts": _timestamps(timeline, signup_day, signup_second),
        "acquisition_channel": np.asarray(channel_names)[channel],
    })
    _write_by_year(customers, _years(timeline, signup_day), landing / "customers", "customers")

    n_days, n_paid = spend.shape
    day = np.repeat(np.arange(n_days), n_paid)
    names = np.tile(np.asarray(paid_names), n_days)
    campaign = np.char.add(names, np.where(burst.ravel(), "_burst", "_always_on"))
    spend_rows = pl.DataFrame({
        "spend_date": (np.datetime64(timeline.start, "D") + day.astype("timedelta64[D]")).astype(str),
        "channel": names,
        "campaign": campaign,
        "spend": np.round(spend.ravel(), 2),
    })
    _write_by_year(spend_rows, _years(timeline, day), landing / "marketing_spend", "marketing_spend")

    t_day = history.ticket_day
    t_second = rng.integers(0, 86_400, t_day.size)
    resolved = t_day * 86_400 + t_second + (rng.exponential(MEAN_RESOLUTION_DAYS, t_day.size) * 86_400).astype(
        np.int64)
    resolved_known = resolved < (timeline.as_of_day + 1) * 86_400
    resolved_ts = _timestamps(timeline, resolved // 86_400, resolved % 86_400)
    tickets = pl.DataFrame({
        "ticket_id": np.char.add("T", np.char.zfill(np.arange(1, t_day.size + 1).astype(str), 8)),
        "customer_id": ids[history.ticket_customer],
        "created_ts": _timestamps(timeline, t_day, t_second),
        "category": np.asarray(TICKET_CATEGORIES)[rng.integers(0, len(TICKET_CATEGORIES), t_day.size)],
        "resolved_ts": resolved_ts.set(pl.Series(~resolved_known), None),
        "csat": pl.Series(history.ticket_csat.astype(np.int64)).replace(0, None),
    })
    _write_by_year(tickets, _years(timeline, t_day), landing / "support_tickets", "support_tickets")
