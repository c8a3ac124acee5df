"""Delivery-level behaviour: formats, mapping, re-delivery, corrections, bad files, crashes."""

from __future__ import annotations

import gzip
import io
from datetime import datetime

import polars as pl
import pytest

import ltv_pipeline.ingest.loader as loader
from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.ingest.loader import MissingRequiredSource
from ltv_pipeline.ingest.sources import raw_schema

HEADER = "order_id,customer_id,order_ts,revenue,cost,refund\n"
ROWS = "O1,C1,2025-01-01,10.00,4,\nO2,C2,2025-01-02T08:00:00Z,20,,1.5\n"


def _parquet_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def test_csv_gzip_and_parquet_give_the_same_records(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.load()
    from_csv = ws.raw().select("order_id", "customer_id", "order_ts", "revenue", "cost", "refund")

    for name, payload in [
        ("b.csv.gz", gzip.compress((HEADER + ROWS).encode())),
        ("c.parquet", _parquet_bytes(pl.read_csv(io.StringIO(HEADER + ROWS), infer_schema=False))),
    ]:
        ws2 = type(ws)(ws.root / name)
        ws2.deliver("orders", name, payload)
        entry = ws2.load().entries[0]
        assert entry["status"] == "loaded" and entry["rows_loaded"] == 2
        assert ws2.raw().select(from_csv.columns).equals(from_csv)


def test_parquet_with_wrong_types_is_cast_value_by_value(ws):
    df = pl.DataFrame(
        {
            "order_id": [1, 2, 3],
            "customer_id": ["C1", "C2", "C3"],
            "order_ts": [datetime(2025, 1, 1), datetime(2025, 1, 2), datetime(2025, 1, 3)],
            "revenue": ["10.5", "abc", "7"],
        }
    )
    ws.deliver("orders", "typed.parquet", _parquet_bytes(df))
    entry = ws.load().entries[0]
    assert (entry["rows_loaded"], entry["rows_quarantined"]) == (2, 1)
    assert ws.raw()["order_id"].to_list() == ["1", "3"]
    assert ws.quarantine()["_reason"][0] == "revenue is not a number: 'abc'"


def test_parquet_with_timezone_aware_timestamps_is_converted_to_utc(ws):
    df = pl.DataFrame({"order_id": ["O1"], "customer_id": ["C1"], "revenue": [1.0]}).with_columns(
        order_ts=pl.lit(datetime(2025, 1, 1, 12)).dt.replace_time_zone("Europe/Paris")
    )
    ws.deliver("orders", "tz.parquet", _parquet_bytes(df))
    ws.load()
    assert ws.raw()["order_ts"][0] == datetime(2025, 1, 1, 11)


def test_column_mapping_renames_their_columns(ws):
    ws.overrides["column_mapping"] = {"orders": {"OrderNumber": "order_id", "Client": "customer_id", "Date": "order_ts", "Total": "revenue"}}
    ws.deliver("orders", "export.csv", "OrderNumber,Client,Date,Total,Notes\nA-1,X,2025-02-01,99.9,gift\n")
    entry = ws.load().entries[0]
    assert entry["rows_loaded"] == 1
    assert "ignored unknown column(s): Notes" in entry["message"]
    assert ws.raw().select("order_id", "revenue").row(0) == ("A-1", 99.9)


def test_bom_and_crlf_are_accepted(ws):
    ws.deliver("orders", "win.csv", ("\ufeff" + HEADER + ROWS).replace("\n", "\r\n").encode("utf-8"))
    ws.load()
    assert ws.raw()["order_id"].to_list() == ["O1", "O2"]


def test_redelivery_of_the_same_bytes_is_a_noop(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.load()
    before = ws.raw()
    ws.deliver("orders", "a_resent.csv", HEADER + ROWS)
    result = ws.load()
    assert [(e["delivery"], e["status"], e["rows_read"]) for e in result.entries] == [("a_resent.csv", "already_loaded", 0)]
    assert ws.raw().equals(before)
    # a third run with nothing new writes nothing new to the log
    assert ws.load().entries == []


def test_correction_in_a_later_delivery_replaces_the_row(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.load()
    ws.deliver("orders", "b.csv", HEADER + "O1,C1,2025-01-01,12.00,4,\nO3,C3,2025-01-05,5,,\n")
    entry = ws.load().entries[0]
    assert entry["rows_loaded"] == 2 and "1 correction(s)" in entry["message"]
    raw = ws.raw().sort("order_id")
    assert raw["order_id"].to_list() == ["O1", "O2", "O3"]
    assert raw.filter(pl.col("order_id") == "O1").select("revenue", "_delivery").row(0) == (12.0, "b.csv")


def test_deliveries_apply_in_file_name_order_within_a_run(ws):
    ws.deliver("orders", "2025-02.csv", HEADER + "O1,C1,2025-01-01,30,,\n")
    ws.deliver("orders", "2025-01.csv", HEADER + "O1,C1,2025-01-01,10,,\n")
    ws.load()
    assert ws.raw()["revenue"].to_list() == [30.0]


def test_identical_row_in_a_later_delivery_is_a_duplicate(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.load()
    ws.deliver("orders", "b.csv", HEADER + "O1,C1,2025-01-01,10,4,\n")
    entry = ws.load().entries[0]
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_duplicate"]) == (1, 0, 1)


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("junk.csv", b"\x00\x01\x02\xff" * 50, "binary content"),
        ("latin1.csv", (HEADER + "O1,Müller,2025-01-01,1,,\n").encode("latin-1"), "not UTF-8"),
        ("nocol.csv", b"order_id,customer_id,revenue\nO1,C1,1\n", "missing required column(s) order_ts"),
        ("bad.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("bad.csv.gz", b"not gzip at all", "not a valid gzip file"),
        ("orders.xlsx", b"PK\x03\x04", "unsupported file type"),
    ],
)
def test_unreadable_delivery_is_rejected_whole_and_the_rest_loads(ws, name, payload, reason):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.deliver("orders", name, payload)
    ws.deliver("orders", "z.csv", HEADER + "O9,C9,2025-01-09,9,,\n")
    result = ws.load()
    statuses = {e["delivery"]: e for e in result.entries}
    assert statuses[name]["status"] == "rejected"
    assert reason in statuses[name]["message"]
    assert statuses[name]["rows_loaded"] == 0
    assert sorted(ws.raw()["order_id"].to_list()) == ["O1", "O2", "O9"]


def test_empty_and_header_only_files_are_empty_deliveries(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.deliver("orders", "empty.csv", b"")
    ws.deliver("orders", "header_only.csv", HEADER)
    entries = {e["delivery"]: e for e in ws.load().entries}
    for name in ("empty.csv", "header_only.csv"):
        assert (entries[name]["status"], entries[name]["rows_read"]) == ("loaded", 0)
        assert "empty delivery" in entries[name]["message"]


def test_missing_optional_source_gives_an_empty_table_with_a_note(ws):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    result = ws.load("support_tickets")
    assert "optional source support_tickets is absent" in result.notes[0]
    empty = ws.raw("support_tickets")
    assert empty.height == 0 and empty.schema == raw_schema("support_tickets")


def test_missing_orders_is_a_clear_error(ws):
    ws.landing.mkdir(parents=True)
    with pytest.raises(MissingRequiredSource, match="orders are required"):
        ws.load("orders")


def test_crash_during_a_write_leaves_the_previous_file_readable(ws, monkeypatch):
    ws.deliver("orders", "a.csv", HEADER + ROWS)
    ws.load()
    before = ws.raw()
    path = layout.raw_dir(ws.settings, "orders") / "orders.parquet"

    def half_write(self, file, **kwargs):
        with open(file, "wb") as fh:
            fh.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_parquet(before.head(1), path)
    monkeypatch.undo()
    assert pl.read_parquet(path).equals(before)
    assert [p.name for p in path.parent.iterdir()] == ["orders.parquet"]


def test_crash_before_the_load_log_is_written_is_completed_by_the_next_run(ws, monkeypatch, tmp_path):
    deliveries = {"a.csv": HEADER + ROWS, "b.csv": HEADER + "O1,C1,2025-01-01,12,4,\nO3,C3,2025-01-03,3,,\nbad,,x,1,,\n"}
    reference = type(ws)(tmp_path / "reference")
    for name, text in deliveries.items():
        reference.deliver("orders", name, text)
        ws.deliver("orders", name, text)
    reference.load()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(loader, "append_load_log", crash)
    with pytest.raises(KeyboardInterrupt):
        ws.load()
    monkeypatch.undo()
    ws.load()  # the next run completes it

    columns = ["order_id", "customer_id", "order_ts", "revenue", "cost", "refund", "_delivery", "_line"]
    assert ws.raw().select(columns).equals(reference.raw().select(columns))
    log_cols = ["delivery", "rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "status"]
    assert pl.read_parquet(layout.load_log_path(ws.settings)).select(log_cols).equals(
        pl.read_parquet(layout.load_log_path(reference.settings)).select(log_cols)
    )
