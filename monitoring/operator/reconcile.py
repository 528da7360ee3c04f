"""One reconcile of one ModelRollout: fetch, ask the engine, apply. Shared by both modes.

The order of the writes is what makes a restart safe. Traffic first, then the status,
then the one-shot action annotation, then the Event: a crash after the traffic but before
the status leaves the old status in place, and the next reconcile decides the same step
again from it (re-applying the same weight is harmless), so no step is lost or repeated.
The status is the only memory; this process only remembers which routes it already set,
so that a freshly started operator re-applies the status's traffic once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from canaria.contracts.logs import get_logger
from canaria.contracts.routes import Routes
from monitoring.analysis import Decision, Measurement, analysis_due, decide
from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.spec import Action, RolloutSpec, SpecError, parse_spec
from monitoring.api.status import DecisionKind, Phase, RolloutStatus
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef, reason_for
from monitoring.operator.measure import ProviderCache, measure_checks, prime
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.patches import merge_patch_between
from monitoring.providers.interfaces import (
    PromotingRouter,
    ProviderError,
    RouteTarget,
    TrafficRouter,
)

_log = get_logger("operator")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


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


def ref_of(obj: Mapping[str, Any]) -> RolloutRef:
    meta = obj.get("metadata") or {}
    return RolloutRef(
        namespace=meta.get("namespace") or "default",
        name=meta.get("name", ""),
        uid=meta.get("uid") or "",
    )


def requested_action(obj: Mapping[str, Any]) -> str | None:
    """The raw one-shot action annotation, if any (pure)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ACTION_ANNOTATION)
    return str(value) if value is not None else None


def route_target(ref: RolloutRef, spec: RolloutSpec) -> RouteTarget:
    return RouteTarget(
        namespace=ref.namespace, name=ref.name, settings=dict(spec.traffic_provider.settings)
    )


class Reconciler:
    """Runs reconciles; one at a time per rollout (a kopf timer and a spec-change handler
    may fire together, and two analyses of the same step would count it twice)."""

    def __init__(
        self,
        *,
        store: RolloutStore,
        events: EventRecorder,
        providers: ProviderCache,
        metrics: OperatorMetrics,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.events = events
        self.providers = providers
        self.metrics = metrics
        self.clock = clock
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._applied: dict[str, Routes] = {}
        self._refusals: dict[str, str] = {}

    # --- entry points ----------------------------------------------------------------------

    def reconcile(self, ref: RolloutRef) -> ReconcileResult:
        """Fetch the rollout fresh and take its next step (if one is due)."""
        with self._lock_for(ref.key):
            obj = self.store.fetch(ref)
            if obj is None:
                self.forget(ref)
                return ReconcileResult(error="gone")
            return self._reconcile(ref_of(obj), obj)

    def needs_reconcile(self, obj: Mapping[str, Any]) -> bool:
        """Whether a (possibly stale) copy of the rollout shows anything to do now: routes
        this process never set, an action, a due analysis or any other engine step. A stale
        copy can only cause one extra fetch that then finds nothing to do."""
        ref = ref_of(obj)
        if ref.key not in self._applied or requested_action(obj) is not None:
            return True
        try:
            spec = parse_spec(obj.get("spec") or {})
            status = RolloutStatus.from_dict(obj.get("status"))
        except ValueError:
            return ref.key not in self._refusals
        generation = (obj.get("metadata") or {}).get("generation")
        if generation is not None and status.observed_generation != generation:
            return True
        return decide(spec=spec, status=status, measurements={}, now=self.clock()).changed

    def forget(self, ref: RolloutRef) -> None:
        """A deleted rollout: drop its provider, routes memory and metric series."""
        self.providers.forget(rollout=ref.key)
        self.metrics.forget(rollout=ref.key)
        with self._guard:
            self._applied.pop(ref.key, None)
            self._refusals.pop(ref.key, None)

    # --- one reconcile ---------------------------------------------------------------------

    def _reconcile(self, ref: RolloutRef, obj: Mapping[str, Any]) -> ReconcileResult:
        now = self.clock()
        try:
            spec = parse_spec(obj.get("spec") or {})
        except SpecError as error:
            return self._refuse(ref, EventReason.INVALID_SPEC, f"spec refused: {error}", now)
        try:
            stored = RolloutStatus.from_dict(obj.get("status"))
        except (ValueError, KeyError, TypeError) as error:
            return self._refuse(ref, EventReason.INVALID_STATUS, f"status unreadable: {error}", now)
        raw_action = requested_action(obj)
        action = self._parse_action(ref, raw_action, now)
        first_sight = ref.key not in self._applied
        started = time.perf_counter()
        measurements: dict[str, Measurement] = {}
        if (
            action is None
            and stored.phase is Phase.PROGRESSING
            and analysis_due(spec=spec, status=stored, now=now)
        ):
            provider = self.providers.metrics(rollout=ref.key, spec=spec)
            measurements = measure_checks(provider, spec=spec, rollout=ref.key)
            now = self.clock()  # the analysis is as of when its numbers came back
        decision = decide(
            spec=spec, status=stored, measurements=measurements, now=now, action=action
        )

        try:
            self._apply_traffic(ref, spec, decision)
        except ProviderError as error:
            return self._refuse(
                ref, EventReason.TRAFFIC_ERROR, f"traffic not applied: {error}", now, spec=spec
            )
        self._refusals.pop(ref.key, None)
        self._write_status(ref, obj, stored, decision)
        if raw_action is not None:
            self.store.clear_action(ref, raw_action)
        if decision.kind in (DecisionKind.START, DecisionKind.RESUME) or (
            first_sight and decision.status.phase is Phase.PROGRESSING
        ):
            # A new analysis period (or samples lost with a restart): a provider keeping
            # its own samples needs one now for the next window to start from.
            prime(self.providers.metrics(rollout=ref.key, spec=spec), rollout=ref.key)
        self._announce(ref, decision, action, now)
        took = time.perf_counter() - started if measurements else None
        self._observe(ref, decision, seconds=took)
        return ReconcileResult(spec=spec, decision=decision)

    def _write_status(
        self,
        ref: RolloutRef,
        obj: Mapping[str, Any],
        stored: RolloutStatus,
        decision: Decision,
    ) -> None:
        """Patch what changed, against what is stored (read back canonically), so that
        fields the stored status lacks, even at their defaults, are written too."""
        generation = (obj.get("metadata") or {}).get("generation")
        next_status = replace(decision.status, observed_generation=generation)
        raw_status = obj.get("status") or {}
        before = {k: v for k, v in stored.to_dict().items() if k in raw_status}
        patch = merge_patch_between(before, next_status.to_dict())
        if patch:
            self.store.patch_status(ref, patch)

    def _apply_traffic(self, ref: RolloutRef, spec: RolloutSpec, decision: Decision) -> None:
        """Set the routes when they differ from the last this process set (or it set none
        yet: a restarted operator re-applies the status's traffic once); on promotion
        completing, let a router that can swap its upstreams make the canary the stable."""
        router: TrafficRouter = self.providers.traffic(spec.traffic_provider.name.value)
        target = route_target(ref, spec)
        if decision.kind is DecisionKind.COMPLETE and isinstance(router, PromotingRouter):
            router.promote(target)
            self._applied.pop(ref.key, None)  # promote resets the router's routes
        if self._applied.get(ref.key) != decision.routes:
            router.set_routes(target, decision.routes)
            self._applied[ref.key] = decision.routes

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
        """Keep everything as it is; say why once per distinct problem, not every tick."""
        if self._refusals.get(ref.key) != message:
            self._refusals[ref.key] = message
            self.events.record(rollout=ref, reason=reason, message=message, now=now)
            _log.warning(message, extra={"rollout": ref.key, "reason": reason.value})
        return ReconcileResult(spec=spec, error=message)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
