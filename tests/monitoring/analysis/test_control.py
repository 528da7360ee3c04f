"""Manual control of a rollout: actions, spec.paused and the manual gate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import analysis_due
from monitoring.api.spec import Action
from monitoring.api.status import DecisionKind, PauseReason, Phase, RolloutStatus
from tests.monitoring.analysis.engine_driver import BAD, GOOD, V1, Driver, make_spec


def test_manual_gate_pauses_after_the_last_step_until_promoted() -> None:
    driver = Driver(make_spec(stepWeight=25, maxWeight=50, manualGate=True)).started()
    assert driver.tick(GOOD).kind is DecisionKind.ADVANCE
    gate = driver.tick(GOOD)
    assert gate.kind is DecisionKind.PAUSE
    assert gate.message == (
        "all 1 checks passed at step 2/2; waiting for a promote action (manualGate)"
    )
    status = gate.status
    assert (status.phase, status.pause_reason, status.canary_weight) == (
        Phase.PAUSED,
        PauseReason.MANUAL_GATE,
        50,
    )
    assert gate.routes == Routes(canary_weight=50)
    waiting = driver.tick(BAD)
    assert waiting.kind is DecisionKind.WAIT
    assert waiting.message == "paused at the manual gate: waiting for a promote action"
    resumed = driver.call(action=Action.RESUME)
    assert resumed.kind is DecisionKind.WAIT
    assert resumed.message == "resume ignored: at the manual gate; promote or roll back"
    promoted = driver.call(action=Action.PROMOTE)
    assert promoted.kind is DecisionKind.PROMOTE
    assert promoted.message.startswith("manual promote of churn:v2")
    assert promoted.routes == Routes(canary_weight=100)


@pytest.mark.parametrize(
    ("phase", "action", "kind", "next_phase", "message"),
    [
        (
            Phase.PROGRESSING,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.PAUSED,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.PROMOTING,
            Action.ROLLBACK,
            DecisionKind.ROLLBACK,
            Phase.ROLLED_BACK,
            "manual rollback: traffic back to churn:v1",
        ),
        (
            Phase.SUCCEEDED,
            Action.ROLLBACK,
            DecisionKind.WAIT,
            Phase.SUCCEEDED,
            "rollback ignored: phase Succeeded has no candidate",
        ),
        (
            Phase.FAILED,
            Action.PROMOTE,
            DecisionKind.WAIT,
            Phase.FAILED,
            "promote ignored: phase Failed: the analysis failed and traffic is on the stable; "
            "retry restarts it",
        ),
        (
            Phase.PROMOTING,
            Action.PROMOTE,
            DecisionKind.WAIT,
            Phase.PROMOTING,
            "promote ignored: phase Promoting: already promoting",
        ),
        (
            Phase.PROGRESSING,
            Action.PAUSE,
            DecisionKind.PAUSE,
            Phase.PAUSED,
            "paused by a pause action",
        ),
        (
            Phase.PAUSED,
            Action.PAUSE,
            DecisionKind.WAIT,
            Phase.PAUSED,
            "pause ignored: phase Paused",
        ),
        (
            Phase.PAUSED,
            Action.RESUME,
            DecisionKind.RESUME,
            Phase.PROGRESSING,
            "resumed by a resume action; next analysis in 30s",
        ),
        (
            Phase.PROGRESSING,
            Action.RESUME,
            DecisionKind.WAIT,
            Phase.PROGRESSING,
            "resume ignored: phase Progressing is not paused",
        ),
    ],
)
def test_manual_actions(
    phase: Phase, action: Action, kind: DecisionKind, next_phase: Phase, message: str
) -> None:
    driver = Driver(make_spec()).started()
    driver.tick(GOOD)
    reason = PauseReason.ACTION if phase is Phase.PAUSED else None
    driver.status = RolloutStatus(
        **{**driver.status.__dict__, "phase": phase, "pause_reason": reason}
    )
    decision = driver.call(action=action, after=1)
    assert decision.kind is kind
    assert decision.status.phase is next_phase
    assert decision.message == message
    if kind is DecisionKind.ROLLBACK:
        assert decision.routes == Routes(canary_weight=0)
        assert decision.status.stable_model == V1


def test_a_paused_rollout_is_not_analysed_and_resumes_a_full_interval_later() -> None:
    driver = Driver(make_spec()).started()
    assert driver.call(action=Action.PAUSE, after=5).kind is DecisionKind.PAUSE
    assert driver.tick(BAD).kind is DecisionKind.WAIT
    assert driver.tick(BAD).routes == Routes(canary_weight=10)
    resumed = driver.call(action=Action.RESUME, after=1)
    assert resumed.status.next_analysis_time == driver.now + timedelta(seconds=30)
    assert driver.call(GOOD, after=20).kind is DecisionKind.WAIT
    assert driver.call(GOOD, after=10).kind is DecisionKind.ADVANCE


def test_spec_paused_pauses_and_unpausing_resumes() -> None:
    spec = make_spec()
    driver = Driver(spec).started()
    driver.spec = make_spec(paused=True)
    paused = driver.call(after=1)
    assert paused.kind is DecisionKind.PAUSE
    assert paused.message == "paused: spec.paused is true"
    assert paused.status.pause_reason is PauseReason.SPEC
    assert not analysis_due(
        spec=driver.spec, status=paused.status, now=driver.now + timedelta(hours=1)
    )
    assert driver.tick(BAD).kind is DecisionKind.WAIT
    ignored = driver.call(action=Action.RESUME)
    assert ignored.message == "resume ignored: spec.paused is true; set it to false"
    driver.spec = spec
    resumed = driver.call(after=1)
    assert resumed.kind is DecisionKind.RESUME
    assert resumed.status.phase is Phase.PROGRESSING


def test_a_pause_action_outlives_spec_unpausing() -> None:
    driver = Driver(make_spec()).started()
    driver.call(action=Action.PAUSE)
    assert driver.tick().kind is DecisionKind.WAIT
    assert driver.status.phase is Phase.PAUSED
