"""The raw table as a consolidated file plus appended parts (ingest/raw_table.py).

A load that only adds records writes them as a new part and leaves the stored files alone;
corrections of stored records, rows of unlogged deliveries and too many parts consolidate
the table into one sorted file again. Whatever the files, the table is the same records.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

import ltv_pipeline.ingest.loader as loader
import ltv_pipeline.ingest.raw_table as table
from ltv_pipeline.core.layout import raw_table_files, raw_table_path

HEADER = "order_id,customer_id,order_ts,revenue,cost,refund\n"
DAY1 = "O1,C1,2025-01-01,10.00,4,\nO2,C2,2025-01-02T08:00:00Z,20,,1.5\n"
DAY2 = "O3,C3,2025-01-03,30,,\nO4,C1,2025-01-04,40,,\n"
LATER = datetime(2026, 1, 2, 12)


def _names(ws) -> list[str]:
    return [p.name for p in raw_table_files(ws.settings, "orders")]


def test_a_load_that_only_adds_records_appends_a_part_and_leaves_the_stored_file(ws):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    base = raw_table_path(ws.settings, "orders")
    stored = base.read_bytes()
    ws.deliver("orders", "day2.csv", HEADER + DAY2)
    entry = ws.load(now=LATER).entries[0]
    assert entry["rows_loaded"] == 2
    assert _names(ws) == ["orders.parquet", "orders.part-000001.parquet"]
    assert base.read_bytes() == stored  # not rewritten
    assert sorted(ws.raw()["order_id"].to_list()) == ["O1", "O2", "O3", "O4"]
    # the part holds exactly the new records, with their lineage
    part = pl.read_parquet(raw_table_files(ws.settings, "orders")[1])
    assert part["order_id"].to_list() == ["O3", "O4"] and set(part["_delivery"]) == {"day2.csv"}


def test_duplicates_of_records_in_any_file_are_found(ws):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    ws.deliver("orders", "day2.csv", HEADER + DAY2)
    ws.load(now=LATER)
    ws.deliver("orders", "day3.csv", HEADER + "O1,C1,2025-01-01,10.00,4,\nO4,C1,2025-01-04,40,,\nO5,C5,2025-01-05,5,,\n")
    entry = ws.load(now=LATER).entries[0]
    assert (entry["rows_loaded"], entry["rows_duplicate"]) == (1, 2)
    assert _names(ws) == ["orders.parquet", "orders.part-000001.parquet", "orders.part-000002.parquet"]
    assert ws.raw()["order_id"].sort().to_list() == ["O1", "O2", "O3", "O4", "O5"]


def test_a_correction_of_a_stored_record_consolidates_the_table(ws):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    ws.deliver("orders", "day2.csv", HEADER + DAY2)
    ws.load(now=LATER)
    ws.deliver("orders", "day3.csv", HEADER + "O3,C3,2025-01-03,33,,\n")  # corrects a record in the part
    entry = ws.load(now=LATER).entries[0]
    assert "1 correction(s)" in entry["message"]
    assert _names(ws) == ["orders.parquet"]
    raw = ws.raw()
    assert raw["order_id"].to_list() == ["O1", "O2", "O3", "O4"]  # one file, sorted by key
    assert raw.filter(pl.col("order_id") == "O3").select("revenue", "_delivery").row(0) == (33.0, "day3.csv")


def test_a_correction_within_one_load_of_a_record_added_by_it(ws):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    ws.deliver("orders", "day2a.csv", HEADER + DAY2)
    ws.deliver("orders", "day2b.csv", HEADER + "O3,C3,2025-01-03,31,,\n")
    ws.load(now=LATER)
    assert _names(ws) == ["orders.parquet", "orders.part-000001.parquet"]  # stored records untouched
    raw = ws.raw().sort("order_id")
    assert raw["order_id"].to_list() == ["O1", "O2", "O3", "O4"]
    assert raw.filter(pl.col("order_id") == "O3")["revenue"].to_list() == [31.0]


def test_too_many_parts_are_consolidated(ws, monkeypatch):
    monkeypatch.setattr(table, "MAX_PARTS", 2)
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    for i, line in enumerate(["O3,C3,2025-01-03,30,,\n", "O4,C4,2025-01-04,40,,\n", "O5,C5,2025-01-05,50,,\n"]):
        ws.deliver("orders", f"day{i + 2}.csv", HEADER + line)
        ws.load(now=LATER)
    assert _names(ws) == ["orders.parquet"]  # the third part would have made three
    assert ws.raw()["order_id"].to_list() == ["O1", "O2", "O3", "O4", "O5"]


def test_a_part_of_a_load_killed_before_the_log_is_dropped_and_reloaded(ws, monkeypatch):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    ws.deliver("orders", "day2.csv", HEADER + DAY2)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(loader, "append_load_log", crash)
    try:
        ws.load(now=LATER)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert "orders.part-000001.parquet" in _names(ws)  # written, but its delivery is not in the log
    entry = ws.load(now=LATER).entries[0]
    assert (entry["delivery"], entry["rows_loaded"]) == ("day2.csv", 2)
    assert _names(ws) == ["orders.parquet"]  # the unlogged rows were dropped by consolidating
    assert ws.raw()["order_id"].to_list() == ["O1", "O2", "O3", "O4"]


def test_parts_left_by_an_interrupted_consolidation_are_removed(ws, monkeypatch):
    ws.deliver("orders", "day1.csv", HEADER + DAY1)
    ws.load()
    ws.deliver("orders", "day2.csv", HEADER + DAY2)
    ws.load(now=LATER)
    part = raw_table_files(ws.settings, "orders")[1]
    leftover = part.read_bytes()
    ws.deliver("orders", "day3.csv", HEADER + "O3,C3,2025-01-03,33,,\n")
    ws.load(now=LATER)  # consolidates, deleting the part
    part.write_bytes(leftover)  # as if killed between writing the consolidated file and deleting it
    ws.deliver("orders", "day4.csv", HEADER + "O6,C6,2025-01-06,6,,\n")
    ws.load(now=LATER)
    parts = raw_table_files(ws.settings, "orders")[1:]
    assert [pl.read_parquet(p)["order_id"].to_list() for p in parts] == [["O6"]]  # the leftover is gone
    raw = ws.raw().sort("order_id")
    assert raw["order_id"].to_list() == ["O1", "O2", "O3", "O4", "O6"]
    assert raw.filter(pl.col("order_id") == "O3")["revenue"].to_list() == [33.0]
