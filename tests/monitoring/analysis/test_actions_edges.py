"""Edges of the manual actions: the refusal texts of a rolled-back and an idle rollout,
the step before the last, the pause reasons an action sets or clears, and retry, which
``apply_action`` refuses (``monitoring.analysis.actions``). Expected values by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.analysis import action_refusal
from monitoring.analysis.actions import apply_action
from monitoring.api.spec import Action
from monitoring.api.status import DecisionKind, PauseReason, Phase
from tests.monitoring.analysis.test_actions import at

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phase", "action", "reason"),
    [
        (
            Phase.ROLLED_BACK,
            Action.ABORT,
            "phase RolledBack: the rollout was rolled back; retry restarts it",
        ),
        (
            Phase.ROLLED_BACK,
            Action.PAUSE,
            "phase RolledBack: the rollout was rolled back; retry restarts it",
        ),
        (Phase.IDLE, Action.ABORT, "phase Idle: nothing to roll out"),
        (Phase.IDLE, Action.PROMOTE, "phase Idle: nothing to roll out"),
    ],
)
def test_the_refusal_of_a_rolled_back_or_idle_rollout(
    phase: Phase, action: Action, reason: str
) -> None:
    driver = at(phase)
    assert action_refusal(spec=driver.spec, status=driver.status, action=action) == reason


def test_promote_at_the_step_before_the_last_advances_one_step() -> None:
    driver = at(Phase.PROGRESSING, step=3)  # 40%, step 4 of 5
    decision = apply_action(spec=driver.spec, status=driver.status, action=Action.PROMOTE, now=NOW)
    assert (decision.kind, decision.status.current_step) == (DecisionKind.ADVANCE, 4)
    assert decision.status.canary_weight == 50
    assert decision.message == "manual promote: advancing to 50% (step 5/5)"


def test_a_pause_action_records_its_reason() -> None:
    driver = at(Phase.PROGRESSING, step=1)
    decision = apply_action(spec=driver.spec, status=driver.status, action=Action.PAUSE, now=NOW)
    assert decision.status.phase is Phase.PAUSED
    assert decision.status.pause_reason is PauseReason.ACTION


@pytest.mark.parametrize(
    ("action", "phase"),
    [(Action.PROMOTE, Phase.PROGRESSING), (Action.ABORT, Phase.ABORTED)],
)
def test_a_step_or_an_abort_out_of_a_pause_clears_the_pause_reason(
    action: Action, phase: Phase
) -> None:
    driver = at(Phase.PAUSED, PauseReason.ACTION, step=1)
    decision = apply_action(spec=driver.spec, status=driver.status, action=action, now=NOW)
    assert (decision.status.phase, decision.status.pause_reason) == (phase, None)


def test_apply_action_refuses_retry_which_the_engine_applies() -> None:
    driver = at(Phase.ABORTED, step=1)
    with pytest.raises(ValueError) as raised:
        apply_action(spec=driver.spec, status=driver.status, action=Action.RETRY, now=NOW)
    assert str(raised.value) == "retry is applied by the engine, not apply_action"
