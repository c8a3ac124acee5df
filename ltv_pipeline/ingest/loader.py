"""Load a source's new deliveries into the raw layer, the quarantine and the load log.

One call per source. Deliveries are applied in file-name order to the source's current
records; all outputs are written atomically at the end (the new records as a part of the
raw table, or the table consolidated: ingest/raw_table.py), the load log last, so a run killed
at any moment leaves the previous good state, and the next run completes the work (records
of deliveries missing from the log are dropped and re-applied).
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.layout import raw_table_files
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.ingest.load_log import append_load_log, loaded_hashes, read_load_log
from ltv_pipeline.ingest.merge import merge_delivery
from ltv_pipeline.ingest.privacy import hash_emails
from ltv_pipeline.ingest.raw_table import RawTable
from ltv_pipeline.ingest.read import DELIVERY_SUFFIXES, DeliveryRejected, RawDelivery, read_delivery
from ltv_pipeline.ingest.sources import SPECS, SourceSpec
from ltv_pipeline.ingest.validate import validate

REQUIRED_SOURCES = ("orders",)


class MissingRequiredSource(FileNotFoundError):
    """`orders/` is required by the contract; without it nothing can be computed."""


@dataclass
class SourceLoadResult:
    source: str
    entries: list[dict[str, object]] = field(default_factory=list)
    """The load-log rows written by this run."""
    rows_in_table: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[dict[str, object]]:
        return [e for e in self.entries if e["status"] == "rejected"]

    def total(self, column: str) -> int:
        return sum(int(e[column]) for e in self.entries)  # type: ignore[call-overload]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _locked(meta_dir: Path) -> Iterator[None]:
    """Serialise writers of the lake's shared files (load log) across processes."""
    meta_dir.mkdir(parents=True, exist_ok=True)
    with open(meta_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _deliveries(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=lambda p: p.name)


def _quarantine_rows(raw: RawDelivery, reasons: pl.DataFrame, spec: SourceSpec, delivery: str, key: str | None) -> pl.DataFrame:
    """Original text values of the rejected rows, with file, line and reason (e-mails hashed)."""
    parsed = raw.records.join(reasons, on="_line", how="inner")
    for col in spec.columns:
        if col.kind == "email":
            parsed = parsed.with_columns(hash_emails(pl.col(col.name), key))
    malformed = raw.malformed
    out = pl.concat([parsed, malformed], how="diagonal_relaxed").sort("_line")
    return out.select(
        pl.lit(delivery).alias("_source_file"),
        pl.col("_line").cast(pl.Int64),
        pl.col("_reason").cast(pl.String),
        *[pl.col(c).cast(pl.String) if c in out.columns else pl.lit(None, pl.String).alias(c) for c in spec.names],
        (pl.col("_raw_line") if "_raw_line" in out.columns else pl.lit(None)).cast(pl.String).alias("_raw_line"),
    )


def ingest_source(
    settings: Settings,
    source: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> SourceLoadResult:
    """Load every new delivery of `source`; return what was done (also in the load log)."""
    spec = SPECS[source]
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    folder = settings.landing_dir / source
    result = SourceLoadResult(source)

    if not folder.is_dir():
        if source in REQUIRED_SOURCES:
            raise MissingRequiredSource(f"required source folder {folder} does not exist: orders are required")
        result.notes.append(f"optional source {source} is absent ({folder} does not exist): its table is empty")
    files = _deliveries(folder) if folder.is_dir() else []
    if folder.is_dir() and not files:
        if source in REQUIRED_SOURCES and not raw_table_files(settings, source):
            raise MissingRequiredSource(f"required source folder {folder} holds no delivery")
        result.notes.append(f"no deliveries in {folder}")

    with _locked(layout.meta_dir(settings)):
        log = read_load_log(layout.load_log_path(settings))
        done = loaded_hashes(log, source)
        logged_pairs = set(zip(log.filter(pl.col("source") == source)["delivery"], log.filter(pl.col("source") == source)["content_hash"]))
        # A frozen copy: rows on disk count only if their delivery was logged before this load.
        table = RawTable(settings, spec, set(done))
        quarantines: dict[Path, pl.DataFrame] = {}
        mapping = dict(settings.column_mapping.get(source, {}))
        date_format = settings.date_format.get(source)

        for path in files:
            content_hash = file_hash(path)
            entry: dict[str, object] = {
                "source": source, "delivery": path.name, "content_hash": content_hash, "loaded_at": now,
                "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "rows_duplicate": 0,
            }
            if content_hash in done:
                if (path.name, content_hash) not in logged_pairs:
                    first = log.filter(pl.col("content_hash") == content_hash)["delivery"]
                    original = first[0] if len(first) else "an earlier delivery of this run"
                    result.entries.append(entry | {"status": "already_loaded", "message": f"same content as {original}: not read again"})
                    progress(f"{source}: {path.name} already loaded (same content as {original})")
                continue
            try:
                if not path.name.lower().endswith(DELIVERY_SUFFIXES):
                    raise DeliveryRejected(f"unsupported file type (expected {', '.join(DELIVERY_SUFFIXES)})")
                raw = read_delivery(path, spec, mapping)
                email_key = _email_key(settings, raw, spec)
                checked = validate(
                    raw.records, spec, max_amount=settings.max_amount, loaded_at=now,
                    date_format=date_format, pii_key=email_key,
                )
                lineage = {"_delivery": path.name, "_content_hash": content_hash, "_loaded_at": now}
                merged = merge_delivery(table.matching(checked.valid), checked.valid, spec, lineage)
            except DeliveryRejected as exc:
                result.entries.append(entry | {"status": "rejected", "message": str(exc)})
                progress(f"{source}: {path.name} REJECTED: {exc}")
                continue
            table.apply(merged.new_records, merged.replaced)
            reasons = pl.concat([checked.rejected, merged.conflicts])
            quarantine = _quarantine_rows(raw, reasons, spec, path.name, email_key)
            rows_read = raw.records.height + raw.malformed.height
            notes = list(raw.notes)
            if rows_read == 0:
                notes.append("empty delivery")
            if merged.corrections:
                notes.append(f"{merged.corrections} correction(s) replaced earlier records")
            entry |= {
                "rows_read": rows_read, "rows_loaded": merged.loaded, "rows_quarantined": quarantine.height,
                "rows_duplicate": merged.duplicates, "status": "loaded", "message": "; ".join(notes) or None,
            }
            assert rows_read == merged.loaded + quarantine.height + merged.duplicates, entry
            result.entries.append(entry)
            if quarantine.height:
                quarantines[layout.quarantine_dir(settings, source) / f"{path.name}.{content_hash[:12]}.parquet"] = quarantine
            done.add(content_hash)
            progress(
                f"{source}: {path.name}: read {rows_read:,}, loaded {merged.loaded:,}, "
                f"quarantined {quarantine.height:,}, duplicates {merged.duplicates:,}"
            )

        written, result.rows_in_table = table.write()
        if written != "none":
            progress(f"{source}: raw table {'consolidated into one file' if written == 'consolidated' else 'appended a part'}")
        for qpath, frame in quarantines.items():
            atomic_write_parquet(frame, qpath)
        append_load_log(layout.load_log_path(settings), result.entries)
    return result


def _email_key(settings: Settings, raw: RawDelivery, spec: SourceSpec) -> str | None:
    """The PII key, asked for only when the delivery actually carries e-mail addresses."""
    emails = [c.name for c in spec.columns if c.kind == "email"]
    if not emails or raw.records.select(pl.col(emails).is_not_null().any()).row(0) == (False,) * len(emails):
        return None
    return settings.effective_pii_key()
