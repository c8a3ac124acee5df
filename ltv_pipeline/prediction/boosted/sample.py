"""Reproducible customer-level sampling and splitting by a stable hash of `customer_id`.

Training on a bounded sample keeps model memory flat as the customer base grows (the scale
path in the architecture). Selecting by a hash of the id, not by row order or a random
draw, makes the sample the same whatever order the warehouse returns rows in, keeps every
cutoff of a customer together (so no customer sits in both the training and the
validation split), and lets a sample grow by a superset when `max_rows` grows. The hash is
FNV-1a over the UTF-8 bytes with a splitmix64 finaliser, written out here so it is the
same across library versions and platforms (polars' own hash promises neither).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = 0x9E3779B97F4A7C15


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def customer_hash(ids: pl.Series, seed: int) -> np.ndarray:
    """A uint64 per id, a fixed function of (id text, seed); nulls hash like empty strings."""
    arr = ids.cast(pl.String).fill_null("").to_arrow()
    arr = (
        arr.cast(pa.large_string()).combine_chunks()
        if isinstance(arr, pa.ChunkedArray)
        else arr.cast(pa.large_string())
    )
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    h = np.full(len(arr), _FNV_OFFSET, dtype=np.uint64)
    for j in range(int(lengths.max(initial=0))):
        live = np.flatnonzero(lengths > j)
        h[live] = (h[live] ^ data[starts[live] + j]) * _FNV_PRIME
    return _splitmix64(h + np.uint64(seed * _GOLDEN % 2**64))


def hash_unit(ids: pl.Series, seed: int) -> np.ndarray:
    """The hash mapped to a float in [0, 1): a per-customer uniform draw that never changes."""
    return (customer_hash(ids, seed) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def bounded_sample(frame: pl.DataFrame, max_rows: int, seed: int, id_column: str = "customer_id") -> pl.DataFrame:
    """At most `max_rows` rows: all rows of the customers with the smallest hashes.

    Whole customers are kept (never some of a customer's cutoffs), so with several rows
    per customer the sample can hold slightly fewer than `max_rows`. Rows come back sorted
    by hash, id and (if present) `cutoff_date`, so the result, and a model trained on it,
    does not depend on the input's row order.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    keys = [c for c in (id_column, "cutoff_date") if c in frame.columns]
    hashed = frame.with_columns(pl.Series("__hash", customer_hash(frame.get_column(id_column), seed)))
    if frame.height > max_rows:
        first_out = hashed.get_column("__hash").sort()[max_rows]
        hashed = hashed.filter(pl.col("__hash") < pl.lit(first_out, dtype=pl.UInt64))
    return hashed.sort(["__hash", *keys]).drop("__hash")
