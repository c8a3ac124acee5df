"""Apply one validated delivery to a source's current records (docs/contract.md, 2b: duplicates).

- a row identical to another in the same delivery, or to a current record, is a duplicate;
- two rows of one delivery with the same key and different values are a conflict: both
  (and any exact copies of them) are quarantined, since nothing says which is right;
- a row whose key exists with other values is a correction: it replaces the record.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ltv_pipeline.ingest.sources import SourceSpec


@dataclass
class MergeResult:
    new_records: pl.DataFrame
    """The rows to store (new keys and corrections), in `state`'s schema."""
    replaced: pl.DataFrame
    """Key columns of the current records that corrections replace."""
    loaded: int
    corrections: int
    duplicates: int
    conflicts: pl.DataFrame
    """`_line` and `_reason` of the rows quarantined as conflicts."""


def data_columns(spec: SourceSpec) -> list[str]:
    return [name for name, _ in spec.stored_columns()]


def merge_delivery(state: pl.DataFrame, rows: pl.DataFrame, spec: SourceSpec, lineage: dict[str, object]) -> MergeResult:
    """Merge `rows` (`_line` + stored columns) into `state` (stored + lineage columns).

    `state` needs to hold only the current records whose key is among `rows`' keys (the
    loader passes just those): the result is what to add and which records it replaces.
    """
    cols = data_columns(spec)
    key = list(spec.key)

    # A key with different values in this delivery is a conflict: every line carrying it is
    # quarantined, exact copies included (a copy of a quarantined row was never loaded, so it
    # is not a duplicate of a loaded row).
    key_expr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    if rows.select(key_expr.is_unique().all()).item():  # usual: no key twice, so no copies nor conflicts
        distinct, conflict_keys = rows, rows.select(key).clear()
    else:
        distinct = rows.unique(subset=cols, keep="first", maintain_order=True)
        conflict_keys = distinct.filter(pl.len().over(key) > 1).select(key).unique()
    conflicted = rows.join(conflict_keys, on=key, how="semi", nulls_equal=True)
    conflicts = conflicted.select(
        "_line",
        pl.format(
            "conflict: {} rows in this delivery share the key ({}) = ({}) with different values",
            pl.len().over(key),
            pl.lit(", ".join(key)),
            pl.concat_str([pl.col(k).cast(pl.String).fill_null("null") for k in key], separator=", "),
        ).alias("_reason"),
    )
    if conflict_keys.height:
        clean = rows.join(conflict_keys, on=key, how="anti", nulls_equal=True)
        candidates = clean.unique(subset=cols, keep="first", maintain_order=True)
    else:  # the usual case: the distinct rows are the candidates already
        clean, candidates = rows, distinct
    in_delivery_dups = clean.height - candidates.height

    others = [c for c in cols if c not in key]
    existing = state.select(*key, *[pl.col(c).alias(f"__old_{c}") for c in others], pl.lit(True).alias("__exists"))
    matched = candidates.join(existing, on=key, how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("__exists").is_null())
        .then(pl.lit("new"))
        .when(pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"__old_{c}")) for c in others]))
        .then(pl.lit("duplicate"))
        .otherwise(pl.lit("correction"))
        .alias("__status")
    )

    loaded_rows = matched.filter(pl.col("__status") != "duplicate")
    corrections = matched.filter(pl.col("__status") == "correction")
    new_records = loaded_rows.select(
        *cols, *[pl.lit(v).alias(k) for k, v in lineage.items() if k != "_line"], pl.col("_line")
    ).select(state.columns).cast(dict(state.schema))
    return MergeResult(
        new_records=new_records,
        replaced=corrections.select(key),
        loaded=loaded_rows.height,
        corrections=corrections.height,
        duplicates=in_delivery_dups + (matched.height - loaded_rows.height),
        conflicts=conflicts,
    )
