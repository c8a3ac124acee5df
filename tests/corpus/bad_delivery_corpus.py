"""A corpus of bad deliveries, each built in code, with the outcome the contract demands.

Every case is one or more files dropped into one source's landing folder (optionally after
earlier deliveries loaded in a previous run), and the expected load-log entry of each:
status, row counts, and text the reason must contain (the rejection message, or the
quarantine reasons of the delivery). `tests/integration/test_bad_input_corpus.py` runs them
through the real loader. Nothing binary is committed: Parquet, gzip, UTF-16 and junk bytes
are all generated here.
"""

from __future__ import annotations

import decimal
import gzip
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

HEADERS = {
    "orders": "order_id,customer_id,order_ts,revenue,cost,refund",
    "customers": "customer_id,signup_ts,acquisition_channel,acquisition_campaign,country,email",
    "marketing_spend": "spend_date,channel,campaign,spend,impressions,clicks",
    "support_tickets": "ticket_id,customer_id,created_ts,category,resolved_ts,csat",
}

# One good delivery per source, delivered next to every case in the same run (its name sorts
# after every case file): it must load whatever happens to the bad file.
COMPANION_NAME = "zz_companion.csv"
COMPANIONS = {
    "orders": HEADERS["orders"] + "\nZZ1,CZZ,2025-06-01,1,,\n",
    "customers": HEADERS["customers"] + "\nCZZ,2025-01-01,email,,DE,\n",
    "marketing_spend": HEADERS["marketing_spend"] + "\n2025-06-01,zz_channel,,1,,\n",
    "support_tickets": HEADERS["support_tickets"] + "\nTZZ,CZZ,2025-06-01,billing,,5\n",
}


@dataclass(frozen=True)
class Expect:
    """The expected load-log entry of one delivery (`status=None`: no entry at all)."""

    status: str | None
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0
    reasons: tuple[str, ...] = ()
    """Each must occur in the rejection message (rejected) or in some quarantine reason (loaded)."""
    message: str | None = None
    """Must occur in the load-log message (notes of a loaded delivery)."""

    def describe(self) -> str:
        if self.status is None:
            return "ignored (no load-log entry)"
        if self.status == "rejected":
            return f"rejected: {' / '.join(self.reasons)}"
        if self.status == "already_loaded":
            return "already_loaded, 0 rows read"
        counts = f"{self.read}r/{self.loaded}l/{self.quarantined}q/{self.duplicate}d"
        extra = "; ".join(x for x in (*self.reasons, self.message or "") if x)
        return f"loaded {counts}" + (f": {extra}" if extra else "")


Check = Callable[[Any], None]
"""Extra assertions on the workspace after the run (e.g. the typed values in the raw table)."""


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    source: str
    files: tuple[tuple[str, bytes], ...]
    expect: dict[str, Expect]
    before: tuple[tuple[str, bytes], ...] = ()
    """Deliveries loaded (cleanly) in an earlier run."""
    overrides: dict[str, object] = field(default_factory=dict)
    check: Check | None = None


# ---------------------------------------------------------------------------- builders


def csv_text(source: str, *rows: str, header: str | None = None, newline: str = "\n") -> str:
    lines = [HEADERS[source] if header is None else header, *rows]
    return newline.join(lines) + newline


def orders(*rows: str, header: str | None = None, newline: str = "\n") -> bytes:
    return csv_text("orders", *rows, header=header, newline=newline).encode("utf-8")


def parquet(table: pa.Table | dict[str, Any]) -> bytes:
    if isinstance(table, dict):
        table = pa.table(table)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def junk(n: int, seed: int, low: int = 0, high: int = 255) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randint(low, high) for _ in range(n))


def first_half(data: bytes) -> bytes:
    """A file cut short, as by an interrupted upload."""
    return data[: len(data) // 2]


def corrupt_deflate(payload: bytes) -> bytes:
    """A gzip file whose header is fine but whose deflate stream is broken (zlib error)."""
    good = gzip.compress(payload)
    broken = bytearray(good)
    broken[10] ^= 0xFF  # first byte of the deflate stream
    return bytes(broken)


GOOD_ROWS = ("O1,C1,2025-01-01,10.00,4,", "O2,C2,2025-01-02T08:00:00Z,20,,1.5")
GOOD_ORDERS = orders(*GOOD_ROWS)
MB = 1 << 20


# ---------------------------------------------------------------------------- checks


def raw_rows(ws: Any, source: str = "orders") -> list[dict[str, Any]]:
    return ws.raw(source).sort("_delivery", "_line").to_dicts()


def _check_whitespace(ws: Any) -> None:
    row = ws.raw().filter(pl.col("order_id") == "O3").row(0, named=True)
    assert row["cost"] is None and row["refund"] is None and row["customer_id"] == "C3", row


def _check_offsets(ws: Any) -> None:
    ts = ws.raw().filter(pl.col("order_id").str.starts_with("TZ"))["order_ts"].to_list()
    assert ts == [datetime(2025, 3, 1, 8, 0)] * 5, ts


def _check_future(ws: Any) -> None:
    assert ws.raw().filter(pl.col("order_id") == "F3")["order_ts"][0] == datetime(2026, 1, 1, 11, 0)


def _check_declared_format(ws: Any) -> None:
    assert ws.raw().filter(pl.col("order_id") == "D1")["order_ts"][0] == datetime(2025, 1, 31)


def _check_refund_equal(ws: Any) -> None:
    assert ws.raw().filter(pl.col("order_id") == "R2")["refund"][0] == 10.0


def _check_max_amount_boundary(ws: Any) -> None:
    assert ws.raw().filter(pl.col("order_id") == "A3")["revenue"][0] == 1e9


def _check_long_fields(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") == "long_fields.csv").sort("_line")
    assert raw["order_id"].str.len_bytes().to_list() == [MB, 2], "the 1 MB values are kept whole"
    assert raw["customer_id"].str.len_bytes().to_list() == [2, MB]


def _check_correction(ws: Any) -> None:
    row = ws.raw().filter(pl.col("order_id") == "O1").row(0, named=True)
    assert (row["revenue"], row["_delivery"]) == (12.0, "b_correction.csv"), row


def _check_crlf(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") != "zz_companion.csv").sort("order_id")
    assert raw["order_id"].to_list() == ["O1", "O2"] and raw["refund"].to_list() == [None, 1.5]


def _check_parquet_types(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") == "typed.parquet").sort("_line")
    assert raw["order_id"].to_list() == ["1", "3"] and raw["customer_id"].to_list() == ["10", "30"]
    assert raw["order_ts"].to_list() == [datetime(2025, 1, 1), datetime(2025, 1, 3)]


def _check_fixed_offset(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") == "fixed_offset.parquet")
    assert raw["order_ts"].to_list() == [datetime(2025, 1, 1, 4, 30)]


def _check_decimal256(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") == "bignumeric.parquet").sort("order_id")
    assert raw["revenue"].to_list() == [10.5, 0.01]


def _check_customers(ws: Any) -> None:
    raw = ws.raw("customers").filter(pl.col("_delivery") == "customers_dupes.csv").sort("customer_id")
    assert raw["customer_id"].to_list() == ["C2", "C3"]
    assert raw["acquisition_channel"].to_list() == ["paid_search", "unknown"]


def _check_channels(ws: Any) -> None:
    raw = ws.raw("marketing_spend").filter(pl.col("_delivery") == "channels.csv")
    assert raw["channel"].to_list() == ["paid_search"] and raw["spend"].to_list() == [10.0]


def _check_unknown_customers(ws: Any) -> None:
    assert sorted(ws.raw("support_tickets")["customer_id"].to_list()) == ["CZZ", "NOBODY-1", "NOBODY-2"]


def _check_blank_lines(ws: Any) -> None:
    raw = ws.raw().filter(pl.col("_delivery") == "blank_between.csv").sort("_line")
    assert raw["_line"].to_list() == [2, 5], "line numbers are physical lines (blank lines count)"


# ---------------------------------------------------------------------------- the corpus

_conflict_key = "conflict: {} rows in this delivery share the key (order_id) = (O1)"
_tz = pa.timestamp("us", tz="+05:30")

CASES: tuple[Case, ...] = (
    # --- structure of the text -------------------------------------------------------
    Case(
        "broken_quoting", "unbalanced quote in one line; parsing resumes on the next", "orders",
        (("quoting.csv", orders(GOOD_ROWS[0], 'O2,"C2,2025-01-02,5,,', "O3,C3,2025-01-03,7,,")),),
        {"quoting.csv": Expect("loaded", 3, 2, 1, 0, ("line does not parse as CSV", "unbalanced quote"))},
    ),
    Case(
        "wrong_column_count", "lines with too few and too many fields", "orders",
        (("fields.csv", orders("O1,C1,2025-01-01,10", "O2,C2,2025-01-02,20,,,,", GOOD_ROWS[1])),),
        {"fields.csv": Expect("loaded", 3, 1, 2, 0, ("wrong number of fields: 4 instead of 6", "wrong number of fields: 8 instead of 6"))},
    ),
    Case(
        "trailing_delimiter_rows", "a trailing comma on data lines only (one field too many)", "orders",
        (("trailing.csv", orders("O1,C1,2025-01-01,10,,,", GOOD_ROWS[1])),),
        {"trailing.csv": Expect("loaded", 2, 1, 1, 0, ("wrong number of fields: 7 instead of 6",))},
    ),
    Case(
        "trailing_delimiter_everywhere", "Excel-style trailing commas on the header and every line", "orders",
        (("excel_trailing.csv", orders(*(r + ",," for r in GOOD_ROWS), header=HEADERS["orders"] + ",,")),),
        {"excel_trailing.csv": Expect("loaded", 2, 2, 0, 0, message="ignored 2 column(s) with an empty name")},
    ),
    Case(
        "newline_in_quoted_field", "a quoted value spanning two lines (records are lines)", "orders",
        (("multiline.csv", orders('O1,"C1\nsecond line",2025-01-01,10,,', GOOD_ROWS[1])),),
        {"multiline.csv": Expect("loaded", 3, 1, 2, 0, ("unbalanced quote", "wrong number of fields: 5 instead of 6"))},
    ),
    Case(
        "excel_sep_line", "Excel's 'sep=,' hint line above the header", "orders",
        (("sep_hint.csv", b"sep=,\n" + GOOD_ORDERS),),
        {"sep_hint.csv": Expect("rejected", reasons=("missing required column(s) order_id", "header: sep="))},
    ),
    Case(
        "semicolon_delimited", "European export: ';' as the delimiter", "orders",
        (("semicolon.csv", orders("O1;C1;2025-01-01;10,50;;", header=HEADERS["orders"].replace(",", ";"))),),
        {"semicolon.csv": Expect("rejected", reasons=("missing required column(s)", "header: order_id;customer_id"))},
    ),
    Case(
        "header_unparseable", "the header line itself has an unbalanced quote", "orders",
        (("bad_header.csv", b'"order_id,customer_id,order_ts,revenue\nO1,C1,2025-01-01,1\n'),),
        {"bad_header.csv": Expect("rejected", reasons=("header line does not parse as CSV",))},
    ),
    Case(
        "blank_lines_before_header", "two blank lines before the header", "orders",
        (("blank_first.csv", b"\n  \n" + GOOD_ORDERS),),
        {"blank_first.csv": Expect("loaded", 2, 2, 0, 0, message="header on line 3")},
    ),
    Case(
        "blank_lines_between_rows", "blank and whitespace-only lines between records", "orders",
        (("blank_between.csv", orders(GOOD_ROWS[0], "", "   ", GOOD_ROWS[1], "")),),
        {"blank_between.csv": Expect("loaded", 2, 2, 0, 0)},
        check=_check_blank_lines,
    ),
    Case(
        "only_blank_lines", "a file of blank lines only (no header)", "orders",
        (("blank.csv", b"\n\n   \r\n\n"),),
        {"blank.csv": Expect("loaded", message="empty delivery")},
    ),
    Case(
        "zero_byte_csv", "a zero-byte .csv", "orders",
        (("empty.csv", b""),),
        {"empty.csv": Expect("loaded", message="zero-byte file")},
    ),
    Case(
        "header_only", "a header and no rows", "orders",
        (("header_only.csv", orders()),),
        {"header_only.csv": Expect("loaded", message="empty delivery")},
    ),
    Case(
        "header_only_wrong_header", "header-only file whose header lacks required columns", "orders",
        (("header_only_bad.csv", b"order_id\n"),),
        {"header_only_bad.csv": Expect("rejected", reasons=("missing required column(s) customer_id, order_ts, revenue",))},
    ),
    Case(
        "all_empty_fields", "an Excel 'empty' row of commas", "orders",
        (("commas.csv", orders(GOOD_ROWS[0], ",,,,,")),),
        {"commas.csv": Expect("loaded", 2, 1, 1, 0, ("order_id is empty; customer_id is empty; order_ts is empty; revenue is empty",))},
    ),
    Case(
        "ctrl_z_eof", "a DOS end-of-file byte (0x1A) on the last line", "orders",
        (("dos_eof.csv", GOOD_ORDERS + b"\x1a"),),
        {"dos_eof.csv": Expect("loaded", 3, 2, 1, 0, ("wrong number of fields: 1 instead of 6",))},
    ),
    Case(
        "bom_and_crlf", "UTF-8 BOM and CRLF line endings (valid)", "orders",
        (("windows.csv", ("\ufeff" + csv_text("orders", *GOOD_ROWS, newline="\r\n")).encode()),),
        {"windows.csv": Expect("loaded", 2, 2, 0, 0)},
        check=_check_crlf,
    ),
    Case(
        "cr_cr_lf", "doubled CR before LF (CRLF written through a text-mode layer) (valid)", "orders",
        (("crcrlf.csv", GOOD_ORDERS.replace(b"\n", b"\r\r\n")),),
        {"crcrlf.csv": Expect("loaded", 2, 2, 0, 0)},
        check=_check_crlf,
    ),
    Case(
        "bare_cr_line_endings", "classic-Mac CR-only line endings", "orders",
        (("mac.csv", GOOD_ORDERS.replace(b"\n", b"\r")),),
        {"mac.csv": Expect("rejected", reasons=("bare carriage return", "LF or CRLF"))},
    ),
    # --- values ------------------------------------------------------------------------
    Case(
        "empty_ids", "empty order_id and customer_id", "orders",
        (("empty_ids.csv", orders(",C1,2025-01-01,10,,", "O2,,2025-01-02,10,,", GOOD_ROWS[0])),),
        {"empty_ids.csv": Expect("loaded", 3, 1, 2, 0, ("order_id is empty", "customer_id is empty"))},
    ),
    Case(
        "whitespace_only_values", "whitespace-only = empty: quarantined when required, null when optional", "orders",
        (("spaces.csv", orders("   ,C1,2025-01-01,10,,", "O2,C2,2025-01-02,\t,,", "O3, C3 ,2025-01-03,10, , ")),),
        {"spaces.csv": Expect("loaded", 3, 1, 2, 0, ("order_id is empty", "revenue is empty"))},
        check=_check_whitespace,
    ),
    Case(
        "date_formats_us_european", "US and European day/month orders, dotted and slashed", "orders",
        (("dates_eu_us.csv", orders("D1,C1,01/31/2025,1,,", "D2,C1,31/01/2025,1,,", "D3,C1,31.01.2025,1,,", "D4,C1,2025/01/31,1,,")),),
        {"dates_eu_us.csv": Expect("loaded", 4, 0, 4, 0, ("order_ts is not an ISO-8601 date/time: '01/31/2025'", "'31.01.2025'", "'2025/01/31'"))},
    ),
    Case(
        "date_formats_epoch", "Unix epoch seconds and milliseconds", "orders",
        (("dates_epoch.csv", orders("D1,C1,1735689600,1,,", "D2,C1,1735689600000,1,,")),),
        {"dates_epoch.csv": Expect("loaded", 2, 0, 2, 0, ("order_ts is not an ISO-8601 date/time: '1735689600'",))},
    ),
    Case(
        "date_formats_month_names", "month names and compact dates", "orders",
        (("dates_names.csv", orders("D1,C1,Jan 5 2025,1,,", 'D2,C1,"5 January, 2025",1,,', "D3,C1,2025-Jan-05,1,,", "D4,C1,20250105,1,,")),),
        {"dates_names.csv": Expect("loaded", 4, 0, 4, 0, ("'Jan 5 2025'", "'5 January, 2025'", "'20250105'"))},
    ),
    Case(
        "impossible_dates", "ISO-shaped but impossible dates and times", "orders",
        (("dates_impossible.csv", orders("D1,C1,2025-02-30,1,,", "D2,C1,2025-13-01,1,,", "D3,C1,2025-01-01T25:00:00,1,,", "D4,C1,2025-01-05T10:00:00+25:00,1,,")),),
        {"dates_impossible.csv": Expect("loaded", 4, 0, 4, 0, ("'2025-02-30'", "'2025-13-01'", "'2025-01-01T25:00:00'", "+25:00"))},
    ),
    Case(
        "declared_date_format", "day-first dates with `date_format` declared in the config (valid)", "orders",
        (("dates_declared.csv", orders("D1,C1,31/01/2025,1,,", "D2,C1,2025-01-31,1,,")),),
        {"dates_declared.csv": Expect("loaded", 2, 2, 0, 0)},
        overrides={"date_format": {"orders": "%d/%m/%Y"}},
        check=_check_declared_format,
    ),
    Case(
        "future_dates", "orders after the load time (2026-01-01 12:00 UTC), offsets included", "orders",
        (("future.csv", orders("F1,C1,2030-01-01,1,,", "F2,C1,2026-01-01T11:30:00-01:00,1,,", "F3,C1,2026-01-01T13:00:00+02:00,1,,")),),
        {"future.csv": Expect("loaded", 3, 1, 2, 0, ("order_ts 2030-01-01 is after the load time", "2026-01-01T11:30:00-01:00 is after the load time"))},
        check=_check_future,
    ),
    Case(
        "mixed_timezone_offsets", "the same instant in five notations (valid)", "orders",
        (("offsets.csv", orders(
            "TZ1,C1,2025-03-01T10:00:00+02:00,1,,", "TZ2,C1,2025-03-01T08:00:00Z,1,,", "TZ3,C1,2025-03-01 03:00:00-05:00,1,,",
            "TZ4,C1,2025-03-01T13:30:00+05:30,1,,", "TZ5,C1,2025-03-01T08:00:00.000000,1,,")),),
        {"offsets.csv": Expect("loaded", 5, 5, 0, 0)},
        check=_check_offsets,
    ),
    Case(
        "negative_amounts", "negative revenue, cost and refund", "orders",
        (("negative.csv", orders("N1,C1,2025-01-01,-5,,", "N2,C1,2025-01-01,5,-1,", "N3,C1,2025-01-01,5,,-0.5")),),
        {"negative.csv": Expect("loaded", 3, 0, 3, 0, ("revenue is negative: -5", "cost is negative: -1", "refund is negative: -0.5"))},
    ),
    Case(
        "non_numeric_amounts", "text, NULL markers and hex in amount columns", "orders",
        (("text_amounts.csv", orders("T1,C1,2025-01-01,abc,,", "T2,C1,2025-01-01,ten,,", "T3,C1,2025-01-01,10,NULL,", "T4,C1,2025-01-01,10,,N/A", "T5,C1,2025-01-01,0x10,,")),),
        {"text_amounts.csv": Expect("loaded", 5, 0, 5, 0, ("revenue is not a number: 'abc'", "cost is not a number: 'NULL'", "refund is not a number: 'N/A'", "'0x10'"))},
    ),
    Case(
        "absurd_amounts", "amounts above max_amount (1e9); 1e9 itself is valid", "orders",
        (("absurd.csv", orders("A1,C1,2025-01-01,1e10,,", "A2,C1,2025-01-01,99999999999,,", "A3,C1,2025-01-01,1e9,,")),),
        {"absurd.csv": Expect("loaded", 3, 1, 2, 0, ("revenue 1e10 exceeds max_amount 1e+09", "revenue 99999999999 exceeds max_amount"))},
        check=_check_max_amount_boundary,
    ),
    Case(
        "nan_and_infinity", "NaN, inf and overflowing numbers", "orders",
        (("nan.csv", orders("X1,C1,2025-01-01,NaN,,", "X2,C1,2025-01-01,inf,,", "X3,C1,2025-01-01,-Infinity,,", "X4,C1,2025-01-01,1e400,,")),),
        {"nan.csv": Expect("loaded", 4, 0, 4, 0, ("revenue is not a number: 'NaN'", "'inf'", "revenue is not finite: '1e400'"))},
    ),
    Case(
        "currency_and_thousands", "currency symbols, units and thousands separators", "orders",
        (("currency.csv", orders("M1,C1,2025-01-01,$10,,", "M2,C1,2025-01-01,€10,,", "M3,C1,2025-01-01,10 EUR,,", 'M4,C1,2025-01-01,"1,234.50",,', "M5,C1,2025-01-01,1.234,50,,")),),
        {"currency.csv": Expect("loaded", 5, 0, 5, 0, ("'$10'", "'€10'", "'10 EUR'", "revenue is not a number: '1,234.50'", "wrong number of fields: 7 instead of 6"))},
    ),
    Case(
        "refund_above_revenue", "refund larger than revenue; refund equal to revenue is valid", "orders",
        (("refunds.csv", orders("R1,C1,2025-01-01,10,,12", "R2,C1,2025-01-01,10,,10")),),
        {"refunds.csv": Expect("loaded", 2, 1, 1, 0, ("refund 12 exceeds revenue 10",))},
        check=_check_refund_equal,
    ),
    Case(
        "every_rule_broken", "one row breaking several rules: every one is named", "orders",
        (("all_wrong.csv", orders("W1,,2030-01-01,-5,abc,")),),
        {"all_wrong.csv": Expect("loaded", 1, 0, 1, 0, ("customer_id is empty; revenue is negative: -5; cost is not a number: 'abc'; order_ts 2030-01-01 is after the load time",))},
    ),
    Case(
        "very_long_fields", "1 MB values, unquoted and quoted (no length rule: loaded whole)", "orders",
        (("long_fields.csv", orders(f"{'x' * MB},C1,2025-01-01,1,,", f'O2,"{"y" * MB}",2025-01-01,1,,')),),
        {"long_fields.csv": Expect("loaded", 2, 2, 0, 0)},
        check=_check_long_fields,
    ),
    # --- duplicates, conflicts, corrections ----------------------------------------------
    Case(
        "duplicate_rows", "the same row three times in one delivery", "orders",
        (("dupes.csv", orders(GOOD_ROWS[0], GOOD_ROWS[0], " O1 , C1 ,2025-01-01,10,4,", GOOD_ROWS[1])),),
        {"dupes.csv": Expect("loaded", 4, 2, 0, 2)},
    ),
    Case(
        "duplicate_of_earlier_delivery", "a row already loaded by an earlier delivery", "orders",
        (("b_again.csv", orders(GOOD_ROWS[0], "O3,C3,2025-01-03,3,,")),),
        {"b_again.csv": Expect("loaded", 2, 1, 0, 1)},
        before=(("a.csv", GOOD_ORDERS),),
    ),
    Case(
        "corrected_order", "a later delivery corrects an order (latest wins)", "orders",
        (("b_correction.csv", orders("O1,C1,2025-01-01,12.00,4,")),),
        {"b_correction.csv": Expect("loaded", 1, 1, 0, 0, message="1 correction(s) replaced earlier records")},
        before=(("a.csv", GOOD_ORDERS),),
        check=_check_correction,
    ),
    Case(
        "conflict_in_one_delivery", "one order twice with different revenue in one delivery", "orders",
        (("conflict.csv", orders("O1,C1,2025-01-01,10,,", "O1,C1,2025-01-01,11,,", GOOD_ROWS[1])),),
        {"conflict.csv": Expect("loaded", 3, 1, 2, 0, (_conflict_key.format(2) + " with different values",))},
    ),
    Case(
        "conflict_with_exact_copy", "a conflicting order whose first version is also sent twice", "orders",
        (("conflict_copy.csv", orders("O1,C1,2025-01-01,10,,", "O1,C1,2025-01-01,10,,", "O1,C1,2025-01-01,11,,", GOOD_ROWS[1])),),
        {"conflict_copy.csv": Expect("loaded", 4, 1, 3, 0, (_conflict_key.format(3),))},
    ),
    Case(
        "duplicate_delivery_later_run", "the same bytes again under another name, next run", "orders",
        (("a_resent.csv", GOOD_ORDERS),),
        {"a_resent.csv": Expect("already_loaded", message="same content as a.csv")},
        before=(("a.csv", GOOD_ORDERS),),
    ),
    Case(
        "duplicate_delivery_same_run", "the same bytes under two names in one run", "orders",
        (("a.csv", GOOD_ORDERS), ("a_copy.csv", GOOD_ORDERS)),
        {"a.csv": Expect("loaded", 2, 2, 0, 0), "a_copy.csv": Expect("already_loaded", message="same content as")},
    ),
    # --- columns -------------------------------------------------------------------------
    Case(
        "unknown_extra_columns", "columns the contract does not know", "orders",
        (("extra.csv", orders(*(r + ",gift,1" for r in GOOD_ROWS), header=HEADERS["orders"] + ",notes,internal_flag")),),
        {"extra.csv": Expect("loaded", 2, 2, 0, 0, message="ignored unknown column(s): notes, internal_flag")},
    ),
    Case(
        "missing_required_column", "no revenue column", "orders",
        (("no_revenue.csv", b"order_id,customer_id,order_ts\nO1,C1,2025-01-01\n"),),
        {"no_revenue.csv": Expect("rejected", reasons=("missing required column(s) revenue",))},
    ),
    Case(
        "duplicate_header_names", "revenue twice in the header (case and spaces differ)", "orders",
        (("dup_header.csv", b"order_id,customer_id,order_ts,revenue, Revenue \nO1,C1,2025-01-01,1,2\n"),),
        {"dup_header.csv": Expect("rejected", reasons=("column(s) revenue appear more than once in the header",))},
    ),
    # --- encodings and containers ----------------------------------------------------------
    Case(
        "latin1_encoding", "Latin-1 bytes (a customer named Müller)", "orders",
        (("latin1.csv", orders("O1,Müller,2025-01-01,1,,").decode().encode("latin-1")),),
        {"latin1.csv": Expect("rejected", reasons=("not UTF-8 text (invalid byte at position",))},
    ),
    Case(
        "utf16_with_bom", "UTF-16 (Excel 'Unicode text') with a BOM", "orders",
        (("utf16.csv", GOOD_ORDERS.decode().encode("utf-16")),),
        {"utf16.csv": Expect("rejected", reasons=("UTF-16 text, not UTF-8",))},
    ),
    Case(
        "utf16_without_bom", "UTF-16LE without a BOM", "orders",
        (("utf16le.csv", GOOD_ORDERS.decode().encode("utf-16-le")),),
        {"utf16le.csv": Expect("rejected", reasons=("UTF-16 text, not UTF-8",))},
    ),
    Case(
        "gzip_valid", "gzip of a BOM + CRLF export (valid)", "orders",
        (("windows.csv.gz", gzip.compress(("\ufeff" + csv_text("orders", *GOOD_ROWS, newline="\r\n")).encode())),),
        {"windows.csv.gz": Expect("loaded", 2, 2, 0, 0)},
        check=_check_crlf,
    ),
    Case(
        "gzip_truncated", "a gzip file cut short (interrupted upload)", "orders",
        (("cut.csv.gz", first_half(gzip.compress(orders(*GOOD_ROWS * 50)))),),
        {"cut.csv.gz": Expect("rejected", reasons=("not a valid gzip file", "end-of-stream marker"))},
    ),
    Case(
        "gzip_corrupt_stream", "a gzip file with a damaged deflate stream", "orders",
        (("damaged.csv.gz", corrupt_deflate(GOOD_ORDERS * 20)),),
        {"damaged.csv.gz": Expect("rejected", reasons=("not a valid gzip file", "Error -3"))},
    ),
    Case(
        "gzip_name_plain_content", "plain CSV named .csv.gz", "orders",
        (("plain.csv.gz", GOOD_ORDERS),),
        {"plain.csv.gz": Expect("rejected", reasons=("not a valid gzip file", "Not a gzipped file"))},
    ),
    Case(
        "gzip_content_csv_name", "gzip bytes named .csv", "orders",
        (("compressed.csv", gzip.compress(GOOD_ORDERS)),),
        {"compressed.csv": Expect("rejected", reasons=("binary content",))},
    ),
    Case(
        "binary_junk_csv", "random bytes named .csv", "orders",
        (("junk.csv", junk(4096, seed=1)),),
        {"junk.csv": Expect("rejected", reasons=("binary content (NUL bytes)",))},
    ),
    Case(
        "high_bytes_junk_csv", "random bytes without NUL named .csv", "orders",
        (("junk_high.csv", junk(4096, seed=2, low=0x80)),),
        {"junk_high.csv": Expect("rejected", reasons=("not UTF-8 text",))},
    ),
    Case(
        "unsupported_extension", "an Excel workbook and a JSON export in the folder", "orders",
        (("orders.json", b'[{"order_id": "O1"}]'), ("orders.xlsx", b"PK\x03\x04" + junk(200, seed=3))),
        {
            "orders.json": Expect("rejected", reasons=("unsupported file type",)),
            "orders.xlsx": Expect("rejected", reasons=("unsupported file type",)),
        },
    ),
    Case(
        "hidden_files", "macOS .DS_Store and an editor's hidden lock file (ignored)", "orders",
        ((".DS_Store", junk(64, seed=4)), (".~lock.orders.csv#", b"lock")),
        {".DS_Store": Expect(None), ".~lock.orders.csv#": Expect(None)},
    ),
    # --- Parquet -----------------------------------------------------------------------------
    Case(
        "parquet_wrong_types", "ids as integers, dates as Date, revenue as text incl. 'abc'", "orders",
        (("typed.parquet", parquet({
            "order_id": [1, 2, 3], "customer_id": [10, 20, 30],
            "order_ts": pa.array([date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]), "revenue": ["10.5", "abc", "7"],
        })),),
        {"typed.parquet": Expect("loaded", 3, 2, 1, 0, ("revenue is not a number: 'abc'",))},
        check=_check_parquet_types,
    ),
    Case(
        "parquet_uncastable_values", "epoch integers as order_ts, booleans as revenue", "orders",
        (("uncastable.parquet", parquet({"order_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "order_ts": [1735689600, 1735776000], "revenue": [True, False]})),),
        {"uncastable.parquet": Expect("loaded", 2, 0, 2, 0, ("order_ts is not an ISO-8601 date/time: '1735689600'", "revenue is not a number: 'true'"))},
    ),
    Case(
        "parquet_nan_inf", "float NaN, inf, negative and huge revenues", "orders",
        (("floats.parquet", parquet({"order_id": ["P1", "P2", "P3", "P4", "P5"], "customer_id": ["C1"] * 5, "order_ts": ["2025-01-01"] * 5,
                                     "revenue": [float("nan"), float("inf"), -1.0, 1e300, 10.5]})),),
        {"floats.parquet": Expect("loaded", 5, 1, 4, 0, ("'NaN'", "'inf'", "revenue is negative", "exceeds max_amount"))},
    ),
    Case(
        "parquet_null_required", "null ids in a Parquet delivery", "orders",
        (("null_ids.parquet", parquet({"order_id": pa.array([None, "P2"], pa.string()), "customer_id": ["C1", None], "order_ts": ["2025-01-01"] * 2, "revenue": [1.0, 2.0]})),),
        {"null_ids.parquet": Expect("loaded", 2, 0, 2, 0, ("order_id is empty", "customer_id is empty"))},
    ),
    Case(
        "parquet_fixed_offset_timezone", "timestamps with a fixed-offset zone '+05:30' (pandas) (valid)", "orders",
        (("fixed_offset.parquet", parquet({"order_id": ["P1"], "customer_id": ["C1"], "revenue": [1.0],
                                           "order_ts": pa.array([datetime(2025, 1, 1, 4, 30)], pa.timestamp("us", tz="UTC")).cast(_tz)})),),
        {"fixed_offset.parquet": Expect("loaded", 1, 1, 0, 0)},
        check=_check_fixed_offset,
    ),
    Case(
        "parquet_decimal256", "256-bit decimals (e.g. BigQuery BIGNUMERIC) (valid)", "orders",
        (("bignumeric.parquet", parquet({"order_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "order_ts": ["2025-01-01"] * 2,
                                         "revenue": pa.array([decimal.Decimal("10.50"), decimal.Decimal("0.01")], pa.decimal256(40, 2))})),),
        {"bignumeric.parquet": Expect("loaded", 2, 2, 0, 0)},
        check=_check_decimal256,
    ),
    Case(
        "parquet_type_without_text", "revenue stored as a duration", "orders",
        (("duration.parquet", parquet({"order_id": ["P1"], "customer_id": ["C1"], "order_ts": ["2025-01-01"], "revenue": pa.array([timedelta(seconds=5)])})),),
        {"duration.parquet": Expect("rejected", reasons=("column 'revenue' has type duration[us], which cannot hold a revenue value",))},
    ),
    Case(
        "parquet_nested_required", "order_id stored as a struct", "orders",
        (("struct_id.parquet", parquet({"order_id": [{"id": 1}], "customer_id": ["C1"], "order_ts": ["2025-01-01"], "revenue": [1.0]})),),
        {"struct_id.parquet": Expect("rejected", reasons=("column 'order_id' has type", "which cannot hold a order_id value"))},
    ),
    Case(
        "parquet_extra_columns", "a list column and a pandas index column the contract does not know", "orders",
        (("extra_cols.parquet", parquet({"order_id": ["P1"], "customer_id": ["C1"], "order_ts": ["2025-01-01"], "revenue": [1.0],
                                         "tags": [["gift", "promo"]], "__index_level_0__": [0]})),),
        {"extra_cols.parquet": Expect("loaded", 1, 1, 0, 0, message="ignored unknown column(s): tags, __index_level_0__")},
    ),
    Case(
        "parquet_duplicate_columns", "a Parquet file with two columns named revenue", "orders",
        (("dup_cols.parquet", parquet(pa.Table.from_arrays(
            [pa.array(["P1"]), pa.array(["C1"]), pa.array(["2025-01-01"]), pa.array([1.0]), pa.array([2.0])],
            names=["order_id", "customer_id", "order_ts", "revenue", "revenue"]))),),
        {"dup_cols.parquet": Expect("rejected", reasons=("column(s) revenue appear more than once",))},
    ),
    Case(
        "parquet_zero_rows", "a valid Parquet file with no rows", "orders",
        (("no_rows.parquet", parquet(pa.table({"order_id": pa.array([], pa.string()), "customer_id": pa.array([], pa.string()),
                                               "order_ts": pa.array([], pa.string()), "revenue": pa.array([], pa.float64())}))),),
        {"no_rows.parquet": Expect("loaded", message="empty delivery")},
    ),
    Case(
        "parquet_zero_byte", "a zero-byte .parquet", "orders",
        (("empty.parquet", b""),),
        {"empty.parquet": Expect("loaded", message="zero-byte file")},
    ),
    Case(
        "parquet_junk", "junk bytes between Parquet magic numbers", "orders",
        (("junk.parquet", b"PAR1" + junk(500, seed=5) + b"PAR1"),),
        {"junk.parquet": Expect("rejected", reasons=("not a readable Parquet file",))},
    ),
    Case(
        "parquet_truncated", "a Parquet file cut in half", "orders",
        (("cut.parquet", first_half(parquet({"order_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "order_ts": ["2025-01-01"] * 2, "revenue": [1.0, 2.0]}))),),
        {"cut.parquet": Expect("rejected", reasons=("not a readable Parquet file",))},
    ),
    Case(
        "csv_named_parquet", "CSV text named .parquet", "orders",
        (("text.parquet", GOOD_ORDERS),),
        {"text.parquet": Expect("rejected", reasons=("not a readable Parquet file", "magic bytes"))},
    ),
    Case(
        "parquet_named_csv", "Parquet bytes named .csv", "orders",
        (("binary.csv", parquet({"order_id": ["P1"], "customer_id": ["C1"], "order_ts": ["2025-01-01"], "revenue": [1.0]})),),
        {"binary.csv": Expect("rejected", reasons=("binary content",))},
    ),
    # --- the other sources --------------------------------------------------------------------
    Case(
        "duplicate_customers", "a customer twice with different values, another twice identical", "customers",
        (("customers_dupes.csv", csv_text(
            "customers", "C1,2025-01-01,email,,DE,", "C1,2025-02-01,email,,FR,", "C2,2025-01-01,Paid Search,,DE,",
            "C2, 2025-01-01 ,paid search,,DE,", "C3,2025-01-01,  ,,,").encode()),),
        {"customers_dupes.csv": Expect("loaded", 5, 2, 2, 1, ("conflict: 2 rows in this delivery share the key (customer_id) = (C1)",))},
        check=_check_customers,
    ),
    Case(
        "tickets_unknown_customers", "tickets for customers nobody delivered (valid)", "support_tickets",
        (("tickets.csv", csv_text("support_tickets", "T1,NOBODY-1,2025-01-01,billing,,4", "T2,NOBODY-2,2025-01-02,,2025-01-03,").encode()),),
        {"tickets.csv": Expect("loaded", 2, 2, 0, 0)},
        check=_check_unknown_customers,
    ),
    Case(
        "csat_out_of_range", "csat 0, 6, 4.5 and 'five' (1-5 integers only)", "support_tickets",
        (("csat.csv", csv_text("support_tickets", "T1,C1,2025-01-01,,,0", "T2,C1,2025-01-01,,,6", "T3,C1,2025-01-01,,,4.5",
                               "T4,C1,2025-01-01,,,five", "T5,C1,2025-01-01,,,4").encode()),),
        {"csat.csv": Expect("loaded", 5, 1, 4, 0, ("csat must be between 1 and 5: 0", "csat must be between 1 and 5: 6", "csat is not an integer: '4.5'", "'five'"))},
    ),
    Case(
        "tickets_future_and_empty", "a ticket from the future and one without an id", "support_tickets",
        (("tickets_bad.csv", csv_text("support_tickets", "T1,C1,2027-01-01,,,", ",C1,2025-01-01,,,", "T3,C1,2025-01-01,,,").encode()),),
        {"tickets_bad.csv": Expect("loaded", 3, 1, 2, 0, ("created_ts 2027-01-01 is after the load time", "ticket_id is empty"))},
    ),
    Case(
        "spend_bad_values", "negative impressions, fractional clicks, currency spend, missing channel", "marketing_spend",
        (("spend.csv", csv_text("marketing_spend", "2025-01-01,email,,10,-1,", "2025-01-02,email,,10,,2.5", "2025-01-03,email,,€5,,",
                                "2025-01-04,,,5,,", "2025-01-05,email,,5,100,3").encode()),),
        {"spend.csv": Expect("loaded", 5, 1, 4, 0, ("impressions must be >= 0: -1", "clicks is not an integer: '2.5'", "spend is not a number: '€5'", "channel is empty"))},
    ),
    Case(
        "spend_channel_spellings", "one day's spend under three spellings of the channel", "marketing_spend",
        (("channels.csv", csv_text("marketing_spend", "2025-01-01,Paid Search,,10,,", "2025-01-01,paid-search,,10,,", "2025-01-01, PAID_SEARCH ,,10,,").encode()),),
        {"channels.csv": Expect("loaded", 3, 1, 0, 2)},
        check=_check_channels,
    ),
)


def cli_landing_zone() -> dict[str, dict[str, bytes]]:
    """Several sources with good and bad deliveries at once, for the end-to-end CLI case."""
    return {
        "orders": {
            "2025-01.csv": orders(*GOOD_ROWS, "O3,C3,2025-01-05,15,,", "O4,,2025-01-06,5,,", "O5,C1,2025-02-01,$12,,"),
            "2025-02.csv.gz": gzip.compress(orders("O6,C2,2025-02-03,30,,", "O7,C3,2025-02-10,8,,")),
            "2025-03.parquet": parquet({"order_id": ["O8"], "customer_id": ["C1"], "order_ts": [datetime(2025, 3, 1)], "revenue": [11.0]}),
            "broken.csv.gz": corrupt_deflate(GOOD_ORDERS * 20),
            "export_utf16.csv": GOOD_ORDERS.decode().encode("utf-16"),
            "junk.parquet": b"PAR1" + junk(300, seed=6) + b"PAR1",
            "no_revenue.csv": b"order_id,customer_id,order_ts\nO9,C1,2025-01-01\n",
        },
        "customers": {
            "customers.csv": csv_text("customers", "C1,2024-12-01,Paid Search,,DE,", "C2,2024-12-15,email,,FR,").encode(),
            "customers_dup_header.csv": b"customer_id,customer_id\nC3,C3\n",
        },
        "support_tickets": {
            "tickets.csv": csv_text("support_tickets", "T1,C1,2025-01-10,billing,,5", "T2,NOBODY,2025-01-11,,,").encode(),
        },
    }


CLI_REJECTED = {
    "orders/broken.csv.gz": "not a valid gzip file",
    "orders/export_utf16.csv": "UTF-16 text",
    "orders/junk.parquet": "not a readable Parquet file",
    "orders/no_revenue.csv": "missing required column(s) revenue",
    "customers/customers_dup_header.csv": "appear more than once",
}
CLI_LOADED = {  # delivery: (read, loaded, quarantined, duplicate)
    "orders/2025-01.csv": (5, 3, 2, 0),
    "orders/2025-02.csv.gz": (2, 2, 0, 0),
    "orders/2025-03.parquet": (1, 1, 0, 0),
    "customers/customers.csv": (2, 2, 0, 0),
    "support_tickets/tickets.csv": (2, 2, 0, 0),
}
CLI_LOADED_ORDERS = ["O1", "O2", "O3", "O6", "O7", "O8"]
