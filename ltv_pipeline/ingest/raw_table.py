"""A source's raw table while a load applies deliveries to it: read little, write little.

On disk the table is a consolidated file plus the parts appended since (`layout.raw_table_files`).
A load must know, for each delivery, the stored records that share its keys (to tell
duplicates and corrections from new records); it must not read or rewrite the whole table
for that, or a small daily delivery costs as much as the full history. So:

- the keys on disk are read once per load and kept as 64-bit hashes; a delivery's keys
  are looked up there (a hash-set probe, cheaper than sorting the hashes), and
  only on a hit (a duplicate or a correction, rare) are the
  matching records read, with a filter on the key;
- records added by this load stay in memory, with their own key hashes;
- at the end, if the load only added records, they are written as one new part (sorted by
  key); the table is consolidated (one sorted file, no parts) instead when a correction
  replaced a stored record, when rows of a delivery missing from the load log must be
  dropped (a run killed between writes), when there is no consolidated file yet, or when
  `MAX_PARTS` parts have piled up.

Every file is written atomically. Consolidation replaces the consolidated file and then
deletes the parts; a run killed in between leaves parts whose deliveries are also in the
consolidated file, which the next load recognises (a delivery's rows are only ever in one
file) and deletes first.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.layout import raw_part_path, raw_table_files, raw_table_path
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.ingest.sources import SourceSpec, raw_schema

MAX_PARTS = 30
"""Parts kept before a load consolidates the table (a month of daily loads)."""


def key_hashes(frame: pl.DataFrame, key: list[str]) -> pl.Series:
    """64-bit hashes of the key of every row (a struct hash for compound keys).

    Equal keys give equal hashes within a process (nulls included), which is all a lookup
    needs; a collision only costs an exact look that finds nothing.
    """
    expr = pl.col(key[0]).hash(seed=0) if len(key) == 1 else pl.struct(key).hash(seed=0)
    return frame.select(expr).to_series()


def _any_in(hashes: pl.Series, probes: pl.Series) -> bool:
    """Whether some hash of `hashes` is among `probes` (a hash set of the probes, one pass over `hashes`)."""
    return bool(hashes.is_in(probes.implode()).any())


class RawTable:
    """The raw table of one source during one load (hold the lake lock while using it)."""

    def __init__(self, settings: Settings, spec: SourceSpec, logged: set[str]):
        self.settings, self.spec, self.key = settings, spec, list(spec.key)
        self.schema = raw_schema(spec.name)
        self.base = raw_table_path(settings, spec.name)
        self.logged = logged
        self.added: list[pl.DataFrame] = []
        self._added_hashes: list[pl.Series] = []
        self.replaced: list[pl.DataFrame] = []
        """Keys of stored records (on disk) that corrections replaced in this load."""
        self._disk_hashes: pl.Series | None = None
        self._remove_interrupted_parts()
        self.files = raw_table_files(settings, spec.name)
        hashes = self._content_hashes(self.files)
        self.stale = bool(set().union(*hashes.values()) - logged) if hashes else False
        """Some stored rows come from a delivery missing from the load log: consolidate without them."""

    # ---- reading ------------------------------------------------------------------------
    def _content_hashes(self, files: list[Path]) -> dict[Path, set[str]]:
        return {f: set(pl.scan_parquet(f).select(pl.col("_content_hash").unique()).collect().to_series()) for f in files}

    def _remove_interrupted_parts(self) -> None:
        """Delete parts already merged into the consolidated file by a consolidation that was
        killed before it could delete them."""
        parts = raw_table_files(self.settings, self.spec.name)
        if not parts or parts[0] != self.base:
            return
        in_base = self._content_hashes([self.base])[self.base]
        for part, hashes in self._content_hashes(parts[1:]).items():
            if hashes & in_base:
                part.unlink()

    def _stored(self) -> pl.LazyFrame:
        """The logged records on disk, minus those replaced in this load."""
        if not self.files:
            return pl.LazyFrame(schema=self.schema)
        stored = pl.scan_parquet(self.files).cast(dict(self.schema)).filter(
            pl.col("_content_hash").is_in(sorted(self.logged))
        )
        for keys in self.replaced:
            stored = stored.join(keys.lazy(), on=self.key, how="anti", nulls_equal=True)
        return stored

    def _on_disk_hashes(self) -> pl.Series:
        if self._disk_hashes is None:
            keys = self._stored().select(self.key).collect() if self.files else pl.DataFrame(schema=self.schema).select(self.key)
            self._disk_hashes = key_hashes(keys, self.key)
        return self._disk_hashes

    def matching(self, rows: pl.DataFrame) -> pl.DataFrame:
        """The current records (stored, or added by this load) whose key is among `rows`' keys."""
        keys = rows.select(self.key).cast({k: self.schema[k] for k in self.key}).unique()
        probes = key_hashes(keys, self.key)
        found = [pl.DataFrame(schema=self.schema)]
        if _any_in(self._on_disk_hashes(), probes):
            found.append(self._stored().join(keys.lazy(), on=self.key, how="semi", nulls_equal=True).collect())
        for frame, hashes in zip(self.added, self._added_hashes, strict=True):
            if _any_in(hashes, probes):
                found.append(frame.join(keys, on=self.key, how="semi", nulls_equal=True))
        return pl.concat(found, how="vertical")

    # ---- changing -----------------------------------------------------------------------
    def apply(self, new_records: pl.DataFrame, replaced: pl.DataFrame) -> None:
        """Add `new_records`; drop the current records with the keys in `replaced`."""
        if replaced.height:
            replaced = replaced.cast({k: self.schema[k] for k in self.key})
            probes = key_hashes(replaced, self.key)
            for i, (frame, hashes) in enumerate(zip(self.added, self._added_hashes, strict=True)):
                if _any_in(hashes, probes):
                    self.added[i] = frame.join(replaced, on=self.key, how="anti", nulls_equal=True)
                    self._added_hashes[i] = key_hashes(self.added[i], self.key)
            if _any_in(self._on_disk_hashes(), probes):
                self.replaced.append(replaced)
        if new_records.height:
            self.added.append(new_records)
            self._added_hashes.append(key_hashes(new_records, self.key))

    # ---- writing ------------------------------------------------------------------------
    def write(self) -> tuple[str, int]:
        """Persist this load's changes: (what was done: `none`, `part` or `consolidated`,
        rows in the table afterwards)."""
        parts = self.files[1:] if self.files and self.files[0] == self.base else self.files
        consolidate = bool(self.replaced) or self.stale or not self.base.exists() or len(parts) + 1 > MAX_PARTS
        added = sum(f.height for f in self.added)
        key = self.key
        if not consolidate:
            rows = self._stored().select(pl.len()).collect().item() + added
            if not added:
                return "none", rows
            new = pl.concat(self.added).sort(key, nulls_last=True)
            number = int(parts[-1].name.rsplit("-", 1)[1].split(".")[0]) + 1 if parts else 1
            atomic_write_parquet(new, raw_part_path(self.settings, self.spec.name, number))
            return "part", rows
        table = pl.concat([self._stored().collect(), *self.added], how="vertical").sort(key, nulls_last=True)
        atomic_write_parquet(table, self.base)
        for part in parts:
            part.unlink(missing_ok=True)
        return "consolidated", table.height
