"""CDNOW, the CLV literature's public benchmark, as a landing zone plus its holdout truth.

The `lifetimes` wheel on PyPI ships the data files (`CDNOW_master.txt`: a header, then
customer id, date YYYYMMDD, CDs, dollars; `CDNOW_sample.txt`: no header, master id, sample
id, date, CDs, dollars). Only the files are read, straight from the wheel (a zip): the
package itself is never imported. The literature's split: calibration up to 1997-09-30
(weeks 1-39), holdout weeks 40-78 (1997-10-01 .. 1998-06-30); orders of one customer on
one day are one transaction.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

CALIBRATION_END = date(1997, 9, 30)
HORIZON_DAYS = 273
HOLDOUT_END = CALIBRATION_END + timedelta(days=HORIZON_DAYS)
ANNUAL_DISCOUNT_RATE = 0.10
WHEEL_REQUIREMENT = "lifetimes==0.11.3"
VARIANTS: tuple[str, ...] = ("sample", "master")
_DATA_FILE = {"sample": "lifetimes/datasets/CDNOW_sample.txt", "master": "lifetimes/datasets/CDNOW_master.txt"}


def fetch_wheel(cache_dir: Path) -> Path:
    """The lifetimes wheel in `cache_dir`, downloaded with pip (no dependencies) on first use."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache_dir.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL_REQUIREMENT, "-d", str(cache_dir)],
            check=True,
        )
        wheels = sorted(cache_dir.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip did not leave a lifetimes 0.11.3 wheel in {cache_dir}")
    return wheels[0]


def parse_cdnow(text: str, variant: str) -> pl.DataFrame:
    """One row per order line: customer_id (the master file's id), order_date, cds, revenue."""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if variant == "master":
        rows = rows[1:]  # header line
        ids, dates, cds, dollars = zip(*((r[0], r[1], r[2], r[3]) for r in rows), strict=True)
    elif variant == "sample":
        ids, dates, cds, dollars = zip(*((r[0], r[2], r[3], r[4]) for r in rows), strict=True)
    else:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return pl.DataFrame({
        "customer_id": [str(int(i)) for i in ids],
        "order_date": [date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in dates],
        "cds": np.asarray(cds, dtype=np.int64),
        "revenue": np.asarray(dollars, dtype=np.float64),
    })


def read_cdnow(wheel: Path, variant: str) -> pl.DataFrame:
    """The variant's order lines, read from the wheel without installing it."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(_DATA_FILE[variant]).decode("ascii")
    return parse_cdnow(text, variant)


def calibration_summary(orders: pl.DataFrame, end: date = CALIBRATION_END) -> pl.DataFrame:
    """Per customer, in weeks from the first purchase: repeat transactions x (purchase days
    after the first), recency t_x and age T at `end` (inclusive), as BTYD models take them."""
    days = orders.filter(pl.col("order_date") <= end).select("customer_id", "order_date").unique()
    return (
        days.group_by("customer_id")
        .agg(
            (pl.len() - 1).alias("x"),
            pl.col("order_date").min().alias("first"),
            pl.col("order_date").max().alias("last"),
        )
        .select(
            "customer_id",
            pl.col("x").cast(pl.Int64),
            ((pl.col("last") - pl.col("first")).dt.total_days() / 7).alias("t_x"),
            ((pl.lit(end) - pl.col("first")).dt.total_days() / 7).alias("T"),
        )
        .sort("customer_id")
    )


def holdout_truth(orders: pl.DataFrame, start: date = CALIBRATION_END, horizon_days: int = HORIZON_DAYS,
                  annual_discount_rate: float = ANNUAL_DISCOUNT_RATE) -> pl.DataFrame:
    """Per customer with an order up to `start`: what happened in (start, start + horizon]:
    transactions (purchase days), revenue, revenue discounted per day (margin = revenue:
    CDNOW has no costs), churned (no transaction), and the calibration summary beside it."""
    end = start + timedelta(days=horizon_days)
    future = (
        orders.filter((pl.col("order_date") > start) & (pl.col("order_date") <= end))
        .with_columns(
            ((pl.col("order_date") - pl.lit(start)).dt.total_days().cast(pl.Float64)).alias("day")
        )
        .group_by("customer_id")
        .agg(
            pl.col("order_date").n_unique().alias("realised_orders"),
            pl.col("revenue").sum().alias("realised_revenue"),
            (pl.col("revenue") * (1.0 + annual_discount_rate) ** (-pl.col("day") / 365.0)).sum().alias("realised_ltv"),
        )
    )
    return (
        calibration_summary(orders, start)
        .join(future, on="customer_id", how="left")
        .with_columns(
            pl.col("realised_orders").fill_null(0).cast(pl.Int64),
            pl.col("realised_revenue").fill_null(0.0),
            pl.col("realised_ltv").fill_null(0.0),
        )
        .with_columns((pl.col("realised_orders") == 0).alias("churned"))
        .sort("customer_id")
    )


def write_cdnow(variant: str, out_dir: Path, cache_dir: Path) -> Path:
    """Write `out_dir/landing/orders/orders.csv` (calibration period only, the contract's
    columns), `out_dir/truth/customers.parquet` (holdout truth and calibration summary) and
    `out_dir/truth/scenario.json`; return `out_dir`."""
    orders = read_cdnow(fetch_wheel(cache_dir), variant).with_row_index("line", offset=1)
    landing = out_dir / "landing" / "orders"
    landing.mkdir(parents=True, exist_ok=True)
    (
        orders.filter(pl.col("order_date") <= CALIBRATION_END)
        .select(
            pl.format("cdnow-{}", pl.col("line")).alias("order_id"),
            "customer_id",
            pl.col("order_date").cast(pl.String).alias("order_ts"),
            "revenue",
        )
        .sort("customer_id", "order_ts", maintain_order=True)
        .write_csv(landing / "orders.csv")
    )
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    holdout_truth(orders).write_parquet(truth_dir / "customers.parquet")
    (truth_dir / "scenario.json").write_text(json.dumps({
        "family": f"cdnow_{variant}",
        "as_of": CALIBRATION_END.isoformat(),
        "horizon_days": HORIZON_DAYS,
        "annual_discount_rate": ANNUAL_DISCOUNT_RATE,
        "margin_rate": 1.0,
        "description": (
            "CDNOW customers who first bought in the first quarter of 1997; calibration to "
            "1997-09-30, holdout 1997-10-01 .. 1998-06-30. Real data: no oracle, no costs, "
            "no other sources."
        ),
    }, indent=2) + "\n")
    return out_dir
