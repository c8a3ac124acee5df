"""`run_pipeline` reports when each step ran, from the run's event log (for the benchmark)."""

from __future__ import annotations

import time

import dagster as dg

from ltv_pipeline.runner import _step_times


def test_step_times_come_from_the_start_and_success_events():
    @dg.asset
    def first() -> int:
        time.sleep(0.05)
        return 1

    @dg.asset
    def second(first: int) -> int:
        return first + 1

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([first, second], instance=instance)
    times = _step_times(instance, result.run_id)
    assert set(times) == {"first", "second"}
    (s1, e1), (s2, e2) = times["first"], times["second"]
    assert s1 <= e1 <= s2 <= e2 and e1 - s1 >= 0.05
