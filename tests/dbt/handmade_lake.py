"""A raw lake small enough to check every mart value by hand (see test_marts.py).

as_of = 2024-03-31, margin_rate = 0.5, churn_days = 60, support_cost_per_ticket = 2.

customers   c1 paid_search/brand, c2 paid_search/brand, c3 social, c4 social (never
            orders), c6 signs up after as_of; c5 has orders but no customers row.
orders      c1: 2024-01-03 (100, cost 40), 01-20 (50, refund 10, no cost), 03-10 (80, cost 30)
            c2: 01-15 (200, refund 50, no cost)           + one order after as_of
            c3: 02-03 09:00 (60, cost 20), 02-03 18:00 (40, no cost)
            c5: 01-25 (30, cost 10)                        + one order after as_of
spend       paid_search brand 75 + 75 and generic 50 in January, brand 150 in February;
            social 50 in February and 60 in March; one paid_search row after as_of.
tickets     c1 two (CSAT 5, 4), c2 one (CSAT 1), c3 one resolved after as_of (CSAT hidden),
            c5 one opened after as_of, and one from a customer the pipeline never saw.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from ltv_pipeline.ingest.sources import raw_schema

AS_OF = date(2024, 3, 31)
SETTINGS_OVERRIDES = {
    "as_of": AS_OF.isoformat(),
    "margin_rate": "0.5",
    "churn_days": "60",
    "support_cost_per_ticket": "2",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


ORDERS = [
    # order_id, customer_id, order_ts, revenue, cost, refund
    ("o1", "c1", ts("2024-01-03 09:00"), 100.0, 40.0, None),
    ("o2", "c1", ts("2024-01-20 12:00"), 50.0, None, 10.0),
    ("o3", "c1", ts("2024-03-10 08:00"), 80.0, 30.0, 0.0),
    ("o4", "c2", ts("2024-01-15 10:00"), 200.0, None, 50.0),
    ("o5", "c3", ts("2024-02-03 09:00"), 60.0, 20.0, None),
    ("o6", "c3", ts("2024-02-03 18:00"), 40.0, None, None),
    ("o7", "c5", ts("2024-01-25 15:00"), 30.0, 10.0, None),
    ("o8", "c5", ts("2024-04-05 10:00"), 1000.0, None, None),  # after as_of
    ("o9", "c2", ts("2024-04-02 10:00"), 500.0, 100.0, None),  # after as_of
]
CUSTOMERS = [
    # customer_id, signup_ts, acquisition_channel, acquisition_campaign, country, email_hash
    ("c1", ts("2024-01-01 10:00"), "paid_search", "brand", "DE", "h1"),
    ("c2", ts("2024-01-05 10:00"), "paid_search", "brand", "FR", None),
    ("c3", ts("2024-02-01 10:00"), "social", None, "DE", None),
    ("c4", ts("2024-02-15 10:00"), "social", None, None, None),
    ("c6", ts("2024-04-10 10:00"), "paid_search", "brand", None, None),  # after as_of
]
MARKETING_SPEND = [
    # spend_date, channel, campaign, spend, impressions, clicks
    (date(2024, 1, 1), "paid_search", "brand", 75.0, 1000, 50),
    (date(2024, 1, 15), "paid_search", "brand", 75.0, 1000, 40),
    (date(2024, 1, 10), "paid_search", "generic", 50.0, None, None),
    (date(2024, 2, 1), "paid_search", "brand", 150.0, 2000, 80),
    (date(2024, 2, 10), "social", None, 50.0, None, None),
    (date(2024, 3, 5), "social", None, 60.0, None, None),
    (date(2024, 4, 1), "paid_search", "brand", 999.0, None, None),  # after as_of
]
SUPPORT_TICKETS = [
    # ticket_id, customer_id, created_ts, category, resolved_ts, csat
    ("t1", "c1", ts("2024-02-01 09:00"), "delivery", ts("2024-02-02 09:00"), 5),
    ("t2", "c1", ts("2024-03-01 09:00"), "billing", ts("2024-03-02 09:00"), 4),
    ("t3", "c2", ts("2024-01-20 09:00"), "refund", ts("2024-01-25 09:00"), 1),
    ("t4", "c3", ts("2024-03-30 09:00"), "delivery", ts("2024-04-02 09:00"), 2),  # resolved after as_of
    ("t5", "c5", ts("2024-04-03 09:00"), "delivery", None, None),  # opened after as_of
    ("t6", "ghost", ts("2024-02-01 09:00"), "other", None, None),  # customer never seen
]

ROWS = {
    "orders": ORDERS,
    "customers": CUSTOMERS,
    "marketing_spend": MARKETING_SPEND,
    "support_tickets": SUPPORT_TICKETS,
}

DATE_COLUMNS = {"orders": "order_ts", "customers": "signup_ts", "marketing_spend": "spend_date", "support_tickets": "created_ts"}


def _frame(source: str, rows: list[tuple]) -> pl.DataFrame:
    schema = raw_schema(source)
    data_columns = [name for name in schema.names() if not name.startswith("_")]
    frame = pl.DataFrame(rows, schema={name: schema[name] for name in data_columns}, orient="row")
    lineage_values = {
        "_delivery": f"{source}_2024.csv",
        "_content_hash": "0" * 64,
        "_loaded_at": datetime(2024, 4, 30),
    }
    lineage_schema = {name: dtype for name, dtype in schema.items() if name.startswith("_")}

    def lineage_value(name: str, dtype: pl.DataType, line: int) -> object:
        """Known lineage columns get plausible values, any other integer one the line number."""
        return lineage_values.get(name, line if dtype.is_integer() else None)

    lineage = pl.DataFrame(
        {name: [lineage_value(name, dtype, i + 2) for i in range(len(rows))] for name, dtype in lineage_schema.items()},
        schema=lineage_schema,
    )
    return pl.concat([frame, lineage], how="horizontal").select(schema.names()).cast(dict(schema))


def write_lake(lake_dir: Path, *, sources: tuple[str, ...] = tuple(ROWS), drop_after_as_of: bool = False) -> Path:
    """Write `<lake>/raw/<source>/<source>.parquet` for every source, empty for those not in `sources`."""
    for source, rows in ROWS.items():
        frame = _frame(source, rows if source in sources else [])
        if drop_after_as_of:
            column = pl.col(DATE_COLUMNS[source])
            day = column.dt.date() if frame.schema[DATE_COLUMNS[source]] != pl.Date else column
            frame = frame.filter(day <= AS_OF)
        path = lake_dir / "raw" / source / f"{source}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
    return lake_dir
