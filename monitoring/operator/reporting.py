"""How a reconcile reports: the status patch, Events, metrics and refusals.

A mixin of ``Reconciler`` (``monitoring.operator.reconcile``): it reads the reconciler's
store, recorder, metrics, clock, backoffs and per-rollout memory, so hooks that swap them
on a live reconciler keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from canaria.contracts.logs import get_logger
from monitoring.analysis import Decision
from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.spec import Action, RolloutSpec
from monitoring.api.status import RolloutStatus
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef, reason_for
from monitoring.operator.failures import (
    RECONCILED,
    Backoffs,
    failing_condition,
    fingerprint,
    with_condition,
)
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.patches import merge_patch_between

_log = get_logger("operator")


class RolloutStore(Protocol):
    """Where rollouts live: the Kubernetes API, or YAML and state files in local mode."""

    def fetch(self, ref: RolloutRef) -> Mapping[str, Any] | None:
        """The whole object (metadata, spec, status), or ``None`` when it is gone."""

    def patch_status(self, ref: RolloutRef, patch: Mapping[str, Any]) -> None:
        """Merge ``patch`` (RFC 7386) into the object's ``.status``."""

    def clear_action(self, ref: RolloutRef, action: str) -> None:
        """Remove the one-shot action annotation, if it still holds ``action``."""


@dataclass(frozen=True)
class ReconcileResult:
    """What one reconcile did. ``spec`` and ``decision`` are ``None`` when the object is
    gone or its spec or status was refused; ``error`` says why nothing was applied."""

    spec: RolloutSpec | None = None
    decision: Decision | None = None
    error: str | None = None
    gone: bool = False


class ReportingMixin:
    """Status writing, Events, metrics and refusals of one reconcile."""

    store: RolloutStore
    events: EventRecorder
    metrics: OperatorMetrics
    clock: Callable[[], datetime]
    backoffs: Backoffs
    _refusals: dict[str, str]
    _last_objects: dict[str, Mapping[str, Any]]

    def _write_status(
        self,
        ref: RolloutRef,
        obj: Mapping[str, Any],
        stored: RolloutStatus,
        decision: Decision,
        extras: Mapping[str, Any],
    ) -> None:
        """Patch what changed, against what is stored (read back canonically), so that
        fields the stored status lacks, even at their defaults, are written too; plus
        ``extras``, status keys the engine does not own (``promotedUpstream``)."""
        generation = (obj.get("metadata") or {}).get("generation")
        next_status = replace(decision.status, observed_generation=generation)
        raw_status = obj.get("status") or {}
        before = {k: v for k, v in stored.to_dict().items() if k in raw_status}
        after = next_status.to_dict()
        raw_conditions = raw_status.get("conditions")
        if failing_condition(raw_conditions):
            before["conditions"] = raw_conditions
            after["conditions"] = with_condition(
                after.get("conditions"),
                status="True",
                reason=RECONCILED,
                message="reconciled",
                now=self.clock(),
            )
        patch = {**merge_patch_between(before, after), **extras}
        if patch:
            self.store.patch_status(ref, patch)

    def _parse_action(self, ref: RolloutRef, raw: str | None, now: datetime) -> Action | None:
        if raw is None:
            return None
        try:
            return Action(raw.strip().lower())
        except ValueError:
            known = ", ".join(a.value for a in Action)
            message = f"{ACTION_ANNOTATION}={raw!r} ignored: must be one of {known}"
            self.events.record(
                rollout=ref, reason=EventReason.INVALID_ACTION, message=message, now=now
            )
            return None

    def _announce(
        self, ref: RolloutRef, decision: Decision, action: Action | None, now: datetime
    ) -> None:
        verdict = decision.analysis.verdict if decision.analysis else None
        reason = reason_for(decision.kind, verdict)
        if reason is None and action is not None:
            reason = EventReason.ACTION_IGNORED
        if reason is None:
            return
        self.events.record(rollout=ref, reason=reason, message=decision.message, now=now)
        _log.info(
            decision.message,
            extra={
                "rollout": ref.key,
                "decision": decision.kind.value,
                "phase": decision.status.phase.value,
                "canary_weight": decision.status.canary_weight,
            },
        )

    def _observe(self, ref: RolloutRef, decision: Decision, *, seconds: float | None) -> None:
        status = decision.status
        self.metrics.observe_state(
            rollout=ref.key, phase=status.phase, canary_weight=status.canary_weight
        )
        self.metrics.observe_checks(rollout=ref.key, record=status.last_analysis)  # hook
        if decision.changed:
            self.metrics.count_decision(rollout=ref.key, decision=decision.kind)
        if seconds is not None:
            self.metrics.observe_analysis(rollout=ref.key, seconds=seconds)

    def _refuse(
        self,
        ref: RolloutRef,
        reason: EventReason,
        message: str,
        now: datetime,
        *,
        spec: RolloutSpec | None = None,
    ) -> ReconcileResult:
        """Keep everything as it is; say why once per distinct problem, not every tick
        (an Event and the ``Reconciled`` condition), and retry with a backoff."""
        if self._refusals.get(ref.key) != message:
            self._refusals[ref.key] = message
            self.events.record(rollout=ref, reason=reason, message=message, now=now)
            _log.warning(message, extra={"rollout": ref.key, "reason": reason.value})
            self._set_failing_condition(ref, reason, message, now)
        obj = self._last_objects.get(ref.key)
        print_ = fingerprint(obj) if obj is not None else None
        self.backoffs.failed(ref.key, now=now, print_=print_, message=message)
        return ReconcileResult(spec=spec, error=message)

    def _failed(
        self, ref: RolloutRef, obj: Mapping[str, Any] | None, reason: EventReason, message: str
    ) -> ReconcileResult:
        """An unexpected failure: a Warning Event and the condition when it is news, a
        log line with the backoff every time, and no retry before the backoff is over."""
        now = self.clock()
        print_ = fingerprint(obj) if obj is not None else None
        count, news = self.backoffs.failed(ref.key, now=now, print_=print_, message=message)
        delay = self.backoffs.delay(ref.key)
        text = f"reconcile failed ({count} in a row, next try in {delay:g}s): {message}"
        _log.error(text, extra={"rollout": ref.key, "reason": reason.value})
        if news:
            try:
                self.events.record(rollout=ref, reason=reason, message=text, now=now)
                self._set_failing_condition(ref, reason, text, now)
            except Exception as error:  # reporting must not fail the loop either
                _log.error("could not report", extra={"rollout": ref.key, "error": repr(error)})
        return ReconcileResult(error=text)

    def _set_failing_condition(
        self, ref: RolloutRef, reason: EventReason, message: str, now: datetime
    ) -> None:
        obj = self._last_objects.get(ref.key) or {}
        conditions = with_condition(
            (obj.get("status") or {}).get("conditions"),
            status="False",
            reason=reason.value,
            message=message,
            now=now,
        )
        try:
            self.store.patch_status(ref, {"conditions": conditions})
        except Exception as error:  # the status may be what cannot be written
            _log.warning(
                "could not set condition", extra={"rollout": ref.key, "error": repr(error)}
            )
