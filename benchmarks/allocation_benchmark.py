"""Benchmark of the channel budget allocator: curve fits and optimisation.

Simulates daily histories of 5 paid channels from known curves with carry-over
(`allocation.simulate`, Hill shapes), then times each step `allocate_budget` runs: the
daily panel, the curve fits (three forms with adstock per channel, their rolling-origin
validation, pooling and draws), the optimiser alone, and the whole call. Best of
`--repeats` runs, after one warm-up. Target: the whole call well under three seconds at
5 channels x 1000 days.

    .venv/bin/python benchmarks/allocation_benchmark.py [--days 1000 3000] [--seed 0] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from ltv_pipeline.decisions.allocation import (
    allocate_budget,
    current_daily,
    daily_panel,
    fit_response_curves,
    optimise_spend,
    spend_grid,
)
from ltv_pipeline.decisions.allocation.example_channels import SHAPED_CHANNELS, simulate_history

CHANNELS = SHAPED_CHANNELS["hill"]


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(n_days: int, seed: int, repeats: int) -> None:
    daily = simulate_history(np.random.default_rng(seed), n_days, CHANNELS)
    values = {c.key: c.value_per_customer for c in CHANNELS}
    panel = daily_panel(daily)
    fits = fit_response_curves(panel)
    current = current_daily(panel)
    names = current["channel"].to_list()
    cur = current["current_daily_spend"].to_numpy()
    grid = spend_grid(0.5 * cur, 2.0 * cur, cur)
    margin = np.array([values[c] * fits[c].draws.new_customers(g).mean(axis=0) for c, g in zip(names, grid)])

    print(f"\n{len(CHANNELS)} channels x {n_days:,} days ({daily.height:,} rows), best of {repeats}")
    steps = {
        "daily panel": lambda: daily_panel(daily),
        "curve fits (3 forms, validation, draws)": lambda: fit_response_curves(panel),
        "optimiser (expected value on grids)": lambda: optimise_spend(grid, margin, cur.sum()),
        "allocate_budget, end to end": lambda: allocate_budget(daily, values),
    }
    for label, fn in steps.items():
        print(f"  {label:<42} {best_of(repeats, fn) * 1000:8.1f} ms")

    print(f"  learned curves: {sum(f.identified for f in fits.values())}/{len(fits)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for n_days in args.days:
        run(n_days, args.seed, args.repeats)


if __name__ == "__main__":
    main()
