"""Named spans of work inside a step (each model fit, scoring), for the benchmark and logs.

A Dagster step is the finest grain its event log times; `span` marks the parts of a step
worth timing on their own (BG/NBD, Gamma-Gamma and XGBoost fits inside `ltv_models`).
Each finished span is kept in a bounded, process-wide buffer with its wall-clock window
(Unix time, so it lines up with Dagster's event timestamps and a memory sampler) and its
process CPU seconds. Costs two clock reads: cheap enough to leave on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    name: str
    start: float
    """Unix time."""
    end: float
    cpu_seconds: float
    """CPU time of the whole process (all threads) during the span."""

    @property
    def seconds(self) -> float:
        return self.end - self.start


SPANS: deque[Span] = deque(maxlen=10_000)


@contextmanager
def span(name: str) -> Iterator[None]:
    start, cpu = time.time(), time.process_time()
    try:
        yield
    finally:
        SPANS.append(Span(name, start, time.time(), time.process_time() - cpu))


def spans_since(start: float) -> list[Span]:
    """Spans that began at or after `start` (Unix time), in order."""
    return [s for s in SPANS if s.start >= start]
