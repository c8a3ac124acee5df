"""One test per validation rule of the contract (section 2b), through the real loader."""

from __future__ import annotations

from datetime import date, datetime

import pytest

HEADER = "order_id,customer_id,order_ts,revenue,cost,refund\n"
GOOD = "O1,C1,2025-01-01,10.00,4,\n"


def _only_reason(ws, body: str, source: str = "orders", header: str = HEADER) -> str:
    ws.deliver(source, "d1.csv", header + body)
    result = ws.load(source)
    entry = result.entries[0]
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_quarantined"] + entry["rows_duplicate"]
    q = ws.quarantine(source)
    assert q.height == 1, q
    return q["_reason"][0]


def test_valid_row_is_loaded_typed(ws):
    ws.deliver("orders", "d1.csv", HEADER + GOOD)
    ws.load()
    raw = ws.raw()
    assert raw.row(0, named=True)["order_ts"] == datetime(2025, 1, 1)
    assert raw["revenue"][0] == 10.0 and raw["cost"][0] == 4.0 and raw["refund"][0] is None


def test_empty_required_value(ws):
    assert _only_reason(ws, "O1,,2025-01-01,10,,\n") == "customer_id is empty"


def test_whitespace_only_required_value_is_empty(ws):
    assert _only_reason(ws, "O1,   ,2025-01-01,10,,\n") == "customer_id is empty"


def test_values_are_trimmed(ws):
    ws.deliver("orders", "d1.csv", HEADER + "  O1 , C1 , 2025-01-01 , 10 ,,\n")
    ws.load()
    assert ws.raw().select("order_id", "customer_id").row(0) == ("O1", "C1")


@pytest.mark.parametrize("amount", ["$12.50", "12,5", "ten", "NaN", "inf", "1e999"])
def test_non_numeric_or_non_finite_amount(ws, amount):
    reason = _only_reason(ws, f'O1,C1,2025-01-01,"{amount}",,\n')
    assert reason.startswith("revenue is not")


def test_scientific_notation_is_a_number(ws):
    ws.deliver("orders", "d1.csv", HEADER + "O1,C1,2025-01-01,1.25e2,,\n")
    ws.load()
    assert ws.raw()["revenue"][0] == 125.0


def test_negative_amount(ws):
    assert _only_reason(ws, "O1,C1,2025-01-01,-5,,\n") == "revenue is negative: -5"


def test_absurd_amount_above_max_amount(ws):
    assert "exceeds max_amount" in _only_reason(ws, "O1,C1,2025-01-01,2e9,,\n")


def test_max_amount_is_configurable(ws):
    ws.overrides["max_amount"] = 100
    assert "exceeds max_amount 100" in _only_reason(ws, "O1,C1,2025-01-01,150,,\n")


def test_refund_above_revenue(ws):
    assert _only_reason(ws, "O1,C1,2025-01-01,10,,12\n") == "refund 12 exceeds revenue 10"


def test_refund_equal_to_revenue_is_valid(ws):
    ws.deliver("orders", "d1.csv", HEADER + "O1,C1,2025-01-01,10,,10\n")
    assert ws.load().entries[0]["rows_loaded"] == 1


@pytest.mark.parametrize("ts", ["03/15/2025", "2025-13-01", "2025-02-30", "15 Mar 2025", "2025-01-01T25:00:00"])
def test_unparseable_timestamp(ws, ts):
    assert "is not an ISO-8601 date/time" in _only_reason(ws, f"O1,C1,{ts},10,,\n")


def test_declared_date_format_is_accepted(ws):
    ws.overrides["date_format"] = {"orders": "%m/%d/%Y"}
    ws.deliver("orders", "d1.csv", HEADER + "O1,C1,03/15/2025,10,,\n")
    ws.load()
    assert ws.raw()["order_ts"][0] == datetime(2025, 3, 15)


@pytest.mark.parametrize(
    ("ts", "utc"),
    [
        ("2025-03-15T10:30:00Z", datetime(2025, 3, 15, 10, 30)),
        ("2025-03-15 10:30:00+02:00", datetime(2025, 3, 15, 8, 30)),
        ("2025-03-15T23:30:00-0300", datetime(2025, 3, 16, 2, 30)),
        ("2025-03-15T10:30:00.123456", datetime(2025, 3, 15, 10, 30, 0, 123456)),
        ("2025-03-15T10:30", datetime(2025, 3, 15, 10, 30)),
        ("2025-03-15", datetime(2025, 3, 15)),
    ],
)
def test_iso_timestamps_convert_to_utc(ws, ts, utc):
    ws.deliver("orders", "d1.csv", HEADER + f"O1,C1,{ts},10,,\n")
    ws.load()
    assert ws.raw()["order_ts"][0] == utc


def test_future_order_date(ws):
    assert "is after the load time" in _only_reason(ws, "O1,C1,2031-01-01,10,,\n")


def test_every_broken_rule_is_named(ws):
    reason = _only_reason(ws, "O1,,notadate,-1,,\n")
    assert reason.split("; ") == [
        "customer_id is empty",
        "order_ts is not an ISO-8601 date/time: 'notadate'",
        "revenue is negative: -1",
    ]


def test_unbalanced_quote_is_quarantined_with_line_and_raw_text(ws):
    ws.deliver("orders", "d1.csv", HEADER + GOOD + 'O2,"C2,2025-01-01,10,,\n' + "O3,C3,2025-01-01,10,,\n")
    ws.load()
    q = ws.quarantine()
    assert q.row(0, named=True)["_line"] == 3
    assert "unbalanced quote" in q["_reason"][0]
    assert q["_raw_line"][0] == 'O2,"C2,2025-01-01,10,,'
    assert ws.raw().height == 2  # parsing resumed at the next line


def test_wrong_field_count(ws):
    assert _only_reason(ws, "O1,C1,2025-01-01,10\n") == "wrong number of fields: 4 instead of 6"


def test_quoted_field_with_comma_is_one_value(ws):
    ws.deliver("orders", "d1.csv", HEADER + 'O1,"C1, Inc",2025-01-01,"1e1",,\n')
    ws.load()
    assert ws.raw()["customer_id"][0] == "C1, Inc"


def test_exact_duplicate_row_is_skipped_and_counted(ws):
    ws.deliver("orders", "d1.csv", HEADER + GOOD + GOOD)
    entry = ws.load().entries[0]
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_duplicate"]) == (2, 1, 1)


def test_conflicting_rows_in_one_delivery_are_both_quarantined(ws):
    ws.deliver("orders", "d1.csv", HEADER + "O1,C1,2025-01-01,10,,\nO1,C1,2025-01-01,11,,\n" + "O2,C1,2025-01-01,1,,\n")
    entry = ws.load().entries[0]
    assert (entry["rows_loaded"], entry["rows_quarantined"]) == (1, 2)
    assert ws.quarantine()["_reason"].str.starts_with("conflict").all()


def test_csat_out_of_range_and_ticket_for_unknown_customer(ws):
    header = "ticket_id,customer_id,created_ts,category,resolved_ts,csat\n"
    ws.deliver("support_tickets", "t.csv", header + "T1,C9,2025-01-01,billing,,6\nT2,C404,2025-01-02,billing,2025-01-03,4\n")
    ws.load("support_tickets")
    assert ws.quarantine("support_tickets")["_reason"][0] == "csat must be between 1 and 5: 6"
    assert ws.raw("support_tickets")["customer_id"].to_list() == ["C404"]


def test_csat_beyond_a_small_integer_is_quarantined_not_a_crash(ws):
    # 300 does not fit the stored Int8: quarantined, not an aborted load
    header = "ticket_id,customer_id,created_ts,category,resolved_ts,csat\n"
    ws.deliver("support_tickets", "t.csv", header + "T1,C1,2025-01-01,billing,,300\nT2,C2,2025-01-02,billing,,-300\nT3,C3,2025-01-02,,,5\n")
    entry = ws.load("support_tickets").entries[0]
    assert (entry["rows_loaded"], entry["rows_quarantined"]) == (1, 2)
    assert sorted(ws.quarantine("support_tickets")["_reason"].to_list()) == [
        "csat must be between 1 and 5: -300", "csat must be between 1 and 5: 300",
    ]


def test_channels_are_normalised_and_missing_is_unknown(ws):
    ws.deliver("customers", "c.csv", "customer_id,acquisition_channel\nC1,Paid Search\nC2, paid-SOCIAL \nC3,\n")
    ws.load("customers")
    assert ws.raw("customers").sort("customer_id")["acquisition_channel"].to_list() == ["paid_search", "paid_social", "unknown"]


def test_spend_rules(ws):
    ws.deliver(
        "marketing_spend",
        "s.csv",
        "spend_date,channel,campaign,spend,impressions,clicks\n"
        "2025-01-01,Display,,10.5,100,3\n2025-01-01,Display,x,-1,100,3\n2025-01-02,Display,,1,-4,0\n2025-01-03,,,1,,\n",
    )
    result = ws.load("marketing_spend")
    assert result.entries[0]["rows_loaded"] == 1
    assert sorted(ws.quarantine("marketing_spend")["_reason"].to_list()) == [
        "channel is empty",
        "impressions must be >= 0: -4",
        "spend is negative: -1",
    ]
    assert ws.raw("marketing_spend").row(0, named=True)["spend_date"] == date(2025, 1, 1)


def test_email_is_stored_only_as_keyed_hash(ws):
    ws.deliver("customers", "c.csv", "customer_id,email,country\nC1,Jane@Example.com,US\nC2,jane@example.com,US\nC3,a@b.org,US\nC3,a@b.org,FR\n")
    ws.load("customers")
    raw = ws.raw("customers")
    assert "email" not in raw.columns
    assert raw["email_hash"][0] == raw["email_hash"][1]  # case-insensitive, still joinable
    assert raw["email_hash"].str.contains("@").not_().all()
    quarantine = ws.quarantine("customers")
    assert quarantine.height == 2
    assert not any("b.org" in str(v) for row in quarantine.iter_rows() for v in row)


def test_production_mode_requires_a_pii_key(ws):
    ws.overrides["mode"] = "production"
    ws.deliver("customers", "c.csv", "customer_id,email\nC1,jane@example.com\n")
    with pytest.raises(ValueError, match="pii_key is not set"):
        ws.load("customers")
