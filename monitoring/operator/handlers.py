"""kopf handlers: they only fetch, call the engine (through ``Reconciler``) and apply.

kopf timers take one fixed interval when they are declared, but every rollout has its own
``spec.analysis.interval``. So one short timer (``CANARIA_OPERATOR_TICK_SECONDS``, 1 s by
default) runs for every rollout, and the engine decides from ``status.nextAnalysisTime``
whether an analysis is due. That also resumes a restarted operator for free: the schedule
lives in the status, not in this process.

A new spec (a new canary model, ``spec.paused``) is reconciled at once; a manual action
(the ``canaria.dev/action`` annotation) at the next tick.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf

from monitoring.api.constants import GROUP, PLURAL, VERSION
from monitoring.operator.events import EventReason, RolloutRef
from monitoring.operator.reconcile import Reconciler
from monitoring.providers.interfaces import ProviderError, WorkloadError

TICK_SECONDS = float(os.environ.get("CANARIA_OPERATOR_TICK_SECONDS", "1"))
METRICS_PORT_ENV = "CANARIA_OPERATOR_METRICS_PORT"
PREFIX = GROUP


def configure(settings: kopf.OperatorSettings) -> None:
    """kopf's own bookkeeping in annotations under our prefix, never in ``.status``: the
    status belongs to the engine, and the CRD's schema would prune kopf's fields anyway."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=PREFIX)
    settings.persistence.finalizer = f"{PREFIX}/operator"
    # Our Events explain every decision; kopf's own are left for handler errors.
    settings.posting.level = logging.WARNING
    # Only ModelRollouts, in the namespaces given: no RBAC to watch CRDs or namespaces.
    settings.scanning.disabled = True
    # kopf logs every timer run ("Timer 'tick' succeeded") each second per rollout; our
    # own log lines say what was decided.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)


@kopf.on.startup()
def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    configure(settings)
    if memo.get("reconciler") is None:
        # Started by ``kopf run`` without ``canaria operator``: build it from the environment.
        from monitoring.operator.kube_store import cluster_reconciler

        memo["reconciler"] = cluster_reconciler()
        port = os.environ.get(METRICS_PORT_ENV)
        if port:
            memo["reconciler"].metrics.serve(port=int(port))


@kopf.on.cleanup()
def cleanup(memo: kopf.Memo, **_: Any) -> None:
    reconciler = memo.get("reconciler")
    if reconciler is not None:
        reconciler.providers.close()
        reconciler.notifier.close()


def _reconciler(memo: kopf.Memo) -> Reconciler:
    reconciler = memo.get("reconciler")
    if not isinstance(reconciler, Reconciler):
        raise kopf.PermanentError("the operator has no reconciler (startup did not run)")
    return reconciler


def _ref(name: str | None, namespace: str | None, uid: str | None) -> RolloutRef:
    return RolloutRef(namespace=namespace or "default", name=name or "", uid=uid or "")


@kopf.timer(GROUP, VERSION, PLURAL, interval=TICK_SECONDS, initial_delay=0.0)
def tick(
    body: kopf.Body,
    name: str | None,
    namespace: str | None,
    uid: str | None,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """Every tick: reconcile when the (cached) body shows something to do. A refused
    spec or an unreachable router is reported by the reconciler once (an Event), not
    raised, so kopf does not post the same error every second."""
    reconciler = _reconciler(memo)
    if reconciler.needs_reconcile(body):
        reconciler.reconcile(_ref(name, namespace, uid))


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
def spec_changed(
    name: str | None, namespace: str | None, uid: str | None, memo: kopf.Memo, **_: Any
) -> None:
    """A new or changed spec (a new canary restarts the analysis) is handled at once."""
    _reconciler(memo).reconcile(_ref(name, namespace, uid))


DELETE_RETRIES = 3


@kopf.on.delete(GROUP, VERSION, PLURAL, retries=DELETE_RETRIES + 1, backoff=2.0)
def deleted(
    body: kopf.Body,
    name: str | None,
    namespace: str | None,
    uid: str | None,
    memo: kopf.Memo,
    retry: int = 0,
    **_: Any,
) -> None:
    """The deletion policy: kopf's finalizer holds the rollout until its traffic is back
    on the stable (``Reconciler.delete``); a router that stays unreachable is retried
    ``DELETE_RETRIES`` times, then the operator lets go anyway and says so."""
    reconciler = _reconciler(memo)
    ref = _ref(name, namespace, uid)
    try:
        reconciler.delete(ref, dict(body))
    except ProviderError as error:
        undone = (
            "the canary Deployment could not be scaled to 0"
            if isinstance(error, WorkloadError)
            else "traffic could not be sent back to the stable"
        )
        if retry < DELETE_RETRIES:
            raise kopf.TemporaryError(f"{undone} yet: {error}", delay=2.0) from None
        message = f"deleted; {undone}: {error}; letting go"
        reconciler.events.record(
            rollout=ref, reason=EventReason.TRAFFIC_ERROR, message=message, now=reconciler.clock()
        )
        reconciler.forget(ref)


def run_kopf(reconciler: Reconciler, *, namespaces: list[str], liveness: str | None) -> None:
    """Run kopf with the handlers above until it is stopped: every namespace when
    ``namespaces`` is empty, ``liveness`` an endpoint URL such as
    ``http://0.0.0.0:8080/healthz`` (or ``None``)."""
    kopf.run(
        standalone=True,  # one replica (Deployment strategy Recreate): no peering objects
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=liveness,
        memo=kopf.Memo(reconciler=reconciler),
    )
