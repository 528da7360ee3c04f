"""``status.retrain``: what the retraining loop remembers, as a read-only typed view.

The operator's retraining loop (``monitoring.operator.retrain_plan``) writes this part of the
status with its own patch, so ``RolloutStatus.to_dict`` never writes it back (a status
written by the analysis engine can never undo a Job the loop just started). Readers — the
kubectl plugin, the demo, the bench — parse it here instead of reading raw dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from monitoring.api.times import parse_time


class RetrainOutcome(StrEnum):
    """How the last retraining Job ended (``status.retrain.lastOutcome``)."""

    REGISTERED = "registered"  # a better version was registered; it becomes the canary
    REFUSED = "refused"  # the challenger did not beat the champion by the margin
    FAILED = "failed"  # the Job crashed or was lost


@dataclass(frozen=True)
class RetrainStep:
    """One step of the loop (``status.retrain.history[]``): ``step`` is the Event reason
    (``RetrainStarted``, ``RetrainRegistered``...)."""

    time: datetime | None
    step: str
    message: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrainStep:
        moment = data.get("time")
        return cls(
            time=parse_time(str(moment)) if moment else None,
            step=str(data.get("step", "")),
            message=str(data.get("message", "")),
        )


@dataclass(frozen=True)
class RetrainStatus:
    """``running_key``: the dedupe key of the Job running now (``None``: none runs);
    ``last_outcome``/``last_reason``: how the last Job ended and why; ``wait_reason``: why
    a fired trigger waits (cooldown, a Job running); ``drift_intervals_above``: analyses in
    a row with drift share above the trigger, counted for the champion
    ``drift_counted_for``; ``last_result``: ``canaria retrain``'s JSON result, trimmed
    (``new_tag``, ``trigger``, ``champion_metrics``, ``challenger_metrics``...);
    ``history``: the last steps, oldest first."""

    running_key: str | None = None
    running_trigger: str | None = None
    last_started_at: datetime | None = None
    last_outcome: RetrainOutcome | None = None
    last_reason: str = ""
    wait_reason: str = ""
    drift_intervals_above: int = 0
    drift_counted_for: str | None = None
    last_drift_share: float | None = None
    last_result: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[RetrainStep, ...] = ()

    @property
    def running(self) -> bool:
        """A Job runs now."""
        return self.running_key is not None

    @property
    def ended_without_version(self) -> bool:
        """No Job runs and the last one was refused or failed (serving untouched)."""
        return not self.running and self.last_outcome in (
            RetrainOutcome.REFUSED,
            RetrainOutcome.FAILED,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RetrainStatus | None:
        """``None`` when the loop never wrote anything; ``ValueError`` naming the field
        for a value it does not write."""
        if not data:
            return None
        started = data.get("lastStartedAt")
        outcome = data.get("lastOutcome")
        share = data.get("lastDriftShare")
        try:
            parsed_outcome = RetrainOutcome(outcome) if outcome else None
        except ValueError:
            known = ", ".join(o.value for o in RetrainOutcome)
            raise ValueError(f"retrain.lastOutcome={outcome!r}: not one of {known}") from None
        return cls(
            running_key=data.get("runningKey") or None,
            running_trigger=data.get("runningTrigger") or None,
            last_started_at=parse_time(str(started)) if started else None,
            last_outcome=parsed_outcome,
            last_reason=str(data.get("lastReason", "")),
            wait_reason=str(data.get("waitReason", "")),
            drift_intervals_above=int(data.get("driftIntervalsAbove", 0)),
            drift_counted_for=data.get("driftCountedFor") or None,
            last_drift_share=None if share is None else float(share),
            last_result=dict(data.get("lastResult") or {}),
            history=tuple(RetrainStep.from_dict(e) for e in data.get("history") or ()),
        )
