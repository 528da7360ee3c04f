"""Kubernetes Events for the operator's decisions: one reason per kind of decision.

``build_event`` is a pure builder (dask-kubernetes style: a plain dict for the API);
recorders do the I/O. In a cluster the Event lands on the ModelRollout (``kubectl
describe modelrollout churn``); in local mode it goes to the log and the rollout's state file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from canaria.contracts.logs import get_logger
from monitoring.api.constants import GROUP, KIND, VERSION
from monitoring.api.status import DecisionKind, Verdict, format_time

COMPONENT = "canaria-operator"
_MESSAGE_LIMIT = 1024  # the API server refuses longer Event messages


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


class EventReason(StrEnum):
    """Why an Event was posted; what ``kubectl get events`` shows in its REASON column."""

    ANALYSIS_STARTED = "AnalysisStarted"
    CANARY_READY = "CanaryReady"
    IDLE = "Idle"
    STEP_ADVANCED = "StepAdvanced"
    ANALYSIS_FAILED = "AnalysisFailed"
    ANALYSIS_INCONCLUSIVE = "AnalysisInconclusive"
    PAUSED = "Paused"
    RESUMED = "Resumed"
    PROMOTING = "Promoting"
    PROMOTED = "Promoted"
    ROLLED_BACK = "RolledBack"
    ABORTED = "Aborted"
    INVALID_SPEC = "InvalidSpec"
    INVALID_STATUS = "InvalidStatus"
    TRAFFIC_ERROR = "TrafficError"
    WORKLOAD_ERROR = "WorkloadError"
    INVALID_ACTION = "InvalidAction"
    ACTION_IGNORED = "ActionIgnored"
    RECONCILE_ERROR = "ReconcileError"
    TRAFFIC_CORRECTED = "TrafficCorrected"
    TRAFFIC_REVERTED = "TrafficReverted"
    # A namespace's canaria-notifications, or a notification entry, that cannot be used.
    INVALID_NOTIFICATIONS = "InvalidNotifications"
    # The retraining loop (monitoring.operator.retraining; the same names as its steps).
    RETRAIN_STARTED = "RetrainStarted"
    RETRAIN_SKIPPED = "RetrainSkipped"
    RETRAIN_REGISTERED = "RetrainRegistered"
    RETRAIN_REFUSED = "RetrainRefused"
    RETRAIN_FAILED = "RetrainFailed"


_REASONS: Mapping[DecisionKind, EventReason] = {
    DecisionKind.START: EventReason.ANALYSIS_STARTED,
    DecisionKind.READY: EventReason.CANARY_READY,
    DecisionKind.IDLE: EventReason.IDLE,
    DecisionKind.ADVANCE: EventReason.STEP_ADVANCED,
    DecisionKind.PAUSE: EventReason.PAUSED,
    DecisionKind.RESUME: EventReason.RESUMED,
    DecisionKind.PROMOTE: EventReason.PROMOTING,
    DecisionKind.COMPLETE: EventReason.PROMOTED,
    DecisionKind.ROLLBACK: EventReason.ROLLED_BACK,
    DecisionKind.ABORT: EventReason.ABORTED,
}

_WARNINGS = frozenset(
    {
        EventReason.ANALYSIS_FAILED,
        EventReason.ANALYSIS_INCONCLUSIVE,
        EventReason.ROLLED_BACK,
        EventReason.ABORTED,
        EventReason.INVALID_SPEC,
        EventReason.INVALID_STATUS,
        EventReason.TRAFFIC_ERROR,
        EventReason.WORKLOAD_ERROR,
        EventReason.INVALID_ACTION,
        EventReason.ACTION_IGNORED,
        EventReason.RECONCILE_ERROR,
        EventReason.TRAFFIC_CORRECTED,
        EventReason.RETRAIN_FAILED,
        EventReason.INVALID_NOTIFICATIONS,
    }
)


def reason_for(decision: DecisionKind, verdict: Verdict | None = None) -> EventReason | None:
    """The Event reason for a decision (pure); ``None`` for a wait, which posts nothing.

    A hold is explained by the analysis that caused it: failed or without data.
    """
    if decision is DecisionKind.WAIT:
        return None
    if decision is DecisionKind.HOLD:
        if verdict is Verdict.INCONCLUSIVE:
            return EventReason.ANALYSIS_INCONCLUSIVE
        return EventReason.ANALYSIS_FAILED
    return _REASONS[decision]


def type_for(reason: EventReason) -> EventType:
    return EventType.WARNING if reason in _WARNINGS else EventType.NORMAL


@dataclass(frozen=True)
class RolloutRef:
    """Which ModelRollout an Event is about."""

    namespace: str
    name: str
    uid: str = ""

    @property
    def key(self) -> str:
        """``namespace/name``: the ``rollout`` label of the operator's metrics."""
        return f"{self.namespace}/{self.name}"


def build_event(
    *, rollout: RolloutRef, reason: EventReason, message: str, now: datetime, instance: str
) -> dict[str, Any]:
    """A core/v1 Event about ``rollout`` (pure). ``generateName`` lets the API server
    pick a unique name, so two decisions in the same second never collide."""
    timestamp = format_time(now.replace(microsecond=0))
    involved: dict[str, Any] = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": rollout.name,
        "namespace": rollout.namespace,
    }
    if rollout.uid:
        involved["uid"] = rollout.uid
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{rollout.name}.", "namespace": rollout.namespace},
        "involvedObject": involved,
        "reason": reason.value,
        "message": _truncate(message),
        "type": type_for(reason).value,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
        "firstTimestamp": timestamp,
        "lastTimestamp": timestamp,
        "count": 1,
    }


def _truncate(message: str) -> str:
    if len(message) <= _MESSAGE_LIMIT:
        return message
    return message[: _MESSAGE_LIMIT - 1] + "…"


class EventRecorder(Protocol):
    """Where the Events of decisions go."""

    def record(
        self, *, rollout: RolloutRef, reason: EventReason, message: str, now: datetime
    ) -> None: ...


class KubeEventRecorder:
    """Posts core/v1 Events through the official client; a failure is logged, not raised,
    because a lost Event must never undo or repeat a decision already in the status."""

    def __init__(self, core_api: Any, *, instance: str) -> None:
        self._core_api = core_api
        self._instance = instance
        self._log = get_logger("operator.events")

    def record(
        self, *, rollout: RolloutRef, reason: EventReason, message: str, now: datetime
    ) -> None:
        body = build_event(
            rollout=rollout, reason=reason, message=message, now=now, instance=self._instance
        )
        try:
            self._core_api.create_namespaced_event(rollout.namespace, body)
        except Exception as error:  # the API client raises many types; none may stop us
            self._log.warning(
                "could not post event",
                extra={"rollout": rollout.key, "reason": reason.value, "error": repr(error)},
            )
