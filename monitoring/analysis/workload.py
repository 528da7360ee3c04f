"""The engine's workload rules (pure): ``spec.workload``'s Deployments gate the rollout.

``decide`` calls three functions from here; the operator reads the two Deployments
(``WorkloadObservation``) before it and applies ``Decision.workload`` after it:

* ``start``: a new candidate starts at weight 0, waiting for its canary Deployment
  (scaled to ``canaryReplicas``), ``status.workload.waitingSince`` = now.
* ``workload_step``: while waiting, the canary rolled out (observedGeneration, updated,
  ready, available) -> ``READY`` at the first step's traffic, first analysis one interval
  later; past ``readinessTimeout`` -> ``ROLLBACK`` (Failed). While promoting, the stable
  runs the candidate's image and rolled out -> ``COMPLETE`` (weight 0, canary scaled to
  0); past ``readinessTimeout`` -> ``ROLLBACK`` (Failed).
* ``finish``: a ``PROMOTE`` records the image to put on the stable (the canary container's
  exact image) and the stable's current one; leaving a promotion any other way than
  completing it (a rollback, a newer candidate) restores that one; every decision gets its
  ``DesiredWorkload``.

What the Deployments must look like is a function of the status alone
(``desired_workload``): the canary at ``canaryReplicas`` while a candidate is active
(Progressing, Paused, Promoting), at 0 otherwise; the stable's image as recorded, or left
alone. The operator re-applies it every pass, so a restart or a manual scale loses nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitoring.analysis.gates import promoting_workload, waiting_for_canary
from monitoring.analysis.moves import (
    Decision,
    canary_name,
    complete,
    move,
    roll_back,
    stable_name,
    wait,
)
from monitoring.analysis.schedule import interval_of, interval_text
from monitoring.analysis.transitions import set_condition
from monitoring.api.spec import Action, RolloutSpec, StrategyType
from monitoring.api.spec.workload import WorkloadSpec
from monitoring.api.status import DecisionKind, Phase, RolloutStatus, WorkloadStatus
from monitoring.api.workload import DeploymentState, DesiredWorkload, WorkloadObservation

WORKLOAD_READY = "WorkloadReady"
"""Condition: True once the canary (before the first step) or the stable (after the
promotion patch) rolled out; False with reason WaitingForCanary / WaitingForStable."""


def desired_workload(*, spec: RolloutSpec, status: RolloutStatus) -> DesiredWorkload | None:
    """What the Deployments must look like for ``status`` (pure; ``None`` without
    ``spec.workload``)."""
    if spec.workload is None:
        return None
    replicas = spec.workload.canary_replicas if status.phase.active else 0
    image = status.workload.stable_image if status.workload else None
    return DesiredWorkload(canary_replicas=replicas, stable_image=image)


def start(
    spec: RolloutSpec, workload: WorkloadSpec, status: RolloutStatus, now: datetime, headline: str
) -> Decision:
    """``START`` for a new candidate with ``spec.workload`` (``workload``): no traffic until
    its canary Deployment is ready (``headline``: "new canary v2 (stable v1)")."""
    message = (
        f"{headline}: scaling Deployment {workload.canary} to {workload.canary_replicas}, "
        f"waiting for it to be ready (at most {workload.readiness_timeout_seconds:g}s)"
    )
    decision = move(
        spec,
        status,
        kind=DecisionKind.START,
        now=now,
        message=message,
        phase=Phase.PROGRESSING,
        canary_weight=0,
        next_analysis_time=None,
        workload=WorkloadStatus(waiting_since=now),
    )
    return _condition(decision, ready=False, reason="WaitingForCanary", now=now)


def workload_step(
    *,
    spec: RolloutSpec,
    status: RolloutStatus,
    observed: WorkloadObservation | None,
    now: datetime,
    action: Action | None,
) -> Decision | None:
    """The decision the Deployments force now, or ``None`` to let the engine go on."""
    workload = spec.workload
    if workload is None or observed is None:
        return None
    if status.phase is Phase.PROGRESSING and waiting_for_canary(spec=spec, status=status):
        if action in (Action.PROMOTE, Action.PROMOTE_FULL):
            return wait(spec, status, "promote ignored: the canary Deployment is not ready yet")
        if action is not None or spec.paused:
            return None
        return _await_canary(spec, workload, status, observed.canary, now)
    if promoting_workload(spec=spec, status=status) and action is None:
        return _await_stable(spec, workload, status, observed, now)
    return None


def finish(
    *,
    spec: RolloutSpec,
    before: RolloutStatus,
    decision: Decision,
    observed: WorkloadObservation | None,
    now: datetime,
) -> Decision:
    """``decision`` with the promotion's images recorded (or restored on a rollback out of a
    promotion) and its ``DesiredWorkload`` attached (pure)."""
    if spec.workload is None:
        return decision
    status = decision.status
    recorded = status.workload or WorkloadStatus(canary_ready=True)
    if decision.kind is DecisionKind.PROMOTE and observed is not None:
        recorded = replace(
            recorded,
            stable_image=observed.canary.image,
            previous_stable_image=observed.stable.image,
            waiting_since=now,
        )
        status = replace(status, workload=recorded)
        decision = _condition(
            replace(decision, status=status), ready=False, reason="WaitingForStable", now=now
        )
        status = decision.status
    elif before.phase is Phase.PROMOTING and _left_promotion(decision):
        # A rollback or a newer candidate: the stable may already run (part of) this
        # candidate, so it gets back what it ran before the promotion.
        previous = before.workload.previous_stable_image if before.workload else None
        status = replace(status, workload=replace(recorded, stable_image=previous))
    return replace(decision, status=status, workload=desired_workload(spec=spec, status=status))


def _left_promotion(decision: Decision) -> bool:
    return decision.status.phase is not Phase.PROMOTING and decision.kind is not (
        DecisionKind.COMPLETE
    )


def _await_canary(
    spec: RolloutSpec,
    target: WorkloadSpec,
    status: RolloutStatus,
    canary: DeploymentState,
    now: datetime,
) -> Decision:
    workload = status.workload or WorkloadStatus(waiting_since=now)
    wanted = target.canary_replicas
    if canary.rolled_out(wanted):
        weight = spec.analysis.steps[0] if spec.strategy.type is StrategyType.CANARY else 0
        traffic = f"{weight}% of the traffic" if weight else "its first analysis traffic"
        message = (
            f"Deployment {canary.name} ready ({canary.ready_replicas}/{wanted}): "
            f"{canary_name(status)} gets {traffic}, first analysis in {interval_text(spec)}"
        )
        decision = move(
            spec,
            status,
            kind=DecisionKind.READY,
            now=now,
            message=message,
            canary_weight=weight,
            next_analysis_time=now + interval_of(spec),
            workload=replace(workload, canary_ready=True, waiting_since=None),
        )
        return _condition(decision, ready=True, reason="CanaryReady", now=now)
    left = _seconds_left(target, workload, now)
    if left <= 0:
        message = (
            f"Deployment {canary.name} not ready after "
            f"{target.readiness_timeout_seconds:g}s ({canary.progress()}); "
            f"rolled back to {stable_name(status)}"
        )
        return roll_back(spec, status, now, message, phase=Phase.FAILED)
    return wait(
        spec,
        status,
        f"waiting for Deployment {canary.name} to be ready ({canary.progress()}; {left:.0f}s left)",
    )


def _await_stable(
    spec: RolloutSpec,
    target: WorkloadSpec,
    status: RolloutStatus,
    observed: WorkloadObservation,
    now: datetime,
) -> Decision:
    workload = status.workload or WorkloadStatus(canary_ready=True)
    if workload.stable_image is None:
        # Promoted without a reading of the Deployments (an older status): record now.
        recorded = replace(
            workload,
            stable_image=observed.canary.image,
            previous_stable_image=observed.stable.image,
            waiting_since=now,
        )
        return wait(spec, replace(status, workload=recorded), "promoting: images recorded")
    stable = observed.stable
    image = workload.stable_image
    if stable.image == image and stable.rolled_out():
        detail = f" (Deployment {stable.name} runs {image})"
        done = replace(workload, canary_ready=False, waiting_since=None, stable_image=None)
        decision = complete(spec, status, now, detail, workload=done)
        return _condition(decision, ready=True, reason="StableRolledOut", now=now)
    left = _seconds_left(target, workload, now)
    if left <= 0:
        message = (
            f"Deployment {stable.name} did not roll out {image} within "
            f"{target.readiness_timeout_seconds:g}s ({stable.progress()}); "
            f"rolled back to {stable_name(status)}"
        )
        return roll_back(spec, status, now, message, phase=Phase.FAILED)
    return wait(
        spec,
        status,
        f"promoting: all traffic on {canary_name(status)} while Deployment {stable.name} "
        f"rolls out {image} ({stable.progress()}; {left:.0f}s left)",
    )


def _seconds_left(target: WorkloadSpec, workload: WorkloadStatus, now: datetime) -> float:
    since = workload.waiting_since or now
    return target.readiness_timeout_seconds - (now - since).total_seconds()


def _condition(decision: Decision, *, ready: bool, reason: str, now: datetime) -> Decision:
    status = decision.status
    conditions = set_condition(
        status.conditions,
        type=WORKLOAD_READY,
        status="True" if ready else "False",
        reason=reason,
        message=decision.message,
        now=now,
    )
    return replace(decision, status=replace(status, conditions=conditions))
