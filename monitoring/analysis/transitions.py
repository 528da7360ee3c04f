"""Moving a status to its next state: fields, message, conditions, bounded history (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from monitoring.api.status import (
    HISTORY_LIMIT,
    Condition,
    DecisionKind,
    HistoryEntry,
    Phase,
    RolloutStatus,
)

# Condition types on the ModelRollout (Kubernetes style: one per aspect, True/False/Unknown).
PROGRESSING = "Progressing"  # True while a candidate is analysed or promoted
PROMOTED = "Promoted"  # True once the last candidate became the stable

_PROMOTED_STATUS = {
    Phase.SUCCEEDED: "True",
    Phase.FAILED: "False",
    Phase.ROLLED_BACK: "False",
    Phase.ABORTED: "False",
}


def transition(
    status: RolloutStatus, *, kind: DecisionKind, now: datetime, message: str, **changes: Any
) -> RolloutStatus:
    """``status`` with ``changes`` applied, ``message`` set, conditions updated and the
    decision appended to the history (the oldest dropped beyond ``HISTORY_LIMIT``)."""
    moved = replace(status, message=message, **changes)
    entry = HistoryEntry(
        time=now,
        decision=kind,
        phase=moved.phase,
        canary_weight=moved.canary_weight,
        message=message,
    )
    conditions = set_condition(
        moved.conditions,
        type=PROGRESSING,
        status="True" if moved.phase in (Phase.PROGRESSING, Phase.PROMOTING) else "False",
        reason=moved.phase.value,
        message=message,
        now=now,
    )
    conditions = set_condition(
        conditions,
        type=PROMOTED,
        status=_PROMOTED_STATUS.get(moved.phase, "Unknown"),
        reason=moved.phase.value,
        message=message,
        now=now,
    )
    history = (*moved.history, entry)[-HISTORY_LIMIT:]
    return replace(moved, conditions=conditions, history=history)


def set_condition(
    conditions: tuple[Condition, ...],
    *,
    type: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
) -> tuple[Condition, ...]:
    """Replace (or add) the condition of ``type``; ``lastTransitionTime`` moves only when
    its ``status`` changes, as Kubernetes conventions ask (pure)."""
    previous = next((c for c in conditions if c.type == type), None)
    since = previous.last_transition_time if previous and previous.status == status else now
    updated = Condition(
        type=type, status=status, reason=reason, message=message, last_transition_time=since
    )
    if previous is None:
        return (*conditions, updated)
    return tuple(updated if c.type == type else c for c in conditions)
