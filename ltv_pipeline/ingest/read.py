"""Read one delivery file into a frame of text values, one row per record.

Every value stays text here (validation types it later), so a wrong value is quarantined
with exactly what the user sent. CSV records are lines (contract 2b): lines without quotes
are split natively by polars; only lines containing a quote go through Python's csv
module, so a 10M-line export does not pay a per-line Python cost.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ltv_pipeline.ingest.sources import SourceSpec

DELIVERY_SUFFIXES = (".csv", ".csv.gz", ".parquet")


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
    if name.endswith(".parquet"):
        header, records, malformed = _read_parquet(path)
    else:
        header, records, malformed = _read_csv(path)
    if not header:  # zero-byte file: an empty delivery, not an unreadable one
        empty = pl.DataFrame(schema={"_line": pl.Int64, **{c: pl.String for c in spec.names}})
        return RawDelivery(empty, malformed, [], ["zero-byte file"])
    return _map_columns(header, records, malformed, spec, mapping)


def _map_columns(
    header: list[str], records: pl.DataFrame, malformed: pl.DataFrame, spec: SourceSpec, mapping: Mapping[str, str]
) -> RawDelivery:
    mapped = [mapping.get(h, h).strip().lower() for h in header]
    seen: set[str] = set()
    duplicated = sorted({m for m in mapped if m in seen or seen.add(m)})
    if duplicated:
        raise DeliveryRejected(f"column(s) {', '.join(duplicated)} appear more than once in the header")
    missing = [c for c in spec.required if c not in mapped]
    if missing:
        raise DeliveryRejected(
            f"missing required column(s) {', '.join(missing)} (header: {', '.join(header) or 'empty'})"
        )
    notes = []
    unknown = [h for h, m in zip(header, mapped) if m not in spec.names]
    if unknown:
        notes.append(f"ignored unknown column(s): {', '.join(unknown)}")
    keep = {f"c{i}": m for i, m in enumerate(mapped) if m in spec.names}
    out = records.select(["_line", *keep]).rename(keep)
    absent = [c for c in spec.names if c not in out.columns]
    out = out.with_columns([pl.lit(None, pl.String).alias(c) for c in absent])
    return RawDelivery(out.select(["_line", *spec.names]), malformed, list(header), notes)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DeliveryRejected(f"not a valid gzip file ({exc})") from None
    if b"\x00" in data[:65536]:
        raise DeliveryRejected("binary content (NUL bytes): not a CSV text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeliveryRejected(f"not UTF-8 text (invalid byte at position {exc.start})") from None
    return text.removeprefix("\ufeff")


def _read_csv(path: Path) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    text = _decode(path)
    lines = pl.Series("text", [text]).str.split("\n").explode().str.strip_suffix("\r")
    frame = pl.DataFrame({"_line": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int64), "text": lines})
    if frame.is_empty() or frame["text"][0].strip() == "":
        return [], pl.DataFrame(schema={"_line": pl.Int64}), pl.DataFrame(schema=MALFORMED_SCHEMA)
    try:
        header = [h.strip() for h in next(csv.reader([frame["text"][0]], strict=True))]
    except csv.Error as exc:
        raise DeliveryRejected(f"header line does not parse as CSV ({exc})") from None
    if not header or not any(header):
        raise DeliveryRejected("empty header line")
    body = frame.slice(1).filter(pl.col("text").str.strip_chars() != "")
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


def _read_parquet(path: Path) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for junk bytes
        raise DeliveryRejected(f"not a readable Parquet file ({exc.__class__.__name__}: {exc})") from None
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    header = list(df.columns)
    as_text = []
    for i, (name, dtype) in enumerate(df.schema.items()):
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            col = col.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        elif isinstance(dtype, pl.Date):
            col = col.dt.to_string("%Y-%m-%d")
        elif dtype.is_nested() or dtype == pl.Binary:
            raise DeliveryRejected(f"column {name!r} has type {dtype}, which cannot hold a {name} value")
        as_text.append(col.cast(pl.String).alias(f"c{i}"))
    records = df.select(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("_line"), *as_text)
    return header, records, pl.DataFrame(schema=MALFORMED_SCHEMA)
