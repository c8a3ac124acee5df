"""Reading and writing the Parquet lake: atomic writes and the run's analysis date.

Every file is written to a temporary name in the same folder and renamed into place,
so a reader (or a run killed half-way) only ever sees the previous or the new version.
A write that fails (a full disk, a read-only mount) raises `LakeWriteError`, which names
the file and the reason, and leaves the previous version in place.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings


class LakeWriteError(OSError):
    """A file of the lake or the warehouse could not be written; the message says which and why."""

    def __init__(self, path: Path, cause: BaseException):
        super().__init__(f"cannot write {path}: {_failure_reason(cause)}")


def _failure_reason(exc: BaseException) -> str:
    """The operating system's reason for a failed write ("No space left on device"), also when a
    library (polars, DuckDB) wraps it in its own error and message."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    code = re.search(r"os error (\d+)", str(exc))
    return os.strerror(int(code.group(1))) if code else str(exc).strip().splitlines()[0]


TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")
"""Temporary files of the writes below: `.<name>.<uuid hex>.tmp`, next to their target."""


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


class StagedWrites:
    """Files written under temporary names, then renamed into place together by `commit`.

    Publishing several files (the published tables and the readers' warehouse) this way
    means a failure while writing any of them (the disk fills up on the largest, the
    warehouse copy) changes none: `close` (or leaving the `with` block) removes what was
    staged and not committed. Renames need no space, so the commit itself does not fail
    for want of it.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedWrites:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _stage(self, path: Path, write: Callable[[Path], None]) -> Path:
        tmp = _temp_path(path)
        self._staged.append((tmp, path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
            _fsync(tmp)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise LakeWriteError(path, exc) from exc
        return path

    def parquet(self, df: pl.DataFrame, path: Path) -> Path:
        return self._stage(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True))

    def data(self, data: bytes, path: Path) -> Path:
        return self._stage(path, lambda tmp: tmp.write_bytes(data))

    def copy(self, source: Path, path: Path) -> Path:
        return self._stage(path, lambda tmp: shutil.copyfile(source, tmp))

    def commit(self) -> None:
        """Rename every staged file over its target."""
        while self._staged:
            tmp, path = self._staged[0]
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise LakeWriteError(path, exc) from exc
            self._staged.pop(0)

    def close(self) -> None:
        """Remove the staged files not committed."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()


def atomic_write_parquet(df: pl.DataFrame, path: Path) -> Path:
    """Write `df` to `path` so that the file is either the old one or the complete new one."""
    with StagedWrites() as staged:
        staged.parquet(df, path)
        staged.commit()
    return path


def atomic_write_bytes(data: bytes, path: Path) -> Path:
    """Write `data` to `path` so that the file is either the old one or the complete new one."""
    with StagedWrites() as staged:
        staged.data(data, path)
        staged.commit()
    return path


def remove_interrupted_writes(settings: Settings) -> None:
    """Delete the temporary files of writes that a killed run left behind (in the lake, and the
    warehouse's copies and records beside it); call it only while holding the lake's run lock,
    when no write can be in progress."""
    beside_warehouse = settings.warehouse.parent.glob(f".{settings.warehouse.stem}*.tmp")
    for path in [*settings.lake_dir.rglob(".*.tmp"), *beside_warehouse]:
        if TEMP_NAME.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)









def scan_raw_table(settings: Settings, source: str) -> pl.LazyFrame:
    """The whole raw table of `source` (every file of it), lazily; raises if it has no file."""
    files = layout.raw_table_files(settings, source)
    if not files:
        raise FileNotFoundError(f"no raw {source} table under {layout.raw_dir(settings, source)}: load {source} first")
    return pl.scan_parquet(files)


def read_raw_table(settings: Settings, source: str) -> pl.DataFrame:
    return scan_raw_table(settings, source).collect()


def resolve_as_of(settings: Settings) -> date:
    """The analysis date: the configured `as_of`, else the date of the latest loaded order."""
    if settings.as_of is not None:
        return settings.as_of
    path = layout.raw_table_path(settings, "orders")
    if not layout.raw_table_files(settings, "orders"):
        raise FileNotFoundError(f"no raw orders at {path}: load orders before resolving as_of")
    latest = scan_raw_table(settings, "orders").select(pl.col("order_ts").max()).collect().item()
    if latest is None:
        raise ValueError(f"{path} holds no orders: set as_of explicitly")
    return latest.date()
