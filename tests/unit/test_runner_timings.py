"""`run_pipeline` reports when each step ran (for the benchmark) and which steps were skipped."""

from __future__ import annotations

import time

import dagster as dg

from ltv_pipeline.commands.run import _step_times, skipped_steps


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


def test_a_step_whose_input_was_never_produced_is_reported_as_skipped():
    """What `run_pipeline` turns into a failure: Dagster itself calls such a run a success."""

    @dg.asset(output_required=False)
    def silent():
        return
        yield  # a generator that yields no output, as a dbt step that lost a model's event

    @dg.asset
    def downstream(silent: int) -> int:
        return silent

    @dg.asset
    def independent() -> int:
        return 1

    result = dg.materialize([silent, downstream, independent])
    assert result.success
    assert skipped_steps(result) == ["downstream"]
