"""Wall time and peak memory of `dbt build` (the marts) at several business sizes.

The raw layer is written straight in the documented schema (`raw_schema`), vectorised
with numpy and polars, so the figures measure dbt alone rather than the generator or the
ingest. The business: customers signing up over three years before as_of through six
channels (and `unknown`), ~5% of buyers missing from the customers file, about ten orders
per customer at exponential gaps (some after as_of, which the marts must ignore), costs
on 70% of orders, partial refunds on 5%, daily spend per channel and campaign, and about
0.3 support tickets per customer.

Peak memory is the largest resident set of any child process (the dbt process and its
DuckDB), read from `getrusage(RUSAGE_CHILDREN)`; each size runs in a fresh interpreter so
the figure is that size's own. CPU seconds (user + system of the dbt process) are printed
next to wall time: on a shared machine they say more than the wall clock does.

    python benchmarks/dbt_benchmark.py                  # 100k and 1M customers
    python benchmarks/dbt_benchmark.py 20000 --keep DIR # keep the lake and warehouse in DIR
    python benchmarks/dbt_benchmark.py --dbt-args "--exclude path:models/features"   # marts only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

AS_OF = date(2025, 12, 31)
HISTORY_DAYS = 3 * 365
CHANNELS = ["paid_search", "paid_social", "display", "affiliate", "email", "organic", "unknown"]
CHANNEL_SHARE = [0.25, 0.2, 0.1, 0.1, 0.1, 0.2, 0.05]
PAID_CHANNELS = ["paid_search", "paid_social", "display", "affiliate", "email"]
CAMPAIGNS = ["brand", "generic", "retargeting"]


def _lineage(n: int, source: str) -> dict[str, pl.Series]:
    return {
        "_delivery": pl.Series([f"{source}.csv"]).new_from_index(0, n) if n else pl.Series([], dtype=pl.String),
        "_content_hash": pl.Series(["0" * 64]).new_from_index(0, n) if n else pl.Series([], dtype=pl.String),
        "_line": pl.Series(np.arange(2, n + 2, dtype=np.int64)),
        "_loaded_at": pl.Series([datetime(2026, 1, 1)]).new_from_index(0, n) if n else pl.Series([], dtype=pl.Datetime("us")),
    }


def _write(lake: Path, source: str, columns: dict[str, object]) -> int:
    from ltv_pipeline.ingest.sources import raw_schema

    schema = raw_schema(source)
    n = len(next(iter(columns.values())))
    lineage = _lineage(n, source)
    data = {name: columns.get(name, lineage.get(name)) for name in schema.names()}
    frame = pl.DataFrame({k: v for k, v in data.items() if v is not None}).with_columns(
        [pl.lit(None).alias(name) for name, v in data.items() if v is None]
    ).select(schema.names()).cast(dict(schema))
    path = lake / "raw" / source / f"{source}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path, compression="zstd")
    return n


def write_raw_lake(lake: Path, n_customers: int, seed: int = 0) -> dict[str, int]:
    """Write the four raw tables for `n_customers` buyers; returns rows per source."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(AS_OF - timedelta(days=HISTORY_DAYS), datetime.min.time())
    ids = np.char.add("c", np.char.zfill(np.arange(n_customers).astype(str), 8))

    signup_offset = rng.uniform(0, HISTORY_DAYS, n_customers)  # days since start
    channel = rng.choice(len(CHANNELS), n_customers, p=CHANNEL_SHARE)
    campaign = rng.integers(0, len(CAMPAIGNS), n_customers)
    listed = rng.random(n_customers) > 0.05
    rows = {}
    signup_ts = pl.Series(np.datetime64(start, "us") + (signup_offset * 86_400e6).astype("timedelta64[us]"))
    channel_names = np.array(CHANNELS)[channel]
    is_paid = pl.Series(np.isin(channel_names, PAID_CHANNELS)[listed])
    campaign_names = pl.select(pl.when(is_paid).then(pl.Series(np.array(CAMPAIGNS)[campaign][listed]))).to_series()
    rows["customers"] = _write(lake, "customers", {
        "customer_id": pl.Series(ids[listed]),
        "signup_ts": signup_ts.filter(pl.Series(listed)),
        "acquisition_channel": pl.Series(channel_names[listed]),
        "acquisition_campaign": campaign_names,
        "country": pl.Series(np.array(["DE", "FR", "GB", "US"])[rng.integers(0, 4, listed.sum())]),
    })

    # Orders: ~10 per customer on average, the first a few days after signup, then
    # exponential gaps with a per-customer mean.
    counts = 1 + rng.negative_binomial(2, 2 / 13, n_customers)
    owner = np.repeat(np.arange(n_customers), counts)
    n_orders = owner.size
    mean_gap = rng.gamma(2.0, 15.0, n_customers)[owner]
    gaps = rng.exponential(1.0, n_orders) * mean_gap
    first = np.r_[0, np.cumsum(counts)[:-1]]
    gaps[first] = rng.exponential(3.0, n_customers)
    cumulative = np.cumsum(gaps)
    offsets = cumulative - np.repeat(cumulative[first] - gaps[first], counts)
    order_offset = signup_offset[owner] + offsets
    keep = order_offset < HISTORY_DAYS + 60  # some orders after as_of, as a real lake has
    owner, order_offset = owner[keep], order_offset[keep]
    n_orders = owner.size
    revenue = np.round(rng.lognormal(3.5, 0.8, n_orders), 2)
    has_cost = rng.random(n_orders) < 0.7
    refunded = rng.random(n_orders) < 0.05
    rows["orders"] = _write(lake, "orders", {
        "order_id": pl.Series(np.char.add("o", np.arange(n_orders).astype(str))),
        "customer_id": pl.Series(ids[owner]),
        "order_ts": pl.Series(np.datetime64(start, "us") + (order_offset * 86_400e6).astype("timedelta64[us]")),
        "revenue": pl.Series(revenue),
        "cost": pl.Series(np.where(has_cost, np.round(revenue * 0.6, 2), np.nan)).fill_nan(None),
        "refund": pl.Series(np.where(refunded, np.round(revenue * 0.5, 2), np.nan)).fill_nan(None),
    })

    days = np.arange(HISTORY_DAYS + 1)
    pairs = [(c, k) for c in PAID_CHANNELS for k in CAMPAIGNS]
    spend_channel = np.repeat([c for c, _ in pairs], days.size)
    spend_campaign = np.repeat([k for _, k in pairs], days.size)
    spend_day = np.tile(days, len(pairs))
    rows["marketing_spend"] = _write(lake, "marketing_spend", {
        "spend_date": pl.Series(np.datetime64(start.date(), "D") + spend_day.astype("timedelta64[D]")),
        "channel": pl.Series(spend_channel),
        "campaign": pl.Series(spend_campaign),
        "spend": pl.Series(np.round(rng.gamma(2.0, n_customers / 2_000, spend_day.size), 2)),
        "impressions": pl.Series(rng.integers(0, 100_000, spend_day.size)),
        "clicks": pl.Series(rng.integers(0, 2_000, spend_day.size)),
    })

    n_tickets = int(n_customers * 0.3)
    ticket_owner = rng.integers(0, n_customers, n_tickets)
    created = signup_offset[ticket_owner] + rng.uniform(0, HISTORY_DAYS, n_tickets) * rng.random(n_tickets)
    created_ts = np.datetime64(start, "us") + (created * 86_400e6).astype("timedelta64[us]")
    rated = rng.random(n_tickets) < 0.6
    rows["support_tickets"] = _write(lake, "support_tickets", {
        "ticket_id": pl.Series(np.char.add("t", np.arange(n_tickets).astype(str))),
        "customer_id": pl.Series(ids[ticket_owner]),
        "created_ts": pl.Series(created_ts),
        "category": pl.Series(np.array(["delivery", "billing", "product"])[rng.integers(0, 3, n_tickets)]),
        "resolved_ts": pl.Series(created_ts + np.timedelta64(2, "D")),
        "csat": pl.Series(np.where(rated, rng.integers(1, 6, n_tickets), 0)).replace(0, None),
    })
    return rows


CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import dbt_benchmark as b
from ltv_pipeline.marts.project import prepare_dbt_manifest
from ltv_pipeline.marts.runner import run_dbt
from ltv_pipeline.core.settings import load_settings

root, n, dbt_args = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[4])
t0 = time.perf_counter()
rows = b.write_raw_lake(root / "lake", n)
generated = time.perf_counter() - t0
prepare_dbt_manifest()
settings = load_settings(env={}, cwd=root, overrides={"lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "as_of": b.AS_OF.isoformat()})
t0 = time.perf_counter()
before = resource.getrusage(resource.RUSAGE_CHILDREN)
run = run_dbt(settings, ["build", *dbt_args])
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
timing = sorted(((r["execution_time"], r["unique_id"].split(".")[-1]) for r in run.run_results["results"]), reverse=True)
print(json.dumps({"rows": rows, "generate_seconds": generated, "dbt_seconds": seconds, "dbt_cpu_seconds": cpu,
                  "nodes": len(run.run_results["results"]),
                  "dbt_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "warehouse_mb": (root / "warehouse.duckdb").stat().st_size / 2**20,
                  "slowest": timing[:5]}))
"""


def run(n_customers: int, keep: Path | None, dbt_args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = keep / f"{n_customers}" if keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(n_customers), str(Path(__file__).parent), json.dumps(dbt_args)],
            check=False, capture_output=True, text=True,
        )
    if out.returncode != 0:
        raise SystemExit(f"benchmark at {n_customers:,} customers failed:\n{out.stderr[-4000:]}{out.stdout[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000], help="numbers of customers")
    parser.add_argument("--keep", type=Path, help="keep each size's lake and warehouse under this folder")
    parser.add_argument("--dbt-args", default="", help="extra `dbt build` arguments, e.g. \"--exclude path:models/features\"")
    args = parser.parse_args()
    print(f"{'customers':>10} {'orders':>11} {'nodes':>6} {'dbt build s':>12} {'CPU s':>7} {'peak RSS MB':>12} {'warehouse MB':>13}  slowest nodes (s)")
    for n in args.sizes:
        r = run(n, args.keep, args.dbt_args.split())
        slowest = ", ".join(f"{name} {t:.1f}" for t, name in r["slowest"][:3])
        print(
            f"{n:>10,} {r['rows']['orders']:>11,} {r['nodes']:>6} {r['dbt_seconds']:>12.1f} {r['dbt_cpu_seconds']:>7.1f}"
            f" {r['dbt_peak_rss_mb']:>12,.0f} {r['warehouse_mb']:>13,.0f}  {slowest}"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
