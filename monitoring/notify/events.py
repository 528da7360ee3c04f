"""What a notification announces, and which engine decisions announce what (pure)."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    """What a notification announces (the ``events`` a provider subscribes to)."""

    STARTED = "started"  # a new canary: analysis starts
    STEP = "step"  # analysis passed: traffic moved to the next step (optional, chatty)
    PROMOTING = "promoting"  # every step passed: all traffic to the candidate
    PROMOTED = "promoted"  # the candidate is the new stable
    FAILED = "failed"  # the analysis failed: rolled back
    MANUAL = "manual"  # a person paused, resumed, promoted or rolled back

    @property
    def severity(self) -> str:
        return "error" if self is Event.FAILED else "info"


DEFAULT_EVENTS = frozenset(Event) - {Event.STEP}
_BY_DECISION = {
    "start": Event.STARTED,
    "advance": Event.STEP,
    "promote": Event.PROMOTING,
    "complete": Event.PROMOTED,
    "pause": Event.MANUAL,
    "resume": Event.MANUAL,
}


def event_for(decision: str, *, phase: str, manual: bool) -> Event | None:
    """The event for an engine decision (``DecisionKind`` value), or None for decisions
    nobody is told about (hold, wait, idle). A rollback is a failure unless a person asked
    for it (phase ``RolledBack``); any decision taken on a person's action is manual."""
    if decision == "rollback":
        return Event.MANUAL if manual or phase == "RolledBack" else Event.FAILED
    event = _BY_DECISION.get(decision)
    if event is not None and manual and event is not Event.MANUAL:
        return Event.MANUAL
    return event
