"""The manual actions table: promote (one step), promote-full, abort, retry, and what each
refuses in which phase (``monitoring.analysis.actions``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from canaria.contracts.routes import Routes
from monitoring.analysis import action_refusal
from monitoring.api.spec import Action
from monitoring.api.status import DecisionKind, PauseReason, Phase
from tests.monitoring.analysis.engine_driver import BAD, GOOD, V1, V2, Driver, make_spec


def at(phase: Phase, reason: PauseReason | None = None, *, step: int = 0) -> Driver:
    """A started churn rollout (10% steps to 50%), moved to ``phase`` at ``step``."""
    driver = Driver(make_spec()).started()
    weight = (10, 20, 30, 40, 50)[min(step, 4)]
    if phase in (Phase.FAILED, Phase.ROLLED_BACK, Phase.ABORTED, Phase.SUCCEEDED):
        weight = 0
    if phase is Phase.PROMOTING:
        weight = 100
    driver.status = replace(
        driver.status, phase=phase, pause_reason=reason, current_step=step, canary_weight=weight
    )
    return driver


@pytest.mark.parametrize(
    ("phase", "reason", "step", "action", "kind", "next_phase", "weight", "message"),
    [
        # promote: one step
        (Phase.PROGRESSING, None, 0, Action.PROMOTE, DecisionKind.ADVANCE, Phase.PROGRESSING,
         20, "manual promote: advancing to 20% (step 2/5)"),
        (Phase.PAUSED, PauseReason.ACTION, 1, Action.PROMOTE, DecisionKind.ADVANCE,
         Phase.PROGRESSING, 30, "manual promote: advancing to 30% (step 3/5)"),
        (Phase.PROGRESSING, None, 4, Action.PROMOTE, DecisionKind.PROMOTE, Phase.PROMOTING,
         100, "manual promote of churn:v2: all traffic to the candidate while the stable "
         "is updated"),
        (Phase.PAUSED, PauseReason.MANUAL_GATE, 5, Action.PROMOTE, DecisionKind.PROMOTE,
         Phase.PROMOTING, 100, None),
        (Phase.PAUSED, PauseReason.SPEC, 1, Action.PROMOTE, DecisionKind.WAIT, Phase.PAUSED,
         20, "promote ignored: spec.paused is true; set it to false first (or promote --full)"),
        (Phase.SUCCEEDED, None, 5, Action.PROMOTE, DecisionKind.WAIT, Phase.SUCCEEDED, 0,
         "promote ignored: phase Succeeded: churn:v1 is already the stable model"),
        # promote-full
        (Phase.PROGRESSING, None, 0, Action.PROMOTE_FULL, DecisionKind.PROMOTE,
         Phase.PROMOTING, 100, None),
        (Phase.PAUSED, PauseReason.SPEC, 1, Action.PROMOTE_FULL, DecisionKind.PROMOTE,
         Phase.PROMOTING, 100, None),
        (Phase.ABORTED, None, 1, Action.PROMOTE_FULL, DecisionKind.WAIT, Phase.ABORTED, 0,
         "promote-full ignored: phase Aborted: retry restarts the analysis, rollback ends "
         "the rollout"),
        # abort
        (Phase.PROGRESSING, None, 2, Action.ABORT, DecisionKind.ABORT, Phase.ABORTED, 0,
         "aborted: traffic back to churn:v1; churn:v2 kept for inspection (retry restarts "
         "its analysis, rollback ends the rollout)"),
        (Phase.PROMOTING, None, 5, Action.ABORT, DecisionKind.ABORT, Phase.ABORTED, 0, None),
        (Phase.PAUSED, PauseReason.MANUAL_GATE, 5, Action.ABORT, DecisionKind.ABORT,
         Phase.ABORTED, 0, None),
        (Phase.FAILED, None, 1, Action.ABORT, DecisionKind.WAIT, Phase.FAILED, 0,
         "abort ignored: phase Failed: the analysis failed and traffic is on the stable; "
         "retry restarts it"),
        # retry
        (Phase.ABORTED, None, 2, Action.RETRY, DecisionKind.START, Phase.PROGRESSING, 10,
         "retry of canary churn:v2 (stable churn:v1): 10% (step 1/5), first analysis in 30s"),
        (Phase.FAILED, None, 1, Action.RETRY, DecisionKind.START, Phase.PROGRESSING, 10, None),
        (Phase.ROLLED_BACK, None, 1, Action.RETRY, DecisionKind.START, Phase.PROGRESSING, 10,
         None),
        (Phase.PROGRESSING, None, 1, Action.RETRY, DecisionKind.WAIT, Phase.PROGRESSING, 20,
         "retry ignored: phase Progressing: only an aborted, failed or rolled-back canary "
         "is retried"),
        (Phase.SUCCEEDED, None, 5, Action.RETRY, DecisionKind.WAIT, Phase.SUCCEEDED, 0, None),
        # rollback ends an aborted rollout
        (Phase.ABORTED, None, 2, Action.ROLLBACK, DecisionKind.ROLLBACK, Phase.ROLLED_BACK, 0,
         "manual rollback: traffic back to churn:v1"),
    ],
)  # fmt: skip
def test_action_table(
    phase: Phase,
    reason: PauseReason | None,
    step: int,
    action: Action,
    kind: DecisionKind,
    next_phase: Phase,
    weight: int,
    message: str | None,
) -> None:
    driver = at(phase, reason, step=step)
    before = driver.status
    refusal = action_refusal(spec=driver.spec, status=before, action=action)
    decision = driver.call(action=action, after=1)
    assert (decision.kind, decision.status.phase) == (kind, next_phase)
    assert decision.status.canary_weight == weight
    assert decision.routes == Routes(canary_weight=weight)
    assert (refusal is None) == (kind is not DecisionKind.WAIT)  # the CLI asks the same
    if message is not None:
        assert decision.message == message
    if kind is DecisionKind.WAIT:
        assert decision.status is before


def test_an_aborted_canary_keeps_its_models_and_a_retry_runs_it_to_promotion() -> None:
    driver = at(Phase.PROGRESSING, step=2)
    driver.status = replace(driver.status, failed_checks=1)
    aborted = driver.call(action=Action.ABORT, after=1).status
    assert (aborted.stable_model, aborted.canary_model) == (V1, V2)
    assert aborted.next_analysis_time is None
    assert driver.tick(BAD).kind is DecisionKind.WAIT  # no analysis while aborted
    retried = driver.call(action=Action.RETRY, after=1)
    assert (retried.status.current_step, retried.status.failed_checks) == (0, 0)
    kinds = [driver.tick(GOOD).kind for _ in range(6)]
    assert kinds == [DecisionKind.ADVANCE] * 4 + [DecisionKind.PROMOTE, DecisionKind.COMPLETE]
    assert driver.status.stable_model == V2


def test_a_manual_step_waits_a_full_interval_before_the_next_analysis() -> None:
    driver = at(Phase.PROGRESSING, step=0)
    stepped = driver.call(action=Action.PROMOTE, after=25)
    assert stepped.status.current_step == 1
    assert driver.call(GOOD, after=26).kind is DecisionKind.WAIT  # 4 s early: not due
    assert driver.call(GOOD, after=4).kind is DecisionKind.ADVANCE
