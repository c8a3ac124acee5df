"""E-mail addresses leave ingestion only as a keyed hash (contract: PII never stored in clear).

Keyed BLAKE2b is a standard MAC: without the key nobody can test a guessed address against
the hash, yet the same address always maps to the same value, so joins still work.
"""

from __future__ import annotations

import hashlib

import polars as pl


def hash_email(email: str, key: str) -> str:
    """The keyed hash of one address, case- and whitespace-insensitive.

    The key is the secret `pii_key` (`LTV_PII_KEY`), or in `mode: demo` only the public
    `settings.DEMO_PII_KEY`. An empty key is refused: BLAKE2b without a key is a plain hash,
    which anyone can reverse by hashing guessed addresses.
    """
    if not key:
        raise ValueError("hashing an e-mail address needs a non-empty pii_key")
    return hashlib.blake2b(email.strip().lower().encode("utf-8"), key=key.encode("utf-8")[:64], digest_size=16).hexdigest()


def hash_emails(expr: pl.Expr, key: str | None) -> pl.Expr:
    """Vectorised wrapper: nulls stay null; a missing key is an error only if there is an address."""

    def _hash(series: pl.Series) -> pl.Series:
        if series.null_count() == len(series):
            return series.cast(pl.String)
        if not key:
            raise ValueError("e-mail addresses present but no pii_key to hash them with")
        return pl.Series([None if v is None else hash_email(v, key) for v in series], dtype=pl.String)

    return expr.map_batches(_hash, return_dtype=pl.String)
