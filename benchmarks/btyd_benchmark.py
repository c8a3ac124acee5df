"""Benchmark of the BTYD models at 100k and 1M customers (day resolution, ~2.5 years).

Simulates an order log from the CDNOW estimates (BG/NBD rescaled to days, Gamma-Gamma as
published), then times each step the pipeline runs: RFM summary, grouping, the BG/NBD fit
on distinct rows (and, for comparison, on all rows), the Gamma-Gamma fit, and scoring every
customer (p_alive, predicted orders, discounted CLV, 80% interval).
Targets: BG/NBD fit < 2 s and scoring < 30 s at 1M customers.

    .venv/bin/python benchmarks/btyd_benchmark.py [--customers 100000 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np

from ltv_pipeline.prediction.btyd import (
    clv_interval,
    discounted_clv,
    expected_transactions,
    fit_bgnbd,
    fit_gamma_gamma,
    group_sufficient_stats,
    p_alive,
    rfm_summary,
)
from ltv_pipeline.prediction.btyd.simulation import simulate_order_log

TRUE_BG_DAYS = (0.243, 4.414 * 7, 0.793, 2.426)
TRUE_GG = (6.25, 3.74, 15.44)
START, AS_OF = date(2023, 1, 1), date(2025, 6, 30)
HORIZON_DAYS, DISCOUNT = 365, 0.10

T_ = TypeVar("T_")


def timed(label: str, fn: Callable[[], T_]) -> tuple[T_, float]:
    """Run `fn`, print its wall time and the process's peak RSS so far."""
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {label:<38} {elapsed:7.2f} s   peak RSS {peak_mb:7.0f} MB")
    return out, elapsed


def run(n_customers: int, seed: int) -> None:
    print(f"\n{n_customers:,} customers, first orders {START} .. {AS_OF}, as_of {AS_OF}")
    rng = np.random.default_rng(seed)
    orders, _ = timed(
        "simulate order log",
        lambda: simulate_order_log(
            n_customers,
            bgnbd=TRUE_BG_DAYS,
            gamma_gamma=TRUE_GG,
            start=START,
            acquisition_end=AS_OF,
            end=AS_OF,
            time_unit="day",
            rng=rng,
        ),
    )
    print(f"  ({orders.height:,} orders)")
    summary, _ = timed("rfm_summary", lambda: rfm_summary(orders, AS_OF, "day"))
    x, t_x, T, m = (summary[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T", "monetary_value"))

    (x_u, tx_u, T_u, w, _), t_group = timed("group_sufficient_stats", lambda: group_sufficient_stats(x, t_x, T))
    print(f"  ({x_u.size:,} distinct (x, t_x, T) rows = {x_u.size / x.size:.1%} of customers)")
    bg, t_fit = timed("fit_bgnbd (grouped)", lambda: fit_bgnbd(x_u, tx_u, T_u, w, time_unit="day"))
    raw, _ = timed("fit_bgnbd (all rows, for comparison)", lambda: fit_bgnbd(x, t_x, T, time_unit="day"))
    gg, _ = timed("fit_gamma_gamma", lambda: fit_gamma_gamma(x, m))
    print(f"  grouping + grouped fit: {t_group + t_fit:.2f} s")
    print(f"  BG/NBD r={bg.r:.4f} alpha={bg.alpha:.3f} a={bg.a:.4f} b={bg.b:.4f} converged={bg.converged} "
          f"(truth {TRUE_BG_DAYS}; all-rows fit max rel. diff "
          f"{np.max(np.abs(raw.as_array() / bg.as_array() - 1)):.1e})")
    print(f"  Gamma-Gamma p={gg.p:.3f} q={gg.q:.3f} v={gg.v:.3f} converged={gg.converged} (truth {TRUE_GG})")

    def score() -> dict[str, np.ndarray]:
        clv = discounted_clv(bg, gg, x, t_x, T, m, HORIZON_DAYS, DISCOUNT, "day")
        lower, upper = clv_interval(bg, gg, x, t_x, T, m, HORIZON_DAYS, DISCOUNT, "day", point=clv)
        return {
            "p_alive": p_alive(bg, x, t_x, T),
            "predicted_orders": expected_transactions(bg, float(HORIZON_DAYS), x, t_x, T),
            "clv": clv,
            "lower": lower,
            "upper": upper,
        }

    timed("  of which discounted_clv", lambda: discounted_clv(bg, gg, x, t_x, T, m, HORIZON_DAYS, DISCOUNT, "day"))
    timed("  of which clv_interval", lambda: clv_interval(bg, gg, x, t_x, T, m, HORIZON_DAYS, DISCOUNT, "day"))
    scores, _ = timed("score all customers", score)
    print(f"  mean p_alive {scores['p_alive'].mean():.3f}, predicted orders {scores['predicted_orders'].mean():.3f}, "
          f"CLV {scores['clv'].mean():.2f} [{scores['lower'].mean():.2f}, {scores['upper'].mean():.2f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for n in args.customers:
        run(n, args.seed)


if __name__ == "__main__":
    main()
