"""Every decision that changes a rollout posts an Event with its own reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.api.status import DecisionKind, Verdict
from monitoring.operator.events import (
    EventReason,
    EventType,
    RolloutRef,
    build_event,
    reason_for,
    type_for,
)

EXPECTED = {
    DecisionKind.START: (EventReason.ANALYSIS_STARTED, EventType.NORMAL),
    DecisionKind.READY: (EventReason.CANARY_READY, EventType.NORMAL),
    DecisionKind.IDLE: (EventReason.IDLE, EventType.NORMAL),
    DecisionKind.ADVANCE: (EventReason.STEP_ADVANCED, EventType.NORMAL),
    DecisionKind.PAUSE: (EventReason.PAUSED, EventType.NORMAL),
    DecisionKind.RESUME: (EventReason.RESUMED, EventType.NORMAL),
    DecisionKind.PROMOTE: (EventReason.PROMOTING, EventType.NORMAL),
    DecisionKind.COMPLETE: (EventReason.PROMOTED, EventType.NORMAL),
    DecisionKind.ROLLBACK: (EventReason.ROLLED_BACK, EventType.WARNING),
    DecisionKind.ABORT: (EventReason.ABORTED, EventType.WARNING),
}


@pytest.mark.parametrize("kind", [k for k in DecisionKind if k is not DecisionKind.WAIT])
def test_every_decision_that_changes_the_rollout_has_a_reason(kind: DecisionKind) -> None:
    if kind is DecisionKind.HOLD:
        # A hold is explained by the analysis behind it.
        assert reason_for(kind, Verdict.FAIL) is EventReason.ANALYSIS_FAILED
        assert reason_for(kind, Verdict.INCONCLUSIVE) is EventReason.ANALYSIS_INCONCLUSIVE
        assert type_for(EventReason.ANALYSIS_INCONCLUSIVE) is EventType.WARNING
        return
    reason, event_type = EXPECTED[kind]
    assert reason_for(kind) is reason
    assert type_for(reason) is event_type


def test_a_wait_posts_nothing() -> None:
    assert reason_for(DecisionKind.WAIT) is None


def test_long_messages_are_cut_to_what_the_api_server_takes() -> None:
    event = build_event(
        rollout=RolloutRef(namespace="ml", name="churn"),
        reason=EventReason.ROLLED_BACK,
        message="x" * 5000,
        now=datetime(2025, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC),
        instance="op-0",
    )
    assert len(event["message"]) == 1024 and event["message"].endswith("…")
    assert "uid" not in event["involvedObject"]
    assert event["firstTimestamp"] == "2025-01-01T12:00:00Z"
