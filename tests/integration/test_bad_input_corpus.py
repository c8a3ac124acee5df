"""Bad input, tested as a corpus (docs/contract.md, sections 2 and 2b).

Every case of `tests/corpus/bad_delivery_corpus.py` goes through the real loader next to a
good delivery of the same source. For every case: the outcome is a quarantine with a
human-readable reason or a clear rejection naming the problem (never an exception); the
accounting identity `rows_read = rows_loaded + rows_quarantined + rows_duplicate` holds per
delivery; nothing of a rejected delivery is loaded; the good delivery next to it loads.
One more case runs `ltv run` on a landing zone holding several bad files at once.

The run writes a summary of what actually happened to `test-reports/bad_input_corpus.md`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus"))

from bad_delivery_corpus import (  # noqa: E402
    CASES,
    CLI_LOADED,
    CLI_LOADED_ORDERS,
    CLI_REJECTED,
    COMPANION_NAME,
    COMPANIONS,
    Case,
    Expect,
    cli_landing_zone,
)

from ltv_pipeline.commands.cli import main  # noqa: E402
from ltv_pipeline.core import layout

COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")


@dataclass
class Row:
    case: str
    file: str
    expected: str
    status: str = "-"
    counts: str = "-"
    reason: str = ""
    verdict: str = "FAIL"


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.started = time.perf_counter()

    def add(self, case: str, file: str, expected: str) -> Row:
        row = Row(case, file, expected)
        self.rows.append(row)
        return row

    def markdown(self) -> str:
        def cell(text: str) -> str:
            text = " ".join(str(text).split()).replace("|", "\\|")
            return text if len(text) <= 160 else text[:157] + "..."

        passed = sum(r.verdict == "pass" for r in self.rows)
        cases = len({r.case for r in self.rows})
        lines = [
            "# Bad-input corpus: results",
            "",
            f"Written by `tests/integration/test_bad_input_corpus.py` on {time.strftime('%Y-%m-%d %H:%M:%S')}: "
            f"{cases} cases, {len(self.rows)} deliveries, {passed} as expected, "
            f"{len(self.rows) - passed} not; {time.perf_counter() - self.started:.1f}s.",
            "",
            "Counts are read / loaded / quarantined / duplicate (read = loaded + quarantined + duplicate).",
            "",
            "| case | file | expected | actual status | read/loaded/quar./dup. | reason excerpt | as expected |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {cell(r.case)} | `{cell(r.file)}` | {cell(r.expected)} | {cell(r.status)} | {r.counts} "
                f"| {cell(r.reason)} | {r.verdict} |"
            )
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    collected = Report()
    yield collected
    path = Path(request.config.rootpath) / "test-reports" / "bad_input_corpus.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(collected.markdown(), encoding="utf-8")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nbad-input corpus summary written to {path}", flush=True)


def _quarantine_of(ws, source: str, delivery: str) -> pl.DataFrame:
    q = ws.quarantine(source)
    return q.filter(pl.col("_source_file") == delivery) if q.height else q


def _raw_of(ws, source: str, delivery: str) -> pl.DataFrame:
    return ws.raw(source).filter(pl.col("_delivery") == delivery)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_delivery(ws, report: Report, case: Case):
    rows = {name: report.add(case.id, name, expect.describe()) for name, expect in case.expect.items()}
    ws.overrides.update(case.overrides)
    for name, content in case.before:
        ws.deliver(case.source, name, content)
    if case.before:
        assert all(e["status"] == "loaded" for e in ws.load(case.source).entries)
    for name, content in case.files:
        ws.deliver(case.source, name, content)
    ws.deliver(case.source, COMPANION_NAME, COMPANIONS[case.source])

    try:
        result = ws.load(case.source)
    except BaseException as exc:  # the one outcome the contract forbids (panics included): record it, then fail
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        for row in rows.values():
            row.status = f"EXCEPTION {type(exc).__name__}"
            row.reason = str(exc)
        pytest.fail(f"{case.id}: the loader raised {type(exc).__name__}: {exc}")

    entries = {e["delivery"]: e for e in result.entries}
    quarantine_reasons = {}
    for name, row in rows.items():
        entry = entries.get(name)
        q = _quarantine_of(ws, case.source, name)
        quarantine_reasons[name] = q["_reason"].to_list() if q.height else []
        if entry is None:
            row.status = "no entry"
            continue
        row.status = str(entry["status"])
        row.counts = "/".join(str(entry[c]) for c in COUNTS)
        distinct_reasons = list(dict.fromkeys(quarantine_reasons[name]))[:3]
        row.reason = " · ".join(x for x in [*distinct_reasons, entry["message"] or ""] if x)

    for name, expect in case.expect.items():
        _assert_outcome(ws, case, name, expect, entries.get(name), quarantine_reasons[name])
        rows[name].verdict = "pass"

    # every delivery of the run, the companion included, balances; the companion always loads
    for entry in result.entries:
        read, loaded, quarantined, duplicate = (int(entry[c]) for c in COUNTS)
        assert read == loaded + quarantined + duplicate, entry
    companion = entries[COMPANION_NAME]
    assert (companion["status"], companion["rows_loaded"]) == ("loaded", 1), companion
    assert _raw_of(ws, case.source, COMPANION_NAME).height == 1
    # the load log on disk says the same as the result
    log = pl.read_parquet(layout.load_log_path(ws.settings)).filter(pl.col("delivery").is_in(list(case.expect)))
    for entry in log.iter_rows(named=True):
        if entry["content_hash"] in {e["content_hash"] for e in result.entries}:
            assert entry["status"] == entries[entry["delivery"]]["status"]
    if case.check is not None:
        case.check(ws)


def _assert_outcome(ws, case: Case, name: str, expect: Expect, entry, reasons: list[str]) -> None:
    where = f"{case.id}/{name}"
    if expect.status is None:
        assert entry is None, f"{where}: expected no load-log entry, got {entry}"
        return
    assert entry is not None, f"{where}: no load-log entry"
    assert entry["status"] == expect.status, f"{where}: {entry}"
    read, loaded, quarantined, duplicate = (int(entry[c]) for c in COUNTS)
    assert read == loaded + quarantined + duplicate, f"{where}: accounting identity broken: {entry}"
    assert (read, loaded, quarantined, duplicate) == (
        expect.read, expect.loaded, expect.quarantined, expect.duplicate
    ), f"{where}: counts {entry}"
    message = entry["message"] or ""
    assert "\n" not in message, f"{where}: the message must be one line: {message!r}"
    assert "Traceback" not in message

    raw = _raw_of(ws, case.source, name)
    if expect.status == "rejected":
        assert message, f"{where}: a rejection must say why"
        for text in expect.reasons:
            assert text in message, f"{where}: {text!r} not in {message!r}"
        assert raw.height == 0 and not reasons, f"{where}: something of a rejected delivery was kept"
        return
    if expect.status == "already_loaded":
        assert raw.height == 0 and not reasons
    else:
        assert raw.height == loaded, f"{where}: raw rows of this delivery {raw.height} != rows_loaded {loaded}"
        # every quarantined row is there, with its line and a human-readable reason
        q = _quarantine_of(ws, case.source, name)
        assert q.height == quarantined, f"{where}: quarantine has {q.height} rows, log says {quarantined}"
        if q.height:
            first_record = 1 if name.endswith(".parquet") else 2  # CSV: the header is line 1
            assert q["_line"].null_count() == 0 and q["_line"].min() >= first_record
            assert all(r and len(r) >= 10 and "Traceback" not in r for r in reasons), reasons
        for text in expect.reasons:
            assert any(text in r for r in reasons), f"{where}: no quarantine reason contains {text!r}: {reasons}"
    if expect.message:
        assert expect.message in message, f"{where}: {expect.message!r} not in {message!r}"


def test_ltv_run_with_several_bad_files_at_once(tmp_path, capsys, monkeypatch, report: Report):
    landing = tmp_path / "landing"
    for source, files in cli_landing_zone().items():
        (landing / source).mkdir(parents=True)
        for name, content in files.items():
            (landing / source / name).write_bytes(content)
    for key in [k for k in os.environ if k.startswith("LTV_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LTV_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("LTV_MODE", "demo")
    rows = {
        f"{source}/{name}": report.add(
            "cli_end_to_end", f"{source}/{name}",
            f"rejected: {CLI_REJECTED[f'{source}/{name}']}" if f"{source}/{name}" in CLI_REJECTED
            else "loaded {}r/{}l/{}q/{}d".format(*CLI_LOADED[f"{source}/{name}"]),
        )
        for source, files in cli_landing_zone().items()
        for name in files
    }

    code = main(["run", "--landing", str(landing), "--as-of", "2025-03-31"])
    out, err = capsys.readouterr()

    log = pl.read_parquet(tmp_path / "lake" / "_meta" / "load_log.parquet")
    for entry in log.iter_rows(named=True):
        row = rows.get(f"{entry['source']}/{entry['delivery']}")
        if row is not None:
            row.status = entry["status"]
            row.counts = "/".join(str(entry[c]) for c in COUNTS)
            row.reason = entry["message"] or ""
    assert code == 1, (code, err[-2000:])
    rejected_lines = [line for line in err.splitlines() if line.startswith("rejected delivery ")]
    assert len(rejected_lines) == len(CLI_REJECTED), rejected_lines
    for delivery, reason in CLI_REJECTED.items():
        matching = [line for line in rejected_lines if line.startswith(f"rejected delivery {delivery}: ")]
        assert len(matching) == 1 and reason in matching[0], (delivery, rejected_lines)
    assert "Traceback" not in err

    assert sorted(f"{e['source']}/{e['delivery']}" for e in log.iter_rows(named=True)) == sorted([*CLI_REJECTED, *CLI_LOADED])
    for entry in log.iter_rows(named=True):
        delivery = f"{entry['source']}/{entry['delivery']}"
        counts = tuple(int(entry[c]) for c in COUNTS)
        assert counts[0] == sum(counts[1:]), entry
        if delivery in CLI_REJECTED:
            assert (entry["status"], counts) == ("rejected", (0, 0, 0, 0)), entry
        else:
            assert (entry["status"], counts) == ("loaded", CLI_LOADED[delivery]), entry
    raw = pl.read_parquet(tmp_path / "lake" / "raw" / "orders" / "orders.parquet")
    assert sorted(raw["order_id"].to_list()) == CLI_LOADED_ORDERS
    assert not set(raw["_delivery"]) & {d.split("/", 1)[1] for d in CLI_REJECTED}
    customers = pl.read_parquet(tmp_path / "lake" / "raw" / "customers" / "customers.parquet")
    assert sorted(customers["customer_id"].to_list()) == ["C1", "C2"]
    tickets = pl.read_parquet(tmp_path / "lake" / "raw" / "support_tickets" / "support_tickets.parquet")
    assert sorted(tickets["ticket_id"].to_list()) == ["T1", "T2"]
    q = pl.read_parquet(tmp_path / "lake" / "quarantine" / "orders" / "*.parquet")
    assert sorted(q["_reason"].to_list()) == ["customer_id is empty", "revenue is not a number: '$12'"]
    assert "published" in out or "warehouse" in out
    for row in rows.values():
        row.verdict = "pass"
