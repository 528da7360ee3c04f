"""The engine's details that whole-rollout tests pass over: what a restart clears, the
analysis a decision carries, when the promotion's timed step is due, the exact waiting
and resuming messages, and the time stamped on a pause or a fast abort."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import BreakerTrip, decide
from monitoring.api.spec import Action, ModelRef
from monitoring.api.status import (
    DecisionKind,
    PauseReason,
    Phase,
    RolloutStatus,
    Verdict,
    WorkloadStatus,
)
from monitoring.api.workload import DesiredWorkload
from tests.monitoring.analysis.engine_driver import (
    BAD,
    GOOD,
    NONE,
    T0,
    V1,
    Driver,
    make_spec,
    with_canary,
)
from tests.monitoring.analysis.test_workload import NOW, deployment, promoting_status, spec, world

V3 = ModelRef(bento_tag="churn:v3")


def test_a_canary_set_back_to_the_stable_mid_rollout_is_idle_with_no_traffic() -> None:
    driver = Driver(make_spec()).started()
    driver.tick(GOOD)
    assert (driver.status.canary_weight, driver.status.next_analysis_time) == (
        20,
        T0 + timedelta(seconds=60),
    )
    driver.spec = with_canary(driver.spec, V1)
    idle = driver.call(after=5)
    assert idle.kind is DecisionKind.IDLE
    assert idle.status.phase is Phase.IDLE
    assert idle.status.canary_weight == 0
    assert idle.status.next_analysis_time is None
    assert idle.routes == Routes(canary_weight=0)
    # Waiting while idle says so (and not the message of a failed rollout).
    assert driver.tick().message == "idle: nothing to roll out (churn:v1 is stable)"


def test_a_new_canary_clears_the_inconclusive_count_and_the_pause_reason() -> None:
    driver = Driver(make_spec()).started()
    held = driver.tick(NONE)
    assert held.message.endswith(
        "inconclusive (1) <= inconclusiveLimit (2); holding at 10% (step 1/5)"
    )
    assert held.status.inconclusive_count == 1
    driver.spec = with_canary(driver.spec, V3)
    restarted = driver.call(after=1)
    assert restarted.kind is DecisionKind.START
    assert restarted.status.inconclusive_count == 0

    driver = Driver(make_spec()).started()
    assert driver.call(action=Action.PAUSE).status.pause_reason is PauseReason.ACTION
    driver.spec = with_canary(driver.spec, V3)
    restarted = driver.call(after=1)
    assert restarted.kind is DecisionKind.START
    assert restarted.status.phase is Phase.PROGRESSING
    assert restarted.status.pause_reason is None


def test_the_rollback_of_a_failed_analysis_carries_that_analysis() -> None:
    driver = Driver(make_spec()).started()
    driver.tick(BAD)
    driver.tick(BAD)
    rollback = driver.tick(BAD)
    assert rollback.kind is DecisionKind.ROLLBACK
    assert rollback.message.endswith("failed (3) > failureLimit (2); rolled back to churn:v1")
    assert rollback.analysis is not None
    assert rollback.analysis.verdict is Verdict.FAIL
    assert rollback.analysis is rollback.status.last_analysis


def test_the_pause_at_the_manual_gate_carries_the_passed_analysis_and_the_last_step() -> None:
    driver = Driver(make_spec(stepWeight=50, maxWeight=50, manualGate=True)).started()
    gate = driver.tick(GOOD)
    assert gate.kind is DecisionKind.PAUSE
    assert gate.message == (
        "all 1 checks passed at step 1/1; waiting for a promote action (manualGate)"
    )
    assert gate.analysis is not None
    assert gate.analysis.verdict is Verdict.PASS
    assert gate.analysis is gate.status.last_analysis
    assert gate.status.current_step == 1  # every step (1 of 1) done


def test_a_promotion_keeps_the_analysis_grid_when_the_last_analysis_ran_early() -> None:
    # One step; the analysis due at T0+30s runs 2 s early (within the 3 s slack): the
    # promotion completes on the grid, at T0+60s, not 30 s after the early call.
    driver = Driver(make_spec(stepWeight=50, maxWeight=50)).started()
    promoted = driver.call(GOOD, after=28)
    assert promoted.kind is DecisionKind.PROMOTE
    assert promoted.status.next_analysis_time == T0 + timedelta(seconds=60)
    assert promoted.status.current_step == 1
    assert promoted.analysis is promoted.status.last_analysis
    # Due from 3 s (the slack) before T0+60s: not at T0+56s, at T0+57s.
    assert driver.call(after=28).kind is DecisionKind.WAIT
    assert driver.call(after=1).kind is DecisionKind.COMPLETE


def test_spec_paused_is_stamped_and_said_exactly_while_it_lasts() -> None:
    spec_ = make_spec()
    driver = Driver(spec_).started()
    driver.spec = make_spec(paused=True)
    paused = driver.call(after=7)
    assert paused.kind is DecisionKind.PAUSE
    assert paused.status.history[-1].time == T0 + timedelta(seconds=7)
    assert driver.tick().message == "paused: spec.paused is true"
    driver.spec = spec_
    resumed = driver.call(after=1)
    assert resumed.kind is DecisionKind.RESUME
    assert resumed.message == "resumed: spec.paused is false; next analysis in 30s"


def test_a_pause_action_waits_with_its_own_message() -> None:
    driver = Driver(make_spec()).started()
    assert driver.call(action=Action.PAUSE).kind is DecisionKind.PAUSE
    assert driver.tick().message == "paused by a pause action: waiting for a resume action"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (None, "Failed: stable churn:v1; set a new spec.target.canary to retry"),
        (Action.ROLLBACK, "RolledBack: stable churn:v1; set a new spec.target.canary to retry"),
        (Action.ABORT, "Aborted: stable churn:v1; set a new spec.target.canary to retry"),
    ],
)
def test_an_ended_rollout_waits_with_a_hint_to_retry(action: Action | None, message: str) -> None:
    driver = Driver(make_spec()).started()
    if action is None:
        for _ in range(3):
            driver.tick(BAD)
    else:
        driver.call(action=action)
    assert driver.tick().message == message


def test_a_fast_abort_is_stamped_with_the_time_of_the_call() -> None:
    driver = Driver(make_spec()).started()
    trip = BreakerTrip(
        replica="http://127.0.0.1:8080", tripped_at="2025-01-01T00:00:05Z", reason="5 failures"
    )
    now = T0 + timedelta(seconds=9)
    aborted = decide(spec=driver.spec, status=driver.status, measurements={}, now=now, trip=trip)
    assert aborted.kind is DecisionKind.ROLLBACK
    assert aborted.status.history[-1].time == now
    progressing = {c.type: c for c in aborted.status.conditions}["Progressing"]
    assert (progressing.status, progressing.last_transition_time) == ("False", now)


def test_a_retry_with_a_workload_says_retry_and_waits_for_the_canary() -> None:
    s = spec(readinessTimeout="1m")
    start = decide(spec=s, status=RolloutStatus(), measurements={}, now=NOW, workload=world(0))
    assert start.message.startswith("new canary churn:v2 (stable churn:v1): ")
    later = NOW + timedelta(minutes=1)
    failed = decide(
        spec=s, status=start.status, measurements={}, now=later, workload=world(ready=False)
    )
    assert failed.status.phase is Phase.FAILED
    retried = decide(
        spec=s,
        status=failed.status,
        measurements={},
        now=later,
        action=Action.RETRY,
        workload=world(ready=False),
    )
    assert retried.kind is DecisionKind.START
    assert retried.message == (
        "retry of canary churn:v2 (stable churn:v1): scaling Deployment churn-canary to 1, "
        "waiting for it to be ready (at most 60s)"
    )


def test_a_canary_set_back_to_the_stable_after_a_failed_promotion_forgets_its_images() -> None:
    """Idle with a workload: a fresh workload record, and the stable's image left alone."""
    s = spec(readinessTimeout="1m")
    status = promoting_status(s)
    stuck = replace(
        world(stable_image="reg/churn:v2"),
        stable=deployment("churn-stable", "reg/churn:v2", 3, ready=1),
    )
    later = NOW + timedelta(minutes=1)
    failed = decide(spec=s, status=status, measurements={}, now=later, workload=stuck)
    assert failed.status.phase is Phase.FAILED
    assert failed.status.workload is not None
    assert failed.status.workload.stable_image == "reg/churn:v1"  # given back
    back = replace(s, target=replace(s.target, canary=s.target.stable))
    idle = decide(spec=back, status=failed.status, measurements={}, now=later, workload=stuck)
    assert idle.kind is DecisionKind.IDLE
    assert idle.status.workload == WorkloadStatus()
    assert idle.status.to_dict()["workload"] == {"canaryReady": False}
    assert idle.workload == DesiredWorkload(canary_replicas=0, stable_image=None)
