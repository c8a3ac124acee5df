"""Type and check text values against a source's rules, with a human reason per failure.

All vectorised polars expressions: each rule yields a reason (or null) per row; a row with
any reason is quarantined with its original text, the others are kept typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from ltv_pipeline.ingest.privacy import hash_emails
from ltv_pipeline.ingest.sources import POLARS_TYPES, Column, SourceSpec

NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
INTEGER_RE = r"^[+-]?\d+(\.0*)?$"
ISO_RE = (
    r"^(?<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?<hh>\d{2}):(?<mi>\d{2})(?::(?<ss>\d{2})(?<frac>\.\d{1,9})?)?)?"
    r"\s*(?<tz>Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass
class Validated:
    valid: pl.DataFrame
    """Typed rows that pass every rule: `_line` + the spec's stored columns."""
    rejected: pl.DataFrame
    """`_line` and `_reason` (every broken rule, joined by '; ') of the rows to quarantine."""


def normalise_channel(expr: pl.Expr) -> pl.Expr:
    """'Paid Search' / 'paid-search' / ' PAID_SEARCH ' -> 'paid_search'."""
    return (
        expr.str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", "_")
        .str.strip_chars("_")
    )


SIMPLE_TS_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}|[T ]\d{2}:\d{2}:[0-5]\dZ|Z)?$"
"""Parsed natively. With `Z` only below second 60: the native parser rolls a leap second
over to the next minute, which the general ISO expression (hence a `Z` value) never did."""


def parse_timestamps(values: pl.Series, date_format: str | None = None) -> pl.Series:
    """ISO-8601 text -> naive UTC datetimes (null when unparseable).

    The shapes nearly every export uses (a date, or a date and time to the second, with no
    offset or `Z` for UTC) are parsed natively; only the other values go through the general
    ISO expression, whose regex extraction is many times slower.
    """
    out = pl.Series(values.name, [None] * len(values), dtype=pl.Datetime("us"))
    simple = values.str.contains(SIMPLE_TS_RE).fill_null(False)
    if simple.any():
        easy = values.filter(simple).str.strip_suffix("Z").str.replace("T", " ", literal=True)
        parsed = pl.select(
            pl.when(easy.str.len_bytes() == 10)
            .then(easy.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
            .otherwise(easy.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"))
        ).to_series()
        out = out.scatter(simple.arg_true(), parsed)
    rest = (~simple) & values.is_not_null()
    if rest.any():
        general = pl.select(parse_timestamp(pl.lit(values.filter(rest)), date_format)).to_series()
        out = out.scatter(rest.arg_true(), general)
    return out


def parse_timestamp(expr: pl.Expr, date_format: str | None = None) -> pl.Expr:
    """ISO-8601 text -> naive UTC datetime (null when unparseable); optional strptime fallback."""
    g = expr.str.extract_groups(ISO_RE)
    day = g.struct.field("date").str.to_date("%Y-%m-%d", strict=False)
    hh = g.struct.field("hh").cast(pl.Int64, strict=False).fill_null(0)
    mi = g.struct.field("mi").cast(pl.Int64, strict=False).fill_null(0)
    ss = g.struct.field("ss").cast(pl.Int64, strict=False).fill_null(0)
    frac = g.struct.field("frac").str.slice(1).str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False).fill_null(0)
    tz = g.struct.field("tz").str.replace(":", "", literal=True)
    offset_min = (
        pl.when(tz.is_null() | (tz == "Z"))
        .then(0)
        .otherwise(
            tz.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + tz.str.slice(3, 2).cast(pl.Int64, strict=False)
        )
        * pl.when(tz.str.starts_with("-")).then(-1).otherwise(1)
    )
    in_range = (hh < 24) & (mi < 60) & (ss < 60) & (offset_min.abs() <= 18 * 60)
    iso = pl.when(in_range).then(
        day.cast(pl.Datetime("us"))
        + pl.duration(hours=hh, minutes=mi, seconds=ss, microseconds=frac)
        - pl.duration(minutes=offset_min)
    )
    if date_format:
        return pl.coalesce(iso, expr.str.to_datetime(date_format, strict=False, time_unit="us"))
    return iso


def _amount(expr: pl.Expr, name: str, max_amount: float) -> tuple[pl.Expr, pl.Expr]:
    value = pl.when(expr.str.contains(NUMBER_RE)).then(expr.cast(pl.Float64, strict=False))
    reason = (
        pl.when(expr.is_null())
        .then(None)
        .when(value.is_null())
        .then(pl.format("{} is not a number: '{}'", pl.lit(name), expr))
        .when(~value.is_finite())
        .then(pl.format("{} is not finite: '{}'", pl.lit(name), expr))
        .when(value < 0)
        .then(pl.format("{} is negative: {}", pl.lit(name), expr))
        .when(value > max_amount)
        .then(pl.format("{} {} exceeds max_amount {}", pl.lit(name), expr, pl.lit(f"{max_amount:g}")))
    )
    return value, reason


def _integer(expr: pl.Expr, name: str, low: int, high: int | None) -> tuple[pl.Expr, pl.Expr]:
    value = pl.when(expr.str.contains(INTEGER_RE)).then(expr.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False))
    out_of_range = value < low if high is None else (value < low) | (value > high)
    bounds = f">= {low}" if high is None else f"between {low} and {high}"
    reason = (
        pl.when(expr.is_null())
        .then(None)
        .when(value.is_null())
        .then(pl.format("{} is not an integer: '{}'", pl.lit(name), expr))
        .when(out_of_range)
        .then(pl.format("{} must be {}: {}", pl.lit(name), pl.lit(bounds), expr))
    )
    return value, reason


def _typed(col: Column, expr: pl.Expr, max_amount: float, date_format: str | None) -> tuple[pl.Expr, pl.Expr | None]:
    """The typed value of one column and the reason it fails its type rule (null if fine)."""
    name = col.name
    if col.kind in ("timestamp", "date"):
        ts = expr.map_batches(lambda v: parse_timestamps(v, date_format), return_dtype=pl.Datetime("us"))
        reason = pl.when(expr.is_not_null() & ts.is_null()).then(
            pl.format("{} is not an ISO-8601 date/time: '{}'", pl.lit(name), expr)
        )
        return (ts.dt.date() if col.kind == "date" else ts), reason
    if col.kind == "amount":
        return _amount(expr, name, max_amount)
    if col.kind == "count":
        return _integer(expr, name, 0, None)
    if col.kind == "csat":
        value, reason = _integer(expr, name, 1, 5)
        # non-strict: a value out of Int8's range (300) must be quarantined by `reason`, not crash the load
        return value.cast(pl.Int8, strict=False), reason
    if col.kind == "channel":
        normalised = normalise_channel(expr)
        return (normalised if col.required else normalised.fill_null("unknown")), None
    return expr, None


def _fails(col: Column, src: pl.Expr, typed: pl.Expr, max_amount: float, reason: pl.Expr) -> pl.Expr:
    """True exactly where `reason` (of `_typed`) is not null, computed from the typed column
    when that is cheaper than the reason itself."""
    if col.kind in ("timestamp", "date"):
        return src.is_not_null() & typed.is_null()
    if col.kind == "amount":
        return src.is_not_null() & (typed.is_null() | ~typed.is_finite() | (typed < 0) | (typed > max_amount))
    return reason.is_not_null()


def validate(
    records: pl.DataFrame,
    spec: SourceSpec,
    *,
    max_amount: float,
    loaded_at: datetime,
    date_format: str | None = None,
    pii_key: str | None = None,
) -> Validated:
    """Split text records into typed valid rows and quarantined rows with reasons."""
    trimmed = records.with_columns(
        [pl.col(c).str.strip_chars().replace("", None) for c in spec.names]
    )

    def t(name: str) -> pl.Expr:
        return pl.col(f"__t_{name}")

    typed_exprs: list[pl.Expr] = []
    reasons: list[pl.Expr] = []
    # `failed` says cheaply, from the typed values, whether a rule is broken: the reasons
    # (text formatting, and parsing again) are only worked out for the rows that break one,
    # which at ten million clean rows halves the cost of validation.
    failed: list[pl.Expr] = []
    for col in spec.columns:
        src = pl.col(col.name)
        if col.required:
            reasons.append(pl.when(src.is_null()).then(pl.lit(f"{col.name} is empty")))
            failed.append(src.is_null())
        value, reason = _typed(col, src, max_amount, date_format)
        typed_exprs.append(value.alias(f"__t_{col.name}"))
        if reason is not None:
            reasons.append(reason)
            failed.append(_fails(col, src, t(col.name), max_amount, reason))

    row_rules: list[pl.Expr] = []
    for name in spec.future_check:
        row_rules.append(
            pl.when(t(name) > pl.lit(loaded_at)).then(
                pl.format("{} {} is after the load time", pl.lit(name), pl.col(name))
            )
        )
        failed.append(t(name) > pl.lit(loaded_at))
    if spec.refund_check:
        row_rules.append(
            pl.when(t("refund") > t("revenue")).then(
                pl.format("refund {} exceeds revenue {}", pl.col("refund"), pl.col("revenue"))
            )
        )
        failed.append(t("refund") > t("revenue"))
    frame = trimmed.with_columns(typed_exprs).with_columns(
        pl.any_horizontal([f.fill_null(False) for f in failed]).alias("__failed") if failed else pl.lit(False).alias("__failed")
    )
    bad = frame.filter(pl.col("__failed")).with_columns(
        pl.concat_str(reasons + row_rules, separator="; ", ignore_nulls=True).replace("", None).alias("_reason")
    )
    if bad["_reason"].null_count():  # a `_fails` that disagrees with its reason is a bug here
        raise AssertionError(f"rows flagged as failing without a reason: {bad.filter(pl.col('_reason').is_null())['_line'].to_list()[:5]}")
    rejected = bad.select("_line", "_reason")
    good = frame.filter(~pl.col("__failed"))
    valid = good.select(
        "_line", *[t(c.name).cast(POLARS_TYPES[c.kind]).alias(c.name) for c in spec.columns]
    )
    for col in spec.columns:
        if col.kind == "email":
            valid = valid.with_columns(hash_emails(pl.col(col.name), pii_key).alias("email_hash")).drop(col.name)
    return Validated(valid=valid.select("_line", *[n for n, _ in spec.stored_columns()]), rejected=rejected)
