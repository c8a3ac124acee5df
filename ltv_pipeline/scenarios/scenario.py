"""`generate_scenario`: simulate one family, then write its landing zone and truth."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ltv_pipeline.scenarios.acquisition import Acquisition, acquire
from ltv_pipeline.scenarios.allocation import plan_value, true_plans
from ltv_pipeline.scenarios.calendar import PLANNING_DAYS, Timeline, build_timeline
from ltv_pipeline.scenarios.curves import currency_curve, unit_slope
from ltv_pipeline.scenarios.families import FAMILY_SPECS
from ltv_pipeline.scenarios.landing import customer_ids, write_landing
from ltv_pipeline.scenarios.orders import Orders, order_lines, signup_seconds
from ltv_pipeline.scenarios.population import Customers, draw_customers
from ltv_pipeline.scenarios.simulate import History, simulate
from ltv_pipeline.scenarios.spec import FamilySpec
from ltv_pipeline.scenarios.spend import normalised_spend
from ltv_pipeline.scenarios.truth import channel_ltv, customer_truth

ANNUAL_DISCOUNT_RATE = 0.10
FAMILIES: tuple[str, ...] = tuple(FAMILY_SPECS)


@dataclass(frozen=True)
class World:
    """A simulated scenario in memory, before it is written."""

    spec: FamilySpec
    timeline: Timeline
    spend_units: np.ndarray
    burst: np.ndarray
    acquisition: Acquisition
    customers: Customers
    history: History
    signup_second: np.ndarray
    orders: Orders
    channel_ltv: np.ndarray


def build_world(family: str, customers: int, seed: int, *, history: str = "long",
                horizon_days: int | None = None) -> World:
    """Simulate a family; deterministic in its arguments."""
    if family not in FAMILY_SPECS:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    spec = FAMILY_SPECS[family]
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, FAMILIES.index(family)]).spawn(6)]
    timeline = build_timeline(history, horizon_days, spec.history_horizons)
    spend_u, burst = normalised_spend(rng[0], spec, timeline)
    acq = acquire(rng[1], spec, timeline, spend_u, customers)
    cust = draw_customers(rng[2], spec, timeline, acq.signup_day, acq.channel)
    hist = simulate(rng[3], spec, timeline, cust)
    second = signup_seconds(rng[4], cust.size)
    orders = order_lines(rng[4], spec, timeline, cust, hist.buy_customer, hist.buy_day, second)
    ltv = channel_ltv(rng[5], spec, timeline, ANNUAL_DISCOUNT_RATE)
    return World(spec, timeline, spend_u, burst, acq, cust, hist, second, orders, ltv)


def allocation_truth(world: World) -> tuple[dict[str, Any], np.ndarray]:
    """Per paid channel: current spend, true curve in currency and true LTV; and the
    currency scale of each paid channel's normalised spend."""
    allocation, scales = {}, []
    for i, c in enumerate(world.spec.channels):
        if not c.paid:
            continue
        height, ltv = float(world.acquisition.heights[i]), float(world.channel_ltv[i])
        scale = height * unit_slope(c, 1.0) * ltv / c.marginal_roi
        scales.append(scale)
        allocation[c.name] = {
            "current_spend": PLANNING_DAYS * scale,
            "curve": currency_curve(c, height, scale),
            "ltv": ltv,
            "marginal_roi": c.marginal_roi,
            "thin": c.thin,
        }
    return allocation, np.asarray(scales)


def generate_scenario(family: str, customers: int, seed: int, out_dir: Path, *, history: str = "long",
                      horizon_days: int | None = None) -> Path:
    """Write `out_dir/landing/<source>/*.csv` (data up to as_of only) and `out_dir/truth/`
    (customers.parquet, scenario.json). Deterministic in its arguments."""
    world = build_world(family, customers, seed, history=history, horizon_days=horizon_days)
    spec, timeline = world.spec, world.timeline
    out_dir = Path(out_dir)
    for sub in ("landing", "truth"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    allocation, scales = allocation_truth(world)
    ids = customer_ids(world.customers.size)
    write_landing(out_dir / "landing", timeline, [c.name for c in spec.channels], list(allocation),
                  world.customers.signup_day, world.customers.channel, world.signup_second, world.orders,
                  world.history, world.spend_units * scales[None, :], world.burst,
                  spec.process.cost_ratio is not None, np.random.default_rng([seed, 7]))
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True)
    customer_truth(np.random.default_rng([seed, 8]), spec, timeline, world.customers, world.history, world.orders, ids,
                   ANNUAL_DISCOUNT_RATE).write_parquet(truth_dir / "customers.parquet")
    doc = {
        "family": family,
        "seed": seed,
        "customers": customers,
        "acquired": world.customers.size,
        "history": history,
        "history_start": timeline.start.isoformat(),
        "as_of": timeline.as_of.isoformat(),
        "horizon_days": timeline.horizon,
        "annual_discount_rate": ANNUAL_DISCOUNT_RATE,
        "margin_rate": None if spec.process.cost_ratio is not None else spec.process.margin_rate,
        "planning_days": PLANNING_DAYS,
        "description": spec.description,
        "allocation": allocation,
        "unpaid_ltv": {c.name: float(world.channel_ltv[i]) for i, c in enumerate(spec.channels) if not c.paid},
    }
    plans = true_plans(doc)
    doc["true_plans"] = {
        name: {"spend": plan, "value": plan_value(doc, plan)}
        for name, plan in (("current", plans.current), ("budget_optimum", plans.budget), ("best", plans.best))
    }
    (truth_dir / "scenario.json").write_text(json.dumps(doc, indent=2))
    return out_dir
