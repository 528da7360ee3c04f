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
from typing import Any

from canaria.contracts.logs import get_logger
from canaria.contracts.routes import Routes
from monitoring.analysis import Decision, Measurement, analysis_due, decide, first_window
from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.spec import Action, RolloutSpec, SpecError, parse_spec
from monitoring.api.status import DecisionKind, Phase, RolloutStatus
from monitoring.api.workload import WorkloadObservation
from monitoring.operator.applying import ApplyingMixin, route_target
from monitoring.operator.deletion import STABLE_ONLY, deletion_plan
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef
from monitoring.operator.failures import Backoffs, describe, fingerprint
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.notifications import RolloutNotifier
from monitoring.operator.reporting import ReconcileResult, RolloutStore
from monitoring.operator.retraining import Retrainer
from monitoring.operator.traffic import Resolver, verify_seconds
from monitoring.operator.trust import RouterPolicy, TrustedReplicas
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.interfaces import ProviderError

__all__ = [
    "Clock",
    "ReconcileResult",
    "Reconciler",
    "RolloutStore",
    "ref_of",
    "requested_action",
    "route_target",
    "utc_now",
]

_log = get_logger("operator")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Step:
    """What one reconcile carries from deciding to applying: the action (parsed and as
    written), whether the rollout is new to this process, whether its metrics provider
    was primed, when the pass started and whether it measured, the observed workload."""

    action: Action | None
    raw_action: str | None
    first_sight: bool
    started: float
    primed: bool = False
    measured: bool = False
    observed: WorkloadObservation | None = None


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


class Reconciler(ApplyingMixin):
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
        replicas: Resolver | None = None,
        notifier: RolloutNotifier | None = None,
        workloads: WorkloadApplier | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.providers = providers
        self.metrics = metrics
        self.clock = clock
        self.backoffs = Backoffs()
        # spec.workload's Deployments (monitoring/operator/workload.py); noop without a cluster.
        self.workloads = workloads or WorkloadApplier.named("noop")
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}
        self._applied: dict[str, Routes] = {}
        self._refusals: dict[str, str] = {}
        self._last_objects: dict[str, Mapping[str, Any]] = {}
        self._verified_at: dict[str, datetime] = {}
        self.replicas: Resolver = replicas or TrustedReplicas(RouterPolicy.from_env(local=True))
        # --- retraining hook (monitoring.operator.retraining): launchers set by the mode ---
        self.retrainer = Retrainer(
            store=store, events=events, providers=providers, clock=clock, metrics=metrics
        )
        # hook: notifications (one notifier per operator; local mode's by default)
        self.notifier = notifier or RolloutNotifier(
            registry=metrics.registry, local=True, events=events
        )

    # --- entry points ----------------------------------------------------------------------

    def reconcile(self, ref: RolloutRef) -> ReconcileResult:
        """Fetch the rollout fresh and take its next step (if one is due). Never raises:
        a failure is reported (condition, Warning Event) and retried with a backoff."""
        with self._lock_for(ref.key):
            obj: Mapping[str, Any] | None = None
            try:
                obj = self.store.fetch(ref)
                if obj is None:
                    if ref.key in self._last_objects:  # seen, now gone: a deletion
                        return ReconcileResult(error=f"gone: {self.delete(ref)}", gone=True)
                    self.forget(ref)
                    return ReconcileResult(error="gone", gone=True)
                left = self.backoffs.waiting(ref.key, now=self.clock(), print_=fingerprint(obj))
                if left is not None:
                    return ReconcileResult(error=f"backing off: next try in {left:.1f}s")
                result = self._reconcile(ref_of(obj), obj)
            except Exception as error:  # one rollout's failure must not stop the others
                return self._failed(ref, obj, EventReason.RECONCILE_ERROR, describe(error))
            if result.error is None:
                self.backoffs.succeeded(ref.key)
            return result

    def needs_reconcile(self, obj: Mapping[str, Any]) -> bool:
        """Whether a (possibly stale) copy of the rollout shows anything to do now: routes
        this process never set, an action, a due analysis or any other engine step. A stale
        copy can only cause one extra fetch that then finds nothing to do."""
        ref = ref_of(obj)
        if self.backoffs.waiting(ref.key, now=self.clock(), print_=fingerprint(obj)) is not None:
            return False
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
        verified = self._verified_at.get(ref.key)
        now = self.clock()
        if verified is None or (now - verified).total_seconds() >= verify_seconds(spec):
            return True  # time to compare the routers with the status again
        if self.workloads.wants_pass(ref, spec, status):  # workload hook: level-triggered
            return True
        return decide(spec=spec, status=status, measurements={}, now=now).changed

    def delete(self, ref: RolloutRef, obj: Mapping[str, Any] | None = None) -> str:
        """The deletion policy (``deletion``): send the traffic back to the stable when the
        rollout had a candidate, say so in an Event, and forget it. ``obj``: the deleted
        rollout's last copy (kopf passes the body; local mode the last one read); with
        ``spec.workload`` the canary Deployment is scaled to 0 after. Raises
        ``ProviderError`` when the router or the Deployment cannot be reached, so kopf
        retries."""
        with self._lock_for(ref.key):
            last = obj if obj is not None else self._last_objects.get(ref.key)
            plan = deletion_plan(last or {})
            now = self.clock()
            if plan.revert and last is not None:
                spec = parse_spec(last.get("spec") or {})
                router = self.providers.traffic(spec.traffic_provider.name.value)
                for target in self.replicas(route_target(ref, spec)):
                    router.set_routes(target, STABLE_ONLY)
            if plan.canary_deployment is not None:
                self.workloads.release(ref, plan.canary_deployment)
            message = plan.message
            self.events.record(
                rollout=ref, reason=EventReason.TRAFFIC_REVERTED, message=message, now=now
            )
            _log.info(message, extra={"rollout": ref.key})
            self.forget(ref)
            return message

    def forget(self, ref: RolloutRef) -> None:
        """A deleted rollout: drop its provider, routes memory and metric series."""
        self.providers.forget(rollout=ref.key)
        self.metrics.forget(rollout=ref.key)
        self.retrainer.forget(ref)  # retraining hook
        self.notifier.forget(ref)  # hook: notifications
        self.workloads.forget(ref)
        with self._guard:
            self._applied.pop(ref.key, None)
            self._refusals.pop(ref.key, None)
            self._last_objects.pop(ref.key, None)
            self._verified_at.pop(ref.key, None)
        self.backoffs.succeeded(ref.key)

    # --- one reconcile ---------------------------------------------------------------------

    def _reconcile(self, ref: RolloutRef, obj: Mapping[str, Any]) -> ReconcileResult:
        now = self.clock()
        self._last_objects[ref.key] = obj
        try:
            spec = parse_spec(obj.get("spec") or {})
        except SpecError as error:
            return self._refuse(ref, EventReason.INVALID_SPEC, f"spec refused: {error}", now)
        try:
            stored = RolloutStatus.from_dict(obj.get("status"))
        except (ValueError, KeyError, TypeError) as error:
            return self._refuse(ref, EventReason.INVALID_STATUS, f"status unreadable: {error}", now)
        raw_action = requested_action(obj)
        step = _Step(
            action=self._parse_action(ref, raw_action, now),
            raw_action=raw_action,
            first_sight=ref.key not in self._applied,
            started=time.perf_counter(),
        )
        current = stored
        if step.first_sight and stored.phase is Phase.PROGRESSING:
            # Samples are lost with a restart: a provider keeping its own needs a first
            # one now, and the analysis then waits a full window after it.
            step.primed = self._prime(ref, spec)
            if step.primed:
                current = first_window(spec=spec, status=stored, now=now)
        measurements: dict[str, Measurement] = {}
        if (
            step.action is None
            and current.phase is Phase.PROGRESSING
            and analysis_due(spec=spec, status=current, now=now)
        ):
            measurements = self._measure(ref, spec)
            now = self.clock()  # the analysis is as of when its numbers came back
        step.measured = bool(measurements)
        trip = self._read_trip(ref, spec, stored)
        try:  # workload hook: the Deployments as they are, for the engine to judge
            step.observed = self.workloads.observe(ref, spec)
        except ProviderError as error:
            message = f"workload not read: {error}"
            return self._refuse(ref, EventReason.WORKLOAD_ERROR, message, now, spec=spec)
        decision = decide(
            spec=spec,
            status=current,
            measurements=measurements,
            now=now,
            action=step.action,
            trip=trip,
            workload=step.observed,
        )
        return self._carry_out(ref, obj, spec, stored, decision, step, now)

    def _carry_out(
        self,
        ref: RolloutRef,
        obj: Mapping[str, Any],
        spec: RolloutSpec,
        stored: RolloutStatus,
        decision: Decision,
        step: _Step,
        now: datetime,
    ) -> ReconcileResult:
        """Apply a decision in the restart-safe order (module docstring): traffic, status,
        action annotation, Events and hooks, then the workload."""
        raw_status = obj.get("status") or {}
        try:
            extras = self._apply_traffic(ref, spec, stored, raw_status, decision)
        except ProviderError as error:
            return self._refuse(
                ref, EventReason.TRAFFIC_ERROR, f"traffic not applied: {error}", now, spec=spec
            )
        self._refusals.pop(ref.key, None)
        if (
            decision.kind in (DecisionKind.START, DecisionKind.READY, DecisionKind.RESUME)
            or (step.first_sight and not step.primed and decision.status.phase is Phase.PROGRESSING)
        ) and self._prime(ref, spec):
            # A new analysis period: the window starts at this scrape, taken once the
            # traffic moved (which may have taken a while), so the analysis waits a full
            # interval from it rather than from ``now``.
            later = first_window(spec=spec, status=decision.status, now=self.clock())
            decision = replace(decision, status=later)
        self._write_status(ref, obj, stored, decision, extras)
        if step.raw_action is not None:
            self.store.clear_action(ref, step.raw_action)
        self._announce(ref, decision, step.action, now)
        # --- retraining hook: drift/checks -> Job -> new canary (never raises) ---
        self.retrainer.step(ref, obj, spec, decision)
        # hook: notifications
        self.notifier.announce(ref, spec, decision, action=step.action, now=now)
        took = time.perf_counter() - step.started if step.measured else None
        self._observe(ref, decision, seconds=took)
        problem = self._apply_workload(ref, spec, decision, step.observed, now)
        return ReconcileResult(spec=spec, decision=decision, error=problem)

    def _lock_for(self, key: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(key, threading.RLock())
