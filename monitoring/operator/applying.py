"""The provider side of one reconcile: measure, read the breaker, apply traffic and workload.

A mixin of ``Reconciler`` (``monitoring.operator.reconcile``) on top of its reporting
(``monitoring.operator.reporting``); it reads the reconciler's providers, replica resolver
and workload applier at call time, so hooks that swap them keep working.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from canaria.contracts.logs import get_logger
from canaria.contracts.routes import Routes
from monitoring.analysis import BreakerTrip, Decision, Measurement, desired_routes
from monitoring.api.spec import RolloutSpec
from monitoring.api.status import RolloutStatus
from monitoring.api.workload import WorkloadObservation
from monitoring.operator.events import EventReason, RolloutRef
from monitoring.operator.fast_abort import breaker_settings, read_trip
from monitoring.operator.measure import ProviderCache, measure_checks, prime
from monitoring.operator.reporting import ReportingMixin
from monitoring.operator.traffic import (
    PROMOTED_UPSTREAM,
    Resolver,
    assert_traffic,
    status_extras,
    verify_seconds,
)
from monitoring.operator.workload import WorkloadApplier
from monitoring.providers.interfaces import ProviderError, RouteTarget, TrafficRouter

_log = get_logger("operator")


def route_target(ref: RolloutRef, spec: RolloutSpec) -> RouteTarget:
    settings = {**spec.traffic_provider.settings, **breaker_settings(spec)}  # hook: fast abort
    return RouteTarget(namespace=ref.namespace, name=ref.name, settings=settings)


class ApplyingMixin(ReportingMixin):
    """Metrics, breaker, traffic and workload steps of one reconcile."""

    providers: ProviderCache
    replicas: Resolver
    workloads: WorkloadApplier
    _applied: dict[str, Routes]
    _verified_at: dict[str, datetime]

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
