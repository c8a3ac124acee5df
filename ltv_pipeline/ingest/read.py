"""Read one delivery file into a frame of text values, one row per record.

Every value stays text here (validation types it later), so a wrong value is quarantined
with exactly what the user sent. CSV records are lines (docs/contract.md, 2b): lines without quotes
are split natively by polars; only lines containing a quote go through Python's csv
module, so a 10M-line export does not pay a per-line Python cost.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ltv_pipeline.ingest.sources import SourceSpec

DELIVERY_SUFFIXES = (".csv", ".csv.gz", ".parquet")

# A record is one line, so no field is longer than its line: lift the csv module's 128 KiB
# per-field default, which otherwise quarantines a long quoted value that loads unquoted.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


class DeliveryRejected(Exception):
    """The delivery cannot be read at all; the message names the problem (not the file)."""


@dataclass
class RawDelivery:
    """Text values of one delivery, mapped to our column names, plus lines that did not parse."""

    records: pl.DataFrame
    """`_line` (1-based, header = line 1 for CSV; row number for Parquet) + one String column per known column."""
    malformed: pl.DataFrame
    """`_line`, `_raw_line`, `_reason` for lines that do not parse into the header's fields."""
    original_columns: list[str]
    notes: list[str] = field(default_factory=list)


MALFORMED_SCHEMA = {"_line": pl.Int64, "_raw_line": pl.String, "_reason": pl.String}


def is_delivery(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and not name.startswith(".") and name.endswith(DELIVERY_SUFFIXES)


def read_delivery(path: Path, spec: SourceSpec, mapping: Mapping[str, str]) -> RawDelivery:
    """Read a CSV, CSV.gz or Parquet delivery; raise `DeliveryRejected` when it is unreadable."""
    name = path.name.lower()
    notes: list[str] = []
    unusable: dict[int, str] = {}
    if path.stat().st_size == 0:  # zero-byte file of any format: an empty delivery (docs/contract.md, 2b)
        header, records, malformed = [], pl.DataFrame(), pl.DataFrame(schema=MALFORMED_SCHEMA)
        notes.append("zero-byte file")
    elif name.endswith(".parquet"):
        header, records, malformed = _read_parquet(path, unusable)
    else:
        header, records, malformed = _read_csv(path, notes)
    if not header:  # no header: an empty delivery, not an unreadable one
        empty = pl.DataFrame(schema={"_line": pl.Int64, **{c: pl.String for c in spec.names}})
        return RawDelivery(empty, malformed, [], notes)
    return _map_columns(header, records, malformed, spec, mapping, notes, unusable)


def _map_columns(
    header: list[str],
    records: pl.DataFrame,
    malformed: pl.DataFrame,
    spec: SourceSpec,
    mapping: Mapping[str, str],
    notes: list[str],
    unusable: Mapping[int, str],
) -> RawDelivery:
    """Rename to our columns; `unusable` = index -> why a column cannot be read as text."""
    mapped = [mapping.get(h, h).strip().lower() for h in header]
    seen: set[str] = set()
    # an empty header name (e.g. a trailing delimiter) is an unnamed extra column, not a duplicate
    duplicated = sorted({m for m in mapped if m and (m in seen or seen.add(m))})
    if duplicated:
        raise DeliveryRejected(f"column(s) {', '.join(duplicated)} appear more than once in the header")
    missing = [c for c in spec.required if c not in mapped]
    if missing:
        raise DeliveryRejected(
            f"missing required column(s) {', '.join(missing)} (header: {', '.join(header) or 'empty'})"
        )
    for i, m in enumerate(mapped):
        if m in spec.names and i in unusable:
            raise DeliveryRejected(f"column {header[i]!r} {unusable[i]}, which cannot hold a {m} value")
    unknown = [h for h, m in zip(header, mapped) if m and m not in spec.names]
    if unknown:
        notes.append(f"ignored unknown column(s): {', '.join(unknown)}")
    unnamed = sum(1 for m in mapped if not m)
    if unnamed:
        notes.append(f"ignored {unnamed} column(s) with an empty name (trailing delimiter?)")
    keep = {f"c{i}": m for i, m in enumerate(mapped) if m in spec.names}
    out = records.select(["_line", *keep]).rename(keep)
    absent = [c for c in spec.names if c not in out.columns]
    out = out.with_columns([pl.lit(None, pl.String).alias(c) for c in absent])
    return RawDelivery(out.select(["_line", *spec.names]), malformed, list(header), list(notes))


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DeliveryRejected(f"not a valid gzip file ({exc})") from None
    encoding = _utf16_or_32(data)
    if encoding:
        raise DeliveryRejected(f"{encoding} text, not UTF-8: re-export the file as UTF-8")
    if b"\x00" in data[:65536]:
        raise DeliveryRejected("binary content (NUL bytes): not a CSV text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeliveryRejected(f"not UTF-8 text (invalid byte at position {exc.start})") from None
    return text.removeprefix("\ufeff")


def _utf16_or_32(data: bytes) -> str | None:
    """Name the encoding of UTF-16/32 text (BOM, or ASCII interleaved with NUL bytes)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            return name
    head = data[: min(64, len(data) - len(data) % 2)]
    even, odd = head[0::2], head[1::2]

    def ascii_text(part: bytes) -> bool:
        return all(b in (9, 10, 13) or 32 <= b < 127 for b in part)

    if len(head) >= 8 and ((not odd.strip(b"\x00") and ascii_text(even)) or (not even.strip(b"\x00") and ascii_text(odd))):
        return "UTF-16"
    return None


def _read_csv(path: Path, notes: list[str]) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    text = _decode(path)
    lines = pl.Series("text", [text]).str.split("\n").explode().str.strip_suffix("\r")
    frame = pl.DataFrame({"_line": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int64), "text": lines})
    frame = frame.filter(pl.col("text").str.strip_chars() != "")
    if frame.is_empty():
        notes.append("no header line (the file is empty or blank)")
        return [], pl.DataFrame(schema={"_line": pl.Int64}), pl.DataFrame(schema=MALFORMED_SCHEMA)
    header_line, header_text = frame.row(0)
    if header_line > 1:
        notes.append(f"header on line {header_line}: blank line(s) before it skipped")
    if "\r" in header_text.strip():
        raise DeliveryRejected(
            f"line {header_line} contains a bare carriage return: lines must end in LF or CRLF (old Mac CR-only line endings?)"
        )
    try:
        header = [h.strip() for h in next(csv.reader([header_text], strict=True))]
    except csv.Error as exc:
        raise DeliveryRejected(f"header line does not parse as CSV ({exc})") from None
    if not header or not any(header):
        raise DeliveryRejected("empty header line")
    body = frame.slice(1)
    n = len(header)
    cols = [f"c{i}" for i in range(n)]

    plain = body.filter(~pl.col("text").str.contains('"', literal=True))
    split = plain.with_columns(pl.col("text").str.split(",").alias("fields"))
    good_plain = split.filter(pl.col("fields").list.len() == n)
    records = good_plain.select(
        "_line", *[pl.col("fields").list.get(i).alias(c) for i, c in enumerate(cols)]
    )
    bad = split.filter(pl.col("fields").list.len() != n).select(
        "_line",
        pl.col("text").alias("_raw_line"),
        pl.format("wrong number of fields: {} instead of {}", pl.col("fields").list.len(), pl.lit(n)).alias("_reason"),
    )

    quoted_rows, quoted_bad = [], []
    quoted = body.filter(pl.col("text").str.contains('"', literal=True))
    for line_no, text_line in quoted.iter_rows():
        try:
            fields = next(csv.reader([text_line], strict=True))
        except csv.Error as exc:
            quoted_bad.append((line_no, text_line, f"line does not parse as CSV: {exc} (unbalanced quote?)"))
            continue
        if len(fields) != n:
            quoted_bad.append((line_no, text_line, f"wrong number of fields: {len(fields)} instead of {n}"))
        else:
            quoted_rows.append((line_no, *fields))
    if quoted_rows:
        extra = pl.DataFrame(quoted_rows, schema={"_line": pl.Int64, **{c: pl.String for c in cols}}, orient="row")
        records = pl.concat([records, extra]).sort("_line")
    malformed = pl.concat([bad, pl.DataFrame(quoted_bad, schema=MALFORMED_SCHEMA, orient="row")]).sort("_line")
    return header, records, malformed


def _read_parquet(path: Path, unusable: dict[int, str]) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    """Every column as text; a column that cannot be text is noted in `unusable` (index -> why)."""
    try:
        names = list(pq.read_schema(path).names)
        duplicated = sorted({h for h in names if names.count(h) > 1})
        if duplicated:  # checked first: pyarrow's own error for them is a multi-line schema dump
            raise DeliveryRejected(f"column(s) {', '.join(duplicated)} appear more than once in the header")
        table = pq.read_table(path)
    except DeliveryRejected:
        raise
    except Exception as exc:  # pyarrow raises several types for junk bytes
        message = " ".join(f"{exc.__class__.__name__}: {exc}".split())  # one line (pyarrow's may span several)
        raise DeliveryRejected(f"not a readable Parquet file ({message})") from None
    header = list(table.column_names)
    as_text = []
    for i, arrow_col in enumerate(table.columns):
        kind = arrow_col.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            # stored as UTC instants; polars does not know fixed-offset zones such as '+05:30'
            arrow_col = arrow_col.cast(pa.timestamp(kind.unit, tz="UTC"))
        elif pa.types.is_decimal256(kind):
            arrow_col = arrow_col.cast(pa.string())  # polars cannot take 256-bit decimals
        try:
            series = pl.Series(f"c{i}", arrow_col)
            dtype = series.dtype
            if dtype.is_nested() or dtype == pl.Binary:
                raise TypeError
            if isinstance(dtype, pl.Datetime):
                if dtype.time_zone is not None:
                    series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                series = series.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
            elif isinstance(dtype, pl.Date):
                series = series.dt.to_string("%Y-%m-%d")
            as_text.append(series.cast(pl.String))
        except Exception:  # a type with no text form (nested, binary, duration, ...)
            unusable[i] = f"has type {kind}"
            as_text.append(pl.repeat(None, table.num_rows, dtype=pl.String, eager=True).alias(f"c{i}"))
    records = pl.DataFrame([pl.Series("_line", range(1, table.num_rows + 1), dtype=pl.Int64), *as_text])
    return header, records, pl.DataFrame(schema=MALFORMED_SCHEMA)
