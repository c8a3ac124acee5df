"""`generate_business`: write a synthetic landing zone and its ground truth.

The landing zone is exactly what a user would hand the pipeline (docs/contract.md, section 1);
the truth goes beside it (`<out>_truth/`), never inside, so ingestion cannot see it.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from ltv_pipeline.synthetic.business import World, simulate_business
from ltv_pipeline.synthetic.ground_truth import customers_truth, truth_document
from ltv_pipeline.synthetic.landing_tables import IdWidths, customers_table, orders_table, tickets_table
from ltv_pipeline.synthetic.messy import MessyContext, MessyFile, messy_files
from ltv_pipeline.synthetic.params import DEFAULT_END, DEFAULT_START
from ltv_pipeline.synthetic.writer import split_periods, write_source

SOURCES = ("orders", "customers", "marketing_spend", "support_tickets")
MIN_CUSTOMERS = 100
"""Below this, some quarterly deliveries could be empty and the messy rows would lack
real rows to duplicate."""
FIRST_ROWS = 100
"""Rows enough to find real rows of each first delivery to duplicate and correct."""


@dataclass(frozen=True)
class GenerationSummary:
    landing_dir: Path
    truth_dir: Path
    rows: dict[str, int]
    """Data rows written per source (clean deliveries, plus messy lines; re-deliveries excluded)."""
    files: tuple[str, ...]
    """Written delivery files, relative to `landing_dir`, in delivery order per source."""
    elapsed_seconds: float


def truth_dir_for(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}_truth"


def _prepare(out_dir: Path, truth_dir: Path, overwrite: bool) -> None:
    """Refuse to mix a new business into old files, unless asked to replace them."""
    targets = [out_dir / s for s in SOURCES] + [truth_dir]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} already exists; pass overwrite=True to replace the synthetic data")
    for t in existing:
        shutil.rmtree(t)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True)


def _messy_context(world: World, clean: dict[str, pl.DataFrame]) -> MessyContext:
    """Tables are in time order, so their first rows are the first (CSV) delivery's rows."""
    first_rows = {s: split_periods(clean[s].head(FIRST_ROWS), s)[0][1] for s in SOURCES}
    widths = IdWidths.of(world)
    return MessyContext(
        end=world.params.end,
        first_rows=first_rows,
        customer_id=str(first_rows["orders"]["customer_id"][0]),
        next_order=world.orders.t.size + 1,
        next_customer=world.params.n_customers + 1,
        next_ticket=world.tickets.cust.size + 1,
        widths={"customer": widths.customer, "order": widths.order, "ticket": widths.ticket},
    )


def generate_business(
    out_dir: Path,
    n_customers: int = 20_000,
    seed: int = 0,
    messy: bool = False,
    *,
    end_date: date = DEFAULT_END,
    overwrite: bool = False,
) -> GenerationSummary:
    """Simulate a business of `n_customers` acquired customers and write it to `out_dir`.

    Deterministic: the same arguments give byte-identical files. History runs from
    2024-01-01 to `end_date` inclusive. With `messy=True`, extra deliveries named
    `<source>_zz_*` add bad rows whose expected outcomes are recorded in truth.json.
    """
    started = time.perf_counter()
    if n_customers < MIN_CUSTOMERS:
        raise ValueError(f"n_customers must be at least {MIN_CUSTOMERS}, got {n_customers}")
    if (end_date - DEFAULT_START).days < 365:
        raise ValueError(f"end_date must be at least a year after {DEFAULT_START}, got {end_date}")
    out_dir = Path(out_dir).resolve()
    truth_dir = truth_dir_for(out_dir)
    _prepare(out_dir, truth_dir, overwrite)

    world = simulate_business(n_customers, seed, DEFAULT_START, end_date)
    clean = {
        "orders": orders_table(world),
        "customers": customers_table(world),
        "marketing_spend": world.spend_rows,
        "support_tickets": tickets_table(world),
    }
    written = [f for source in SOURCES for f in write_source(out_dir, source, clean[source])]
    extra: list[MessyFile] = []
    if messy:
        first_orders = next(w for w in written if w.source == "orders")
        content = (out_dir / "orders" / first_orders.name).read_bytes()
        extra = messy_files(_messy_context(world, clean), (first_orders.name, content, first_orders.rows))
        for m in extra:
            (out_dir / m.source / m.name).write_bytes(m.content)

    doc = truth_document(world, written, extra)
    (truth_dir / "truth.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    customers_truth(world).write_parquet(truth_dir / "customers_truth.parquet", compression="zstd", statistics=True)

    rows = {s: sum(f.rows for f in written if f.source == s) for s in SOURCES}
    for m in extra:
        rows[m.source] += len(m.lines)
    files = sorted(
        [f"{w.source}/{w.name}" for w in written] + [f"{m.source}/{m.name}" for m in extra],
        key=lambda p: (SOURCES.index(p.split("/")[0]), p),
    )
    return GenerationSummary(out_dir, truth_dir, rows, tuple(files), time.perf_counter() - started)
