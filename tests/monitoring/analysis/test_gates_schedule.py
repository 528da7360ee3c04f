"""``workload_pending`` (monitoring/analysis/gates.py) and ``first_window``
(monitoring/analysis/schedule.py) with hand-written expected values."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from monitoring.analysis import analysis_due, first_window
from monitoring.analysis.gates import workload_pending
from monitoring.analysis.schedule import next_on_grid
from monitoring.api.status import Phase, RolloutStatus, WorkloadStatus
from tests.monitoring.analysis.test_workload import NOW, spec

SPEC = spec()  # analysis interval 30s
WAITING = WorkloadStatus(canary_ready=False)
READY = WorkloadStatus(canary_ready=True)


@pytest.mark.parametrize(
    ("phase", "workload", "pending"),
    [
        (Phase.PROGRESSING, WAITING, True),  # the canary Deployment is awaited
        (Phase.PAUSED, WAITING, True),
        (Phase.PROMOTING, READY, True),  # the stable Deployment is awaited
        (Phase.PROMOTING, None, True),
        (Phase.PROGRESSING, READY, False),
        (Phase.PROGRESSING, None, False),
        (Phase.IDLE, WAITING, False),
        (Phase.SUCCEEDED, READY, False),
        (Phase.FAILED, WAITING, False),
    ],
)
def test_a_deployment_is_awaited_only_before_traffic_or_during_a_promotion(
    phase: Phase, workload: WorkloadStatus | None, pending: bool
) -> None:
    status = RolloutStatus(phase=phase, workload=workload)
    assert workload_pending(spec=SPEC, status=status) is pending
    assert workload_pending(spec=replace(SPEC, workload=None), status=status) is False


def test_the_first_window_is_one_interval_after_now() -> None:
    fresh = RolloutStatus(phase=Phase.PROGRESSING)
    assert first_window(spec=SPEC, status=fresh, now=NOW).next_analysis_time == (
        NOW + timedelta(seconds=30)
    )
    sooner = replace(fresh, next_analysis_time=NOW + timedelta(seconds=29))
    assert first_window(spec=SPEC, status=sooner, now=NOW) == replace(
        sooner, next_analysis_time=NOW + timedelta(seconds=30)
    )


def test_a_later_or_equal_analysis_time_stays() -> None:
    for seconds in (30, 31):
        later = RolloutStatus(
            phase=Phase.PROGRESSING, next_analysis_time=NOW + timedelta(seconds=seconds)
        )
        assert first_window(spec=SPEC, status=later, now=NOW) is later


@pytest.mark.parametrize("phase", [Phase.IDLE, Phase.PAUSED, Phase.PROMOTING, Phase.SUCCEEDED])
def test_other_phases_are_returned_unchanged(phase: Phase) -> None:
    status = RolloutStatus(phase=phase)
    assert first_window(spec=SPEC, status=status, now=NOW) is status


def test_the_next_analysis_keeps_to_the_grid_when_a_little_late() -> None:
    due = RolloutStatus(phase=Phase.PROGRESSING, next_analysis_time=NOW)
    assert next_on_grid(SPEC, due, NOW + timedelta(seconds=2)) == NOW + timedelta(seconds=30)
    never = RolloutStatus(phase=Phase.PROGRESSING)
    assert next_on_grid(SPEC, never, NOW + timedelta(seconds=2)) == NOW + timedelta(seconds=32)


def test_the_grid_slack_is_a_tenth_of_the_interval_from_both_sides() -> None:
    due = RolloutStatus(phase=Phase.PROGRESSING, next_analysis_time=NOW)
    # 30 s interval: up to 3 s late keeps the grid; later restarts it from now.
    assert next_on_grid(SPEC, due, NOW + timedelta(seconds=3)) == NOW + timedelta(seconds=30)
    late = NOW + timedelta(seconds=3, milliseconds=1)
    assert next_on_grid(SPEC, due, late) == late + timedelta(seconds=30)


def test_an_analysis_is_due_at_once_when_none_is_scheduled_unless_paused() -> None:
    status = RolloutStatus(phase=Phase.PROGRESSING, canary_model=SPEC.target.canary)
    assert analysis_due(spec=SPEC, status=status, now=NOW) is True
    assert analysis_due(spec=replace(SPEC, paused=True), status=status, now=NOW) is False
