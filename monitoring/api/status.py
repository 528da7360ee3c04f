"""The ModelRollout status as frozen dataclasses, with ``to_dict``/``from_dict`` (pure).

The status is the rollout's whole state: a restarted operator reads it back with
``RolloutStatus.from_dict(obj.get("status") or {})`` and continues where it stopped, and
``status.to_dict()`` is the body the handler patches into ``.status`` (camelCase, the
shape the CRD's status schema describes). Times are timezone-aware UTC ``datetime``s,
written as RFC 3339 (``2025-01-01T12:00:00.250000Z``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from monitoring.api.retrain_status import RetrainStatus
from monitoring.api.spec import ModelRef, ThresholdMode

# Re-exported: readers import the time format from here, beside the status it belongs to.
from monitoring.api.times import format_time as format_time
from monitoring.api.times import parse_time as parse_time

HISTORY_LIMIT = 20
"""How many decisions ``status.history`` keeps (oldest dropped first)."""


class Phase(StrEnum):
    """Where the rollout is. Failed: the analysis failed and traffic was rolled back;
    RolledBack: a person asked for the rollback; Aborted: a person sent the traffic back
    to the stable, the canary is kept for inspection and can be retried."""

    IDLE = "Idle"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    PROMOTING = "Promoting"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"
    ABORTED = "Aborted"

    @property
    def active(self) -> bool:
        """A candidate is being analysed or promoted (it may have traffic)."""
        return self in (Phase.PROGRESSING, Phase.PAUSED, Phase.PROMOTING)


class PauseReason(StrEnum):
    ACTION = "action"  # a pause action; a resume action ends it
    SPEC = "spec"  # spec.paused is true; setting it false ends it
    MANUAL_GATE = "manualGate"  # every step passed; a promote action ends it


class DecisionKind(StrEnum):
    """What the engine decided; also the reason of the Kubernetes Event (capitalised)."""

    START = "start"  # a new canary: analysis (re)starts from step 0
    READY = "ready"  # spec.workload: the canary Deployment is ready, first traffic step
    IDLE = "idle"  # the canary is the stable model: nothing to roll out, weight 0
    ADVANCE = "advance"  # analysis passed: next step
    HOLD = "hold"  # analysis failed or had no data, within limits: stay at this step
    WAIT = "wait"  # nothing to do now (not due, paused, finished): status unchanged
    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"  # all traffic to the candidate while the stable is updated to it
    COMPLETE = "complete"  # promotion done: the candidate is the stable, phase Succeeded
    ROLLBACK = "rollback"  # traffic back to the stable
    ABORT = "abort"  # traffic back to the stable, the canary kept (a retry restarts it)


class Verdict(StrEnum):
    PASS = "pass"  # nosec B105 # a check verdict, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # no data: never a pass


@dataclass(frozen=True)
class CheckResult:
    """The evidence for one check in one analysis.

    ``value``/``stable_value``: what was measured for the canary and the stable (None: no
    data); ``compared``: the number held against ``min``/``max`` (the value, or the
    canary ÷ stable ratio for a relative check); ``message``: the named limit, e.g.
    ``latency-p99 1.84 s > max 0.50 s``.
    """

    name: str
    verdict: Verdict
    value: float | None
    stable_value: float | None
    compared: float | None
    min: float | None
    max: float | None
    comparison: ThresholdMode
    unit: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "name": self.name,
                "verdict": self.verdict.value,
                "value": _finite(self.value),
                "stableValue": _finite(self.stable_value),
                "compared": _finite(self.compared),
                "min": self.min,
                "max": self.max,
                "comparison": self.comparison.value,
                "unit": self.unit or None,
                "message": self.message,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            name=data["name"],
            verdict=Verdict(data["verdict"]),
            value=_float(data.get("value")),
            stable_value=_float(data.get("stableValue")),
            compared=_float(data.get("compared")),
            min=_float(data.get("min")),
            max=_float(data.get("max")),
            comparison=ThresholdMode(data.get("comparison", ThresholdMode.ABSOLUTE.value)),
            unit=data.get("unit") or "",
            message=data.get("message", ""),
        )


@dataclass(frozen=True)
class AnalysisRecord:
    """One analysis: when, its overall verdict, and every check's evidence."""

    time: datetime
    verdict: Verdict
    checks: tuple[CheckResult, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": format_time(self.time),
            "verdict": self.verdict.value,
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisRecord:
        return cls(
            time=parse_time(data["time"]),
            verdict=Verdict(data["verdict"]),
            checks=tuple(CheckResult.from_dict(c) for c in data.get("checks") or ()),
            message=data.get("message", ""),
        )


@dataclass(frozen=True)
class Condition:
    """A Kubernetes-style condition; ``status`` is "True", "False" or "Unknown"."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": format_time(self.last_transition_time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        return cls(
            type=data["type"],
            status=data["status"],
            reason=data.get("reason", ""),
            message=data.get("message", ""),
            last_transition_time=parse_time(data["lastTransitionTime"]),
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One decision that changed the rollout (waits are not recorded)."""

    time: datetime
    decision: DecisionKind
    phase: Phase
    canary_weight: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": format_time(self.time),
            "decision": self.decision.value,
            "phase": self.phase.value,
            "canaryWeight": self.canary_weight,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryEntry:
        return cls(
            time=parse_time(data["time"]),
            decision=DecisionKind(data["decision"]),
            phase=Phase(data["phase"]),
            canary_weight=int(data.get("canaryWeight", 0)),
            message=data.get("message", ""),
        )


@dataclass(frozen=True)
class WorkloadStatus:
    """``status.workload``: what the engine remembers about the Deployments.

    ``canary_ready``: the canary was seen rolled out for this candidate (no traffic moves to
    it before). ``waiting_since``: when the current wait (for the canary before the first
    step, for the stable after the promotion patch) began; ``readinessTimeout`` counts from
    it. ``stable_image``: the image the operator keeps on the stable (the candidate's during
    a promotion, the previous one after a failed promotion); ``None``: leave the stable.
    ``previous_stable_image``: what the stable ran before the promotion.
    """

    canary_ready: bool = False
    waiting_since: datetime | None = None
    stable_image: str | None = None
    previous_stable_image: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "canaryReady": self.canary_ready,
            "waitingSince": format_time(self.waiting_since) if self.waiting_since else None,
            "stableImage": self.stable_image,
            "previousStableImage": self.previous_stable_image,
        }
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WorkloadStatus | None:
        if not data:
            return None
        since = data.get("waitingSince")
        return cls(
            canary_ready=bool(data.get("canaryReady", False)),
            waiting_since=parse_time(since) if since else None,
            stable_image=data.get("stableImage"),
            previous_stable_image=data.get("previousStableImage"),
        )


@dataclass(frozen=True)
class RolloutStatus:
    """Everything the engine needs to continue a rollout; an empty status is a new one.

    ``current_step``: passing analyses so far for the current candidate (for the canary
    strategy, the index of the current weight in ``Analysis.steps``); equal to
    ``RolloutSpec.total_steps`` once every step passed. ``failed_checks``: failed
    analyses for this candidate (never reset by a pass). ``inconclusive_count``:
    analyses in a row without data. ``next_analysis_time``: the engine analyses no
    earlier than this, so a restarted operator neither repeats nor skips a step.
    ``stable_model``: what the stable variant serves (becomes the canary on promotion);
    ``canary_model``: the candidate last taken from the spec.
    """

    phase: Phase = Phase.IDLE
    canary_weight: int = 0
    current_step: int = 0
    failed_checks: int = 0
    inconclusive_count: int = 0
    stable_model: ModelRef | None = None
    canary_model: ModelRef | None = None
    pause_reason: PauseReason | None = None
    next_analysis_time: datetime | None = None
    last_analysis: AnalysisRecord | None = None
    message: str = ""
    conditions: tuple[Condition, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    observed_generation: int | None = None
    workload: WorkloadStatus | None = None  # only with spec.workload
    # Written by the retraining loop's own patch; to_dict leaves it out (read-only here).
    retrain: RetrainStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``.status`` body (camelCase; absent fields omitted)."""
        return _drop_none(
            {
                "phase": self.phase.value,
                "canaryWeight": self.canary_weight,
                "currentStep": self.current_step,
                "failedChecks": self.failed_checks,
                "inconclusiveCount": self.inconclusive_count,
                # Display strings for `kubectl get` columns; from_dict reads the models.
                "stable": self.stable_model.describe() if self.stable_model else None,
                "canary": self.canary_model.describe() if self.canary_model else None,
                "stableModel": self.stable_model.to_dict() if self.stable_model else None,
                "canaryModel": self.canary_model.to_dict() if self.canary_model else None,
                "pauseReason": self.pause_reason.value if self.pause_reason else None,
                "nextAnalysisTime": (
                    format_time(self.next_analysis_time) if self.next_analysis_time else None
                ),
                "lastAnalysis": self.last_analysis.to_dict() if self.last_analysis else None,
                "message": self.message,
                "conditions": [c.to_dict() for c in self.conditions],
                "history": [h.to_dict() for h in self.history],
                "observedGeneration": self.observed_generation,
                "workload": self.workload.to_dict() if self.workload else None,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RolloutStatus:
        """Read a stored status back; ``None``/``{}`` gives a fresh one. ``ValueError``
        when a stored value is not one this module writes."""
        if not data:
            return cls()
        stable = data.get("stableModel")
        canary = data.get("canaryModel")
        last = data.get("lastAnalysis")
        next_time = data.get("nextAnalysisTime")
        reason = data.get("pauseReason")
        return cls(
            phase=Phase(data.get("phase", Phase.IDLE.value)),
            canary_weight=int(data.get("canaryWeight", 0)),
            current_step=int(data.get("currentStep", 0)),
            failed_checks=int(data.get("failedChecks", 0)),
            inconclusive_count=int(data.get("inconclusiveCount", 0)),
            stable_model=ModelRef.from_dict(stable) if stable else None,
            canary_model=ModelRef.from_dict(canary) if canary else None,
            pause_reason=PauseReason(reason) if reason else None,
            next_analysis_time=parse_time(next_time) if next_time else None,
            last_analysis=AnalysisRecord.from_dict(last) if last else None,
            message=data.get("message", ""),
            conditions=tuple(Condition.from_dict(c) for c in data.get("conditions") or ()),
            history=tuple(HistoryEntry.from_dict(h) for h in data.get("history") or ()),
            observed_generation=data.get("observedGeneration"),
            workload=WorkloadStatus.from_dict(data.get("workload")),
            retrain=RetrainStatus.from_dict(data.get("retrain")),
        )


def _finite(value: float | None) -> float | None:
    # Kubernetes stores JSON, which has no NaN or Infinity; the message keeps the text.
    return value if value is not None and math.isfinite(value) else None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
