"""The ground truth written beside the landing zone: truth.json and customers_truth.parquet.

Why: every later stage has a right answer to be tested against. BTYD fits against the
generating r/alpha/a/b and p/q/v, LTV scores against each customer's true expected
discounted margin, CAC marts against the real spend and acquisitions, the allocator
against the true optimum of the true response curves.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import polars as pl

from ltv_pipeline.synthetic.business import World
from ltv_pipeline.synthetic.landing_tables import customer_ids, datetimes
from ltv_pipeline.synthetic.messy import MessyFile
from ltv_pipeline.synthetic.response import allocation_value, true_new_customers, true_optimal_allocation
from ltv_pipeline.synthetic.value import (
    daily_discount,
    expected_discounted_transactions,
    margin_rate,
    mean_order_value,
    new_customer_value,
    transaction_revenue_factor,
)
from ltv_pipeline.synthetic.writer import WrittenFile

CURRENT_SPEND_DAYS = 30
"""The 'current allocation' is the mean daily spend of the last 30 days (contract total_budget)."""


def expected_margins(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: expected transactions and expected discounted margin over the horizon
    after the end date, given the true rate, dropout probability and alive state."""
    p, acq = world.params, world.acquired
    alive = world.transactions.alive_at_end
    tx = np.zeros(acq.lam.size)
    tx[alive] = expected_discounted_transactions(
        acq.lam[alive], acq.p_drop[alive], world.timeline.future_day_warp(p.horizon_days),
        daily_discount(p.horizon_days, p.annual_discount_rate),
    )
    rate = np.array([margin_rate(c, p.economics) for c in p.channels])[acq.channel]
    return tx, tx * acq.mean_value * transaction_revenue_factor(p.purchase) * rate


def customers_truth(world: World) -> pl.DataFrame:
    acq, tx, start = world.acquired, world.transactions, world.params.start
    expected_tx, expected_margin = expected_margins(world)
    signup = np.where(world.guest, tx.first_t, acq.signup_t)
    return pl.DataFrame(
        {
            "customer_id": customer_ids(world),
            "channel": pl.Series([c.key for c in world.params.channels]).gather(acq.channel),
            "has_customer_row": ~world.guest,
            "signup_ts": datetimes(start, signup),
            "first_order_ts": datetimes(start, tx.first_t),
            "never_orders": acq.never_orders,
            "orders_in_window": np.bincount(world.orders.cust, minlength=acq.lam.size),
            "transactions_in_window": tx.count,
            "purchase_rate_per_day": acq.lam,
            "dropout_prob": acq.p_drop,
            "mean_order_value": acq.mean_value,
            "death_ts": datetimes(start, tx.death_t),
            "alive_at_end": tx.alive_at_end,
            "expected_transactions_365": expected_tx,
            "expected_discounted_margin_365": expected_margin,
        }
    )


def _channels(world: World) -> dict[str, Any]:
    params, daily = world.params, world.daily_spend()
    acquired = np.bincount(world.acquired.channel, minlength=len(params.channels))
    out: dict[str, Any] = {}
    for i, ch in enumerate(params.channels):
        value = new_customer_value(ch, params.purchase, params.economics, params.horizon_days,
                                   params.annual_discount_rate)
        entry: dict[str, Any] = {
            **asdict(ch),
            "paid": ch.paid,
            "mean_order_value": mean_order_value(ch, params.purchase),
            "margin_rate": margin_rate(ch, params.economics),
            "new_customer_value_365": value,
            "customers_acquired": int(acquired[i]),
        }
        if ch.paid and ch.response is not None:
            current = float(daily[-CURRENT_SPEND_DAYS:, i].mean())
            new_now = float(true_new_customers(ch, current))
            total = float(daily[:, i].sum())
            entry |= {
                "campaigns": [world.spend.names[j] for j in np.unique(world.spend.campaign[world.spend.channel == i])],
                "total_spend": round(total, 2),
                "avg_cac_window": total / max(int(acquired[i]), 1),
                "current_daily_spend": current,
                "cac_at_current_spend": current / new_now if new_now > 0 else None,
                "marginal_cac_at_current_spend": ch.response.spend_scale * np.exp(current / ch.response.spend_scale)
                / ch.response.max_new_per_day,
                "ltv_to_cac_at_current_spend": value * new_now / current if current > 0 else None,
            }
        out[ch.key] = entry
    return out


def _allocation(channels: dict[str, Any]) -> dict[str, Any]:
    """Current vs true optimal split of the current total daily budget over paid channels."""
    paid = {k: c for k, c in channels.items() if c["paid"]}
    values = [c["new_customer_value_365"] for c in paid.values()]
    current = [c["current_daily_spend"] for c in paid.values()]
    optimal = true_optimal_allocation(list(paid.values()), values, sum(current))
    return {
        "objective": "sum over paid channels of new_customer_value_365 * true_new_customers(spend), per day",
        "total_daily_budget": sum(current),
        "current_daily_spend": dict(zip(paid, current)),
        "optimal_daily_spend": {k: float(s) for k, s in zip(paid, optimal)},
        "value_per_day_current": allocation_value(list(paid.values()), values, current),
        "value_per_day_optimal": allocation_value(list(paid.values()), values, list(optimal)),
    }


def truth_document(world: World, written: list[WrittenFile], messy: list[MessyFile]) -> dict[str, Any]:
    params = world.params
    channels = _channels(world)
    doc: dict[str, Any] = {
        "seed": params.seed,
        "n_customers": params.n_customers,
        "history": {"start": params.start.isoformat(), "end": params.end.isoformat(), "days": world.timeline.n_days},
        "horizon_days": params.horizon_days,
        "annual_discount_rate": params.annual_discount_rate,
        "scale_factor": params.scale_factor,
        "purchase": asdict(params.purchase),
        "seasonality": asdict(params.seasonality),
        "economics": asdict(params.economics) | {"mean_cost_rate": params.economics.mean_cost_rate,
                                                 "mean_refund_fraction": params.economics.mean_refund_fraction},
        "tickets": asdict(params.tickets),
        "population": asdict(params.population),
        "channels": channels,
        "allocation": _allocation(channels),
        "realised": _realised(world),
    }
    deliveries: dict[str, dict[str, Any]] = {}
    raw_rows: dict[str, int] = {}
    for f in written:
        deliveries.setdefault(f.source, {})[f.name] = {"format": f.format, "status": "loaded", "rows_read": f.rows,
                                                      "rows_loaded": f.rows, "rows_quarantined": 0, "rows_duplicate": 0}
        raw_rows[f.source] = raw_rows.get(f.source, 0) + f.rows
    for m in messy:
        deliveries[m.source][m.name] = {"format": "csv", **m.expected()}
        raw_rows[m.source] += m.new_rows()
    doc["deliveries"] = deliveries
    doc["expected_raw_rows"] = raw_rows
    doc["messy"] = {m.source: {} for m in messy} or None
    for m in messy:
        doc["messy"][m.source][m.name] = {"kinds": m.kinds(), "expected": m.expected()}
    return _plain(doc)


def _realised(world: World) -> dict[str, int]:
    tx = world.transactions
    return {
        "customers_acquired": int(world.params.n_customers),
        "customer_rows": int((~world.guest).sum()),
        "guest_customers": int(world.guest.sum()),
        "ordering_customers": int((tx.count > 0).sum()),
        "never_ordering_customers": int((tx.count == 0).sum()),
        "transactions": int(tx.t.size),
        "orders": int(world.orders.t.size),
        "tickets": int(world.tickets.cust.size),
        "alive_at_end": int(tx.alive_at_end.sum()),
        "marketing_spend_rows": int(world.spend_rows.height),
    }


def _plain(value: Any) -> Any:
    """JSON-ready: tuples to lists, numpy scalars to Python, dates to ISO strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
