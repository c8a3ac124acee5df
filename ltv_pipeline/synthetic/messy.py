"""Realistic bad data on top of the clean business, with the outcome each row must get.

Why every line carries its expected outcome: the ingestion tests assert exact counts
(rows_read = loaded + quarantined + duplicate, docs/contract.md, section 2b). Deriving the counts
from the same list that produced the bytes means they cannot drift apart.

Outcomes: "loaded" (new key), "correction" (loaded, replaces an earlier row), "duplicate"
(identical to a row already loaded), "quarantined". Messy files sort after the clean ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from ltv_pipeline.synthetic.writer import csv_text

LOADED_OUTCOMES = ("loaded", "correction")


@dataclass(frozen=True)
class MessyLine:
    kind: str
    outcome: str
    text: str


@dataclass(frozen=True)
class MessyFile:
    source: str
    name: str
    content: bytes
    lines: tuple[MessyLine, ...]
    same_bytes_as: str | None = None
    """Set for a re-delivery: the earlier file with identical bytes (so it is not read again)."""
    redelivered_rows: int = 0

    @property
    def status(self) -> str:
        return "already_loaded" if self.same_bytes_as else "loaded"

    def expected(self) -> dict[str, int | str]:
        """Load-log figures the contract implies for this delivery."""
        if self.same_bytes_as:
            return {"status": "already_loaded", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
                    "rows_duplicate": 0}
        outcomes = Counter(line.outcome for line in self.lines)
        return {
            "status": self.status,
            "rows_read": len(self.lines),
            "rows_loaded": sum(outcomes[o] for o in LOADED_OUTCOMES),
            "rows_quarantined": outcomes["quarantined"],
            "rows_duplicate": outcomes["duplicate"],
        }

    def new_rows(self) -> int:
        """Rows that add a key to the raw table (corrections replace, they do not add)."""
        return sum(line.outcome == "loaded" for line in self.lines)

    def kinds(self) -> dict[str, dict[str, int | str]]:
        """Rows inserted per kind of problem, with the outcome each kind must get."""
        if self.same_bytes_as:
            return {"redelivery": {"rows": self.redelivered_rows, "outcome": "already_loaded",
                                   "same_bytes_as": self.same_bytes_as}}
        out: dict[str, dict[str, int | str]] = {}
        for line in self.lines:
            entry = out.setdefault(line.kind, {"rows": 0, "outcome": line.outcome})
            entry["rows"] = int(entry["rows"]) + 1
        return out


@dataclass(frozen=True)
class MessyContext:
    """What the forged rows refer to: real first deliveries and fresh id numbers."""

    end: date
    first_rows: dict[str, pl.DataFrame]
    """The first (CSV) delivery of each source, to duplicate and correct real rows."""
    customer_id: str
    """A real customer with orders who signed up early, so valid forged orders are plausible."""
    next_order: int
    next_customer: int
    next_ticket: int
    widths: dict[str, int]

    def order_id(self, i: int) -> str:
        return f"O{self.next_order + i:0{self.widths['order']}d}"

    def new_customer_id(self, i: int) -> str:
        return f"C{self.next_customer + i:0{self.widths['customer']}d}"

    def ticket_id(self, i: int) -> str:
        return f"T{self.next_ticket + i:0{self.widths['ticket']}d}"

    def ts(self, days_before_end: int, clock: str = "12:00:00") -> str:
        return f"{self.end - timedelta(days=days_before_end)}T{clock}"


def _csv_line(frame: pl.DataFrame, source: str) -> str:
    return csv_text(frame, source).splitlines()[1]


def _orders(ctx: MessyContext) -> list[MessyLine]:
    c, ts, oid = ctx.customer_id, ctx.ts(10), ctx.order_id
    first = ctx.first_rows["orders"]
    corrected = first.slice(1, 1).with_columns(pl.col("revenue") + 5.0)
    q, ok = "quarantined", "loaded"
    rows = [
        ("empty_customer_id", q, f"{oid(0)},,{ts},25.00,12.00,0.00"),
        ("blank_customer_id", q, f"{oid(1)},   ,{ts},25.00,12.00,0.00"),
        ("negative_revenue", q, f"{oid(2)},{c},{ts},-15.00,5.00,0.00"),
        ("currency_symbol", q, f"{oid(3)},{c},{ts},$12.50,5.00,0.00"),
        ("currency_symbol", q, f'{oid(4)},{c},{ts},"€8,00",3.00,0.00'),
        ("non_numeric_amount", q, f"{oid(5)},{c},{ts},twelve,5.00,0.00"),
        ("absurd_amount", q, f"{oid(6)},{c},{ts},5000000000.00,5.00,0.00"),
        ("absurd_amount", q, f"{oid(7)},{c},{ts},1e12,5.00,0.00"),
        ("nan_amount", q, f"{oid(8)},{c},{ts},NaN,5.00,0.00"),
        ("inf_amount", q, f"{oid(9)},{c},{ts},inf,5.00,0.00"),
        ("refund_above_revenue", q, f"{oid(10)},{c},{ts},20.00,9.00,25.00"),
        ("negative_cost", q, f"{oid(11)},{c},{ts},20.00,-3.00,0.00"),
        ("unparseable_date", q, f"{oid(12)},{c},not a date,20.00,9.00,0.00"),
        ("unparseable_date", q, f"{oid(13)},{c},2025-13-45T10:00:00,20.00,9.00,0.00"),
        ("us_format_date", q, f"{oid(14)},{c},03/15/2025,20.00,9.00,0.00"),
        ("future_date", q, f"{oid(15)},{c},2031-06-01T10:00:00,20.00,9.00,0.00"),
        ("unbalanced_quote", q, f'{oid(16)},"{c},{ts},12.00,5.00,0.00'),
        ("too_many_fields", q, f"{oid(17)},{c},{ts},12.00,5.00,0.00,EXTRA"),
        ("too_few_fields", q, f"{oid(18)},{c},{ts}"),
        ("conflict_same_id", q, f"{oid(19)},{c},{ts},30.00,12.00,0.00"),
        ("conflict_same_id", q, f"{oid(19)},{c},{ts},31.00,12.00,0.00"),
        ("whitespace_padded", ok, f"  {oid(20)} , {c}  ,{ctx.ts(9)} , 19.99 ,8.00 , 0.00 "),
        ("timezone_offset", ok, f"{oid(21)},{c},{ctx.ts(8, '23:30:00')}-05:00,44.10,20.00,0.00"),
        ("timezone_offset", ok, f"{oid(22)},{c},{ctx.ts(7, '01:15:00')}+02:00,18.00,8.00,0.00"),
        ("timezone_offset", ok, f"{oid(23)},{c},{ctx.ts(6, '09:00:00.250')}Z,27.35,12.00,0.00"),
        ("date_only", ok, f"{oid(24)},{c},{ctx.end - timedelta(days=5)},15.00,7.00,0.00"),
        ("within_delivery_original", ok, f"{oid(25)},{c},{ctx.ts(4)},52.00,24.00,0.00"),
        ("within_delivery_duplicate", "duplicate", f"{oid(25)},{c},{ctx.ts(4)},52.00,24.00,0.00"),
        ("exact_duplicate_of_delivered", "duplicate", _csv_line(first.head(1), "orders")),
        ("correction", "correction", _csv_line(corrected, "orders")),
    ]
    return [MessyLine(*r) for r in rows]


def _customers(ctx: MessyContext) -> list[MessyLine]:
    first = ctx.first_rows["customers"]
    cid, ts = ctx.new_customer_id, ctx.ts(20)
    moved = first.slice(2, 1).with_columns(pl.lit("NZ").alias("country"))
    q, ok = "quarantined", "loaded"
    rows = [
        ("exact_duplicate_of_delivered", "duplicate", _csv_line(first.slice(0, 1), "customers")),
        ("exact_duplicate_of_delivered", "duplicate", _csv_line(first.slice(1, 1), "customers")),
        ("correction", "correction", _csv_line(moved, "customers")),
        ("conflict_same_id", q, f"{cid(0)},{ts}Z,Paid Search,Shopping,US,messy0@example.com"),
        ("conflict_same_id", q, f"{cid(0)},{ts}Z,Paid Search,Shopping,GB,messy0@example.com"),
        ("empty_customer_id", q, f",{ts}Z,Display,Retargeting,FR,messy1@example.com"),
        ("us_format_date", q, f"{cid(1)},03/15/2025,Display,Retargeting,FR,messy2@example.com"),
        ("unparseable_date", q, f"{cid(2)},yesterday,Affiliate,Coupon Sites,DE,messy3@example.com"),
        ("whitespace_padded", ok, f"  {cid(3)}  , {ts}Z ,  Paid Search , Shopping , US , messy4@example.com "),
        ("missing_channel", ok, f"{cid(4)},{ts}Z,,,CA,messy5@example.com"),
        ("timezone_offset", ok, f"{cid(5)},{ctx.ts(19, '08:00:00')}+01:00,Organic,,NL,messy6@example.com"),
    ]
    return [MessyLine(*r) for r in rows]


def _spend(ctx: MessyContext) -> list[MessyLine]:
    first = ctx.first_rows["marketing_spend"]
    d = ctx.end - timedelta(days=15)
    q = "quarantined"
    rows = [
        ("negative_spend", q, f"{d},Display,Messy Row 1,-250.00,1000,5"),
        ("currency_symbol", q, f'{d},Paid Search,Messy Row 2,"$1,200.00",40000,900'),
        ("non_numeric_amount", q, f"{d},Paid Social,Messy Row 3,n/a,1000,10"),
        ("inf_amount", q, f"{d},Paid Social,Messy Row 4,inf,1000,10"),
        ("negative_count", q, f"{d},Display,Messy Row 5,12.00,-5,0"),
        ("unparseable_date", q, "2025/02/30,Display,Messy Row 6,12.00,100,1"),
        ("too_many_fields", q, f"{d},Display,Messy Row 7,12.00,100,1,extra"),
        ("exact_duplicate_of_delivered", "duplicate", _csv_line(first.head(1), "marketing_spend")),
        ("whitespace_padded", "loaded", f" {d} ,  Paid Search  , Messy Row 8 , 12.50 , 500 , 9 "),
    ]
    return [MessyLine(*r) for r in rows]


def _tickets(ctx: MessyContext) -> list[MessyLine]:
    first = ctx.first_rows["support_tickets"]
    tid, c = ctx.ticket_id, ctx.customer_id
    stranger = ctx.new_customer_id(100)
    ts = f"{ctx.end - timedelta(days=12)} 10:00:00"
    q, ok = "quarantined", "loaded"
    rows = [
        ("unknown_customer", ok, f"{tid(0)},{stranger},{ts},billing,,"),
        ("unknown_customer", ok, f"{tid(1)},{ctx.new_customer_id(101)},{ts},account,{ts},4"),
        ("csat_out_of_range", q, f"{tid(2)},{c},{ts},delivery,{ts},6"),
        ("csat_out_of_range", q, f"{tid(3)},{c},{ts},delivery,{ts},0"),
        ("timezone_offset", ok, f"{tid(4)},{c},{ctx.ts(11, '10:00:00')}+05:30,product,{ctx.ts(10)}+05:30,3"),
        ("timezone_offset", ok, f"{tid(5)},{c},{ctx.ts(11, '22:00:00')}-08:00,returns,,"),
        ("empty_ticket_id", q, f",{c},{ts},billing,,"),
        ("unparseable_date", q, f"{tid(6)},{c},31-12-2025,billing,,"),
        ("exact_duplicate_of_delivered", "duplicate", _csv_line(first.head(1), "support_tickets")),
        ("whitespace_padded", ok, f"  {tid(7)} , {c} , {ts} , delivery , , 5 "),
        ("optional_empty", ok, f"{tid(8)},{c},{ts},,,"),
    ]
    return [MessyLine(*r) for r in rows]


HEADERS = {
    "orders": "order_id,customer_id,order_ts,revenue,cost,refund",
    "customers": "customer_id,signup_ts,acquisition_channel,acquisition_campaign,country,email",
    "marketing_spend": "spend_date,channel,campaign,spend,impressions,clicks",
    "support_tickets": "ticket_id,customer_id,created_ts,category,resolved_ts,csat",
}


def messy_files(ctx: MessyContext, redelivered: tuple[str, bytes, int]) -> list[MessyFile]:
    """One messy delivery per source (support tickets with a BOM and CRLF line ends, as
    Windows tools write them) plus a byte-identical re-delivery of an orders file, given
    as (its name, its bytes, its row count)."""
    files = []
    for source, build in (("orders", _orders), ("customers", _customers), ("marketing_spend", _spend),
                          ("support_tickets", _tickets)):
        lines = tuple(build(ctx))
        eol, bom = ("\r\n", "\ufeff") if source == "support_tickets" else ("\n", "")
        text = bom + eol.join([HEADERS[source], *(line.text for line in lines)]) + eol
        files.append(MessyFile(source, f"{source}_zz_messy.csv", text.encode("utf-8"), lines))
    name, content, rows = redelivered
    files.append(MessyFile("orders", f"orders_zz_redelivery_{name}", content, (), same_bytes_as=name,
                           redelivered_rows=rows))
    return files
