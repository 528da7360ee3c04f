"""The operator's workload edge: read ``spec.workload``'s Deployments before the engine
decides, and make them look like ``Decision.workload`` after (level-triggered).

Every pass compares the live Deployments with what the status stands for and patches only
what differs: the stable model container's image (strategic merge patch, containers merged
by name), then the canary's replicas. A pass that finds both as desired sends nothing, so a
restart, a lost patch or a person's ``kubectl scale`` is repaired by the next pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from canaria.contracts.logs import get_logger
from monitoring.analysis import Decision
from monitoring.analysis.gates import workload_pending
from monitoring.api.spec import RolloutSpec
from monitoring.api.status import RolloutStatus
from monitoring.api.workload import WorkloadObservation
from monitoring.operator.events import RolloutRef
from monitoring.providers.interfaces import WorkloadMissingError, WorkloadProvider
from monitoring.providers.registry import workload_providers

_log = get_logger("operator.workload")

RESYNC_SECONDS = 10.0
"""Between gates (nothing awaited), how often a pass re-reads the Deployments anyway."""


class WorkloadApplier:
    """Reads and moves the Deployments of every rollout that has ``spec.workload``, through
    one ``WorkloadProvider`` (``kubernetes`` in a cluster, ``noop`` locally)."""

    def __init__(
        self,
        provider: WorkloadProvider,
        *,
        resync_seconds: float = RESYNC_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.resync_seconds = resync_seconds
        self._monotonic = monotonic
        self._last_pass: dict[str, float] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def named(cls, name: str, **settings: object) -> WorkloadApplier:
        """The applier over registered provider ``name`` (``kubernetes``, ``noop``, ``local``)."""
        return cls(workload_providers.create(name, **settings))

    def wants_pass(self, ref: RolloutRef, spec: RolloutSpec, status: RolloutStatus) -> bool:
        """Whether the Deployments should be looked at now: every pass while the rollout
        waits on one, else every ``resync_seconds``; never without ``spec.workload``."""
        if spec.workload is None:
            return False
        if workload_pending(spec=spec, status=status):
            return True
        with self._lock:
            last = self._last_pass.get(ref.key)
        return last is None or self._monotonic() - last >= self.resync_seconds

    def observe(self, ref: RolloutRef, spec: RolloutSpec) -> WorkloadObservation | None:
        """Both Deployments as they are now (``None`` without ``spec.workload``).
        ``WorkloadError`` when one cannot be read."""
        workload = spec.workload
        if workload is None:
            return None
        read = self.provider.read
        return WorkloadObservation(
            stable=read(ref.namespace, workload.stable, workload.container),
            canary=read(ref.namespace, workload.canary, workload.container),
        )

    def apply(
        self,
        ref: RolloutRef,
        spec: RolloutSpec,
        decision: Decision,
        observed: WorkloadObservation | None,
    ) -> list[str]:
        """Patch what differs from ``decision.workload``; returns what it changed (for the
        log). ``WorkloadError`` when a patch is refused (the next pass tries again)."""
        workload, desired = spec.workload, decision.workload
        if workload is None or desired is None or observed is None:
            return []
        changed = []
        image = desired.stable_image
        if image is not None and observed.stable.image != image:
            self.provider.set_image(ref.namespace, workload.stable, workload.container, image)
            changed.append(f"{workload.stable} image {image}")
        if observed.canary.replicas != desired.canary_replicas:
            self.provider.scale(ref.namespace, workload.canary, desired.canary_replicas)
            changed.append(f"{workload.canary} replicas {desired.canary_replicas}")
        with self._lock:
            self._last_pass[ref.key] = self._monotonic()
            self._failures.pop(ref.key, None)
        if changed:
            _log.info("workload moved", extra={"rollout": ref.key, "changed": changed})
        return changed

    def release(self, ref: RolloutRef, canary: str) -> None:
        """A deleted rollout: scale its ``canary`` Deployment to 0 (one already gone is
        fine). ``WorkloadError`` when the API refuses (kopf retries the deletion)."""
        try:
            self.provider.scale(ref.namespace, canary, 0)
        except WorkloadMissingError:
            _log.info("canary Deployment already gone", extra={"rollout": ref.key})
            return
        _log.info("canary Deployment scaled to 0", extra={"rollout": ref.key, "canary": canary})

    def first_failure(self, ref: RolloutRef, message: str) -> bool:
        """Whether ``message`` is a new apply failure for this rollout (report it once, not
        every pass; a successful apply forgets it)."""
        with self._lock:
            new = self._failures.get(ref.key) != message
            self._failures[ref.key] = message
        return new

    def forget(self, ref: RolloutRef) -> None:
        with self._lock:
            self._last_pass.pop(ref.key, None)
            self._failures.pop(ref.key, None)
