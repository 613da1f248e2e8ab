"""Measurements in a spawned process: the result comes back, and so does a failure."""

import os

import pytest

from xlw.isolated import in_fresh_process, timed_run


def test_a_fresh_process_is_another_process_and_returns_its_result():
    assert in_fresh_process(os.getpid) != os.getpid()
    assert in_fresh_process(divmod, 7, 2) == (3, 1)


def test_a_failure_in_the_fresh_process_reaches_the_caller():
    with pytest.raises(ValueError, match="invalid literal"):
        in_fresh_process(int, "seven")


def test_timed_run_reports_outputs_seconds_and_one_speed_per_batch_size():
    calls = []

    def upper(sentences, max_tokens=4000):
        calls.append((len(sentences), max_tokens))
        return [s.upper() for s in sentences]

    run = timed_run(upper, ["a", "b", "c"], ["a", "b", "c", "d"], [1, 4])
    assert run["outputs"] == ["A", "B", "C"] and run["seconds"] >= 0
    assert set(run["sent_per_s"]) == {1, 4} and all(rate > 0 for rate in run["sent_per_s"].values())
    assert calls[0] == (3, 4000) and all(max_tokens == 10**9 for _, max_tokens in calls[1:])  # timed: unsplit
