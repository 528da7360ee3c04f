"""One reconcile of one ModelRollout: fetch, ask the engine, apply. Shared by both modes.

The order of the writes is what makes a restart safe. Traffic first, then the status,
then the one-shot action annotation, then the Event: a crash after the traffic but before
the status leaves the old status in place, and the next reconcile decides the same step
again from it (re-applying the same weight is harmless), so no step is lost or repeated.
The status is the only memory; this process only remembers which routes it already set,
so that a freshly started operator re-applies the status's traffic once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from canaria.contracts.logs import get_logger
from canaria.contracts.routes import Routes
from monitoring.analysis import (
    BreakerTrip,
    Decision,
    Measurement,
    analysis_due,
    decide,
    desired_routes,
    first_window,
)
from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.spec import Action, RolloutSpec, SpecError, parse_spec
from monitoring.api.status import DecisionKind, Phase, RolloutStatus
from monitoring.api.workload import WorkloadObservation
from monitoring.operator.deletion import STABLE_ONLY, revert_plan
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef, reason_for
from monitoring.operator.failures import (
    RECONCILED,
    Backoffs,
    describe,
    failing_condition,
    fingerprint,
    with_condition,
)
from monitoring.operator.fast_abort import breaker_settings, read_trip
from monitoring.operator.measure import ProviderCache, measure_checks, prime
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.notifications import RolloutNotifier
from monitoring.operator.patches import merge_patch_between
from monitoring.operator.retraining import Retrainer
from monitoring.operator.traffic import (
    PROMOTED_UPSTREAM,
    Resolver,
    assert_traffic,
    status_extras,
    verify_seconds,
)
from monitoring.operator.trust import RouterPolicy, TrustedReplicas
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.interfaces import (
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
    gone: bool = False


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
    settings = {**spec.traffic_provider.settings, **breaker_settings(spec)}  # hook: fast abort
    return RouteTarget(namespace=ref.namespace, name=ref.name, settings=settings)


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
        self.retrainer = Retrainer(store=store, events=events, providers=providers, clock=clock)
        # hook: notifications (one notifier per operator; local mode's by default)
        self.notifier = notifier or RolloutNotifier(registry=metrics.registry, local=True)

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
        rollout's last copy (kopf passes the body; local mode the last one read). Raises
        ``ProviderError`` when the router cannot be reached, so kopf retries."""
        with self._lock_for(ref.key):
            last = obj if obj is not None else self._last_objects.get(ref.key)
            revert, message = revert_plan(last or {})
            now = self.clock()
            if revert and last is not None:
                spec = parse_spec(last.get("spec") or {})
                router = self.providers.traffic(spec.traffic_provider.name.value)
                for target in self.replicas(route_target(ref, spec)):
                    router.set_routes(target, STABLE_ONLY)
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
        action = self._parse_action(ref, raw_action, now)
        first_sight = ref.key not in self._applied
        started = time.perf_counter()
        current = stored
        primed = False
        if first_sight and stored.phase is Phase.PROGRESSING:
            # Samples are lost with a restart: a provider keeping its own needs a first
            # one now, and the analysis then waits a full window after it.
            primed = self._prime(ref, spec)
            if primed:
                current = first_window(spec=spec, status=stored, now=now)
        measurements: dict[str, Measurement] = {}
        if (
            action is None
            and current.phase is Phase.PROGRESSING
            and analysis_due(spec=spec, status=current, now=now)
        ):
            measurements = self._measure(ref, spec)
            now = self.clock()  # the analysis is as of when its numbers came back
        trip = self._read_trip(ref, spec, stored)
        try:  # workload hook: the Deployments as they are, for the engine to judge
            observed = self.workloads.observe(ref, spec)
        except ProviderError as error:
            message = f"workload not read: {error}"
            return self._refuse(ref, EventReason.WORKLOAD_ERROR, message, now, spec=spec)
        decision = decide(
            spec=spec,
            status=current,
            measurements=measurements,
            now=now,
            action=action,
            trip=trip,
            workload=observed,
        )

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
            or (first_sight and not primed and decision.status.phase is Phase.PROGRESSING)
        ) and self._prime(ref, spec):
            # A new analysis period: the window starts at this scrape, taken once the
            # traffic moved (which may have taken a while), so the analysis waits a full
            # interval from it rather than from ``now``.
            later = first_window(spec=spec, status=decision.status, now=self.clock())
            decision = replace(decision, status=later)
        self._write_status(ref, obj, stored, decision, extras)
        if raw_action is not None:
            self.store.clear_action(ref, raw_action)
        self._announce(ref, decision, action, now)
        # --- retraining hook: drift/checks -> Job -> new canary (never raises) ---
        self.retrainer.step(ref, obj, spec, decision)
        self.notifier.announce(ref, spec, decision, action=action, now=now)  # hook: notifications
        took = time.perf_counter() - started if measurements else None
        self._observe(ref, decision, seconds=took)
        problem = self._apply_workload(ref, spec, decision, observed, now)
        return ReconcileResult(spec=spec, decision=decision, error=problem)

    def _read_trip(
        self, ref: RolloutRef, spec: RolloutSpec, stored: RolloutStatus
    ) -> BreakerTrip | None:
        """Hook (fast abort): an open router breaker on any replica, as evidence for the
        engine (``monitoring.operator.fast_abort``)."""
        try:
            router = self.providers.traffic(spec.traffic_provider.name.value)
        except ProviderError:
            return None  # the traffic pass reports it
        routes = desired_routes(spec=spec, status=stored)
        resolve = partial(self.replicas, route_target(ref, spec))
        return read_trip(router, resolve, spec=spec, status=stored, routes=routes)

    def _prime(self, ref: RolloutRef, spec: RolloutSpec) -> bool:
        """Prime the rollout's metrics provider; whether it keeps its own samples."""
        with contextlib.suppress(ProviderError):  # logged when it is measured
            return prime(self.providers.metrics(rollout=ref.key, spec=spec), rollout=ref.key)
        return False

    def _measure(self, ref: RolloutRef, spec: RolloutSpec) -> dict[str, Measurement]:
        """Every check measured; a provider that cannot even be built gives no data."""
        try:
            provider = self.providers.metrics(rollout=ref.key, spec=spec)
        except ProviderError as error:
            _log.warning("metrics unavailable", extra={"rollout": ref.key, "error": str(error)})
            return {}
        return measure_checks(provider, spec=spec, rollout=ref.key)

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

    def _apply_workload(
        self,
        ref: RolloutRef,
        spec: RolloutSpec,
        decision: Decision,
        observed: WorkloadObservation | None,
        now: datetime,
    ) -> str | None:
        """Workload hook, after traffic and status (so weight 0 goes out before the canary
        is scaled to 0): patch the Deployments. A refusal keeps ``Reconciled=False`` and is
        retried with the backoff; its Event is posted once. Returns the problem, if any."""
        try:
            self.workloads.apply(ref, spec, decision, observed)
        except ProviderError as error:
            message = f"workload not applied: {error}"
            if not self.workloads.first_failure(ref, message):
                self._refusals[ref.key] = message  # reported already: no second Event
                self._set_failing_condition(ref, EventReason.WORKLOAD_ERROR, message, now)
            self._refuse(ref, EventReason.WORKLOAD_ERROR, message, now, spec=spec)
            return message
        return None

    def _apply_traffic(
        self,
        ref: RolloutRef,
        spec: RolloutSpec,
        stored: RolloutStatus,
        raw_status: Mapping[str, Any],
        decision: Decision,
    ) -> dict[str, Any]:
        """Level-triggered: read every replica's actual routes (and, after a promotion,
        its stable upstream), re-apply what differs from the status, and report drift as
        ``TrafficCorrected``; at most once per ``verify_seconds`` when nothing moves.
        Returns the status keys the pass changes (``promotedUpstream``)."""
        now = self.clock()
        verified = self._verified_at.get(ref.key)
        if (
            not decision.changed
            and self._applied.get(ref.key) == decision.routes
            and verified is not None
            and (now - verified).total_seconds() < verify_seconds(spec)
        ):
            return {}
        router: TrafficRouter = self.providers.traffic(spec.traffic_provider.name.value)
        outcome = assert_traffic(
            router,
            self.replicas(route_target(ref, spec)),
            kind=decision.kind,
            phase=decision.status.phase,
            desired=decision.routes,
            previous=desired_routes(spec=spec, status=stored),
            promoted=raw_status.get(PROMOTED_UPSTREAM),
            # With spec.workload the stable Deployment runs the candidate: no router-side
            # promotion (workload hook).
            router_promotes=spec.workload is None,
        )
        self._applied[ref.key] = decision.routes
        self._verified_at[ref.key] = now
        if outcome.corrections:
            message = "traffic differed from the status; corrected: " + "; ".join(
                outcome.corrections
            )
            self.events.record(
                rollout=ref, reason=EventReason.TRAFFIC_CORRECTED, message=message, now=now
            )
            _log.warning(message, extra={"rollout": ref.key})
        return status_extras(raw_status, outcome)

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

    def _lock_for(self, key: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(key, threading.RLock())
