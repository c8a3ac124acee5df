"""The four sources of the contract as data: columns, types, rules and keys.

The loader is generic; everything that differs between sources lives here, so a new
rule is one line in a spec rather than a branch in the loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Kind = Literal["string", "id", "timestamp", "date", "amount", "count", "channel", "csat", "email"]

POLARS_TYPES: dict[Kind, pl.DataType] = {
    "string": pl.String(),
    "id": pl.String(),
    "channel": pl.String(),
    "email": pl.String(),
    "timestamp": pl.Datetime("us"),
    "date": pl.Date(),
    "amount": pl.Float64(),
    "count": pl.Int64(),
    "csat": pl.Int8(),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    """A required column must be present in the delivery and non-empty in every row."""


@dataclass(frozen=True)
class SourceSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Columns identifying a record: same key + other values in a later delivery = correction."""
    future_check: tuple[str, ...] = ()
    """Timestamp columns that may not lie after the load time."""
    refund_check: bool = False
    """Whether `refund <= revenue` applies."""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def stored_columns(self) -> tuple[tuple[str, pl.DataType], ...]:
        """Columns as written to the raw layer: e-mail leaves ingestion only as a keyed hash."""
        return tuple(
            ("email_hash", pl.String()) if c.kind == "email" else (c.name, POLARS_TYPES[c.kind])
            for c in self.columns
        )


LINEAGE_COLUMNS: tuple[tuple[str, pl.DataType], ...] = (
    ("_delivery", pl.String()),
    ("_content_hash", pl.String()),
    ("_line", pl.Int64()),
    ("_loaded_at", pl.Datetime("us")),
)
"""Added to every raw row: which delivery (file name and content hash) and line it came from."""

SPECS: dict[str, SourceSpec] = {
    "orders": SourceSpec(
        name="orders",
        columns=(
            Column("order_id", "id", required=True),
            Column("customer_id", "id", required=True),
            Column("order_ts", "timestamp", required=True),
            Column("revenue", "amount", required=True),
            Column("cost", "amount"),
            Column("refund", "amount"),
        ),
        key=("order_id",),
        future_check=("order_ts",),
        refund_check=True,
    ),
    "customers": SourceSpec(
        name="customers",
        columns=(
            Column("customer_id", "id", required=True),
            Column("signup_ts", "timestamp"),
            Column("acquisition_channel", "channel"),
            Column("acquisition_campaign", "string"),
            Column("country", "string"),
            Column("email", "email"),
        ),
        key=("customer_id",),
    ),
    "marketing_spend": SourceSpec(
        name="marketing_spend",
        columns=(
            Column("spend_date", "date", required=True),
            Column("channel", "channel", required=True),
            Column("campaign", "string"),
            Column("spend", "amount", required=True),
            Column("impressions", "count"),
            Column("clicks", "count"),
        ),
        key=("spend_date", "channel", "campaign"),
    ),
    "support_tickets": SourceSpec(
        name="support_tickets",
        columns=(
            Column("ticket_id", "id", required=True),
            Column("customer_id", "id", required=True),
            Column("created_ts", "timestamp", required=True),
            Column("category", "string"),
            Column("resolved_ts", "timestamp"),
            Column("csat", "csat"),
        ),
        key=("ticket_id",),
        future_check=("created_ts",),
    ),
}


def raw_schema(source: str) -> pl.Schema:
    """The schema of `<lake>/raw/<source>/<source>.parquet` (data columns then lineage)."""
    return pl.Schema(list(SPECS[source].stored_columns()) + list(LINEAGE_COLUMNS))
