"""The retraining loop, applied: drift or a failing check -> a retraining Job -> a new canary.

``Retrainer.step`` runs at the end of every reconcile of a rollout with ``spec.retrain``
(one delimited hook in ``reconcile.py``). It fetches what the pure ``retrain_plan.plan``
needs (the stable's drift share from the rollout's metrics provider once per analysis
interval, the checks that failed in this pass's analysis, or the running Job's phase from
its launcher), and applies the plan in a restart-safe order:

1. launch the Job (idempotent by the dedupe key: a Job that exists is not started twice);
2. when the Job registered a version: set it as the rollout's canary (the store's
   ``set_canary``: ``spec.target.canary`` of the CR, or the rollout file in local mode), so
   the next reconcile's engine starts the usual canary analysis for it;
3. write ``status.retrain``; 4. post the Events (``RetrainStarted``, ``RetrainRegistered``,
   ``RetrainRefused``, ``RetrainFailed``, ``RetrainSkipped``).

A crash between two writes repeats an idempotent one at the next pass. A Job that fails or
does not beat the champion leaves the rollout's spec, traffic and the model store as they
are. Nothing here raises into the reconcile: a launcher error is logged and retried.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from canaria.contracts.checks import BuiltinCheck
from canaria.contracts.logs import get_logger
from canaria.contracts.metrics import Variant
from monitoring.analysis import Decision
from monitoring.api.spec import RolloutSpec
from monitoring.api.spec.retrain import RetrainSpec
from monitoring.api.status import Verdict
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.patches import merge_patch_between
from monitoring.operator.retrain_plan import Inputs, Plan, Step, due, plan
from monitoring.providers.interfaces import (
    Closable,
    JobLauncher,
    JobStatus,
    MetricQuery,
    ProviderError,
)
from monitoring.providers.registry import job_launchers

_log = get_logger("operator.retraining")

WORKDIR_ENV = "CANARIA_RETRAIN_WORKDIR"
"""Local launcher: where Jobs write their result and log (default: a temp folder)."""

LauncherFactory = Callable[[str, RolloutRef, RetrainSpec], JobLauncher]

RESULTS: Mapping[Step, str] = {
    Step.STARTED: "started",
    Step.REGISTERED: "succeeded",
    Step.REFUSED: "not_improved",
    Step.FAILED: "failed",
}
"""The ``result`` label of ``canaria_retraining_jobs_total`` per step (a skip counts none)."""


@runtime_checkable
class CanaryStore(Protocol):
    """A rollout store that can name a new canary (``spec.target.canary.bentoTag``)."""

    def set_canary(self, ref: RolloutRef, bento_tag: str) -> None: ...


@runtime_checkable
class CanaryWorkload(Protocol):
    """Whatever serves the canary variant (a Deployment; a ``bentoml serve`` locally).

    ``ready`` asks it to serve ``bento_tag`` (idempotent) and says whether it does: the
    rollout's canary is set only then, so no traffic reaches a workload still serving the
    previous model. Without one, the canary is set at once (the workload follows the spec).
    """

    def ready(self, ref: RolloutRef, bento_tag: str) -> bool: ...


class StatusStore(Protocol):
    def patch_status(self, ref: RolloutRef, patch: Mapping[str, Any]) -> None: ...


class Retrainer:
    """Applies ``retrain_plan.plan`` for every rollout with ``spec.retrain``.

    ``launcher_settings``: per launcher name, the keyword arguments its factory takes
    besides the rollout's own (``{"kubernetes": {"api_client": c}, "local": {"workdir":
    p}}``). Launchers are kept per rollout: the local one remembers its processes.
    """

    def __init__(
        self,
        *,
        store: StatusStore,
        events: EventRecorder,
        providers: ProviderCache,
        clock: Callable[[], datetime],
        launcher_settings: Mapping[str, Mapping[str, Any]] | None = None,
        launcher_factory: LauncherFactory | None = None,
        workload: CanaryWorkload | None = None,
        metrics: OperatorMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.events = events
        self.providers = providers
        self.clock = clock
        self.launcher_settings: dict[str, dict[str, Any]] = {
            name: dict(settings) for name, settings in (launcher_settings or {}).items()
        }
        self._factory = launcher_factory or self._create_launcher
        self.workload = workload
        self._launchers: dict[tuple[str, str], JobLauncher] = {}
        self._guard = threading.Lock()

    def step(
        self, ref: RolloutRef, obj: Mapping[str, Any], spec: RolloutSpec, decision: Decision
    ) -> Plan | None:
        """One pass of the loop for ``ref``; returns the applied plan (``None``: no
        ``spec.retrain``, or it failed and will be retried)."""
        retrain = spec.retrain
        if retrain is None:
            return None
        try:
            return self._step(ref, obj, spec, retrain, decision)
        except Exception as error:  # the rollout's own reconcile must go on regardless
            _log.error("retraining step failed", extra={"rollout": ref.key, "error": repr(error)})
            return None

    def close(self) -> None:
        """Release every launcher that holds something (local Jobs still running)."""
        with self._guard:
            launchers = list(self._launchers.values())
            self._launchers.clear()
        for launcher in launchers:
            if isinstance(launcher, Closable):
                launcher.close()

    def forget(self, ref: RolloutRef) -> None:
        with self._guard:
            for key in [k for k in self._launchers if k[0] == ref.key]:
                self._launchers.pop(key)

    def _step(
        self,
        ref: RolloutRef,
        obj: Mapping[str, Any],
        spec: RolloutSpec,
        retrain: RetrainSpec,
        decision: Decision,
    ) -> Plan:
        raw = dict((obj.get("status") or {}).get("retrain") or {})
        interval = spec.analysis.interval_seconds
        launcher = self._launcher(ref, retrain)
        now = self.clock()
        inputs = Inputs()
        if raw.get("runningKey"):
            inputs = Inputs(job=_job_status(launcher, str(raw["runningKey"])))
        elif due(retrain, raw, interval=interval, now=now):
            inputs = Inputs(
                drift_share=self._drift_share(ref, spec, retrain),
                failed_checks=failed_checks(decision),
            )
        stable = decision.status.stable_model or spec.target.stable
        step = plan(
            retrain, raw, inputs, rollout=ref.key, champion=stable.bento_tag,
            interval=interval, now=now,
        )  # fmt: skip
        self._apply(ref, retrain, raw, step, now)
        return step

    def _apply(
        self,
        ref: RolloutRef,
        retrain: RetrainSpec,
        raw: Mapping[str, Any],
        step: Plan,
        now: datetime,
    ) -> None:
        if step.launch is not None:
            self._launcher(ref, retrain).launch(
                retrain, key=step.launch.key, champion=step.launch.champion,
                trigger=step.launch.trigger,
            )  # fmt: skip
        if step.canary is not None and not self._workload_ready(ref, raw, step.canary):
            return  # the Job's end is read again next pass; nothing is recorded until then
        if step.canary is not None:
            if not isinstance(self.store, CanaryStore):
                raise TypeError(f"{type(self.store).__name__} cannot set a rollout's canary")
            self.store.set_canary(ref, step.canary)
        if step.status is not None:
            patch = merge_patch_between(raw, step.status)
            if patch:
                self.store.patch_status(ref, {"retrain": patch})
        for kind, message in step.events:
            reason = EventReason(kind.value)
            self.events.record(rollout=ref, reason=reason, message=message, now=now)
            result = RESULTS.get(kind)
            if result is not None and self.metrics is not None:
                self.metrics.count_retraining(rollout=ref.key, result=result)

    def _workload_ready(self, ref: RolloutRef, raw: Mapping[str, Any], tag: str) -> bool:
        if self.workload is None or self.workload.ready(ref, tag):
            return True
        waiting = f"{tag} registered; waiting for the canary workload to serve it"
        if raw.get("waitReason") != waiting:
            self.store.patch_status(ref, {"retrain": {"waitReason": waiting}})
            _log.info(waiting, extra={"rollout": ref.key})
        return False

    def _drift_share(
        self, ref: RolloutRef, spec: RolloutSpec, retrain: RetrainSpec
    ) -> float | None:
        """The stable's drift share (``canaria_drift_share``) over one interval; ``None``
        when no drift trigger is set, or no data, or the provider failed (logged)."""
        if retrain.drift is None:
            return None
        query = MetricQuery(
            check=BuiltinCheck.DRIFT_SHARE.value,
            variant=Variant.STABLE,
            window_seconds=spec.analysis.interval_seconds,
            selector=dict(spec.metrics_provider.labels),
        )
        try:
            return self.providers.metrics(rollout=ref.key, spec=spec).measure(query)
        except ProviderError as error:
            _log.warning("drift share unavailable", extra={"rollout": ref.key, "error": str(error)})
            return None

    def _launcher(self, ref: RolloutRef, retrain: RetrainSpec) -> JobLauncher:
        with self._guard:
            key = (ref.key, retrain.launcher)
            launcher = self._launchers.get(key)
            if launcher is None:
                launcher = self._factory(retrain.launcher, ref, retrain)
                self._launchers[key] = launcher
            return launcher

    def _create_launcher(self, name: str, ref: RolloutRef, retrain: RetrainSpec) -> JobLauncher:
        settings = dict(self.launcher_settings.get(name, {}))
        if name == "kubernetes":
            settings.update(
                rollout=ref.name, namespace=ref.namespace, store_claim=retrain.job.store_claim
            )
        elif name == "local":
            settings.setdefault("workdir", default_workdir())
        return job_launchers.create(name, **settings)


def failed_checks(decision: Decision) -> tuple[str, ...]:
    """Names of the checks that failed in the analysis this pass ran (pure)."""
    if decision.analysis is None:
        return ()
    return tuple(c.name for c in decision.analysis.checks if c.verdict is Verdict.FAIL)


def default_workdir() -> Path:
    return Path(os.environ.get(WORKDIR_ENV) or Path(tempfile.gettempdir()) / "canaria-retrain")


def _job_status(launcher: JobLauncher, key: str) -> JobStatus:
    try:
        return launcher.status(key)
    except ProviderError as error:
        return JobStatus("running", None, f"status unavailable: {error}")


class HandshakeWorkload:
    """Local mode's canary workload: a file handshake with whoever serves the canary.

    The operator writes the wanted tag to ``<folder>/<name>.canary-wanted``; the serving
    side (``make demo``) starts a server for it, points the router's canary upstream at it,
    and writes the same tag to ``<folder>/<name>.canary-serving``; ``ready`` is true then.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def paths(self, ref: RolloutRef) -> tuple[Path, Path]:
        """(wanted, serving) for rollout ``ref``."""
        return (
            self.folder / f"{ref.name}.canary-wanted",
            self.folder / f"{ref.name}.canary-serving",
        )

    def ready(self, ref: RolloutRef, bento_tag: str) -> bool:
        wanted, serving = self.paths(ref)
        if not wanted.exists() or wanted.read_text().strip() != bento_tag:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = wanted.with_name(f".{wanted.name}.tmp")
            temporary.write_text(bento_tag + "\n")
            temporary.replace(wanted)
        try:
            return serving.read_text().strip() == bento_tag
        except OSError:
            return False
